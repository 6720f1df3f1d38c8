"""Shared by the reference scripts: the safetensors writer, the deterministic weights the Swift
tests regenerate, and the two small architectures rebuilt with their source packages' module names."""
import json, struct
import numpy as np
import torch
import torch.nn as nn


def write_safetensors(path, named, metadata=None):
    """float32 tensors (float16 ones stay float16), sorted keys, header padded to 8 bytes (the
    safetensors layout)."""
    header, blobs, offset = {}, [], 0
    for k in sorted(named):
        half = named[k].dtype == torch.float16
        a = np.array(named[k].detach().numpy(), dtype="<f2" if half else "<f4", order="C")   # keeps 0-d shapes
        header[k] = {"dtype": "F16" if half else "F32", "shape": list(a.shape),
                     "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def deterministic_(model):
    """State-dict entry k, element i = 0.05·sin(0.37·((7i + 13k) mod 1009)); running variances
    1 + 10·|…|; num_batches_tracked untouched (TestSupport/DeterministicWeights.swift mirrors it)."""
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


def lively_(model):
    """Rescales deterministic_ weights so that signals survive deep networks (the plain ones give
    input gradients of order 1e-11): rank-1 `.weight` entries (BatchNorm scales) -> 1 + 10v, other
    `.weight` entries -> 20v·sqrt(2/fan_in) (DeterministicWeights.lively in TestSupport mirrors it)."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not name.endswith(".weight"):
                continue
            if t.dim() == 1:
                t.mul_(10).add_(1)
            else:
                t.mul_(20 * (2 / (t.numel() // t.shape[0])) ** 0.5)


class MNISTCNN(nn.Module):
    """digit-recognizer-py's CNN (digit_recognizer/model.py), same module names."""
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
