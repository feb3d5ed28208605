"""Batch throughput on this machine: jobs per minute serially, with 2 local worker processes and
through Ray, and Ray's overhead per job.

Every way runs the same jobs (stylisations of built-in samples) into a fresh folder; the table
gives wall time, jobs per minute and the CPU seconds the jobs took (the machine may be shared:
CPU time says what the work cost, wall time what a user waits).  Ray's overhead per job is
measured on near-empty jobs (32 px, one evaluation), as its wall time per job minus a serial
run's, with the time to start a local Ray given separately.  On a shared machine pass
``--threads-serial 1``: idle OpenMP threads spin, and two threads can be slower than one.

    python benchmarks/batch_throughput.py [--jobs 6] [--size 96] [--iters 40]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from texstyle.batch.jobs import Job
from texstyle.batch.local import run_local
from texstyle.batch.work import Outcome

PAIRS = [("cat", "mosaic"), ("astronaut", "stars"), ("coffee", "gravel"), ("rocket", "mosaic"),
         ("cat", "brick"), ("astronaut", "cells"), ("coffee", "mosaic"), ("rocket", "grass")]


def make_jobs(n: int, options: dict[str, object]) -> list[Job]:
    return [Job(f"{i:02d}_{c}_{s}.png", f"sample:{c}", (f"sample:{s}",), dict(options))
            for i, (c, s) in enumerate((PAIRS * (n // len(PAIRS) + 1))[:n])]


def timed(run) -> tuple[float, list[Outcome]]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        outcomes = run(Path(out))
        return time.perf_counter() - start, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--threads-serial", type=int, help="threads of the first serial row "
                        "(default: every core)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    serial_threads = args.threads_serial or cores
    options = {"size": args.size, "coarsest": args.size, "iters": args.iters,
               "fine_iters": args.iters, "device": "cpu"}
    jobs = make_jobs(args.jobs, options)
    ways = {
        f"serial, {serial_threads} threads": lambda out: run_local(jobs, out,
                                                                 threads=serial_threads),
        "serial, 1 thread": lambda out: run_local(jobs, out, threads=1),
        f"{cores} workers x 1 thread": lambda out: run_local(jobs, out, workers=cores, threads=1),
    }
    ray = None
    if not args.no_ray:
        import ray

        from texstyle.batch.ray_tasks import run_ray

        start = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - start
        ways[f"Ray, {cores} CPUs x 1 thread"] = lambda out: run_ray(jobs, out, threads=1)
    # Warm-up: the weights and the samples are loaded once per process; a worker pays it again.
    timed(lambda out: run_local(make_jobs(1, options), out, threads=cores))
    print(f"{len(jobs)} stylisations at {args.size} px, {args.iters} evaluations, {cores} cores")
    print("| way | wall s | jobs/min | CPU s of the jobs | failed |\n|---|---|---|---|---|")
    for name, run in ways.items():
        wall, outcomes = timed(run)
        cpu = sum(o.cpu_seconds for o in outcomes)
        failed = sum(o.status == "failed" for o in outcomes)
        print(f"| {name} | {wall:.1f} | {len(jobs) / wall * 60:.1f} | {cpu:.1f} | {failed} |",
              flush=True)
    if ray is not None:
        tiny = make_jobs(12, {"size": 32, "coarsest": 32, "iters": 1, "fine_iters": 1,
                              "device": "cpu"})
        serial, _ = timed(lambda out: run_local(tiny, out, threads=1))
        # The first Ray run of a session pays each worker's start (imports, weights); the second
        # is the per-job cost of scheduling, shipping the inputs and the result back.
        cold, _ = timed(lambda out: run_ray(tiny, out, threads=1))
        warm, _ = timed(lambda out: run_ray(tiny, out, threads=1))
        print(f"\nRay: local start {ray_start:.1f} s; 12 near-empty jobs (32 px, 1 evaluation): "
              f"{serial:.2f} s serially, {cold:.2f} s on Ray the first time, {warm:.2f} s after; "
              f"overhead per job {(warm - serial) / 12 * 1000:.0f} ms warm, "
              f"{(cold - serial) / 12 * 1000:.0f} ms with worker start ({cores} tasks at a time)")
        ray.shutdown()


if __name__ == "__main__":
    main()
