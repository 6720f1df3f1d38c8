"""Image decoding and preprocessing fixtures: small synthetic photo-like images in every PNG/JPEG
flavour interp reads, with PIL's decoded pixels and PIL/torchvision's resize, crop and
normalisation results, so the Swift pipeline is held to torchvision's exact behaviour.

Run once, with torch in a virtual environment (the outputs are committed; CI does not need torch):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch torchvision pillow numpy
    .venv-ref/bin/python Tests/Reference/make_image_fixtures.py
"""
import os
import numpy as np
from PIL import Image
import torchvision.transforms as T

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(3)


def photo(h, w):
    """Gradients, a disc, sharp edges and noise: enough structure for resampling to matter."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 120 + 100 * np.sin(x / 7) * np.cos(y / 11)
    g = 255 * x / (w - 1)
    b = np.where((x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 3) ** 2, 230, 30) + 0 * x
    b[:, w // 2:w // 2 + 3] = 255
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def save_npy(name, array):
    a = np.asarray(array)
    np.save(os.path.join(OUT, name), a if a.dtype == np.uint8 else a.astype(np.float32))


rgb = photo(61, 97)
Image.fromarray(rgb).save(os.path.join(OUT, "rgb.png"))
Image.fromarray(rgb[:, :, 1]).save(os.path.join(OUT, "gray.png"))
rgba = np.dstack([rgb, (np.arange(97)[None, :] * 2 + np.zeros((61, 1))).astype(np.uint8)])
Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "rgba.png"))
Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(OUT, "palette.png"))
Image.fromarray(rgb).save(os.path.join(OUT, "q90.jpg"), quality=90)                         # 4:2:0
Image.fromarray(rgb).save(os.path.join(OUT, "q95_444.jpg"), quality=95, subsampling=0)
Image.fromarray(rgb).save(os.path.join(OUT, "progressive.jpg"), quality=85, progressive=True)
Image.fromarray(rgb[:, :, 0]).save(os.path.join(OUT, "gray.jpg"), quality=90)

# What PIL decodes each file to (RGB for colour files, L for gray; RGBA keeps alpha).
for name in ["rgb.png", "gray.png", "rgba.png", "palette.png", "q90.jpg", "q95_444.jpg", "progressive.jpg", "gray.jpg"]:
    im = Image.open(os.path.join(OUT, name))
    im = im.convert("RGBA" if im.mode == "RGBA" else ("L" if im.mode == "L" else "RGB"))
    save_npy("decoded_" + name.replace(".", "_") + ".npy", np.asarray(im))

base = Image.open(os.path.join(OUT, "rgb.png")).convert("RGB")
for label, size, flt in [("bilinear_down", (41, 23), Image.BILINEAR), ("bicubic_down", (41, 23), Image.BICUBIC),
                         ("bilinear_up", (150, 90), Image.BILINEAR), ("bicubic_up", (150, 90), Image.BICUBIC),
                         ("nearest_down", (30, 20), Image.NEAREST)]:
    save_npy(f"resize_{label}.npy", np.asarray(base.resize(size, flt)))

# torchvision pipelines (PIL input): ImageNet style and EfficientNet-Lite style.
imagenet = T.Compose([T.Resize(40), T.CenterCrop(32), T.ToTensor(),
                      T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
save_npy("pipeline_imagenet.npy", imagenet(base).numpy())
lite = T.Compose([T.Resize(40, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(32), T.ToTensor(),
                  T.Normalize([127 / 255] * 3, [128 / 255] * 3)])
save_npy("pipeline_lite.npy", lite(base).numpy())
gray_direct = T.Compose([T.Grayscale(), T.Resize((28, 28)), T.ToTensor(), T.Normalize([0.1307], [0.3081])])
save_npy("pipeline_mnist.npy", gray_direct(base).numpy())
print("wrote", len(os.listdir(OUT)), "files")
