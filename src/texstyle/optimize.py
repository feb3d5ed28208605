"""The image-optimisation loop: optimiser choice, progress callbacks, best-iterate keeping.

The loop reports through ``callback(Progress)`` and never prints; rendering (progress bars,
intermediate saves) belongs to the caller.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from PIL import Image

from .errors import TexstyleError
from .image import to_pil

OPTIMIZERS = ("lbfgs", "adam")

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """One iteration's report: where we are, what each loss term is, how long it has taken."""

    iteration: int  # 1-based
    total: int
    losses: dict[str, float]
    elapsed: float
    _current: Callable[[], torch.Tensor] = field(repr=False)
    level: int = 1  # 1-based pyramid level, coarsest first
    levels: int = 1
    size: tuple[int, int] = (0, 0)  # (width, height) of this level

    def image(self) -> Image.Image:
        """The current iterate as a PIL image (clamped to [0, 1]); computed only when asked."""
        return to_pil(self._current())


@dataclass
class OptimResult:
    image: torch.Tensor  # the best iterate seen, clamped to [0, 1]
    history: list[dict[str, float]]
    best_loss: float
    elapsed: float


Objective = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


def optimize(
    init: torch.Tensor,
    objective: Objective,
    *,
    iters: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    callback: Callable[[Progress], None] | None = None,
    line_search: bool = True,
    tolerance: float = 0.0,
    patience: int = 10,
) -> OptimResult:
    """Minimise ``objective`` over the pixels of ``init`` with a budget of ``iters`` evaluations.

    An "iteration" is one evaluation of the objective (one forward and backward pass), so the
    budget means the same cost for both optimisers.  L-BFGS uses a strong-Wolfe line search:
    without one, a start where the gradient is tiny (dead ReLUs for a flat initial image, seen on
    bold flat-colour exemplars) makes its first steps vanishingly small and the run stalls, and
    a too-long step can blow the loss up by 10⁵.  The image with the lowest loss seen is
    returned, so a bad trial step cannot spoil the result.

    ``line_search=False`` is for objectives that change between evaluations (random projections
    drawn afresh each time): a line search cannot compare values of different functions, so
    L-BFGS then takes one unit step per evaluation, as Johnson's neural-style does.

    ``tolerance`` > 0 stops early once the best loss has improved by less than that fraction over
    the last ``patience`` evaluations: a converged level wastes nothing, and ``iters`` becomes a cap.
    """
    if optimizer not in OPTIMIZERS:
        raise TexstyleError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    x = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [x], lr=lr or 1.0, max_iter=iters if line_search else 1, max_eval=iters,
            history_size=50, tolerance_grad=0.0, tolerance_change=0.0,
            line_search_fn="strong_wolfe" if line_search else None,
        )
    else:
        opt = torch.optim.Adam([x], lr=lr or 0.02)

    history: list[dict[str, float]] = []
    best = {"loss": math.inf, "image": x.detach().clamp(0, 1)}
    start = time.perf_counter()

    def closure() -> torch.Tensor:
        if len(history) >= iters:
            raise _BudgetSpent  # the line search wants more evaluations than we have left
        opt.zero_grad(set_to_none=True)
        total, terms = objective(x)
        value = float(total.detach())
        if not math.isfinite(value):
            raise _NonFinite(len(history) + 1)
        total.backward()
        record = {k: float(v.detach()) for k, v in terms.items()}
        record["total"] = value
        history.append(record)
        if value < best["loss"]:
            best["loss"], best["image"] = value, x.detach().clamp(0, 1).clone()
        best_curve.append(best["loss"])
        if callback is not None:
            callback(Progress(len(history), iters, record, time.perf_counter() - start,
                              lambda: x.detach().clamp(0, 1)))
        if tolerance > 0 and len(best_curve) > patience:
            before = best_curve[-1 - patience]
            if before - best["loss"] < tolerance * abs(before):
                raise _Converged
        return total

    best_curve: list[float] = []
    try:
        while len(history) < iters:
            opt.step(closure)
            if optimizer == "adam":
                # Adam has no curvature memory to confuse, so keep it inside the valid range.
                with torch.no_grad():
                    x.clamp_(0, 1)
    except (_BudgetSpent, _Converged):
        pass
    except _NonFinite as exc:
        if not history:
            raise TexstyleError("the loss is not finite at the first iteration; check the inputs") from None
        # Keep what we have: the best iterate so far is still a valid picture.
        log.warning("loss became non-finite at iteration %d; keeping the best image so far",
                    exc.iteration)
    return OptimResult(best["image"], history, best["loss"], time.perf_counter() - start)


class _BudgetSpent(Exception):
    pass


class _Converged(Exception):
    pass


class _NonFinite(Exception):
    def __init__(self, iteration: int) -> None:
        super().__init__(iteration)
        self.iteration = iteration
