"""Fixtures for the .pth and .npy readers (CheckpointTests, NPYTests).

Run once, with torch and numpy in a virtual environment (the outputs are committed; CI does not need torch):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch numpy && .venv-ref/bin/python Tests/Reference/make_checkpoint_fixtures.py

Writes Tests/TestSupport/Fixtures/checkpoints/ (about 40 KB):
* tiny_zip.pt, tiny_legacy.pt: one small state dict saved by torch.save in the zip format and in the
  legacy format (_use_new_zipfile_serialization=False): float32 weights, a float16, a bfloat16, a
  float64, int32/uint8/bool tensors, an int64 num_batches_tracked scalar, an nn.Parameter, an empty
  tensor, a transposed (non-contiguous) view and two views of one storage at different offsets.
  nested_zip.pt holds the same dict under "state_dict" beside an epoch number.
  The files are named .pt because the repository ignores *.pth (the rule is for downloaded weights).
* expected_<key>.npy: each tensor as float32, the values the Swift reader must return exactly.
* complex_zip.pt: a complex64 tensor (an unsupported dtype).
* missing_storage_zip.pt, short_storage_zip.pt: tiny_zip.pt with data/0 removed or cut short.
* view_past_storage.pt, view_overflow.pt, view_huge.pt: hand-built zip checkpoints whose one tensor
  reads past its 4-element storage, has strides whose products overflow 64 bits, or uses zero strides
  to expand 4 elements into 2^40 (torch accepts that view; copying it out would need 4 TiB).
* zip64_offset.pt, deflate_past_eof.npz: a zip64 field pointing 2^64 - 16 bytes into the file, and a
  deflate stream that runs past the end of the file. ZIPFoundation's Archive traps on the first and
  never returns from the second, which is why the readers parse zip directories themselves.
* evil.pt, evil_zip.pt: pickles that would call os.system / posix.system if Python unpickled them,
  written opcode by opcode and never executed.
* npy_<dtype>.npy for <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 |b1 (shape (2, 3)); npy_fortran.npy (a
  Fortran-order (2, 3, 4) arange); npy_v2.npy, npy_v3.npy (format versions 2.0 and 3.0);
  npy_scalar.npy, npy_empty.npy; npy_bigendian.npy (>f4) and npy_complex.npy (<c8), which must be
  refused; arrays.npz and arrays_compressed.npz (np.savez and np.savez_compressed of two arrays).

torch.save writes a random .data/serialization_id into zip checkpoints; the script pins it (and the
entry's CRC-32), and fixes zip timestamps, so a rerun with the same torch and numpy rewrites identical
bytes, except tiny_legacy.pt, whose storage keys are memory addresses (its values do not change).
"""
import collections, io, os, pickle, struct, time, zipfile, zlib
import numpy as np
import torch

torch.manual_seed(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TestSupport", "Fixtures", "checkpoints")
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):                     # start clean so renamed fixtures do not linger
    os.remove(os.path.join(OUT, f))


def path(name):
    return os.path.join(OUT, name)


def pin_serialization_id(file):
    """Overwrite the random id with zeros, patching the CRC in the local header and the directory."""
    with zipfile.ZipFile(file) as z:
        infos = [i for i in z.infolist() if i.filename.endswith(".data/serialization_id")]
    if not infos:
        return
    info = infos[0]
    data = bytearray(open(file, "rb").read())
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    fixed = b"0" * info.file_size
    data[start:start + info.file_size] = fixed
    crc = struct.pack("<I", zlib.crc32(fixed))
    data[info.header_offset + 14:info.header_offset + 18] = crc
    cd = data.find(b"PK\x01\x02")                                 # this entry's directory record
    while data[cd + 46:cd + 46 + struct.unpack_from("<H", data, cd + 28)[0]] != info.filename.encode():
        cd = data.find(b"PK\x01\x02", cd + 4)
    data[cd + 16:cd + 20] = crc
    open(file, "wb").write(bytes(data))
    with zipfile.ZipFile(file) as z:          # still a valid archive
        assert z.testzip() is None


def save_zip(obj, name):
    torch.save(obj, path(name))
    pin_serialization_id(path(name))


# --- The state dict, in both formats ---------------------------------------------------------
base = torch.randn(4, 6)
shared = torch.randn(10)
sd = collections.OrderedDict()
sd["conv.weight"] = torch.randn(3, 2, 2, 2)
sd["conv.bias"] = torch.randn(3)
sd["half"] = torch.randn(5).half()
sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.long)
sd["transposed"] = base.t()                 # a non-contiguous view
sd["shared_a"] = shared[2:6]                # two views of one storage, different offsets
sd["shared_b"] = shared[5:9].view(2, 2)
sd["double"] = torch.randn(2, 2).double()
sd["ints"] = torch.arange(-3, 3, dtype=torch.int32)
sd["bytes"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
sd["flags"] = torch.tensor([True, False, True])
sd["bf16"] = torch.randn(3).bfloat16()
sd["param"] = torch.nn.Parameter(torch.randn(2, 3))     # pickled through _rebuild_parameter
sd["empty"] = torch.zeros(0, 3)

save_zip(sd, "tiny_zip.pt")
torch.save(sd, path("tiny_legacy.pt"), _use_new_zipfile_serialization=False)
save_zip({"state_dict": sd, "epoch": 3}, "nested_zip.pt")
for k, v in sd.items():
    np.save(path(f"expected_{k}.npy"), v.detach().float().numpy())
save_zip({"c": torch.randn(2, dtype=torch.complex64)}, "complex_zip.pt")


# --- Damaged copies of tiny_zip.pt -----------------------------------------------------------
def rewrite_zip(src, dst, change):
    """Copy src to dst entry by entry (stored, fixed timestamps); change(name, data) returns the
    new data or None to drop the entry."""
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)


