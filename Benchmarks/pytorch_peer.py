"""The PyTorch side of interp-bench: the same workloads, shapes, thread count, warm-up and number of
runs, timed the same way (median of wall-clock times). Prints JSON {workload: {median_s, ...}}.

interp-bench runs it as `$INTERP_TORCH_PYTHON Benchmarks/pytorch_peer.py --runs N --threads T ids...`.
"""
import argparse, json, os, resource, statistics, sys, time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Reference"))
from common import MNISTCNN, ResNet8  # noqa: E402  (the reference architectures)

parser = argparse.ArgumentParser()
parser.add_argument("workloads", nargs="*")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--warmup", type=int, default=1)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
HOME = os.environ.get("INTERP_HOME", os.path.expanduser("~/.cache/interp"))


def mobilenet():
    m = torchvision.models.mobilenet_v2()
    path = os.path.join(HOME, "assets/mobilenet_v2/mobilenet_v2-b0353104.pth")
    if os.path.exists(path):
        m.load_state_dict(torch.load(path))
    return m.eval()


def forward_b16():
    m = mobilenet()
    x = torch.randn(16, 3, 224, 224)
    def step():
        with torch.no_grad():
            m(x)
    return step


def forward_input_grad_b16():
    m = mobilenet()
    for p in m.parameters():
        p.requires_grad_(False)
    x = torch.randn(16, 3, 224, 224)
    idx = torch.arange(16)
    def step():
        xs = x.clone().requires_grad_(True)
        a = m.features(xs)                      # features.18's output
        objective = a.mean((2, 3))[idx, idx].sum()
        objective.backward()
    return step


def train_step(build, shape):
    def make():
        m = build().train()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        x = torch.randn(*shape)
        y = torch.arange(shape[0]) % 10
        def step():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
        return step
    return make


def resnet18_b16():
    m = torchvision.models.resnet18().eval()
    x = torch.randn(16, 3, 224, 224)
    def step():
        with torch.no_grad():
            m(x)
    return step


def conv_layer(shape, out, k, groups, backward):
    def make():
        x = torch.randn(*shape, requires_grad=backward)
        w = (0.1 * torch.randn(out, shape[1] // groups, k, k)).requires_grad_(backward)
        if not backward:
            def step():
                with torch.no_grad():
                    torch.nn.functional.conv2d(x, w, padding=k // 2, groups=groups)
            return step
        y = torch.nn.functional.conv2d(x, w, padding=k // 2, groups=groups)
        seed = torch.randn_like(y)
        def step():   # the backward pass only, as on the Swift side
            torch.autograd.grad(y, [x, w], seed, retain_graph=True)
        return step
    return make


LAYERS = {"conv3x3_64_56": ((16, 64, 56, 56), 64, 3, 1), "dwconv3x3_96_112": ((16, 96, 112, 112), 96, 3, 96),
          "conv1x1_32_192_112": ((16, 32, 112, 112), 192, 1, 1)}

WORKLOADS = {"mobilenet_v2.forward.b16": forward_b16, "mobilenet_v2.forward_input_grad.b16": forward_input_grad_b16,
             "resnet8.train_step.b128": train_step(ResNet8, (128, 3, 32, 32)),
             "mnist_cnn.train_step.b128": train_step(MNISTCNN, (128, 1, 28, 28)),
             "resnet18.forward.b16": resnet18_b16}
for name, (shape, out, k, groups) in LAYERS.items():
    WORKLOADS[name + ".fwd"] = conv_layer(shape, out, k, groups, False)
    WORKLOADS[name + ".bwd"] = conv_layer(shape, out, k, groups, True)
results = {}
for wid in args.workloads or list(WORKLOADS):
    if wid not in WORKLOADS:
        continue
    step = WORKLOADS[wid]()
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    results[wid] = dict(median_s=statistics.median(times), runs=times,
                        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
json.dump(results, sys.stdout)
