"""Peak memory (and time) of refining one pyramid level whole versus in tiles, at several sizes.

Each measurement runs in its own process so its peak resident set size (VmHWM) is its own:
texture synthesis with the default five Gram layers of the real VGG-19, starting from noise,
``--iters`` evaluations for the whole image or per tile.  Tiled peak memory should stay flat as
the size grows (one tile's activations plus a few copies of the image); whole-image memory grows
with the pixel count.

    python benchmarks/tiled_memory.py [--sizes 512 1024] [--tile 256] [--overlap 32] [--iters 1]
        [--modes whole tiled]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch


def child(mode: str, size: int, tile: int, overlap: int, iters: int) -> dict:
    from texstyle.api import read_input
    from texstyle.config import TextureSettings
    from texstyle.features import VGGFeatures
    from texstyle.losses import Objective, style_targets
    from texstyle.memory import peak_rss_bytes
    from texstyle.optimize import optimize
    from texstyle.refine import plan_tiles, refine_tiled
    from texstyle.stats import STATISTICS
    from texstyle.weights import load_weights

    settings = TextureSettings()
    net = VGGFeatures(load_weights("normalized"), settings.style_layers)
    style = read_input("sample:brick", "style")
    with torch.no_grad():
        targets = style_targets(net(style), settings.style_layers)
    weights = settings.normalized_layer_weights()
    image = (0.5 + 0.1 * torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    base = peak_rss_bytes() / 2**20
    start = time.perf_counter()
    if mode == "whole":
        optimize(image, Objective(net, targets, weights, tv_weight=0.5), iters=iters)
        tiles = 1
    else:
        problem = Objective(net, targets, weights, tv_weight=0.5, statistic=STATISTICS["gram"])
        refine_tiled(image, problem, tile=tile, overlap=overlap, iters=iters)
        tiles = len(plan_tiles(size, size, tile, overlap))
    return {"mode": mode, "size": size, "tiles": tiles, "seconds": time.perf_counter() - start,
            "peak_mib": peak_rss_bytes() / 2**20,
            "before_mib": base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--iters", type=int, default=1, help="evaluations (whole image or per tile)")
    parser.add_argument("--modes", nargs="+", default=["whole", "tiled"], choices=["whole", "tiled"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.tile, args.overlap,
                               args.iters)))
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; tile {args.tile} px, "
          f"overlap {args.overlap} px, {args.iters} evaluation(s) per image/tile")
    print(f"{'mode':>6} {'size':>6} {'tiles':>6} {'seconds':>8} {'peak RSS MiB':>13} "
          f"{'after setup MiB':>16}")
    for size in args.sizes:
        for mode in args.modes:
            out = subprocess.run([sys.executable, __file__, "--child", mode, str(size),
                                  "--tile", str(args.tile), "--overlap", str(args.overlap),
                                  "--iters", str(args.iters)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['mode']:>6} {r['size']:>6} {r['tiles']:>6} {r['seconds']:>8.1f} "
                  f"{r['peak_mib']:>13.0f} {r['before_mib']:>16.0f}", flush=True)


if __name__ == "__main__":
    main()
