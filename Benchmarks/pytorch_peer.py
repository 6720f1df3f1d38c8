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
parser.add_argument("--warmup", type=int, default=3)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--serve", action="store_true", help="answer workload ids read from stdin, one JSON line each")
parser.add_argument("--export-onnx", metavar="PATH", help="write MobileNetV2 as the dynamo exporter's default ONNX graph, then exit")
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


def dora_sams_step_b16():
    """One s-AMS optimisation step as DORA/torch-dreams runs it: Fourier parameters of 16 images →
    irfft2 (ortho) → colour decorrelation → sigmoid → normalise → Pad 2 → RandomAffine → RandomCrop
    → MobileNetV2 → −Σ channel means of features.18 → backward → per-image clip → AdamW."""
    import numpy as np
    import torchvision.transforms as T
    m = mobilenet()
    for p in m.parameters():
        p.requires_grad_(False)
    h = w = 224
    d = 0.5 ** 0.5
    fy = np.fft.fftfreq(h, d=d)[:, None]
    fx = np.fft.rfftfreq(w, d=d)[: w // 2]
    scale = torch.tensor(1.0 / np.maximum((fx * fx + fy * fy) ** 0.75, 1.0 / (max(w, h) * d))).float()
    colour = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    colour = colour / colour.norm(dim=0).max()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    param = (0.01 * torch.randn(16, 3, h, w // 2, 2)).requires_grad_(True)
    opt = torch.optim.AdamW([param], lr=9e-3, weight_decay=0)
    transforms = T.Compose([T.Pad(2, fill=0.5), T.RandomAffine(15, translate=(0, 0.1), scale=(0.85, 1.2), shear=15, fill=0.5),
                            T.RandomCrop(224, pad_if_needed=True)])
    idx = torch.arange(16)

    def step():
        spectrum = torch.complex(param[..., 0], param[..., 1]) * scale
        img = torch.fft.irfft2(spectrum, s=(h, w), norm="ortho")
        img = torch.sigmoid((img.permute(0, 2, 3, 1) @ colour.T).permute(0, 3, 1, 2))
        x = transforms((img - mean) / std)
        a = m.features(x)
        loss = -a.mean((2, 3))[idx, idx].sum()
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            norms = param.grad.flatten(1).norm(dim=1).view(-1, 1, 1, 1, 1)
            param.grad.mul_(torch.clamp(1.0 / (norms + 1e-6), max=1.0))
        opt.step()
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


def sgemm_2048():
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    def step():
        with torch.no_grad():
            torch.mm(a, b)
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


def rdr_select():
    """RDR's region of one target on packed configurations, in numpy (there is no torch op for it):
    50,000 rows x 100,000 units as 1,563 uint64 words a row (625 MB), built like the Swift side
    (200 prototypes with ~37% of units on, ~1/8 of bits flipped); on counts cached outside the step.
    The step: XOR + np.bitwise_count per row (in chunks, to bound the temporary), a stable sort for
    the neighbours (target first), unanimous units of S by AND/OR of its rows, exact integer scores,
    top t by (score desc, unit asc), and membership by testing the t principal bits of every row."""
    import numpy as np
    rows, units, clusters, k, t = 50_000, 100_000, 200, 8, 10
    per_row = (units + 63) // 64
    tail = np.uint64((1 << (units % 64)) - 1) if units % 64 else np.uint64(~0 & (2**64 - 1))
    rng = np.random.default_rng(11)
    bits = lambda shape: rng.integers(0, 2**64, size=shape, dtype=np.uint64, endpoint=False)
    prototypes = bits((clusters, per_row)) & (bits((clusters, per_row)) | bits((clusters, per_row)))
    m = np.empty((rows, per_row), dtype=np.uint64)
    for start in range(0, rows, 5000):
        stop = min(rows, start + 5000)
        m[start:stop] = prototypes[rng.integers(0, clusters, size=stop - start)]
        m[start:stop] ^= bits((stop - start, per_row)) & bits((stop - start, per_row)) & bits((stop - start, per_row))
    m[:, -1] &= tail
    on = np.zeros(per_row * 64, dtype=np.int64)
    for start in range(0, rows, 2000):
        on += np.unpackbits(m[start:start + 2000].view(np.uint8), axis=1, bitorder="little").sum(axis=0, dtype=np.int64)
    on = on[:units]
    state = {"target": 0}

    def step():
        target = state["target"] = (state["target"] + 7919) % rows
        d = np.empty(rows, dtype=np.int64)
        for start in range(0, rows, 4096):
            d[start:start + 4096] = np.bitwise_count(m[start:start + 4096] ^ m[target]).sum(axis=1)
        d[target] = -1                                    # the target leads
        s = np.argsort(d, kind="stable")[:k]
        all_on = np.bitwise_and.reduce(m[s], axis=0)
        any_on = np.bitwise_or.reduce(m[s], axis=0)
        cand = np.unpackbits((all_on | ~any_on).view(np.uint8), bitorder="little")[:units].astype(bool)
        unanimous_on = np.unpackbits(all_on.view(np.uint8), bitorder="little")[:units].astype(bool)
        j = np.flatnonzero(cand)
        score = np.where(unanimous_on[j], rows - on[j], on[j])
        top = j[np.lexsort((j, -score))[:t]]
        states = unanimous_on[top]
        member = np.ones(rows, dtype=bool)
        for u, st in zip(top, states):
            member &= ((m[:, u >> 6] >> np.uint64(u & 63)) & np.uint64(1)).astype(bool) == st
        return np.flatnonzero(member)
    return step


def attribute_ig50_b8():
    """captum IntegratedGradients, 50 Gauss-Legendre steps, zero baseline, 8 images at 224², each
    explaining its predicted class (found inside the step, as interp does); internal_batch_size=16
    path points per forward/backward on both sides."""
    from captum.attr import IntegratedGradients
    m = mobilenet()
    for p in m.parameters():
        p.requires_grad_(False)
    x = torch.randn(8, 3, 224, 224)
    ig = IntegratedGradients(m)
    def step():
        with torch.no_grad():
            target = m(x).argmax(1)
        ig.attribute(x, baselines=0, target=target, n_steps=50, method="gausslegendre", internal_batch_size=16)
    return step


def export_onnx(path):
    """torch.onnx.export with the dynamo exporter's defaults, as users run it: BatchNorm folded into
    the convolutions, the batch fixed at the example's 1 (interp runs whole batches through it)."""
    torch.onnx.export(mobilenet(), (torch.randn(1, 3, 224, 224),), path, dynamo=True)


if args.export_onnx:
    export_onnx(args.export_onnx)
    sys.exit(0)


LAYERS = {"conv3x3_64_56": ((16, 64, 56, 56), 64, 3, 1), "dwconv3x3_96_112": ((16, 96, 112, 112), 96, 3, 96),
          "conv1x1_32_192_112": ((16, 32, 112, 112), 192, 1, 1),
          "conv3x3_256_14": ((16, 256, 14, 14), 256, 3, 1), "conv3x3_512_7": ((16, 512, 7, 7), 512, 3, 1)}

WORKLOADS = {"mobilenet_v2.forward.b16": forward_b16, "mobilenet_v2.forward_input_grad.b16": forward_input_grad_b16,
             "dora.sams_step.mobilenet_v2.b16": dora_sams_step_b16,
             "resnet8.train_step.b128": train_step(ResNet8, (128, 3, 32, 32)),
             "mnist_cnn.train_step.b128": train_step(MNISTCNN, (128, 1, 28, 28)),
             "resnet18.forward.b16": resnet18_b16, "rdr.select.50k_x_100k": rdr_select,
             "attribute.ig50.mobilenet_v2.b8": attribute_ig50_b8,
             "onnx.mobilenet_v2.forward_input_grad.b16": forward_input_grad_b16, "sgemm.2048": sgemm_2048}
for name, (shape, out, k, groups) in LAYERS.items():
    WORKLOADS[name + ".fwd"] = conv_layer(shape, out, k, groups, False)
    WORKLOADS[name + ".bwd"] = conv_layer(shape, out, k, groups, True)
def status_mb(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss():
    """Resets the peak RSS to the current RSS (Linux /proc/self/clear_refs) and returns the current RSS,
    so that the timed steps' peak above it is what they need, as interp-bench measures its own side."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return status_mb("VmRSS")


def measure(wid):
    step = WORKLOADS[wid]()
    for _ in range(args.warmup):
        step()
    baseline = reset_peak_rss()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return dict(median_s=statistics.median(times), runs=times,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                step_memory_mb=status_mb("VmHWM") - baseline)


if args.serve:
    # One long-lived process answers one workload per line of stdin with one JSON line: interp-bench
    # times each workload's peer right after its own side (the machine's speed drifts over minutes),
    # while PyTorch keeps the warm state of a long process (its convolutions run up to 1.5x faster
    # after other work than in a fresh process).
    for line in sys.stdin:
        wid = line.strip()
        result = {wid: measure(wid)} if wid in WORKLOADS else {}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    sys.exit(0)

json.dump({wid: measure(wid) for wid in (args.workloads or list(WORKLOADS)) if wid in WORKLOADS}, sys.stdout)
