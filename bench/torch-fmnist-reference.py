"""PyTorch CPU reference for bench:fmnist: the same SimCLR recipe Looktwice trains, written in
PyTorch, so a run of `bench:fmnist` can print what PyTorch gets out of the same CPU threads and
the same budget.

What is the same as bench/fmnist.bench.ts (and core/ml):
  - data: Fashion-MNIST train (60k) at its native 28 px, 1 channel, inputs x/255 - 0.5;
  - encoder: resnet-small (core/ml/resnet.ts): CIFAR stem 3x3/1 conv + BN + ReLU, one basic block
    per stage, widths 16-32-64-128, stages 2-4 halve the resolution, global average pool -> h [B, 128];
  - head (core/ml/projection-head.ts): z = W2 ReLU(BN(W1 h)) + b2, [B, 128] -> [B, 128] -> [B, 128];
  - loss: NT-Xent over the 2N views (Chen et al. 2020, eq. 1), temperature tau;
  - augmentation (core/ml/augment.ts with the bench's options): random resized crop (area
    crop_min..1, aspect 3/4..4/3) + horizontal flip, then with p = 0.8 brightness and contrast
    factors in [1 - 0.8 s, 1 + 0.8 s] (s = colour strength), each clipped to [0, 1];
  - optimizer: AdamW (decoupled weight decay 1e-6 on conv/linear weights only), linear warm-up for
    5 % of the steps then cosine decay; with --minutes the schedule is sized after timing 3 steps;
  - evaluation (the protocol of bench:fmnist): frozen h of train and test without augmentation;
    probe_all (standardised features, linear layer, Adam lr 1e-3 wd 1e-5, 6,000 steps of 1,024),
    probe_10_per_class (10 random training images per class, 500 steps, wd 1e-3), knn200 (cosine,
    k = 200, votes exp(sim / 0.1)).
Differences: PyTorch's own kernels, RNG and BN (momentum 0.1 = Looktwice's 0.9 in the other
convention); the 10 images per class are drawn with numpy's RNG, not Looktwice's.

usage: /usr/bin/python3 bench/torch-fmnist-reference.py [--minutes 15 | --steps N] [--threads 1]
        [--batch 128] [--lr 1e-3] [--temperature 0.5] [--crop-min 0.2] [--color-strength 0.5]
        [--seed 1] [--data /usr/share/datasets/fashion-mnist] [--skip-random-init]
      recipe ablations (this script is ~10x faster than the wasm trainer on this CPU, so recipes are
      swept here first and the winners confirmed with bench:fmnist):
        [--optimizer adam|sgd] [--warmup 0.05] [--jitter-p 0.8] [--blur] [--widths 16,32,64,128]
        [--head-hidden 128] [--head-layers 2|3] [--size-schedule 16@0.5,22@0.8]
        [--method simclr|simsiam] [--eval-train 60000] [--eval-test 10000] [--label TEXT]
Prints one JSON line per feature set on stdout (progress on stderr).
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--minutes", type=float, default=15.0)
parser.add_argument("--steps", type=int, default=None, help="fixed number of steps (overrides --minutes)")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--batch", type=int, default=128)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--temperature", type=float, default=0.5)
parser.add_argument("--crop-min", type=float, default=0.2)
parser.add_argument("--color-strength", type=float, default=0.5)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--skip-random-init", action="store_true")
parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
parser.add_argument("--warmup", type=float, default=0.05)
parser.add_argument("--jitter-p", type=float, default=0.8)
parser.add_argument("--blur", action="store_true")
parser.add_argument("--widths", default="16,32,64,128")
parser.add_argument("--head-hidden", type=int, default=None)
parser.add_argument("--head-layers", type=int, choices=[2, 3], default=2)
parser.add_argument("--size-schedule", default=None)
parser.add_argument("--method", choices=["simclr", "simsiam"], default="simclr")
parser.add_argument("--eval-train", type=int, default=60000)
parser.add_argument("--eval-test", type=int, default=10000)
parser.add_argument("--label", default=None)
parser.add_argument("--pixels-only", action="store_true", help="evaluate raw pixels on the evaluation subsets and exit")
args = parser.parse_args()

torch.manual_seed(args.seed)
np.random.seed(args.seed)
torch.set_num_threads(args.threads)


def log(message):
    print(f"[torch-fmnist] {message}", file=sys.stderr, flush=True)


def read_idx(path):
    """IDX file (LeCun's MNIST format, gzip) -> uint8 array [n, h, w] or [n]."""
    try:
        raw = gzip.open(path).read()
    except OSError as error:
        sys.exit(f"torch-fmnist-reference: cannot read {path}: {error}")
    if raw[3] == 3:
        n, h, w = (int(v) for v in np.frombuffer(raw[4:16], ">i4"))
        return np.frombuffer(raw[16:], np.uint8).reshape(n, h, w)
    return np.frombuffer(raw[8:], np.uint8)


def load(split):
    images = torch.tensor(read_idx(f"{args.data}/{split}-images-idx3-ubyte.gz").copy()).float().div(255).unsqueeze(1)  # [n, 1, 28, 28] in [0, 1]
    labels = torch.tensor(read_idx(f"{args.data}/{split}-labels-idx1-ubyte.gz").copy()).long()  # [n]
    return images, labels


x_train, y_train = load("train")
x_test, y_test = load("t10k")
# Seeded evaluation subsets (time); training always sees all 60k.
eval_train_index = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(1))[: args.eval_train].sort().values
eval_test_index = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(2))[: args.eval_test].sort().values
x_eval_train, y_eval_train = x_train[eval_train_index], y_train[eval_train_index]
x_test, y_test = x_test[eval_test_index], y_test[eval_test_index]
size_schedule = [(int(px), float(until)) for px, until in (part.split("@") for part in args.size_schedule.split(","))] if args.size_schedule else []


