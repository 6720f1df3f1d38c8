"""Image decoding and preprocessing fixtures for ImageTests and PreprocessingTests.

Small synthetic photo-like images (gradients, a disc, sharp edges, noise) in every PNG and JPEG
flavour interp reads, with what PIL decodes them to, and PIL/torchvision's resize, crop, ToTensor and
Normalize results, so the Swift pipeline is held to torchvision's exact behaviour on PIL images.

Run once, by hand; the outputs are committed and `swift test` never needs Python:

    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch torchvision pillow numpy && .venv-ref/bin/python Tests/Reference/make_image_fixtures.py

Written with torch 2.15, torchvision 0.29.2, Pillow 13.0.0 (libjpeg-turbo 3.2), numpy 2.4.
Everything goes to Tests/TestSupport/Fixtures/images/ (the folder is emptied first); the script
checks that the total stays under 300 KB.

Files (W×H):
  rgb.png 97×61, gray.png 97×61                  8-bit RGB and gray (PIL-written)
  small variants, 40×27, each decoding to small_rgb.npy / small_rgba.npy or its own .npy:
    rgb_interlaced.png   8-bit RGB, Adam7
    rgb16.png            16-bit RGB whose high bytes are small_rgb, image data split over many IDATs
    rgb_gamma.png        8-bit RGB with a gAMA 1.0 chunk (PIL ignores it; libpng's simplified API would not)
    rgba.png             8-bit RGBA (PIL-written); rgba16_interlaced.png the same in 16 bits, Adam7
    gray_alpha.png, gray_alpha16.png   gray+alpha in 8 and 16 bits (PIL: mode LA / RGBA)
    gray16.png           16-bit gray. PIL opens it as I;16, whose convert("L") clips to 255; interp keeps
                         the high byte as PIL does for 16-bit colour, so its expectation is PIL's array >> 8
    gray4_interlaced.png 4-bit gray, Adam7; gray_trns.png 8-bit gray with a tRNS colour key (ignored)
    palette.png          PIL-written adaptive palette; palette_trns.png 4-bit palette with tRNS alpha
  q90.jpg (4:2:0), q95_444.jpg (4:4:4), progressive.jpg, gray.jpg: 65×41; cmyk.jpg 40×27 (Adobe CMYK)
  decoded_<file>.npy      what PIL gives: convert("RGBA") if the file has alpha, else "L" or "RGB"
  resize_<case>.npy       PIL Image.resize results (see RESIZES)
  pipeline_<case>_u8.npy  the 8-bit image after torchvision's Resize/CenterCrop (ToTensor·255, exact)
  pipeline_<case>.npy     the normalised float32 tensor [C, H, W]
"""
import glob
import os
import struct
import zlib

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TestSupport", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
for old in glob.glob(os.path.join(OUT, "*")):
    os.remove(old)
rng = np.random.default_rng(3)


def path(name):
    return os.path.join(OUT, name)


