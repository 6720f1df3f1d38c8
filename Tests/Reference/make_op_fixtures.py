"""Op-level PyTorch reference fixtures for NNRuntime's parity tests.

For every op (and the variants that matter: broadcasting, strides, dilation, groups, asymmetric and
TensorFlow "SAME" padding, ceil mode, training-mode batch norm ...) this script builds small float32
inputs with fixed seeds, runs the op in PyTorch, back-propagates a random upstream gradient
`grad_out`, and writes inputs, output, `grad_out` and `grad_<input>` to
Tests/TestSupport/Fixtures/ops.safetensors, plus the list of cases to ops.json.

Run once, with torch in a virtual environment (CI does not need torch; the outputs are committed):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch torchvision numpy
    .venv-ref/bin/python Tests/Reference/make_op_fixtures.py
"""
import json, math, os, struct
import numpy as np
import torch
import torch.nn.functional as F

from common import write_safetensors

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures")
tensors, cases = {}, []


def randn(*shape, positive=False, spread=False):
    if spread:   # well-separated values: no ties or near-kinks for max/relu-like ops
        n = int(np.prod(shape))
        v = (torch.randperm(n).float() - n / 2) * (6.0 / n) + 0.013
        return v.reshape(shape)
    t = torch.randn(*shape)
    return t.abs() + 0.5 if positive else t


def case(name, op, fn, inputs, params=None, grads=None, extra_outputs=None):
    """inputs: dict name -> tensor, in the Swift op's argument order; `grads`: the inputs to
    differentiate (all by default). `fn` may return (out, {name: side output}) for side outputs
    such as batch norm's updated running statistics."""
    grads = list(inputs) if grads is None else grads
    leaves = {k: v.clone().requires_grad_(k in grads) for k, v in inputs.items()}
    out = fn(**leaves)
    extra = {}
    if isinstance(out, tuple):
        out, extra = out[0], out[1]
    g = torch.randn_like(out)
    got = torch.autograd.grad(out, [leaves[k] for k in grads], g, allow_unused=True) if grads else []
    for k, v in inputs.items():
        tensors[f"{name}/{k}"] = v
    tensors[f"{name}/out"] = out.detach()
    tensors[f"{name}/grad_out"] = g
    for k, gk in zip(grads, got):
        tensors[f"{name}/grad_{k}"] = torch.zeros_like(inputs[k]) if gk is None else gk
    for k, v in extra.items():
        tensors[f"{name}/{k}"] = v
    cases.append(dict(case=name, op=op, params=params or {}, inputs=list(inputs), grads=grads,
                      extra_outputs=list(extra)))


# Elementwise with broadcasting
a, b1, b2 = randn(2, 3, 4), randn(3, 1), randn(4)
case("add_bcast", "add", lambda x, y: x + y, dict(x=a, y=b1))
case("sub_bcast", "sub", lambda x, y: x - y, dict(x=a, y=b2))
case("mul_bcast", "mul", lambda x, y: x * y, dict(x=a, y=b1))
case("div_bcast", "div", lambda x, y: x / y, dict(x=a, y=randn(4, positive=True)))
case("neg", "neg", lambda x: -x, dict(x=randn(5)))
case("maximum", "maximum", lambda x, y: torch.maximum(x, y), dict(x=randn(3, 4), y=randn(4)))
case("exp", "exp", lambda x: x.exp(), dict(x=randn(2, 5)))
case("log", "log", lambda x: x.log(), dict(x=randn(2, 5, positive=True)))
case("sqrt", "sqrt", lambda x: x.sqrt(), dict(x=randn(2, 5, positive=True)))
case("square", "square", lambda x: x * x, dict(x=randn(2, 5)))
case("pow", "pow", lambda x: x.pow(2.5), dict(x=randn(2, 5, positive=True)), params=dict(p=2.5))
case("abs", "abs", lambda x: x.abs(), dict(x=randn(3, 4, spread=True)))
case("clamp", "clamp", lambda x: x.clamp(-0.5, 0.7), dict(x=randn(4, 5, spread=True)), params=dict(min=-0.5, max=0.7))

