#!/usr/bin/env python3
"""PyTorch CPU reference for bench:train: the images/s of one SimCLR step of the same network
core/ml/resnet.ts and core/ml/projection-head.ts build (CIFAR stem, basic blocks, global average
pool; head Linear(no bias) -> BatchNorm1d -> ReLU -> Linear), two views per image, NT-Xent (tau 0.5),
backward, Adam. Random inputs, so it measures the model step only (no augmentation); bench:train's
own numbers include augmentation. Prints one JSON line.

  /usr/bin/python3 bench/torch-train-reference.py --threads 2 --batch 64 --steps 5 --warmup 2
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCHS = {"resnet-small": ([16, 32, 64, 128], [1, 1, 1, 1]), "resnet18": ([64, 128, 256, 512], [2, 2, 2, 2])}


class BasicBlock(nn.Module):
    def __init__(self, inputs: int, width: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = None
        if stride != 1 or inputs != width:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        residual = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + residual)


class Simclr(nn.Module):
    def __init__(self, widths, blocks, projection_dim=128):
        super().__init__()
        layers = [nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
        channels = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for index in range(count):
                layers.append(BasicBlock(channels, width, 2 if index == 0 and stage > 0 else 1))
                channels = width
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(channels, channels, bias=False), nn.BatchNorm1d(channels), nn.ReLU(), nn.Linear(channels, projection_dim))

    def forward(self, x):
        return self.head(self.encoder(x).mean((2, 3)))


def nt_xent(z, temperature):
    z = F.normalize(z, dim=1)
    n = z.shape[0] // 2
    similarity = z @ z.t() / temperature
    similarity = similarity - torch.eye(2 * n) * 1e9
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(similarity, targets)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="resnet-small", choices=sorted(ARCHS))
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Simclr(*ARCHS[args.arch])
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    views = torch.rand(2 * args.batch, 3, args.size, args.size)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nt_xent(model(views), 0.5)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - started) / args.steps
    print(json.dumps({
        "bench": "train-reference", "framework": "pytorch-cpu", "torch": torch.__version__, "threads": args.threads,
        "arch": args.arch, "size_px": args.size, "batch": args.batch, "steps": args.steps, "includes": "model step only (no augmentation)",
        "images_per_s": round(args.batch / seconds, 2), "ms_per_step": round(seconds * 1000, 1),
    }), flush=True)


if __name__ == "__main__":
    main()
