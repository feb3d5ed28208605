"""Numerical failure: restart from the best iterate, give up cleanly, never write NaN or black.

Failures are injected by wrapping an objective so that a chosen evaluation returns NaN (or a
NaN gradient, or a huge loss); the optimiser must recover or stop with the best image it had.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import pytest
import torch

from texstyle import api
from texstyle.errors import TexstyleError
from texstyle.image import save_image
from texstyle.losses import Objective
from texstyle.optimize import MAX_RESTARTS, optimize


def quadratic(target: torch.Tensor, poison=None):
    """(x - target)² with ``poison(n, loss, x)`` applied at evaluation n; counts evaluations."""
    calls = {"n": 0}

    def objective(x):
        calls["n"] += 1
        loss = (x - target).pow(2).sum()
        if poison is not None:
            loss = poison(calls["n"], loss, x)
        return loss, {"style": loss}

    return objective, calls


TARGET = torch.full((1, 3, 4, 4), 0.5)


def test_repeated_failures_stop_with_a_message_and_the_best_image(caplog):
    objective, _ = quadratic(TARGET, lambda n, loss, x: loss * math.nan if n > 2 else loss)
    with caplog.at_level(logging.WARNING, logger="texstyle.optimize"):
        result = optimize(torch.zeros(1, 3, 4, 4), objective, iters=20)
    assert result.restarts == MAX_RESTARTS
    assert len(result.history) == 2
    assert torch.isfinite(result.image).all()
    assert result.best_loss == min(h["total"] for h in result.history)
    assert sum("restarting from the best image" in r.message for r in caplog.records) == MAX_RESTARTS
    assert "stopping after 3 restarts and keeping the best image" in caplog.records[-1].message


def test_non_finite_gradient_triggers_a_restart():
    def poison(n, loss, x):
        # d/dx sqrt(0·x) = 0/(2·sqrt(0)) = NaN: a finite loss with a NaN gradient.
        return loss + torch.sqrt(x * 0).sum() if n == 3 else loss

    objective, _ = quadratic(TARGET, poison)
    result = optimize(torch.zeros(1, 3, 4, 4), objective, iters=10)
    assert result.restarts == 1 and len(result.history) == 10
    assert torch.allclose(result.image, TARGET, atol=1e-3)


def test_adam_divergence_restarts_with_a_smaller_step():
    objective, _ = quadratic(TARGET, lambda n, loss, x: loss * 1e6 if n == 5 else loss)
    result = optimize(torch.zeros(1, 3, 4, 4), objective, iters=30, optimizer="adam", lr=0.05)
    assert result.restarts == 1
    assert max(h["total"] for h in result.history) < 1e3  # the diverged value is not recorded
    assert result.best_loss < result.history[3]["total"]


def test_nan_at_the_first_evaluation_is_a_clear_error():
    objective, _ = quadratic(TARGET, lambda n, loss, x: loss * math.nan)
    with pytest.raises(TexstyleError, match="the loss is nan at the first iteration"):
        optimize(torch.zeros(1, 3, 4, 4), objective, iters=5)


def test_nan_injected_into_a_real_run_still_gives_a_good_image(monkeypatch, one_thread):
    made = api._level_objective

    calls = {"n": 0}

    @dataclasses.dataclass
    class Poisoned(Objective):
        """The real objective, NaN at the 4th evaluation; a dataclass so the run can replace()
        its fields (the seamless mode swaps the extractor)."""

        def __call__(self, image):
            calls["n"] += 1
            total, terms = super().__call__(image)
            return (total * math.nan if calls["n"] == 4 else total), terms

    def poisoned_objective(*args, **kwargs):
        objective = made(*args, **kwargs)
        return Poisoned(**{f.name: getattr(objective, f.name) for f in dataclasses.fields(objective)})

    monkeypatch.setattr(api, "_level_objective", poisoned_objective)
    result = api.run_texture("sample:brick", size=40, iters=8, seed=0)
    assert len(result.history) == 8
    assert all(math.isfinite(h["total"]) for h in result.history)
    assert torch.isfinite(result.image).all() and result.image.std() > 0.02  # not black or flat
    assert result.history[-1]["total"] < result.history[0]["total"]


def test_a_nan_image_is_never_written(tmp_path):
    image = torch.rand(1, 3, 4, 4)
    image[0, 1, 2, 2] = math.nan
    with pytest.raises(TexstyleError, match="non-finite pixels"):
        save_image(image, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