# Reductions
x = randn(2, 3, 4)
case("sum_axis1", "sum", lambda x: x.sum(1), dict(x=x), params=dict(axes=[1], keep=False))
case("sum_axes02_keep", "sum", lambda x: x.sum((0, 2), keepdim=True), dict(x=x), params=dict(axes=[0, 2], keep=True))
case("sum_all", "sum", lambda x: x.sum(), dict(x=x), params=dict(axes=None, keep=False))
case("mean_axis1", "mean", lambda x: x.mean(1), dict(x=x), params=dict(axes=[1], keep=False))
case("mean_axes02_keep", "mean", lambda x: x.mean((0, 2), keepdim=True), dict(x=x), params=dict(axes=[0, 2], keep=True))
case("mean_all", "mean", lambda x: x.mean(), dict(x=x), params=dict(axes=None, keep=False))
case("max_axis1", "max", lambda x: x.max(1).values, dict(x=randn(3, 5, 2, spread=True)), params=dict(axis=1))
case("var_axis1", "variance", lambda x: x.var(1), dict(x=randn(3, 6)), params=dict(axes=[1]))

# Shape
case("reshape", "reshape", lambda x: x.reshape(4, 6), dict(x=randn(2, 3, 4)), params=dict(shape=[4, 6]))
case("permute", "permute", lambda x: x.permute(2, 0, 1), dict(x=randn(2, 3, 4)), params=dict(axes=[2, 0, 1]))
case("slice_step", "slice", lambda x: x[:, 1:5:2], dict(x=randn(2, 7, 3)), params=dict(axis=1, start=1, end=5, step=2))
case("index_select_repeats", "indexSelect", lambda x: torch.index_select(x, 1, torch.tensor([4, 0, 4, 2])),
     dict(x=randn(2, 5, 3)), params=dict(axis=1, indices=[4, 0, 4, 2]))
case("concat", "concat", lambda x, y, z: torch.cat([x, y, z], 1), dict(x=randn(2, 1, 3), y=randn(2, 2, 3), z=randn(2, 3, 3)),
     params=dict(axis=1))
case("pad_asym", "pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.25), dict(x=randn(2, 3, 4)),
     params=dict(pads=[[1, 2], [0, 1]], value=0.25))

# Linear algebra
case("matmul", "matmul", lambda x, y: x @ y, dict(x=randn(3, 4), y=randn(4, 5)))
case("matmul_batched", "matmul", lambda x, y: x @ y, dict(x=randn(2, 3, 4), y=randn(2, 4, 2)))
case("linear", "linear", lambda x, w, b: F.linear(x, w, b), dict(x=randn(5, 7), w=randn(3, 7), b=randn(3)))


