"""One job, wherever it runs (this process, a local worker process, a Ray task), and what came of it.

``compute`` returns the result instead of writing it: the driver writes every file, so workers
need no access to the output folder (a Ray cluster's nodes do not share the driver's disk) and
two workers never race on one name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..api import RunResult, run_stylize
from ..errors import TexstyleError
from ..image import ImageInput
from ..progress import Callback
from ..records import is_finished, record_path, write_result
from .jobs import Job

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: its status, its time and, when it failed, the one-line error."""

    name: str
    status: str  # DONE, SKIPPED or FAILED
    seconds: float = 0.0  # wall time of the computation (0 when skipped)
    cpu_seconds: float = 0.0  # CPU time of the process that computed it, all its threads
    error: str | None = None


@dataclass(frozen=True)
class Computed:
    """A worker's answer: the result, or the error that stopped the job, with its times."""

    result: RunResult | None
    error: str | None
    seconds: float
    cpu_seconds: float


def compute(job: Job, threads: int, callback: Callback | None = None,
            images: tuple[ImageInput, list[ImageInput]] | None = None) -> Computed:
    """Run ``job`` with ``threads`` intra-op threads; never raises for a problem of the job itself.

    The thread count is set for the job (and restored after): torch splits the CPU's sums by
    thread, so the same job gives the same bits only with the same count (docs/batch.md).
    ``images`` are the content and styles already loaded (a Ray driver reads them).  A
    ``TexstyleError`` is the user's to fix and becomes the job's one-line error; any other
    exception is logged with its traceback and also fails only this job, so that one bad input
    does not cost the hours the others take.  Ctrl-C is never caught.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start, cpu = time.perf_counter(), time.process_time()
    result, error = None, None
    try:
        content: ImageInput = job.content
        styles: list[ImageInput] = [*job.styles]
        if images is not None:
            content, styles = images
        result = run_stylize(content, styles, job.settings(), callback=callback)
        result.settings["inputs"] = job.inputs()
        result.settings["threads"] = threads
    except TexstyleError as exc:
        error = str(exc)
    except Exception as exc:
        log.exception("job %s failed", job.name)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        torch.set_num_threads(before)
    return Computed(result, error, time.perf_counter() - start, time.process_time() - cpu)


def finish(job: Job, computed: Computed, out_dir: Path, *, overwrite: bool) -> Outcome:
    """Write a computed job's image and record (the driver's part); the outcome to report."""
    if computed.result is None:
        return Outcome(job.name, FAILED, computed.seconds, computed.cpu_seconds, computed.error)
    try:
        write_result(computed.result, out_dir / job.name, overwrite=overwrite)
    except TexstyleError as exc:
        return Outcome(job.name, FAILED, computed.seconds, computed.cpu_seconds, str(exc))
    return Outcome(job.name, DONE, computed.seconds, computed.cpu_seconds)


def pending(jobs: list[Job], out_dir: Path, *, overwrite: bool,
            report: Callable[[int, Outcome], None]) -> list[tuple[int, Job]]:
    """The jobs still to run, with their 0-based index; the finished ones are reported skipped.

    Finished means the image and its record exist (the record is written last); with
    ``overwrite`` every job runs again.  Without it, an image or record alone (a file of the
    user's, or a run cut off between the two writes) is never replaced: that job fails at once
    with the name, instead of after its computation.
    """
    todo = []
    for i, job in enumerate(jobs):
        output = out_dir / job.name
        if overwrite:
            todo.append((i, job))
        elif is_finished(output):
            report(i, Outcome(job.name, SKIPPED))
        elif output.exists() or record_path(output).exists():
            there = output if output.exists() else record_path(output)
            report(i, Outcome(job.name, FAILED, error=f"{there} exists but is not a finished "
                              "job's image and record (pass --overwrite to replace it)"))
        else:
            todo.append((i, job))
    return todo
