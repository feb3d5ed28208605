"""Run a batch's jobs on this machine: in this process, or in N worker processes.

Worker processes are started with ``spawn`` (a fresh interpreter): forking a process whose
OpenMP thread pool is running can hang.  Each worker gets its share of the threads, and sends
its job's progress events back through a queue; the driver writes every file (work.finish).
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..progress import Callback, JobPlace, Progress, placed
from .jobs import Job
from .work import Computed, Outcome, compute, finish, pending

OutcomeCallback = Callable[[int, Outcome], None]  # (0-based job index, outcome)


class _Tracker:
    """The batch's outcomes in job order, and the place of a job's events (how many are over)."""

    def __init__(self, jobs: list[Job], on_outcome: OutcomeCallback | None) -> None:
        self.jobs, self.on_outcome = jobs, on_outcome
        self.outcomes: list[Outcome | None] = [None] * len(jobs)

    def report(self, index: int, outcome: Outcome) -> None:
        self.outcomes[index] = outcome
        if self.on_outcome is not None:
            self.on_outcome(index, outcome)

    def place(self, index: int) -> JobPlace:
        finished = sum(o is not None for o in self.outcomes)
        return JobPlace(index + 1, len(self.jobs), self.jobs[index].name, finished)

    def results(self) -> list[Outcome]:
        assert all(o is not None for o in self.outcomes), "every job has an outcome"
        return [o for o in self.outcomes if o is not None]


def run_local(jobs: list[Job], out_dir: Path, *, workers: int = 1, threads: int = 1,
              overwrite: bool = False, callback: Callback | None = None,
              on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
    """Every job's outcome, in job order; ``threads`` intra-op threads per job.

    ``workers == 1`` runs the jobs here, one after another; more start that many processes.
    ``callback`` gets each job's progress events with ``job=`` set; ``on_outcome`` hears of
    each job as it ends (skipped ones first).  Ctrl-C stops the batch (KeyboardInterrupt);
    what was written stays, and a re-run skips it.
    """
    tracker = _Tracker(jobs, on_outcome)
    todo = pending(jobs, out_dir, overwrite=overwrite, report=tracker.report)
    if workers <= 1 or len(todo) <= 1:
        for index, job in todo:
            report = placed(callback, job=tracker.place(index))
            tracker.report(index, finish(job, compute(job, threads, report), out_dir,
                                         overwrite=overwrite))
    elif todo:
        _run_pool(todo, out_dir, workers, threads, overwrite, callback, tracker)
    return tracker.results()


# A worker process's end of the progress queue (set by _init_worker).
_EVENTS: Any = None


def _init_worker(events: Any) -> None:
    global _EVENTS
    _EVENTS = events


def _compute_in_worker(index: int, job: Job, threads: int, with_events: bool) -> Computed:
    def send(p: Progress) -> None:
        # The image accessor cannot cross processes; a listener that wants pictures runs serially.
        _EVENTS.put((index, replace(p, current=None)))

    return compute(job, threads, send if with_events else None)


def _run_pool(todo: list[tuple[int, Job]], out_dir: Path, workers: int, threads: int,
              overwrite: bool, callback: Callback | None, tracker: _Tracker) -> None:
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    stop = threading.Event()

    def relay() -> None:
        while not stop.is_set():
            try:
                index, p = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if callback is not None:
                callback(replace(p, job=tracker.place(index)))

    relay_thread = threading.Thread(target=relay, daemon=True)
    relay_thread.start()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                               initializer=_init_worker, initargs=(events,))
    try:
        running: dict[Future[Computed], tuple[int, Job]] = {
            pool.submit(_compute_in_worker, index, job, threads, callback is not None): (index, job)
            for index, job in todo}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index, job = running.pop(future)
                try:
                    computed = future.result()
                except Exception as exc:  # noqa: BLE001 — a worker that died (killed, out of memory)
                    computed = Computed(None, f"worker failed: {type(exc).__name__}: {exc}", 0, 0)
                tracker.report(index, finish(job, computed, out_dir, overwrite=overwrite))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        stop.set()
        relay_thread.join()
