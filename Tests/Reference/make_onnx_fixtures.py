"""ONNX files as PyTorch's two exporters write them, with PyTorch's outputs, for the ONNX importer.

Graph-only exports of real-size models: every initializer of more than 1024 bytes is stored as ONNX
external data in `<name>.data`, which is deleted (and git-ignored), so no large weights are
committed. Each external initializer is named exactly by its state-dict key (checked here, with
its bytes compared to the state-dict tensor), so a test can rewrite the .data file from the
model's own weights at the offsets the graph names; smaller initializers stay inline.
- mobilenet_v2.onnx: torchvision MobileNetV2 with its real weights, TorchScript exporter,
  training=PRESERVE (BatchNormalization unfused), no constant folding, opset 17, dynamic batch;
- mobilenet_v2_dynamo.onnx: the same model through the dynamo exporter (optimize=False, its default
  opset, dynamic batch); node metadata other than `pkg.torch.onnx.name_scopes` is dropped (the
  stack traces and FX dumps hold local paths and make up most of the file);
- mnist_cnn.onnx: the MNIST CNN (common.py) with its real weights, TorchScript, PRESERVE, opset 13;
- resnet18.onnx: torchvision ResNet-18 with common.py's `deterministic_` then `lively_` weights
  (the plain ones give input gradients of order 1e-11), TorchScript, PRESERVE, opset 17.
Self-contained exports (weights inline) of `OpZoo`, a small seeded module that uses the operators
real exporters emit for vision models: opzoo_ts11/13/17.onnx (TorchScript exporter, default
settings, so BatchNormalization after a convolution is fused; opset 11, 13, 17) and
opzoo_dynamo.onnx (dynamo exporter, default settings; node metadata as above). All have a dynamic
batch dimension; inputs are named "input" and outputs "logits".

onnx.safetensors holds, per model (mobilenet_v2, mnist_cnn, resnet18, opzoo): `<model>.input`,
`<model>.logits`, `<model>.weight_for_grad` (a seeded tensor w of the logits' shape) and
`<model>.input_grad` (the gradient of (logits·w).sum() with respect to the input). MobileNetV2's
input is the first foolbox ImageNet sample (resize 256, centre crop 224, ImageNet normalisation,
as in make_attribution_fixtures.py; one sample, as two would take 40% of the size budget), with
`mobilenet_v2.top1` (the predicted class); its gradient is taken at a separate seeded 1x3x96x96
`mobilenet_v2.grad_input`, with `mobilenet_v2.grad_logits`. MNIST CNN: 2 foolbox MNIST samples
(MNIST normalisation); ResNet-18: seeded 1x3x64x64; OpZoo: seeded 2x3x32x32. Inputs are rounded
to float16 before use and stored as F16 (exactly; the reader returns floats) to halve the file;
outputs are float32. Every file is also run with onnx's reference evaluator (at each of its
model's inputs) and must match PyTorch.
Finally every file becomes `<name>.onnx.json` (the ModelProto in protobuf's JSON form) with the
data of every float initializer removed, so no model file and no weights are committed; the tests
rebuild the `.onnx` (TestSupport/ONNXFixture.swift) with the zoo's fetched weights, the
deterministic ones, or, for OpZoo's seeded test weights, the values stored in onnx.safetensors as
`<file>/<initializer>`.

onnx.json: versions, and per file its exporter and settings, opset, op_type counts, input and
output names and shapes, the node metadata keys the exporter wrote, and for graph-only files the
external data file and the external initializer names.

With `--full DIR` the script also writes complete default-settings exports of the real MobileNetV2
(weights inline, BatchNormalization fused, dynamic batch) for manual checks, not committed:
DIR/mobilenet_v2_default_dynamo.onnx and DIR/mobilenet_v2_default_ts.onnx (opset 17).

Run once (outputs committed; swift test needs neither Python nor the weights' Python side):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch torchvision numpy pillow onnx onnxscript
    swift run -c release interp fetch mobilenet_v2 mnist_cnn foolbox-samples
    /tmp/torchvenv/bin/python Tests/Reference/make_onnx_fixtures.py [--full ~/.cache/interp/onnx]
Written with torch 2.15.0, torchvision 0.29.2, onnx 1.23.2, onnxscript 0.7.2 (also stored in
onnx.json). A rerun with the same versions rewrites identical bytes.
"""
import argparse, collections, io, json, os, warnings
import numpy as np
import onnx
import onnxscript
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from onnx.reference import ReferenceEvaluator
from PIL import Image

from common import MNISTCNN, deterministic_, lively_, write_safetensors

HOME = os.environ.get("INTERP_HOME", os.path.expanduser("~/.cache/interp"))
SAMPLES = os.path.join(HOME, "assets", "foolbox-samples")
OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "onnx")
KEPT_NODE_METADATA = {"pkg.torch.onnx.name_scopes"}
warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
tensors, files = {}, {}


