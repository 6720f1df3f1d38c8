"""captum reference maps for the Attribution target: Saliency (signed and absolute),
InputXGradient, IntegratedGradients (Gauss-Legendre and the Riemann trapezoid), LayerGradCam with
bilinear upsampling, GuidedBackprop and NoiseTunnel (smoothgrad, smoothgrad_sq, vargrad) with the
noise drawn here and stored, so the Swift side adds exactly the same noise.

Models and inputs (all float32, stored in the fixture so the Swift tests need no preprocessing):
- mnist_cnn with its real weights on 2 foolbox MNIST samples (1x28x28, MNIST normalisation);
- mobilenet_v2 with its real weights on 1 foolbox ImageNet sample (resize 256, centre crop 224,
  ImageNet normalisation), then the central 112x112 crop to keep the fixture small;
- resnet8 with the deterministic weights of common.py, rescaled so that signals survive the
  network (`lively_`: BatchNorm scales 1 + 10v, conv/linear weights 20v·sqrt(2/fan_in); the plain
  weights give gradients of order 1e-12), on 2 foolbox CIFAR-10 samples.
Targets are the predicted classes, stored alongside. Every captum call spells its arguments out:
baselines=0, n_steps=16, method=..., relu_attributions=True, interpolate_mode="bilinear"
(F.interpolate's align_corners=False), abs=..., nt_samples=..., stdevs=....

Run once (outputs committed; swift test needs neither Python nor the weights' Python side):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch torchvision numpy pillow captum
    swift run -c release interp fetch mobilenet_v2 mnist_cnn foolbox-samples
    /tmp/torchvenv/bin/python Tests/Reference/make_attribution_fixtures.py
Written with torch 2.15.0, torchvision 0.29.2, captum 0.9.0 (the versions are also stored in
attribution.json).
"""
import json, os
import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image
import captum
from captum.attr import (GuidedBackprop, InputXGradient, IntegratedGradients, LayerAttribution, LayerGradCam,
                         NoiseTunnel, Saliency)

from common import MNISTCNN, ResNet8, deterministic_, lively_, write_safetensors

HOME = os.environ.get("INTERP_HOME", os.path.expanduser("~/.cache/interp"))
SAMPLES = os.path.join(HOME, "assets", "foolbox-samples")
OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "attribution")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)
tensors, cases = {}, []


def load(prefix, count, transform):
    names = sorted(f for f in os.listdir(SAMPLES) if f.startswith(prefix + "_"))[:count]
    return names, torch.stack([transform(Image.open(os.path.join(SAMPLES, n))) for n in names])


def case(name, model, method, out, **params):
    key = f"{model}/{name}"
    tensors[key] = out.detach().float()
    cases.append(dict(name=name, model=model, method=method, key=key, params=params))


def explicit_noise(noise):
    """NoiseTunnel draws torch.normal(0, stdev) for input.repeat_interleave(n); replace it by ours."""
    def add(inp, stdev, n):
        return inp.repeat_interleave(n, dim=0) + noise.reshape((-1,) + tuple(inp.shape[1:]))
    NoiseTunnel._add_noise_to_input = staticmethod(add)


def gradient_methods(model_name, model, x, target, ig_methods):
    case("saliency", model_name, "saliency", Saliency(model).attribute(x, target=target, abs=False), abs=False)
    case("saliency_abs", model_name, "saliency", Saliency(model).attribute(x, target=target, abs=True), abs=True)
    case("input_x_gradient", model_name, "input-x-gradient", InputXGradient(model).attribute(x, target=target))
    for method in ig_methods:
        ig = IntegratedGradients(model).attribute(x, baselines=0, target=target, n_steps=16, method=method)
        case(f"ig_{method}", model_name, "integrated-gradients", ig, steps=16,
             integration=method.replace("_", "-"), baseline="zeros")


def gradcam(model_name, model, layer, x, target, name="gradcam"):
    attr = LayerGradCam(model, dict(model.named_modules())[layer]).attribute(x, target=target, relu_attributions=True)
    up = LayerAttribution.interpolate(attr, tuple(x.shape[2:]), interpolate_mode="bilinear")
    case(name, model_name, "gradcam", up, layer=layer)


