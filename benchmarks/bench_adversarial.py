"""Seconds per iteration of the adversarial loss, per discriminator, for a 128 px texture.

One row per discriminator (and the gram / L-BFGS baseline): seconds per image iteration (one VGG
forward and backward pass, the discriminators' training steps and the generator step), the total
of the timed run, the total a default run (150 iterations) would take at that rate, and the CPU
seconds per iteration summed over threads (what the run costs whatever else the machine does).  The
issue's budget: a 128 px texture with logreg in under 2 minutes on 2 CPU cores.

    PYTHONPATH=src python benchmarks/bench_adversarial.py [--iters 150] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

import texstyle
from texstyle.config import TextureSettings

DISCS = ("logreg", "quadratic", "mlp:128")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplar", default="sample:cells")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=TextureSettings().iters,
                        help="timed iterations per run (default: the CLI default)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--discs", nargs="+", default=list(DISCS))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    default_iters = TextureSettings().iters
    # Warm-up: load the weights and touch every kernel once, so the first row is not penalised.
    texstyle.run_texture(args.exemplar, size=args.size, iters=2, loss="gan", device=args.device)
    print(f"{args.exemplar}, {args.size} px, {args.iters} iterations, {torch.get_num_threads()} "
          f"threads, device {args.device}, torch {torch.__version__}")
    print(f"{'loss':>20} {'s/iter':>8} {'total s':>8} {f'{default_iters} iters s':>13} "
          f"{'CPU s/iter':>11}")
    runs = [(f"gan {d}", {"loss": "gan", "disc": d}) for d in args.discs]
    runs.append(("gram (L-BFGS)", {"loss": "gram"}))
    for label, options in runs:
        start, cpu = time.perf_counter(), time.process_time()
        result = texstyle.run_texture(args.exemplar, size=args.size, iters=args.iters,
                                      device=args.device, **options)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        per = result.elapsed / len(result.history)
        print(f"{label:>20} {per:8.3f} {total:8.1f} {per * default_iters:13.1f} "
              f"{cpu / len(result.history):11.3f}", flush=True)


if __name__ == "__main__":
    main()
