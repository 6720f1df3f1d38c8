"""Model-level PyTorch reference fixtures: logits of the real pretrained MobileNetV2,
EfficientNet-Lite0 and MNIST CNN from fixed input tensors, the input gradient of one channel's
spatial-mean activation at a middle layer, and logits of ResNet-18 and VGG-19 with deterministic
weights that the Swift test regenerates (their state dicts are too large to commit; the script
also saves them as .pth under .build-ref/ for checking `--weights` by hand).

Run once, with torch in a virtual environment and the weights fetched (`interp fetch mobilenet_v2
efficientnet_lite0 mnist_cnn`; the cache is $INTERP_HOME, default ~/.cache/interp):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch torchvision numpy
    .venv-ref/bin/pip install --no-deps efficientnet-lite-pytorch==0.1.0
    .venv-ref/bin/python Tests/Reference/make_model_fixtures.py
"""
import json, math, os, struct
import numpy as np
import torch
import torchvision
from efficientnet_lite_pytorch import EfficientNet

from common import MNISTCNN, deterministic_, write_safetensors

HOME = os.environ.get("INTERP_HOME", os.path.expanduser("~/.cache/interp"))
OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "models")
REF = os.path.join(os.path.dirname(__file__), "..", "..", ".build-ref")
os.makedirs(OUT, exist_ok=True)
os.makedirs(REF, exist_ok=True)
torch.manual_seed(0)
tensors, meta = {}, {}


def gradient_case(name, model, layer, channel, x):
    """Input gradient of the spatial mean of one channel of `layer` (a DORA-style objective)."""
    acts = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    xg = x.clone().requires_grad_(True)
    model(xg)
    handle.remove()
    acts["a"][:, channel].mean().backward()
    tensors[f"{name}/grad_input"] = xg.grad
    tensors[f"{name}/grad_x"] = x
    meta[name + "_grad"] = dict(layer=layer, channel=channel)


x224 = torch.randn(1, 3, 224, 224)
x96 = torch.randn(1, 3, 96, 96)
tensors["x224"], tensors["x96"] = x224, x96

mobilenet = torchvision.models.mobilenet_v2()
mobilenet.load_state_dict(torch.load(os.path.join(HOME, "assets/mobilenet_v2/mobilenet_v2-b0353104.pth")))
mobilenet.eval()
with torch.no_grad():
    tensors["mobilenet_v2/logits"] = mobilenet(x224)
gradient_case("mobilenet_v2", mobilenet, "features.9", 17, x96)

lite = EfficientNet.from_pretrained("efficientnet-lite0",
                                    weights_path=os.path.join(HOME, "assets/efficientnet_lite0/efficientnet-lite0-57934424.pth"))
lite.eval()
with torch.no_grad():
    tensors["efficientnet_lite0/logits"] = lite(x224)
gradient_case("efficientnet_lite0", lite, "_blocks.7", 5, x96)

mnist = MNISTCNN()
mnist.load_state_dict(torch.load(os.path.join(HOME, "assets/mnist_cnn/handwriting_model.pth")))
mnist.eval()
xm = torch.randn(4, 1, 28, 28)
tensors["mnist_cnn/x"] = xm
with torch.no_grad():
    tensors["mnist_cnn/logits"] = mnist(xm)
gradient_case("mnist_cnn", mnist, "conv_layers.3", 9, xm[:1])

x64 = torch.randn(2, 3, 64, 64)
tensors["x64"] = x64
for name, ctor in [("resnet18", torchvision.models.resnet18), ("vgg19", torchvision.models.vgg19)]:
    m = ctor()
    deterministic_(m)
    m.eval()
    torch.save(m.state_dict(), os.path.join(REF, f"{name}_deterministic.pth"))
    with torch.no_grad():
        tensors[f"{name}/logits"] = m(x64)


write_safetensors(os.path.join(OUT, "models.safetensors"), tensors,
                  {"torch": torch.__version__, "gradients": json.dumps(meta)})
print("wrote", len(tensors), "tensors;", os.path.getsize(os.path.join(OUT, "models.safetensors")) // 1024, "KiB")
