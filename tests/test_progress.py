"""One progress event, placed in larger jobs by one adapter."""

from __future__ import annotations

import pytest
import torch

from texstyle.progress import Cell, Progress, Stage, placed


def event(iteration: int = 1, total: int = 4, elapsed: float = 2.0) -> Progress:
    return Progress(iteration, total, {"style": 1.0, "total": 1.0}, elapsed,
                    lambda: torch.zeros(1, 3, 4, 4))


def test_placed_shifts_iterations_and_time_and_adds_context():
    seen: list[Progress] = []
    report = placed(seen.append, before=10, total=20, elapsed=5.0, level=2, levels=3)
    assert report is not None
    report(event(3))
    p = seen[0]
    assert (p.iteration, p.total, p.elapsed, p.level, p.levels) == (13, 20, 7.0, 2, 3)
    assert p.losses == {"style": 1.0, "total": 1.0} and p.image().size == (4, 4)


def test_placements_nest_and_keep_every_context():
    seen: list[Progress] = []
    stage = placed(seen.append, stage=Stage(2, 5, "comparison sheets"))
    cell = placed(stage, before=8, total=16, cell=Cell(3, 4, "stylized", "cat + mosaic", "w2"))
    level = placed(cell, before=2, total=4, level=2, levels=2)
    assert level is not None
    level(event(1))
    p = seen[0]
    assert (p.iteration, p.total) == (11, 16)  # cell's 3 of 4, after the sheet's first 8
    assert p.stage == Stage(2, 5, "comparison sheets") and p.cell is not None
    assert (p.cell.index, p.level) == (3, 2)


def test_placed_never_counts_past_the_total_and_none_stays_none():
    seen: list[Progress] = []
    report = placed(seen.append, before=5, total=6)
    assert report is not None
    report(event(3))
    assert seen[0].iteration == 6
    assert placed(None, before=3, level=2) is None


def test_eta_follows_the_pace_so_far():
    assert event(1, 4, elapsed=2.0).eta == pytest.approx(6.0)
    assert event(0, 4, elapsed=0.0).eta is None


def test_an_event_without_an_image_says_so():
    with pytest.raises(ValueError, match="no image"):
        Progress(1, 1, {}, 0.0).image()
