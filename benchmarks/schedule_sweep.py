"""How to spend the iterations: final full-resolution losses of pyramid schedules vs the naive run.

For each job (a stylisation or a texture at one size) this runs the naive method (one level at
full size, L-BFGS, ``--naive-iters`` evaluations) and a grid of coarse-to-fine schedules
(coarsest level, evaluations at the coarsest and at the finest level, start image), and prints
each run's style and content loss measured at full resolution, its evaluations per level and a
CPU cost estimate (evaluations weighted by pixels relative to one evaluation at 128 px).
Losses are deterministic enough on any device, so the grid can run on a GPU and the chosen
schedule then be timed on the CPU with bench_speed.py.

    python benchmarks/schedule_sweep.py --device cuda --grid wide --out sweep.jsonl
    python benchmarks/schedule_sweep.py --device cuda --grid focused --skip-baselines \
        --tolerances 0.001 0.003 --texture-sizes 256 --out sweep2.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

from texstyle.api import full_resolution_losses, run_stylize, run_texture
from texstyle.config import StylizeSettings, TextureSettings

STYLIZE = [("sample:astronaut", "sample:mosaic"), ("sample:coffee", "sample:stars")]
TEXTURES = ["sample:cells", "sample:mosaic"]


# (coarsest, init, (coarse iters, fine iters)); "wide" was the first look, "focused" the second,
# between the cheap schedules that lost quality and the default that keeps it.
STYLIZE_GRIDS = {
    "wide": list(itertools.product((64, 128), ("content", "adain"),
                                   ((100, 10), (200, 10), (60, 10), (100, 20)))),
    "focused": [(128, init, sched) for init in ("content", "adain")
                for sched in ((100, 40), (150, 30), (100, 60), (60, 60))],
}
TEXTURE_GRIDS = {
    "wide": list(itertools.product((64, 128), ((100, 10), (150, 20), (200, 10), (100, 30),
                                               (300, 10)))),
    "focused": list(itertools.product((64, 128), ((150, 60), (100, 80), (200, 50)))),
}


def cost(result) -> float:
    """Evaluations weighted by pixel count, in units of one evaluation at 128x128."""
    return sum(n * w * h / 128**2 for (w, h), n in zip(result.settings["levels"],
                                                       result.settings["level_iters"]))


def record(kind, name, size, label, result, losses) -> dict:
    row = {"kind": kind, "input": name, "size": size, "schedule": label,
           "level_iters": result.settings["level_iters"],
           "levels": [w for w, _ in result.settings["levels"]],
           "evaluations": len(result.history), "cost128": round(cost(result), 1),
           "seconds": round(result.elapsed, 2)} | {k: round(v, 5) for k, v in losses.items()}
    print(json.dumps(row), flush=True)
    return row


def _append(path: str, row: dict) -> None:
    with open(path, "a") as f:  # one line per run, so an interrupted sweep keeps what it has
        f.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", default="normalized")
    parser.add_argument("--naive-iters", type=int, default=500)
    parser.add_argument("--stylize-sizes", type=int, nargs="*", default=[512])
    parser.add_argument("--texture-sizes", type=int, nargs="*", default=[256, 1024])
    parser.add_argument("--out", default="sweep.jsonl")
    parser.add_argument("--skip-baselines", action="store_true",
                        help="only the grid (the naive and default runs are already measured)")
    parser.add_argument("--grid", choices=("wide", "focused"), default="focused")
    parser.add_argument("--tolerances", type=float, nargs="*", default=[],
                        help="also run the default schedule with these --tolerance values")
    args = parser.parse_args()
    common = {"device": args.device, "weights": args.weights}
    rows = []
    start = time.perf_counter()
    for size, (content, style) in itertools.product(args.stylize_sizes, STYLIZE):
        base = StylizeSettings(size=size, **common)
        runs = {"naive content-init": {"coarsest": size, "iters": args.naive_iters},
                "naive noise-init": {"coarsest": size, "iters": args.naive_iters, "init": "noise"},
                "default (100/level)": {}}
        if args.skip_baselines:
            runs = {}
        for coarsest, init, (it, fine) in STYLIZE_GRIDS[args.grid]:
            runs[f"c{coarsest} {init} {it}->{fine}"] = {"coarsest": coarsest, "init": init,
                                                       "iters": it, "fine_iters": fine}
        if not args.skip_baselines:
            runs["adain feed-forward"] = {"method": "adain"}
        runs |= {f"default, tolerance {t:g}": {"tolerance": t} for t in args.tolerances}
        for label, opts in runs.items():
            settings = base.with_options(**opts)
            result = run_stylize(content, style, settings)
            if not result.history:
                result.settings |= {"levels": [[size, size]], "level_iters": [0]}
            losses = full_resolution_losses(result.image, style, content, settings)
            rows.append(record("stylize", f"{content}:{style}", size, label, result, losses))
            _append(args.out, rows[-1])
    for size, exemplar in itertools.product(args.texture_sizes, TEXTURES):
        base = TextureSettings(size=size, **common)
        runs = {"naive": {"coarsest": size, "iters": args.naive_iters}, "default (150/level)": {}}
        if args.skip_baselines:
            runs = {}
        runs |= {f"default, tolerance {t:g}": {"tolerance": t} for t in args.tolerances}
        for coarsest, (it, fine) in TEXTURE_GRIDS[args.grid]:
            runs[f"c{coarsest} {it}->{fine}"] = {"coarsest": coarsest, "iters": it,
                                                 "fine_iters": fine}
        for label, opts in runs.items():
            settings = base.with_options(**opts)
            result = run_texture(exemplar, settings)
            losses = full_resolution_losses(result.image, exemplar, None, settings)
            rows.append(record("texture", exemplar, size, label, result, losses))
            _append(args.out, rows[-1])
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
