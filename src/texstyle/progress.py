"""The one progress event every loop emits, and the one adapter that places it in a larger job.

A loop knows only its own iterations; the runner knows the pyramid level, tiled refinement its
tile, the comparison sheet its cell and the report its stage.  Each wraps the callback it hands
down with ``placed(...)``, which shifts the iteration and time and adds its piece of context, so
whoever listens at the top (the CLI's progress bar, a notebook, a web page) gets one event type
however deep the run is nested.  The library never prints; it only calls callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from PIL import Image

from .image import to_pil


@dataclass(frozen=True)
class Cell:
    """Where an event stands in a comparison sheet (studies/compare.py)."""

    index: int  # 1-based, in run order
    count: int
    grid: str  # "textures" or "stylized"
    row: str  # the row's label
    loss: str  # the statistic of this cell's column


@dataclass(frozen=True)
class Stage:
    """Where an event stands in a report (report/build.py)."""

    index: int  # 1-based
    count: int
    name: str


@dataclass(frozen=True)
class JobPlace:
    """Where an event stands in a batch (batch/): which job it comes from, how many are over."""

    index: int  # 1-based, in the batch's job order
    count: int
    name: str  # the job's output file name
    finished: int  # jobs over (written, skipped or failed) when the event was sent


@dataclass(frozen=True)
class Progress:
    """One evaluation's report: where it stands, what each loss term is, how long it has taken."""

    iteration: int  # 1-based, counted over the whole job the listener asked for
    total: int  # evaluations of that job
    losses: dict[str, float]  # the terms, weighted, and "total"
    elapsed: float  # seconds since the job started
    # The current iterate, computed only when asked (it may mean a copy of a whole print-size image).
    current: Callable[[], torch.Tensor] | None = field(default=None, repr=False, compare=False)
    level: int = 1  # 1-based pyramid level, coarsest first
    levels: int = 1
    size: tuple[int, int] = (0, 0)  # (width, height) of this level
    tile: int = 0  # 1-based tile at a level refined in tiles; 0: the whole level
    tiles: int = 0
    cell: Cell | None = None
    stage: Stage | None = None
    job: JobPlace | None = None

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None before the first evaluation has been timed."""
        if self.iteration <= 0 or self.elapsed <= 0:
            return None
        return self.elapsed / self.iteration * max(0, self.total - self.iteration)

    def image(self) -> Image.Image:
        """The current iterate as a PIL image (clamped to [0, 1])."""
        if self.current is None:
            raise ValueError("this progress event carries no image")
        return to_pil(self.current())


Callback = Callable[[Progress], None]


def placed(callback: Callback | None, *, before: int = 0, total: int | None = None,
           elapsed: float = 0.0, current: Callable[[Progress], Callable[[], torch.Tensor]] | None = None,
           **context: Any) -> Callback | None:
    """``callback``, fed with the events of a part placed in its whole.

    The part's iterations come after ``before`` of the whole's ``total`` (never past it), its
    time after ``elapsed`` seconds; ``current`` may replace the image (a tile shown inside the
    whole picture); ``context`` sets fields such as ``level=``, ``tile=``, ``cell=``, ``stage=``, ``job=``.
    None stays None, so a part without a listener pays nothing.
    """
    if callback is None:
        return None

    def report(p: Progress) -> None:
        iteration = p.iteration + before
        whole = p.total if total is None else total
        callback(replace(p, iteration=min(iteration, whole) if total is not None else iteration,
                         total=whole, elapsed=p.elapsed + elapsed,
                         current=current(p) if current is not None else p.current, **context))

    return report