def tf_same(h, w, k, s, d=(1, 1)):
    def one(n, k, s, d):
        out = math.ceil(n / s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        return total // 2, total - total // 2
    (t, bo), (l, r) = one(h, k[0], s[0], d[0]), one(w, k[1], s[1], d[1])
    return dict(top=t, bottom=bo, left=l, right=r)


def conv_case(name, shape, out_ch, k, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, bias=True, same=False):
    xin = randn(*shape)
    w = randn(out_ch, shape[1] // groups, *k) * 0.5
    if same:
        p = tf_same(shape[2], shape[3], k, stride, dilation)
        pad = (p["top"], p["bottom"], p["left"], p["right"])
    params = dict(stride=list(stride), padding=list(pad), dilation=list(dilation), groups=groups, same=same)
    def fn(x, w, b=None):
        xp = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
        return F.conv2d(xp, w, b, stride=stride, dilation=dilation, groups=groups)
    inputs = dict(x=xin, w=w, b=randn(out_ch)) if bias else dict(x=xin, w=w)
    case(name, "conv2d", fn, inputs, params=params)


conv_case("conv_3x3_pad1", (2, 3, 6, 5), 4, (3, 3), pad=(1, 1, 1, 1))
conv_case("conv_stride2", (2, 3, 7, 8), 4, (3, 3), stride=(2, 2), pad=(1, 1, 1, 1))
conv_case("conv_dilation2", (1, 2, 9, 8), 3, (3, 3), pad=(2, 2, 2, 2), dilation=(2, 2))
conv_case("conv_asym_pad", (2, 2, 5, 6), 3, (3, 3), pad=(1, 0, 2, 1))
conv_case("conv_same_s2", (1, 3, 9, 8), 4, (3, 3), stride=(2, 2), same=True, bias=False)
conv_case("conv_same_s2_k5", (1, 2, 8, 8), 2, (5, 5), stride=(2, 2), same=True)
conv_case("conv_groups2", (2, 4, 5, 5), 6, (3, 3), pad=(1, 1, 1, 1), groups=2)
conv_case("conv_depthwise", (2, 4, 6, 6), 4, (3, 3), stride=(2, 2), pad=(1, 1, 1, 1), groups=4, bias=False)
conv_case("conv_depthwise_mult2", (1, 3, 5, 6), 6, (3, 3), pad=(1, 1, 1, 1), groups=3)
conv_case("conv_pointwise", (2, 5, 4, 3), 3, (1, 1))

# Pooling and resizing (spread values: no ties for max pooling)
case("maxpool_k2", "maxPool2d", lambda x: F.max_pool2d(x, 2), dict(x=randn(2, 2, 6, 6, spread=True)),
     params=dict(kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil=False))
case("maxpool_k3_s2_p1", "maxPool2d", lambda x: F.max_pool2d(x, 3, 2, 1), dict(x=randn(1, 2, 7, 6, spread=True)),
     params=dict(kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil=False))
case("maxpool_ceil", "maxPool2d", lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True), dict(x=randn(1, 2, 5, 7, spread=True)),
     params=dict(kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil=True))
case("avgpool_incl", "avgPool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True), dict(x=randn(2, 2, 7, 6)),
     params=dict(kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil=False, include=True))
case("avgpool_excl", "avgPool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), dict(x=randn(2, 2, 7, 6)),
     params=dict(kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil=False, include=False))
case("avgpool_ceil", "avgPool2d", lambda x: F.avg_pool2d(x, 2, 2, ceil_mode=True), dict(x=randn(1, 2, 5, 7)),
     params=dict(kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil=True, include=True))
case("adaptive_5to3", "adaptiveAvgPool2d", lambda x: F.adaptive_avg_pool2d(x, 3), dict(x=randn(2, 2, 5, 5)),
     params=dict(size=[3, 3]))
case("adaptive_7to2", "adaptiveAvgPool2d", lambda x: F.adaptive_avg_pool2d(x, 2), dict(x=randn(1, 3, 7, 7)),
     params=dict(size=[2, 2]))
for name, size, ac, shape in [("resize_up", (5, 7), False, (1, 2, 3, 4)), ("resize_up_corners", (5, 7), True, (1, 2, 3, 4)),
                              ("resize_down", (4, 4), False, (2, 1, 6, 6))]:
    case(name, "resizeBilinear", lambda x, s=size, a=ac: F.interpolate(x, size=s, mode="bilinear", align_corners=a),
         dict(x=randn(*shape)), params=dict(size=list(size), align=ac))

# Batch norm: training (batch statistics; running statistics updated) and evaluation
xb, rm, rv = randn(3, 4, 2, 3), randn(4) * 0.1, randn(4, positive=True)
def bn_train(x, w, b, running_mean, running_var):
    m, v = running_mean.detach().clone(), running_var.detach().clone()
    y = F.batch_norm(x, m, v, w, b, training=True, momentum=0.1, eps=1e-5)
    return y, dict(running_mean_after=m, running_var_after=v)
case("batchnorm_train", "batchNorm", bn_train, dict(x=xb, w=randn(4), b=randn(4), running_mean=rm, running_var=rv),
     params=dict(training=True, momentum=0.1, eps=1e-5), grads=["x", "w", "b"])
case("batchnorm_eval", "batchNorm", lambda x, w, b, running_mean, running_var:
     F.batch_norm(x, running_mean, running_var, w, b, training=False, eps=1e-3),
     dict(x=randn(2, 4, 3, 3), w=randn(4), b=randn(4), running_mean=rm, running_var=rv),
     params=dict(training=False, momentum=0.1, eps=1e-3), grads=["x", "w", "b"])

# Activations and losses
case("relu", "relu", lambda x: F.relu(x), dict(x=randn(4, 5, spread=True)))
case("relu6", "relu6", lambda x: F.relu6(x), dict(x=randn(4, 5, spread=True) * 3))
case("leaky_relu", "leakyReLU", lambda x: F.leaky_relu(x, 0.1), dict(x=randn(4, 5, spread=True)), params=dict(slope=0.1))
case("sigmoid", "sigmoid", lambda x: torch.sigmoid(x), dict(x=randn(3, 4) * 3))
case("tanh", "tanh", lambda x: torch.tanh(x), dict(x=randn(3, 4)))
case("softmax", "softmax", lambda x: F.softmax(x, 1), dict(x=randn(2, 5, 3)), params=dict(axis=1))
case("log_softmax", "logSoftmax", lambda x: F.log_softmax(x, 1), dict(x=randn(3, 6)), params=dict(axis=1))
labels = torch.tensor([2, 0, 4, 1])
case("cross_entropy", "crossEntropy", lambda x, labels: F.cross_entropy(x, labels.long()),
     dict(x=randn(4, 5), labels=labels.float()), params=dict(smoothing=0.0), grads=["x"])
case("cross_entropy_smooth", "crossEntropy", lambda x, labels: F.cross_entropy(x, labels.long(), label_smoothing=0.1),
     dict(x=randn(4, 5), labels=labels.float()), params=dict(smoothing=0.1), grads=["x"])
case("nll_loss", "nllLoss", lambda x, labels: F.nll_loss(x, labels.long()),
     dict(x=F.log_softmax(randn(4, 5), 1), labels=labels.float()), grads=["x"])

# Added after the first fixtures were committed: at the end, so earlier cases keep their random draws.
case("pad_sym_last", "pad", lambda x: F.pad(x, (2, 2)), dict(x=randn(2, 3)), params=dict(pads=[[2, 2]], value=0.0))
case("pad_three_axes", "pad", lambda x: F.pad(x, (0, 1, 2, 0, 1, 1), value=-1.5), dict(x=randn(2, 2, 3)),
     params=dict(pads=[[0, 1], [2, 0], [1, 1]], value=-1.5))
# Dropout is random; its deterministic corners are compared: p = 1 in training (zeros, zero gradient,
# not NaN) and evaluation mode (the identity).
case("dropout_p1", "dropout", lambda x: F.dropout(x, 1.0, training=True), dict(x=randn(3, 4)),
     params=dict(p=1.0, training=True))
case("dropout_eval", "dropout", lambda x: F.dropout(x, 0.5, training=False), dict(x=randn(3, 4)),
     params=dict(p=0.5, training=False))

# The inverse real 2-D FFT (DORA's Fourier images): the spectrum as [..., H, W//2+1, 2] real/imaginary
# pairs, with the Nyquist column left out (zero, as torch-dreams) and present, two normalisations.
case("irfft2_ortho_no_nyquist", "irfft2", lambda x: torch.fft.irfft2(torch.view_as_complex(x), s=(5, 8), norm="ortho"),
     dict(x=randn(2, 3, 5, 4, 2)), params=dict(width=8, norm="ortho"))
case("irfft2_backward_even", "irfft2", lambda x: torch.fft.irfft2(torch.view_as_complex(x), s=(4, 6), norm="backward"),
     dict(x=randn(1, 2, 4, 4, 2)), params=dict(width=6, norm="backward"))
# torchvision's affine warp on tensors (DORA's robustness transforms), with a fill value.
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode
for name, angle, translate, scale, shear, bilinear in [
        ("affine_bilinear", 25.0, [1, -2], 1.15, [8.0, -4.0], True),
        ("affine_nearest", -40.0, [0, 1], 0.9, [0.0, 6.0], False)]:
    mode = InterpolationMode.BILINEAR if bilinear else InterpolationMode.NEAREST
    case(name, "affineWarp", lambda x, a=angle, t=translate, s=scale, sh=shear, m=mode:
         TF.affine(x, angle=a, translate=t, scale=s, shear=sh, interpolation=m, fill=[0.25]),
         dict(x=randn(1, 2, 6, 7)), params=dict(angle=angle, translate=translate, scale=scale, shear=shear,
                                               bilinear=bilinear, fill=0.25))

os.makedirs(OUT, exist_ok=True)
write_safetensors(os.path.join(OUT, "ops.safetensors"), tensors)
with open(os.path.join(OUT, "ops.json"), "w") as f:
    json.dump(dict(torch=torch.__version__, cases=cases), f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases, {len(tensors)} tensors, torch {torch.__version__}")