def augment(x):
    """[B, 1, S, S] in [0, 1] -> one view each, [B, 1, S, S] in [0, 1]."""
    b = x.shape[0]
    area = torch.empty(b).uniform_(args.crop_min, 1.0)
    aspect = torch.exp(torch.empty(b).uniform_(math.log(3 / 4), math.log(4 / 3)))
    w = torch.sqrt(area * aspect).clamp(max=1.0)
    h = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = (torch.rand(b) * 2 - 1) * (1 - w)
    cy = (torch.rand(b) * 2 - 1) * (1 - h)
    flip = torch.where(torch.rand(b) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = w * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
    s = args.color_strength
    apply = torch.rand(b, 1, 1, 1) < args.jitter_p
    brightness = torch.where(apply, torch.empty(b, 1, 1, 1).uniform_(max(0.0, 1 - 0.8 * s), 1 + 0.8 * s), torch.ones(b, 1, 1, 1))
    contrast = torch.where(apply, torch.empty(b, 1, 1, 1).uniform_(max(0.0, 1 - 0.8 * s), 1 + 0.8 * s), torch.ones(b, 1, 1, 1))
    x = (x * brightness).clamp(0, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean).clamp(0, 1)
    if args.blur:
        # As core/ml/augment.ts: p = 0.5, sigma in [0.1, 2], kernel radius max(1, floor(5 % of the side)).
        radius = max(1, int(x.shape[-1] * 0.05))
        offsets = torch.arange(-radius, radius + 1).float()
        sigma = torch.empty(b).uniform_(0.1, 2.0)
        taps = torch.exp(-offsets[None, :] ** 2 / (2 * sigma[:, None] ** 2))
        taps = taps / taps.sum(1, keepdim=True)  # [B, 2r + 1]
        blurred = F.conv2d(F.pad(x.transpose(0, 1), (radius, radius, 0, 0), mode="replicate"), taps[:, None, None, :], groups=b)
        blurred = F.conv2d(F.pad(blurred, (0, 0, radius, radius), mode="replicate"), taps[:, None, :, None], groups=b).transpose(0, 1)
        chosen = (torch.rand(b, 1, 1, 1) < 0.5).float()
        x = chosen * blurred + (1 - chosen) * x
    return x


class Block(nn.Module):
    """Basic residual block: conv3x3/stride - BN - ReLU - conv3x3 - BN, plus shortcut, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class Encoder(nn.Module):
    """resnet-small: [B, 1, 28, 28] -> h [B, 128]."""

    def __init__(self, widths=(16, 32, 64, 128)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, channels = [], widths[0]
        for i, width in enumerate(widths):
            blocks.append(Block(channels, width, 1 if i == 0 else 2))
            channels = width
        self.body = nn.Sequential(*blocks)

    def forward(self, x):
        return self.body(self.stem(x)).mean((2, 3))


widths = tuple(int(w) for w in args.widths.split(","))
encoder = Encoder(widths)
feature_dim = widths[-1]
hidden = args.head_hidden or feature_dim
head_layers = [nn.Linear(feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
if args.head_layers == 3:
    head_layers += [nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
head = nn.Sequential(*head_layers, nn.Linear(hidden, 128))
# SimSiam's predictor (Chen & He, CVPR 2021): a bottleneck MLP 128 -> 32 -> 128 on z.
predictor = nn.Sequential(nn.Linear(128, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 128))


def simsiam_loss(z):
    """z: [2N, D] -> -(cos(p1, sg z2) + cos(p2, sg z1)) / 2."""
    p = predictor(z)
    n = z.shape[0] // 2
    target = z.detach()
    return -(F.cosine_similarity(p[:n], target[n:]).mean() + F.cosine_similarity(p[n:], target[:n]).mean()) / 2


def nt_xent(z, tau):
    """z: [2N, D] (views of image n at rows n and n + N) -> scalar loss."""
    z = F.normalize(z, dim=1)
    n = z.shape[0] // 2
    similarity = z @ z.T / tau  # [2N, 2N]
    similarity.fill_diagonal_(float("-inf"))
    return F.cross_entropy(similarity, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))


@torch.no_grad()
def features(x):
    encoder.eval()
    return torch.cat([encoder(x[i:i + 2048] - 0.5) for i in range(0, len(x), 2048)])  # [n, 128]


few = np.concatenate([np.random.RandomState(2024).permutation(np.nonzero(y_eval_train.numpy() == c)[0])[:10] for c in range(10)])


def probe(h_train, labels, h_test, steps, weight_decay):
    mean, std = h_train.mean(0), h_train.std(0) + 1e-6
    a, b = (h_train - mean) / std, (h_test - mean) / std
    generator = torch.Generator().manual_seed(0)
    linear = nn.Linear(a.shape[1], 10)
    optimizer = torch.optim.Adam(linear.parameters(), lr=1e-3, weight_decay=weight_decay)
    for _ in range(steps):
        i = torch.randint(0, len(a), (min(1024, len(a)),), generator=generator)
        loss = F.cross_entropy(linear(a[i]), labels[i])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return (linear(b).argmax(1) == y_test).float().mean().item()


def knn200(h_train, h_test, k=200, t=0.1):
    a, b = F.normalize(h_train, dim=1), F.normalize(h_test, dim=1)
    correct = 0
    for i in range(0, len(b), 1000):
        sims, neighbours = (b[i:i + 1000] @ a.T).topk(k, dim=1)
        votes = torch.zeros(len(sims), 10).scatter_add_(1, y_eval_train[neighbours], torch.exp(sims / t))
        correct += (votes.argmax(1) == y_test[i:i + 1000]).sum().item()
    return correct / len(b)


def evaluate(name, extra, pixels=False):
    started = time.perf_counter()
    h_train, h_test = (x_eval_train.flatten(1), x_test.flatten(1)) if pixels else (features(x_eval_train), features(x_test))
    few_index = torch.tensor(few)
    record = {
        "bench": "fmnist",
        **({"label": args.label} if args.label else {}),
        "features": name,
        "dim": h_train.shape[1],
        "probe_all": round(probe(h_train, y_eval_train, h_test, 6000, 1e-5), 4),
        "probe_10_per_class": round(probe(h_train[few_index], y_eval_train[few_index], h_test, 500, 1e-3), 4),
        "knn200": round(knn200(h_train, h_test), 4),
        "eval_train": len(h_train),
        "eval_test": len(h_test),
        "eval_s": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average": round(os.getloadavg()[0], 1),
        **extra,
    }
    print(json.dumps(record), flush=True)


def warmup_cosine(step, total, warmup, base):
    """As core/ml/learning-rate.ts: linear warm-up to base, then cosine decay to 0."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * 0.5 * (1 + math.cos(math.pi * progress))


if args.pixels_only:
    evaluate("raw-pixels", {}, pixels=True)
    sys.exit(0)
if not args.skip_random_init:
    evaluate("pytorch-cpu-resnet-small-random-init", {})

modules = [encoder, head] + ([predictor] if args.method == "simsiam" else [])
all_parameters = [p for m in modules for p in m.parameters()]
decayed = [p for m in modules for module in m.modules() if isinstance(module, (nn.Conv2d, nn.Linear)) for name, p in module.named_parameters(recurse=False) if name == "weight"]
decayed_ids = {id(p) for p in decayed}
others = [p for p in all_parameters if id(p) not in decayed_ids]
if args.optimizer == "adam":
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": 1e-6}, {"params": others, "weight_decay": 0.0}], lr=args.lr)
else:  # as core/ml/optimizer.ts 'sgd': momentum 0.9, L2 5e-4 on weights only
    optimizer = torch.optim.SGD([{"params": decayed, "weight_decay": 5e-4}, {"params": others, "weight_decay": 0.0}], lr=args.lr, momentum=0.9)

budget_s = args.minutes * 60
total = args.steps if args.steps is not None else 1_000_000
warmup = max(1, round(total * args.warmup))
timing_steps = 3
losses = []
started = time.perf_counter()
step = 0
while True:
    elapsed = time.perf_counter() - started
    if args.steps is None and step == timing_steps:
        total = max(timing_steps + 1, int(budget_s / (elapsed / timing_steps)))
        warmup = max(1, round(total * args.warmup))
        log(f"{elapsed / timing_steps:.2f} s/step -> {total} steps in {args.minutes:g} min ({total * args.batch / len(x_train):.2f} epochs)")
    if step >= total or (args.steps is None and step > timing_steps and elapsed >= budget_s):
        break
    for group in optimizer.param_groups:
        group["lr"] = warmup_cosine(step, total, warmup, args.lr)
    for m in modules:
        m.train()
    x = x_train[torch.randperm(len(x_train))[: args.batch]]  # [N, 1, 28, 28], distinct images
    size = next((px for px, until in size_schedule if step / total < until), x.shape[-1])
    if size != x.shape[-1]:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    views = torch.cat([augment(x), augment(x)]) - 0.5  # [2N, 1, S, S]
    z = head(encoder(views))  # [2N, 128]
    loss = nt_xent(z, args.temperature) if args.method == "simclr" else simsiam_loss(z)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    step += 1
    if step % 25 == 0:
        log(f"step {step}/{total} loss {loss.item():.4f} {step * args.batch / (time.perf_counter() - started):.1f} img/s")
train_s = time.perf_counter() - started
evaluate(f"pytorch-cpu-resnet-small-{args.method}", {
    "steps": step,
    "batch": args.batch,
    "epochs": round(step * args.batch / len(x_train), 3),
    "budget_minutes": None if args.steps is not None else args.minutes,
    "train_s": round(train_s, 1),
    "train_images_per_s": round(step * args.batch / train_s, 1),
    "first_loss": round(float(np.mean(losses[:10])), 4),
    "final_loss": round(float(np.mean(losses[-10:])), 4),
    "recipe": {k: v for k, v in vars(args).items() if k not in ("data", "label", "eval_train", "eval_test", "skip_random_init", "minutes", "steps", "threads", "batch")},
})