rewrite_zip("tiny_zip.pt", "missing_storage_zip.pt", lambda n, d: None if n.endswith("/data/0") else d)
rewrite_zip("tiny_zip.pt", "short_storage_zip.pt", lambda n, d: d[:len(d) // 2] if n.endswith("/data/0") else d)


# --- Hand-built checkpoints whose views do not fit their storage -----------------------------
class FakeStorage:
    """Stands for a 4-element float storage; the pickler below writes it as a persistent id."""


class Rebuild:
    """Pickles as a _rebuild_tensor_v2 call with the given (possibly bogus) size/stride/offset."""
    def __init__(self, offset, size, stride):
        self.args = (FakeStorage(), offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class CheckpointPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", torch.FloatStorage, "0", "cpu", 4) if isinstance(obj, FakeStorage) else None


def hand_built(name, tensor):
    buf = io.BytesIO()
    CheckpointPickler(buf, protocol=2).dump(collections.OrderedDict(w=tensor))
    root = name[:-3]
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
        for entry, data in [("data.pkl", buf.getvalue()), ("byteorder", b"little"), ("version", b"3\n"),
                            ("data/0", np.arange(4, dtype="<f4").tobytes())]:
            z.writestr(zipfile.ZipInfo(f"{root}/{entry}", date_time=(1980, 1, 1, 0, 0, 0)), data)


hand_built("view_past_storage.pt", Rebuild(3, (2,), (1,)))             # reads elements 3 and 4 of 0…3
hand_built("view_overflow.pt", Rebuild(0, (3, 3), (2 ** 62, 2 ** 62)))  # 2·2^62 + 2·2^62 overflows
hand_built("view_huge.pt", Rebuild(0, (2 ** 20, 2 ** 20), (0, 0)))     # 2^40 elements from 4


# --- Zip structures that ZIPFoundation's Archive cannot survive -----------------------------
def raw_zip(name, data, method, size, central_extra=b"", local_offset=0):
    """One entry, written field by field: a local header, the data, a directory record, the end record."""
    name = name.encode()
    crc = zlib.crc32(data) if method == 0 else 0
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
    record = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc, len(data), size,
                         len(name), len(central_extra), 0, 0, 0, 0, local_offset)
    body = local + name + data
    directory = record + name + central_extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


# A zip64 extra field puts the local header at 2^64 - 16: Archive's iterator traps converting it to off_t.
open(path("zip64_offset.pt"), "wb").write(raw_zip("zip64_offset/data.pkl", b"\x80\x02}.", 0, 4,
    central_extra=struct.pack("<HHQ", 1, 8, 2 ** 64 - 16), local_offset=0xFFFFFFFF))
# A deflate stream (one stored block of 60000 bytes) that the end of the file cuts short:
# Archive.extract on Linux loops forever feeding zlib empty chunks.
open(path("deflate_past_eof.npz"), "wb").write(raw_zip("a.npy", b"\x00" + struct.pack("<HH", 60000, 60000 ^ 0xFFFF) + b"abc", 8, 5000))


# --- Pickles naming a forbidden global, written by hand and never executed -------------------
# GLOBAL 'os system', then REDUCE with ('true',): what a malicious .pth does to run a command.
evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
open(path("evil.pt"), "wb").write(evil)
with zipfile.ZipFile(path("evil_zip.pt"), "w", zipfile.ZIP_STORED) as z:
    z.writestr(zipfile.ZipInfo("evil_zip/data.pkl", date_time=(1980, 1, 1, 0, 0, 0)),
               b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.")


# --- .npy files of each dtype, and .npz ------------------------------------------------------
floats = np.array([[-3, -0.5, 0], [1.25, 1024, 2.0 ** -20]])        # 2^-20 is a float16 subnormal
signed = np.array([[-128, -1, 0], [1, 2, 127]])
for descr, values in [("<f4", floats), ("<f8", floats), ("<f2", floats), ("<i8", signed), ("<i4", signed),
                      ("<i2", signed), ("|i1", signed), ("|u1", np.array([[0, 1, 2], [127, 128, 255]])),
                      ("|b1", np.array([[True, False, True], [True, False, False]]))]:
    np.save(path(f"npy_{descr[1:]}.npy"), values.astype(descr))
np.save(path("npy_fortran.npy"), np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
for version in [(2, 0), (3, 0)]:
    with open(path(f"npy_v{version[0]}.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype="<f4").reshape(3, 2), version=version)
np.save(path("npy_scalar.npy"), np.array(2.5, dtype="<f4"))
np.save(path("npy_empty.npy"), np.zeros((0, 3), dtype="<f4"))
np.save(path("npy_bigendian.npy"), np.arange(3, dtype=">f4"))
np.save(path("npy_complex.npy"), np.arange(3, dtype="<c8"))
arrays = {"a": np.arange(6, dtype="<f4").reshape(2, 3), "b": np.array([1, -2], dtype="<i8")}
real_time = time.time
time.time = lambda: 315576000.0               # zip timestamps of 1980-01-02, so reruns are identical
np.savez(path("arrays.npz"), **arrays)
np.savez_compressed(path("arrays_compressed.npz"), **arrays)
time.time = real_time

names = sorted(os.listdir(OUT))
print(len(names), "files,", sum(os.path.getsize(path(n)) for n in names), "bytes:", " ".join(names))