# MNIST CNN: every method, with small noise-tunnel runs.
mnist = MNISTCNN()
mnist.load_state_dict(torch.load(os.path.join(HOME, "assets/mnist_cnn/handwriting_model.pth")))
mnist.eval()
names, xm = load("mnist", 2, T.Compose([T.Grayscale(), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
tm = mnist(xm).argmax(1)
tensors["mnist_cnn/x"], tensors["mnist_cnn/targets"] = xm, tm.float()
gradient_methods("mnist_cnn", mnist, xm, tm, ["gausslegendre", "riemann_trapezoid"])
gradcam("mnist_cnn", mnist, "conv_layers.7", xm, tm)
gradcam("mnist_cnn", mnist, "conv_layers.8", xm, tm, name="gradcam_pool")
case("guided_backprop", "mnist_cnn", "guided-backprop", GuidedBackprop(mnist).attribute(xm, target=tm))

samples = 8
sigma = 0.15 * (xm.amax(dim=(1, 2, 3)) - xm.amin(dim=(1, 2, 3)))
noise = torch.from_numpy(rng.standard_normal((2, samples, 1, 28, 28)).astype(np.float32)) * sigma.view(2, 1, 1, 1, 1)
tensors["mnist_cnn/noise"] = noise
explicit_noise(noise)
for nt in ["smoothgrad", "smoothgrad_sq", "vargrad"]:
    out = NoiseTunnel(Saliency(mnist)).attribute(xm, nt_type=nt, nt_samples=samples, stdevs=float(sigma[0]),
                                                 target=tm, abs=False)
    method = {"smoothgrad": "smoothgrad", "smoothgrad_sq": "smoothgrad-squared", "vargrad": "vargrad"}[nt]
    case(f"nt_{nt}", "mnist_cnn", method, out, samples=samples, base="saliency")
out = NoiseTunnel(IntegratedGradients(mnist)).attribute(xm, nt_type="smoothgrad_sq", nt_samples=samples,
                                                        stdevs=float(sigma[0]), target=tm, baselines=0, n_steps=8,
                                                        method="gausslegendre")
case("nt_smoothgrad_sq_ig", "mnist_cnn", "smoothgrad-squared", out, samples=samples, base="integrated-gradients",
     steps=8, integration="gausslegendre", baseline="zeros")

# MobileNetV2: gradient methods and GradCAM at a 112x112 crop of a real image.
mobilenet = torchvision.models.mobilenet_v2()
mobilenet.load_state_dict(torch.load(os.path.join(HOME, "assets/mobilenet_v2/mobilenet_v2-b0353104.pth")))
mobilenet.eval()
imagenet = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                      T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), T.CenterCrop(112)])
names_i, xi = load("imagenet", 1, lambda im: imagenet(im.convert("RGB")))
ti = mobilenet(xi).argmax(1)
tensors["mobilenet_v2/x"], tensors["mobilenet_v2/targets"] = xi, ti.float()
gradient_methods("mobilenet_v2", mobilenet, xi, ti, ["gausslegendre"])
for k in ["mobilenet_v2/saliency_abs"]:   # |saliency| is checked against the signed map; not stored twice
    del tensors[k]
cases = [c for c in cases if c["key"] != "mobilenet_v2/saliency_abs"]
gradcam("mobilenet_v2", mobilenet, "features.18", xi, ti)

# ResNet-8 (deterministic weights): guided backprop through the block's twice-used ReLU.
resnet8 = ResNet8()
deterministic_(resnet8)
lively_(resnet8)
resnet8.eval()
names_c, xc = load("cifar10", 2, T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))]))
tc = resnet8(xc).argmax(1)
tensors["resnet8/x"], tensors["resnet8/targets"] = xc, tc.float()
case("guided_backprop", "resnet8", "guided-backprop", GuidedBackprop(resnet8).attribute(xc, target=tc))
gradcam("resnet8", resnet8, "layer3", xc, tc)

meta = dict(torch=torch.__version__, torchvision=torchvision.__version__, captum=captum.__version__,
            numpy=np.__version__, images=dict(mnist_cnn=names, mobilenet_v2=names_i, resnet8=names_c), cases=cases)
write_safetensors(os.path.join(OUT, "attribution.safetensors"), tensors)
with open(os.path.join(OUT, "attribution.json"), "w") as f:
    json.dump(meta, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", len(tensors), "tensors;", os.path.getsize(os.path.join(OUT, "attribution.safetensors")) // 1024, "KiB")
