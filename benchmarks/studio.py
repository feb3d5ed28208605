"""What the studio costs a run, and how soon the page shows something.

1. Preview overhead, two ways.  The cost of one frame (the iterate copied to a PIL image and
   encoded as the page's JPEG, reduced to 512 px; noise, which compresses worst) at each size: at most one a second,
   that cost in seconds is the largest share of a run it can take.  And the same texture run
   with no listener and with the studio's listener (``studio.runs.LiveView``: numbers on every
   event, a frame at most once a second) and, as an upper bound, a frame on every evaluation,
   alternated, CPU and wall time of each (on a shared machine the differences are near noise).
2. Time to the first picture: a stylisation submitted to a ``studio.runs.Studio`` as the page
   submits it; seconds from the submission to the feed-forward preview and to the
   optimisation's first frame, for the first run of a fresh server (weights and decoder not yet
   loaded) and for the next one.

    python benchmarks/studio.py [--size 256] [--run-size 128] [--iters 60] [--repeats 3]
                                [--threads 1] [--skip-first]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from texstyle.api import run_texture
from texstyle.config import TextureSettings
from texstyle.studio.runs import FRAME_INTERVAL_S, LiveView, Run, Studio, frame_bytes


def timed(size: int, iters: int, interval: float | None) -> tuple[float, float, int]:
    """(CPU s, wall s, frames) of one 1-level texture run; ``interval`` None: no listener."""
    settings = TextureSettings(size=size, iters=iters, fine_iters=iters, coarsest=size)
    run = Run(1, "texture", {}, settings, {}, "")
    view = None if interval is None else LiveView(run, lambda: None, interval=interval)
    cpu, wall = time.process_time(), time.perf_counter()
    run_texture("sample:brick", settings, view)
    return time.process_time() - cpu, time.perf_counter() - wall, run.frame_version


def frame_cost(sizes: list[int], repeats: int = 20) -> None:
    """Median seconds of one frame at each size."""
    for size in sizes:
        image = torch.rand(1, 3, size, size)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            frame_bytes(image)
            times.append(time.perf_counter() - start)
        cost = statistics.median(times)
        print(f"one frame at {size}x{size} px: {1000 * cost:.1f} ms, at most "
              f"{100 * cost / FRAME_INTERVAL_S:.1f}% of a run at one frame a second")


def overhead(size: int, iters: int, repeats: int) -> None:
    timed(size, 2, None)  # load the weights once
    results: dict[str, list[tuple[float, float, int]]] = {"none": [], "1/s": [], "every": []}
    for _ in range(repeats):
        for name, interval in (("none", None), ("1/s", 1.0), ("every", 0.0)):
            results[name].append(timed(size, iters, interval))
    base_cpu = statistics.median(r[0] for r in results["none"])
    base_wall = statistics.median(r[1] for r in results["none"])
    print(f"texture {size} px, {iters} evaluations, median of {repeats}:")
    print("listener           CPU s   wall s   frames   CPU vs none   wall vs none")
    for name, rows in results.items():
        cpu = statistics.median(r[0] for r in rows)
        wall = statistics.median(r[1] for r in rows)
        frames = int(statistics.median(r[2] for r in rows))
        print(f"{name:<16} {cpu:7.2f} {wall:8.2f} {frames:8d} {100 * (cpu / base_cpu - 1):+12.1f}% "
              f"{100 * (wall / base_wall - 1):+13.1f}%")


def first_pictures(size: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        studio = Studio(Path(folder))
        try:
            for attempt in ("first run of a fresh server", "next run"):
                run = studio.submit({"mode": "stylize", "content": "sample:cat",
                                     "style": "sample:mosaic", "settings": {"size": size}})
                while run.first_frame_s is None and run.status in ("queued", "running"):
                    time.sleep(0.01)
                studio.stop(run.id)
                while run.status in ("queued", "running"):
                    time.sleep(0.01)
                print(f"stylize {size} px, {attempt}: feed-forward preview after "
                      f"{run.first_preview_s:.2f} s, first optimisation frame after "
                      f"{run.first_frame_s:.2f} s")
        finally:
            studio.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--run-size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-first", action="store_true", help="no time-to-first-picture runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.skip_first:
        first_pictures(args.size)
    frame_cost([128, 256, 512, 1024, 2048])
    overhead(args.run_size, args.iters, args.repeats)


if __name__ == "__main__":
    main()
