"""One SGD step and one Adam step on the MNIST CNN and ResNet-8 in training mode, from
deterministic weights and a fixed batch: the reference for NNRuntime's optimisers, loss and
BatchNorm statistics. Parameters are large, so the fixture keeps 64 evenly spaced elements of every
state-dict entry after the step (all of them for small entries).

Run once, with torch in a virtual environment (outputs committed; CI does not need torch):
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch numpy
    .venv-ref/bin/python Tests/Reference/make_training_fixtures.py
"""
import json, os, struct
import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "training")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


def deterministic_(model):
    """Entry k, element i = 0.05·sin(0.37·((7i + 13k) mod 1009)); running variances 1 + 10|…|."""
    table = 0.05 * np.sin(0.37 * np.arange(1009))
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict().items()):
            if name.endswith("num_batches_tracked"):
                continue
            i = np.arange(t.numel())
            v = table[(7 * i + 13 * k) % 1009]
            if name.endswith("running_var"):
                v = 1 + np.abs(v) * 10
            t.copy_(torch.from_numpy(v.reshape(tuple(t.shape))).float())


class MNISTCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_layers = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                                         nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.fc_layers = nn.Sequential(nn.Linear(1152, 256), nn.ReLU(), nn.Linear(256, 10))
    def forward(self, x):
        return self.fc_layers(self.conv_layers(x).flatten(1))


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet8(nn.Module):
    """The ROAR reference's CIFAR ResNet-8 with torchvision's module names."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(64, 64, 1))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, 10)
    def forward(self, x):
        h = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(self.avgpool(h).flatten(1))


tensors, cases = {}, []


def sample(t):
    flat = t.detach().reshape(-1).float()
    if flat.numel() <= 64:
        return flat
    return flat[torch.from_numpy(np.linspace(0, flat.numel() - 1, 64).round().astype(np.int64))]


for model_name, ctor, shape in [("mnist_cnn", MNISTCNN, (8, 1, 28, 28)), ("resnet8", ResNet8, (8, 3, 32, 32))]:
    x = torch.randn(*shape)
    y = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    tensors[f"{model_name}/x"] = x
    tensors[f"{model_name}/y"] = y.float()
    # Adam divides by √v + ε: with ε = 1e-8 an element whose gradient is ~1e-9 (ResNet-8 with these
    # structured weights has many) turns float32 rounding into an O(lr) difference in any float32
    # implementation, so ResNet-8's Adam cases use ε = 1e-4; the MNIST CNN keeps the default.
    eps = 1e-4 if model_name == "resnet8" else 1e-8
    for opt_name, make in [("sgd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)),
                           ("adam", lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=1e-4, eps=eps)),
                           ("adamw", lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.01, eps=eps))]:
        m = ctor()
        deterministic_(m)
        m.train()
        opt = make(m.parameters())
        for step in range(2):                       # two steps: momentum and Adam moments matter
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(x), y, label_smoothing=0.1)
            loss.backward()
            if step == 0 and opt_name == "sgd":
                for k, p in m.named_parameters():
                    tensors[f"{model_name}/grad/{k}"] = sample(p.grad)
            opt.step()
            tensors[f"{model_name}/{opt_name}/loss{step}"] = loss.detach()
        for k, v in m.state_dict().items():
            tensors[f"{model_name}/{opt_name}/after/{k}"] = sample(v)
        cases.append(dict(model=model_name, optimizer=opt_name))


def write_safetensors(path, named, metadata):
    header, blobs, offset = {}, [], 0
    for k in sorted(named):
        a = np.array(named[k].detach().numpy(), dtype="<f4", order="C")
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


write_safetensors(os.path.join(OUT, "steps.safetensors"), tensors, {"torch": torch.__version__, "cases": json.dumps(cases)})
print(len(cases), "cases,", os.path.getsize(os.path.join(OUT, "steps.safetensors")) // 1024, "KiB")