def photo(h, w):
    """Gradients, a disc, a sharp bar and noise: enough structure for resampling to matter."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 120 + 100 * np.sin(x / 7) * np.cos(y / 11)
    g = 255 * x / (w - 1)
    b = np.where((x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 3) ** 2, 230, 30) + 0 * x
    b[:, w // 2:w // 2 + 3] = 255
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def save_npy(name, array):
    a = np.ascontiguousarray(array)
    np.save(path(name), a if a.dtype == np.uint8 else a.astype(np.float32))


# A minimal PNG writer for what PIL cannot write: 16-bit RGB(A) and gray+alpha, Adam7 interlacing,
# sub-byte gray, tRNS on 4-bit palettes, gAMA, image data split over several IDAT chunks.
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def packed_rows(a, depth):
    rows = []
    for row in a:
        if depth == 16:
            rows.append(row.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(row.astype(np.uint8).tobytes())
        else:
            bits = np.unpackbits(row.reshape(-1).astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)
            rows.append(np.packbits(bits).tobytes())
    return rows


def write_png(name, a, depth, color_type, interlace=False, palette=None, trns=None, gamma=None, idat_size=None):
    a = a if a.ndim == 3 else a[:, :, None]
    h, w, _ = a.shape
    passes = [a[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7] if interlace else [a]
    raw = b"".join(b"\0" + r for p in passes if p.size for r in packed_rows(p, depth))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if gamma is not None:
        out += chunk(b"gAMA", struct.pack(">I", gamma))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    z = zlib.compress(raw, 9)
    step = idat_size or len(z)
    out += b"".join(chunk(b"IDAT", z[i:i + step]) for i in range(0, len(z), step)) + chunk(b"IEND", b"")
    with open(path(name), "wb") as f:
        f.write(out)


def pil_decoded(name):
    """What PIL gives for the file: convert("RGBA") with alpha, else "L" or "RGB" (I;16: see above)."""
    im = Image.open(path(name))
    if im.mode == "I;16":
        return (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
    has_alpha = im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info)
    return np.asarray(im.convert("RGBA" if has_alpha else ("L" if im.mode in ("L", "1") else "RGB")))


def expect_decoded(name, expected_file, expected):
    got = pil_decoded(name)
    assert got.shape == expected.shape and (got == expected).all(), name
    return expected_file


DECODES = {}  # file -> expectation file

# Large 8-bit images (also the resize inputs).
rgb = photo(61, 97)
Image.fromarray(rgb).save(path("rgb.png"))
Image.fromarray(rgb[:, :, 1]).save(path("gray.png"))
save_npy("decoded_rgb_png.npy", pil_decoded("rgb.png"))
save_npy("decoded_gray_png.npy", pil_decoded("gray.png"))
DECODES["rgb.png"] = "decoded_rgb_png.npy"
DECODES["gray.png"] = "decoded_gray_png.npy"

# Small variants.
small = photo(27, 40)
alpha = (np.arange(40)[None, :] * 255 // 39 + np.zeros((27, 1), int)).astype(np.uint8)   # 0 … 255
alpha[::5, :] = 255
small_rgba = np.dstack([small, alpha])
save_npy("small_rgb.npy", small)
save_npy("small_rgba.npy", small_rgba)
low = lambda shape: rng.integers(0, 256, shape)
write_png("rgb_interlaced.png", small, 8, 2, interlace=True)
write_png("rgb16.png", small.astype(np.int64) * 256 + low(small.shape), 16, 2, idat_size=500)
write_png("rgb_gamma.png", small, 8, 2, gamma=100000)
Image.fromarray(small_rgba, "RGBA").save(path("rgba.png"))
write_png("rgba16_interlaced.png", small_rgba.astype(np.int64) * 256 + low(small_rgba.shape), 16, 6, interlace=True)
for name in ["rgb_interlaced.png", "rgb16.png", "rgb_gamma.png"]:
    DECODES[name] = expect_decoded(name, "small_rgb.npy", small)
for name in ["rgba.png", "rgba16_interlaced.png"]:
    DECODES[name] = expect_decoded(name, "small_rgba.npy", small_rgba)

gray_alpha = np.dstack([small[:, :, 0], alpha])
write_png("gray_alpha.png", gray_alpha, 8, 4)
write_png("gray_alpha16.png", gray_alpha.astype(np.int64) * 256 + low(gray_alpha.shape), 16, 4)
save_npy("decoded_gray_alpha.npy", pil_decoded("gray_alpha.png"))
DECODES["gray_alpha.png"] = "decoded_gray_alpha.npy"
DECODES["gray_alpha16.png"] = expect_decoded("gray_alpha16.png", "decoded_gray_alpha.npy", pil_decoded("gray_alpha.png"))

write_png("gray16.png", small[:, :, 2].astype(np.int64) * 256 + low(small.shape[:2]), 16, 0)
DECODES["gray16.png"] = expect_decoded("gray16.png", "small_blue.npy", small[:, :, 2])
save_npy("small_blue.npy", small[:, :, 2])
write_png("gray4_interlaced.png", small[:, :, 1] >> 4, 4, 0, interlace=True)
save_npy("decoded_gray4_interlaced.npy", pil_decoded("gray4_interlaced.png"))
DECODES["gray4_interlaced.png"] = "decoded_gray4_interlaced.npy"
write_png("gray_trns.png", small[:, :, 2], 8, 0, trns=struct.pack(">H", int(small[0, 0, 2])))
DECODES["gray_trns.png"] = expect_decoded("gray_trns.png", "small_blue.npy", small[:, :, 2])

Image.fromarray(small).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path("palette.png"))
save_npy("decoded_palette_png.npy", pil_decoded("palette.png"))
DECODES["palette.png"] = "decoded_palette_png.npy"
colours = rng.integers(0, 256, (16, 3))
indices = (small[:, :, 0] // 16).astype(np.uint8)
write_png("palette_trns.png", indices, 4, 3, palette=colours, trns=bytes(range(0, 240, 20)))   # 12 of 16 entries
save_npy("decoded_palette_trns_png.npy", pil_decoded("palette_trns.png"))
DECODES["palette_trns.png"] = "decoded_palette_trns_png.npy"

# JPEGs (both sides use libjpeg-turbo's islow IDCT and fancy upsampling).
jpeg_source = rgb[:41, 16:81]
Image.fromarray(jpeg_source).save(path("q90.jpg"), quality=90)                               # 4:2:0
Image.fromarray(jpeg_source).save(path("q95_444.jpg"), quality=95, subsampling=0)
Image.fromarray(jpeg_source).save(path("progressive.jpg"), quality=85, progressive=True)
Image.fromarray(jpeg_source[:, :, 0]).save(path("gray.jpg"), quality=90)
Image.fromarray(small).convert("CMYK").save(path("cmyk.jpg"), quality=90)
for name in ["q90.jpg", "q95_444.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"]:
    expected = "decoded_" + name.replace(".", "_") + ".npy"
    save_npy(expected, pil_decoded(name))
    DECODES[name] = expected

# PIL resizes: (case, source, (width, height), filter). RGBA goes through PIL's premultiplied RGBa.
RESIZES = [
    ("bilinear_down", "rgb.png", (41, 23), Image.Resampling.BILINEAR),
    ("bicubic_down", "rgb.png", (41, 23), Image.Resampling.BICUBIC),
    ("bilinear_up", "rgba.png:rgb", (71, 43), Image.Resampling.BILINEAR),
    ("bicubic_up", "rgba.png:rgb", (71, 43), Image.Resampling.BICUBIC),
    ("nearest_down", "rgb.png", (30, 20), Image.Resampling.NEAREST),
    ("nearest_up", "rgba.png:rgb", (53, 35), Image.Resampling.NEAREST),
    ("rgba_bilinear_down", "rgba.png", (23, 15), Image.Resampling.BILINEAR),
    ("gray_bicubic_mixed", "gray.png", (50, 80), Image.Resampling.BICUBIC),
    ("gray_bilinear_vertical", "gray.png", (97, 40), Image.Resampling.BILINEAR),
    # The height shrinks by more than twice as many pixels as the width: Pillow runs the vertical
    # pass first (and the 8-bit rounding between the passes makes the order visible).
    ("bilinear_vertical_first", "rgb.png", (90, 20), Image.Resampling.BILINEAR),
    ("bicubic_vertical_first", "rgb.png", (120, 30), Image.Resampling.BICUBIC),
]


def source(spec):
    name, _, mode = spec.partition(":")
    im = Image.open(path(name))
    return im.convert(mode.upper()) if mode else im


for label, src, size, flt in RESIZES:
    save_npy(f"resize_{label}.npy", np.asarray(source(src).resize(size, flt)))

# torchvision pipelines on PIL images: (case, source, channels conversion, transforms before
# ToTensor, normalisation). The 8-bit result before ToTensor is saved too (ToTensor·255 is exact).
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
PIPELINES = [
    ("imagenet", "rgb.png", "RGB", [T.Resize(40), T.CenterCrop(32)], T.Normalize(*IMAGENET)),
    ("lite", "rgb.png", "RGB", [T.Resize(40, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(32)],
     lambda x: (x * 255 - 127) / 128),
    ("mnist", "rgb.png", "L", [T.Resize((28, 28))], T.Normalize([0.1307], [0.3081])),
    # 40×27 -> Resize(24) -> 35×24; the crop is larger in height (torchvision pads 2 rows above, 3
    # below) and smaller in width (left offset int(round(2.5)) = 2, Python's half to even).
    ("crop_pad", "rgba.png", "RGB", [T.Resize(24), T.CenterCrop((29, 30))], T.Normalize(*IMAGENET)),
]
for label, src, mode, steps, scaling in PIPELINES:
    im = Image.open(path(src)).convert(mode)
    x = T.ToTensor()(T.Compose(steps)(im)) if steps else T.ToTensor()(im)
    save_npy(f"pipeline_{label}_u8.npy", (x * 255).round().to(torch.uint8).numpy())
    if label != "crop_pad":   # same normalisation as "imagenet"; the 8-bit crop is what it tests
        save_npy(f"pipeline_{label}.npy", scaling(x).numpy())

total = sum(os.path.getsize(f) for f in glob.glob(os.path.join(OUT, "*")))
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {PIL.__version__}")
print(f"wrote {len(os.listdir(OUT))} files, {total / 1024:.0f} KB")
for name, expected in sorted(DECODES.items()):
    print(f"  {name:24s} -> {expected}")
assert total < 300 * 1024, "fixtures over 300 KB"
