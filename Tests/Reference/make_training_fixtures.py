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

from common import MNISTCNN, ResNet8, deterministic_, write_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "TestSupport", "Fixtures", "training")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


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


write_safetensors(os.path.join(OUT, "steps.safetensors"), tensors, {"torch": torch.__version__, "cases": json.dumps(cases)})
print(len(cases), "cases,", os.path.getsize(os.path.join(OUT, "steps.safetensors")) // 1024, "KiB")