class OpZoo(nn.Module):
    """A small vision network touching the operators exporters emit (1x3x32x32 -> 10 logits)."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, stride=2, padding=1)
        self.stem_bn = nn.BatchNorm2d(12)
        self.mix_bn = nn.BatchNorm2d(12)                      # after a concat: never fused into a conv
        self.dw = nn.Conv2d(12, 12, 3, padding=2, dilation=2, groups=12)
        self.dw_bn = nn.BatchNorm2d(12)
        self.pw = nn.Conv2d(12, 16, 1, bias=False)
        self.channel_scale = nn.Parameter(torch.rand(1, 16, 1, 1) + 0.5)
        self.register_buffer("channel_shift", torch.randn(1, 16, 1, 1) / 4)
        self.max_pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avg_pool = nn.AvgPool2d(2)
        self.proj = nn.Parameter(torch.randn(16, 16) / 4)
        self.dropout = nn.Dropout(0.25)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        h = F.relu(self.stem_bn(self.stem(x)))                                 # N,12,16,16
        a, b = torch.split(h, [5, 7], dim=1)
        h = self.mix_bn(torch.cat([F.hardswish(a), b * torch.sigmoid(b)], dim=1))
        h = F.relu6(self.dw_bn(self.dw(h)))
        h = self.pw(h) * self.channel_scale + 0.5                              # N,16,16,16
        h = (h - self.channel_shift - 0.25) / 2.0
        h = h * F.hardsigmoid(h)
        h = h * torch.softmax(h, dim=1)                                        # attention over channels
        h = self.max_pool(h)                                                   # N,16,8,8
        h = h + F.interpolate(self.avg_pool(h), scale_factor=2, mode="nearest")
        up = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        h = h - up[:, :, ::2, 1::2]
        h = F.pad(h, (1, 2, 0, 1), value=0.1)[:, :, 1:, 2:]                    # N,16,8,9
        top, bottom = torch.chunk(h, 2, dim=2)
        h = torch.cat([bottom, top], dim=2)
        h = torch.matmul(h.permute(0, 2, 3, 1), self.proj).permute(0, 3, 1, 2)
        s = h.mean(dim=(2, 3), keepdim=True).squeeze(3).squeeze(2)             # N,16
        h = h * torch.sigmoid(s).unsqueeze(-1).unsqueeze(-1)
        h = h.reshape(x.shape[0], 16, -1).reshape(x.shape[0], 16, 8, -1)
        return self.fc(self.gap(self.dropout(h)).flatten(1))


def seeded_randn(*shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def as_half(x):
    """Inputs are used at float16 precision so that storing them as F16 is exact."""
    return x.half().float()


def load_samples(prefix, count, transform):
    names = sorted(f for f in os.listdir(SAMPLES) if f.startswith(prefix + "_"))[:count]
    return names, torch.stack([transform(Image.open(os.path.join(SAMPLES, n))) for n in names])


def torchscript(model, x, opset, **settings):
    """The TorchScript exporter's file and what it was asked (input "input", output "logits", dynamic batch)."""
    f = io.BytesIO()
    torch.onnx.export(model, (x,), f, dynamo=False, opset_version=opset, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      **settings)
    settings = {k: getattr(v, "name", v) for k, v in settings.items()}      # TrainingMode.PRESERVE -> "PRESERVE"
    return onnx.load_from_string(f.getvalue()), dict(exporter="torchscript", opset_version=opset, **settings)


def dynamo(model, x, strip=True, **settings):
    """The dynamo exporter's file (same names, dynamic batch); `strip` keeps only KEPT_NODE_METADATA."""
    proto = torch.onnx.export(model, (x,), dynamo=True, input_names=["input"], output_names=["logits"],
                              dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False, **settings).model_proto
    keys = sorted({p.key for n in proto.graph.node for p in n.metadata_props})
    info = dict(exporter="dynamo", node_metadata_keys=keys, **settings)
    if strip:
        for n in proto.graph.node:
            kept = [(p.key, p.value) for p in n.metadata_props if p.key in KEPT_NODE_METADATA]
            del n.metadata_props[:]
            for key, value in kept:
                n.metadata_props.add(key=key, value=value)
    return proto, info


def op_types(proto):
    return dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))


