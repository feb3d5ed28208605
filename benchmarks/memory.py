"""Estimated against measured peak memory (RSS) of texture runs at a few sizes, on the CPU.

Each size runs in its own process (peak RSS is per process), with one thread:

    python benchmarks/memory.py [--sizes 64 128 192 256 384] [--iters 3] [--optimizer lbfgs]

Prints size, estimate, measured peak and their ratio; the constants in texstyle/memory.py come
from this table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = """
import sys, torch
torch.set_num_threads(1)
import texstyle
texstyle.run_texture("sample:brick", size=int(sys.argv[1]), iters=int(sys.argv[2]),
                     optimizer=sys.argv[3], device="cpu")
from texstyle.memory import peak_rss_bytes
print(peak_rss_bytes())
"""


def measured_peak(size: int, iters: int, optimizer: str) -> int:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(size), str(iters), optimizer],
                         capture_output=True, text=True, check=True, env=env)
    return int(out.stdout.split()[-1])


def estimated_peak(size: int, iters: int, optimizer: str) -> int:
    from texstyle.api import read_input, style_shape
    from texstyle.config import DEFAULT_STYLE_LAYERS
    from texstyle.image import fit_long_side
    from texstyle.memory import estimate_peak

    style = tuple(read_input("sample:brick", "style").shape[-2:])
    out = fit_long_side(*style, size)
    return estimate_peak(out, [style_shape(style, out, None)], [style], DEFAULT_STYLE_LAYERS,
                         optimizer=optimizer, iters=iters).total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 192, 256, 384])
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--optimizer", default="lbfgs")
    args = parser.parse_args()
    print(f"{'size':>6} {'estimate MB':>12} {'measured MB':>12} {'ratio':>6}")
    for size in args.sizes:
        est = estimated_peak(size, args.iters, args.optimizer)
        got = measured_peak(size, args.iters, args.optimizer)
        print(f"{size:>6} {est / 2**20:>12.0f} {got / 2**20:>12.0f} {est / got:>6.2f}")


if __name__ == "__main__":
    main()
