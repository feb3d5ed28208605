"""Seconds per optimiser iteration at 128, 256 and 512 px, and how that compares with the machine.

Prints one table: for each size, the time of one L-BFGS iteration of texture synthesis (one
forward and backward pass of VGG-19 up to relu5_1, Gram matrices of five layers), the FLOPs of
that pass (counted by torch.utils.flop_counter), and the achieved GFLOP/s next to what a plain
float32 matrix product reaches on this machine.

    python benchmarks/speed.py [--sizes 128 256 512] [--iters 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from texstyle.config import TextureSettings
from texstyle.features import VGGFeatures
from texstyle.losses import Objective, style_targets
from texstyle.optimize import optimize
from texstyle.weights import load_weights


def matmul_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--iters", type=int, default=5, help="timed iterations per size")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", default="normalized", help="normalized, torchvision or a path")
    parser.add_argument("--layout", choices=("channels_last", "contiguous", "both"),
                        default="contiguous",
                        help="activation memory layout in VGG; 'both' times each, alternating")
    args = parser.parse_args()
    device = torch.device(args.device)

    settings = TextureSettings()
    weights_ = load_weights(args.weights)
    layouts = ["channels_last", "contiguous"] if args.layout == "both" else [args.layout]
    extractors = {name: VGGFeatures(weights_, settings.style_layers,
                                    channels_last=name == "channels_last").to(device)
                  for name in layouts}
    weights = settings.normalized_layer_weights()
    peak = matmul_gflops(device)
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"float32 matmul 2048^3: {peak:.1f} GFLOP/s")
    print(f"{'layout':>13} {'size':>6} {'s/iter':>8} {'GFLOP/iter':>11} {'GFLOP/s':>8} "
          f"{'% of matmul':>12}")
    for size, layout in [(s, name) for s in args.sizes for name in layouts]:
        extractor = extractors[layout]
        g = torch.Generator().manual_seed(0)
        style = torch.rand(1, 3, size, size, generator=g).to(device)
        with torch.no_grad():
            targets = style_targets(extractor(style), settings.style_layers)
        objective = Objective(extractor, targets, weights)
        x = torch.rand(1, 3, size, size, generator=g).to(device).requires_grad_(True)
        counter = FlopCounterMode(display=False)
        with counter:
            total, _ = objective(x)
            total.backward()
        flops = counter.get_total_flops()
        optimize(x.detach(), objective, iters=1)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        optimize(x.detach(), objective, iters=args.iters)
        if device.type == "cuda":
            torch.cuda.synchronize()
        per_iter = (time.perf_counter() - start) / args.iters
        rate = flops / per_iter / 1e9
        print(f"{layout:>13} {size:>6} {per_iter:>8.3f} {flops / 1e9:>11.1f} {rate:>8.1f} {100 * rate / peak:>11.0f}%")


if __name__ == "__main__":
    main()
