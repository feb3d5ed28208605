"""Run a batch's jobs as Ray tasks: on a cluster that already exists, or on a local Ray.

The driver reads every input and writes every output; a task gets the images and returns the
result, so the cluster's nodes need neither the user's files nor a shared folder.  Ray is an
optional dependency (``pip install 'texstyle[ray]'``), imported only here and only when asked.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import TexstyleError
from ..extras import optional
from ..plan import read_input
from .jobs import Job
from .local import OutcomeCallback, _Tracker
from .work import Computed, Outcome, compute, finish, pending


def run_ray(jobs: list[Job], out_dir: Path, *, address: str | None = None, threads: int = 1,
            overwrite: bool = False, on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
    """Every job's outcome, in job order; each job is one Ray task asking for ``threads`` CPUs.

    A Ray already initialised in this process is used as it is (a test's, a notebook's);
    otherwise ``address`` connects to a running cluster (``"auto"``, ``"ray://host:10001"``)
    and no address starts a local Ray for the batch and stops it after.  Per-iteration
    progress does not come back from tasks: ``on_outcome`` hears of each job as it ends.
    """
    ray = optional("ray")
    tracker = _Tracker(jobs, on_outcome)
    todo = pending(jobs, out_dir, overwrite=overwrite, report=tracker.report)
    if not todo:
        return tracker.results()
    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise TexstyleError(f"could not start or reach {where}: {exc}") from None
        started = address is None
    try:
        task = ray.remote(num_cpus=threads)(_task)
        running: dict[Any, tuple[int, Job]] = {}
        for index, job in todo:
            images, error = _load(job)
            if images is None:
                tracker.report(index, Outcome(job.name, "failed", error=error))
                continue
            running[task.remote(job, threads, images)] = (index, job)
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            index, job = running.pop(done[0])
            try:
                computed = ray.get(done[0])
            except Exception as exc:  # noqa: BLE001 — a task lost with its node, a worker crash
                computed = Computed(None, f"Ray task failed: {type(exc).__name__}: {exc}", 0, 0)
            tracker.report(index, finish(job, computed, out_dir, overwrite=overwrite))
    finally:
        if started:
            ray.shutdown()
    return tracker.results()


def _task(job: Job, threads: int, images: tuple[Any, list[Any]]) -> Computed:
    return compute(job, threads, None, images)


def _load(job: Job) -> tuple[tuple[Any, list[Any]] | None, str | None]:
    """The job's content and styles read here, on the driver; or the one-line error."""
    try:
        settings = job.settings()
        content = read_input(job.content, "content image", settings.max_pixels)
        styles = [read_input(s, "style image", settings.max_pixels) for s in job.styles]
    except TexstyleError as exc:
        return None, str(exc)
    return (content, styles), None


