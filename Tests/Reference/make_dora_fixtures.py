"""DORA's Fourier image parameterisation from the original (torch-dreams 4.0.0, which DORA's final
code delegates to): rendered images and gradients, for Tests/DoraCoreTests/FourierImageTests.swift.

Run once in a venv with torch, torchvision and torch-dreams (pip install torch-dreams tqdm
opencv-python-headless matplotlib):  python Tests/Reference/make_dora_fixtures.py
"""
import os
import numpy as np
import torch
from torch_dreams.utils import fft_to_rgb, lucid_colorspace_to_rgb
from common import write_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "dora")


def render(param, h, w):
    """torch-dreams' AutoImageParam.postprocess: spectrum → irfft2 (ortho) → colour → sigmoid."""
    img = fft_to_rgb(height=h, width=w, image_parameter=param, device="cpu")
    img = lucid_colorspace_to_rgb(t=img, device="cpu")
    return torch.sigmoid(img)


# (angle°, (tx, ty) px, scale, (shear x°, shear y°)) as torchvision.transforms.functional.affine takes them.
AFFINE = [(0, (0, 0), 1.0, (0, 0)), (90, (0, 0), 1.0, (0, 0)), (30, (2, -1), 1.1, (10, 0)),
          (-15, (0, 3), 0.85, (-12, 5)), (0, (1, 0), 1.0, (0, 0))]


def affine_cases(rng):
    """torchvision's F.affine on a [1, 2, 7, 9] tensor, nearest and bilinear, fill 0.5."""
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode
    x = torch.tensor(rng.uniform(size=(1, 2, 7, 9)).astype(np.float32))
    out = {"input": x}
    for i, (angle, t, scale, shear) in enumerate(AFFINE):
        for mode in ("nearest", "bilinear"):
            im = InterpolationMode.NEAREST if mode == "nearest" else InterpolationMode.BILINEAR
            y = F.affine(x, angle=angle, translate=list(t), scale=scale, shear=list(shear), interpolation=im, fill=0.5)
            out[f"{i}.{mode}"] = y
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    tensors = {}
    for name, (h, w, sd) in {"a": (12, 16, 0.5), "b": (9, 10, 0.5), "c": (8, 8, 0.01)}.items():
        p = torch.tensor(rng.normal(scale=sd, size=(1, 3, h, w)).astype(np.float32), requires_grad=True)
        r = torch.tensor(rng.normal(size=(1, 3, h, w)).astype(np.float32))
        img = render(p, h, w)
        (img * r).sum().backward()
        tensors[f"{name}.spectrum"] = p.detach().reshape(1, 3, h, w // 2, 2)
        tensors[f"{name}.weights"] = r
        tensors[f"{name}.image"] = img.detach()
        tensors[f"{name}.grad"] = p.grad.reshape(1, 3, h, w // 2, 2)
    write_safetensors(os.path.join(OUT, "fourier.safetensors"), tensors)
    write_safetensors(os.path.join(OUT, "affine.safetensors"), affine_cases(rng))
    print("wrote", len(tensors), "tensors")


if __name__ == "__main__":
    main()