def shapes(values):
    return [dict(name=v.name, shape=[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
            for v in values]


def check_numerics(path, feeds):
    """onnx's reference evaluator (numpy) runs the file; its outputs must match PyTorch's."""
    session = ReferenceEvaluator(path)
    worst = 0.0
    for x, expected in feeds:
        got = session.run(None, {"input": x.numpy()})[0]
        diff = float(np.abs(got - expected.numpy()).max()) / max(1.0, float(expected.abs().max()))
        assert diff < 1e-4, (path, diff)
        worst = max(worst, diff)
    return float(f"{worst:.1e}")


def describe(name, model_name, proto, info, feeds):
    """Checks the saved file (with its external data, if any) and records it in onnx.json."""
    path = os.path.join(OUT, name)
    onnx.checker.check_model(path, full_check=True)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    files[name] = dict(model=model_name, opset=opset, op_types=op_types(proto), nodes=len(proto.graph.node),
                       inputs=shapes(proto.graph.input), outputs=shapes(proto.graph.output),
                       reference_evaluator_max_scaled_diff=check_numerics(path, feeds),
                       exporter=info["exporter"], node_metadata_keys=info.get("node_metadata_keys", []),
                       settings={k: v for k, v in info.items() if k not in ("exporter", "node_metadata_keys")})


def save_graph_only(name, model_name, export, state_dict, feeds):
    """Saves with initializers over 1024 bytes in <name>.data, checks that each is a state-dict entry
    stored byte for byte, then deletes the data."""
    proto, info = export
    path, data = os.path.join(OUT, name + ".onnx"), name + ".data"
    onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                    size_threshold=1024)
    describe(name + ".onnx", model_name, proto, info, feeds)
    graph = onnx.load(path, load_external_data=False).graph
    external = []
    with open(os.path.join(OUT, data), "rb") as blob:
        for init in graph.initializer:
            if init.data_location != onnx.TensorProto.EXTERNAL:
                assert init.name not in state_dict or np.array_equal(
                    onnx.numpy_helper.to_array(init), state_dict[init.name].numpy()), init.name
                continue
            location = {e.key: e.value for e in init.external_data}
            expected = state_dict[init.name].numpy().astype("<f4").tobytes()   # KeyError: not a state-dict key
            assert location["location"] == data and int(location["length"]) == len(expected), init.name
            blob.seek(int(location["offset"]))
            assert blob.read(len(expected)) == expected, init.name
            external.append(init.name)
    os.remove(os.path.join(OUT, data))
    assert os.path.getsize(path) < 400_000, path
    files[name + ".onnx"].update(external_data=data, external_initializers=external,
                                 inline_initializers=len(graph.initializer) - len(external))


def save_inline(name, model_name, export, feeds):
    onnx.save_model(export[0], os.path.join(OUT, name + ".onnx"))
    assert os.path.getsize(os.path.join(OUT, name + ".onnx")) < 150_000, name
    describe(name + ".onnx", model_name, *export, feeds)


def reference(model_name, model, x, w_seed, input_key="input", logits_key="logits"):
    """<model>.input, .logits, .weight_for_grad and .input_grad of (logits·w).sum()."""
    x = x.clone().requires_grad_(True)
    logits = model(x)
    w = seeded_randn(*logits.shape, seed=w_seed)
    (logits * w).sum().backward()
    tensors.update({f"{model_name}.{input_key}": x.detach().half(), f"{model_name}.{logits_key}": logits.detach(),
                    f"{model_name}.weight_for_grad": w, f"{model_name}.input_grad": x.grad})
    return logits.detach()


def weightless_json(tensors):
    """Turns every .onnx written above into `<name>.onnx.json`, the ModelProto in protobuf's JSON form
    with no float initializer data: no model file and no weights are committed. The tests put the
    weights back: the zoo's own (fetched) or the deterministic ones, by initializer name, and for
    the seeded OpZoo the values stored here in onnx.safetensors as `<file>/<initializer>`."""
    from google.protobuf import json_format
    for name in sorted(os.listdir(OUT)):
        if not name.endswith(".onnx"):
            continue
        path = os.path.join(OUT, name)
        model = onnx.load(path, load_external_data=False)
        stem = name[:-len(".onnx")]
        for init in model.graph.initializer:
            if init.data_type != onnx.TensorProto.FLOAT:
                continue
            if stem.startswith("opzoo"):
                tensors[f"{stem}/{init.name}"] = torch.from_numpy(onnx.numpy_helper.to_array(init).copy())
            for field in ("raw_data", "float_data", "external_data", "data_location"):
                init.ClearField(field)
        with open(path + ".json", "w") as f:
            f.write(json_format.MessageToJson(model, indent=0) + "\n")
        os.remove(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", metavar="DIR", help="also write complete default-settings MobileNetV2 exports")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    preserve = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)

    # MobileNetV2, real weights: logits and top-1 on an ImageNet sample, the gradient at 96x96.
    mobilenet = torchvision.models.mobilenet_v2()
    mobilenet.load_state_dict(torch.load(os.path.join(HOME, "assets/mobilenet_v2/mobilenet_v2-b0353104.pth")))
    mobilenet.eval()
    imagenet = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                          T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    imagenet_names, xi = load_samples("imagenet", 1, lambda im: imagenet(im.convert("RGB")))
    xi = as_half(xi)
    with torch.no_grad():
        li = mobilenet(xi)
    tensors.update({"mobilenet_v2.input": xi.half(), "mobilenet_v2.logits": li,
                    "mobilenet_v2.top1": li.argmax(1).float()})
    xg = as_half(seeded_randn(1, 3, 96, 96, seed=1))
    lg = reference("mobilenet_v2", mobilenet, xg, w_seed=2, input_key="grad_input", logits_key="grad_logits")
    feeds, sd = [(xi, li), (xg, lg)], mobilenet.state_dict()
    example = xi.repeat(2, 1, 1, 1)             # torch.export would specialise a batch of 1 to a constant
    save_graph_only("mobilenet_v2", "mobilenet_v2", torchscript(mobilenet, example, 17, **preserve), sd, feeds)
    save_graph_only("mobilenet_v2_dynamo", "mobilenet_v2", dynamo(mobilenet, example, optimize=False), sd, feeds)

    # MNIST CNN, real weights, 2 MNIST samples.
    mnist = MNISTCNN()
    mnist.load_state_dict(torch.load(os.path.join(HOME, "assets/mnist_cnn/handwriting_model.pth")))
    mnist.eval()
    mnist_names, xm = load_samples("mnist", 2, T.Compose([T.Grayscale(), T.ToTensor(),
                                                          T.Normalize((0.1307,), (0.3081,))]))
    xm = as_half(xm)
    lm = reference("mnist_cnn", mnist, xm, w_seed=3)
    save_graph_only("mnist_cnn", "mnist_cnn", torchscript(mnist, xm, 13, **preserve), mnist.state_dict(), [(xm, lm)])

    # ResNet-18, deterministic weights made lively.
    resnet = torchvision.models.resnet18()
    deterministic_(resnet)
    lively_(resnet)
    resnet.eval()
    xr = as_half(seeded_randn(1, 3, 64, 64, seed=4))
    lr = reference("resnet18", resnet, xr, w_seed=5)
    save_graph_only("resnet18", "resnet18", torchscript(resnet, xr, 17, **preserve), resnet.state_dict(), [(xr, lr)])

    # OpZoo, seeded weights and non-trivial BatchNorm statistics, four exports with default settings.
    torch.manual_seed(0)
    zoo = OpZoo()
    with torch.no_grad():
        for m in zoo.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2)
    zoo.eval()
    xz = as_half(seeded_randn(2, 3, 32, 32, seed=6))
    lz = reference("opzoo", zoo, xz, w_seed=7)
    for opset in [11, 13, 17]:
        save_inline(f"opzoo_ts{opset}", "opzoo", torchscript(zoo, xz, opset), [(xz, lz)])
    save_inline("opzoo_dynamo", "opzoo", dynamo(zoo, xz), [(xz, lz)])

    weightless_json(tensors)
    write_safetensors(os.path.join(OUT, "onnx.safetensors"), tensors)
    meta = dict(versions=dict(torch=torch.__version__, torchvision=torchvision.__version__, onnx=onnx.__version__,
                              onnxscript=onnxscript.__version__, numpy=np.__version__),
                images=dict(mobilenet_v2=imagenet_names, mnist_cnn=mnist_names),
                weights=dict(mobilenet_v2="real (mobilenet_v2-b0353104.pth)", mnist_cnn="real (handwriting_model.pth)",
                             resnet18="common.py deterministic_ then lively_", opzoo="torch.manual_seed(0), see OpZoo"),
                tensors={k: list(v.shape) for k, v in sorted(tensors.items())},
                kept_node_metadata=sorted(KEPT_NODE_METADATA), files=files)
    with open(os.path.join(OUT, "onnx.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    sizes = {name: os.path.getsize(os.path.join(OUT, name)) for name in sorted(os.listdir(OUT))}
    for name, size in sizes.items():
        print(f"{name:28} {size // 1024:5} KiB")
    print(f"{'total':28} {sum(sizes.values()) // 1024:5} KiB")
    print("mobilenet_v2 top-1:", dict(zip(imagenet_names, li.argmax(1).tolist())))

    if args.full:
        full = os.path.expanduser(args.full)
        os.makedirs(full, exist_ok=True)
        for name, (proto, _) in [("mobilenet_v2_default_dynamo.onnx", dynamo(mobilenet, example, strip=False)),
                                 ("mobilenet_v2_default_ts.onnx", torchscript(mobilenet, example, 17))]:
            path = os.path.join(full, name)
            onnx.save_model(proto, path)
            onnx.checker.check_model(path, full_check=True)
            print(path, os.path.getsize(path) // 1024, "KiB, max scaled difference", check_numerics(path, feeds),
                  op_types(proto))


if __name__ == "__main__":
    main()
