"""The image-optimisation loop: optimiser choice, progress callbacks, best-iterate keeping.

The loop reports through ``callback(Progress)`` and never prints; rendering (progress bars,
intermediate saves) belongs to the caller.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from .config import OPTIMIZERS
from .errors import Interrupted, TexstyleError
from .progress import Progress

ADAM_LR = 0.02
# Numerical failure (non-finite loss or gradient, divergence): restart from the best iterate with
# a gentler optimiser (see _fallback); after this many restarts in one call, stop and keep the best.
MAX_RESTARTS = 3
# Without a line search every evaluation is a step taken, so a loss this many times the best one
# means the iteration has left the basin (Adam and unit-step L-BFGS); with a line search trial
# points may legitimately be bad (the search rejects them), so only non-finite values count there.
DIVERGENCE_FACTOR = 1e3
# Below this a loss is converged, not a yardstick: rounding noise around a best loss of exactly 0
# (seen on a quadratic) is not divergence.
LOSS_FLOOR = 1e-6

log = logging.getLogger(__name__)


@dataclass
class OptimResult:
    """What every loop hands back (``optimize``, the adversarial loop, the tiled sweep).

    ``image`` is the image the loop stands by: the best iterate for ``optimize``, the last finite
    one for the adversarial loop (its losses are measured against a moving discriminator), the
    whole image after the sweep for tiled refinement.  The losses are read off ``history`` so
    that they mean the same thing whichever loop ran.
    """

    image: torch.Tensor  # clamped to [0, 1]
    history: list[dict[str, float]]  # one record per evaluation, "total" in each
    elapsed: float
    restarts: int = 0  # numerical failures recovered from (or given up on after MAX_RESTARTS)

    @property
    def best_loss(self) -> float:
        """The lowest finite total of any evaluation (inf when there was none)."""
        return min((h["total"] for h in self.history if math.isfinite(h["total"])),
                   default=math.inf)

    @property
    def final_loss(self) -> float:
        """The total of the last evaluation (nan when there was none)."""
        return self.history[-1]["total"] if self.history else math.nan


@dataclass
class LoopState:
    """Everything ``optimize`` needs to continue exactly where it was, between two optimiser steps.

    ``checkpoint.py`` writes it to disk; ``optimize(..., state=...)`` picks it up.  The optimiser
    and step size are the ones in use *now* (a restart may have switched them).
    """

    iterate: torch.Tensor
    optimizer: str
    lr: float | None
    optimizer_state: dict[str, Any]
    history: list[dict[str, float]]
    best_loss: float
    best_image: torch.Tensor
    restarts: int = 0
    elapsed: float = 0.0


Objective = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


class LoopInterrupted(Interrupted[OptimResult]):
    """Ctrl-C inside a loop: ``partial`` is the ``OptimResult`` the step stands by (the best, the
    last or the whole image so far).  Whoever runs the loop inside a larger job turns it into its
    own ``Interrupted`` (``api.RunInterrupted``), so callers of the API never see this one."""


class Loop:
    """The bookkeeping every optimisation shares, whatever moves the image: the evaluation
    budget, the history, the clock and the progress events."""

    def __init__(self, iters: int, callback: Callable[[Progress], None] | None) -> None:
        self.iters, self.callback = iters, callback
        self.history: list[dict[str, float]] = []
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def emit(self, record: dict[str, float], current: Callable[[], torch.Tensor]) -> None:
        """Tell the listener about the evaluation just appended to the history."""
        if self.callback is not None:
            self.callback(Progress(len(self.history), self.iters, record, self.elapsed(), current))

    def result(self, image: torch.Tensor, restarts: int = 0) -> OptimResult:
        return OptimResult(image, self.history, self.elapsed(), restarts)


class Step(Protocol):
    """How a loop moves the image: L-BFGS or Adam on a fixed objective (``GradientStep``), the
    adversarial game (``adversarial.AdversarialStep``), a sweep over print-size tiles
    (``refine.TileSweep``).  ``run_loop`` drives any of them."""

    def advance(self, loop: Loop) -> bool:
        """Move the image on and record each evaluation in ``loop``; False when it should stop."""
        ...

    def result(self, loop: Loop) -> OptimResult:
        """The image the run stands by now (the best, the last or the whole), with the history."""
        ...


def run_loop(step: Step, loop: Loop) -> None:
    """Advance ``step`` until the budget is spent or it stops; Ctrl-C raises
    ``LoopInterrupted`` carrying the result so far."""
    try:
        while len(loop.history) < loop.iters and step.advance(loop):
            pass
    except KeyboardInterrupt as exc:
        raise LoopInterrupted(step.result(loop)) from exc


def optimize(
    init: torch.Tensor,
    objective: Objective,
    *,
    iters: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    callback: Callable[[Progress], None] | None = None,
    line_search: bool = True,
    state: LoopState | None = None,
    checkpoint: Callable[[LoopState], None] | None = None,
    checkpoint_every: int | None = None,
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

    Numerical failure (a non-finite loss or gradient, or divergence, see ``DIVERGENCE_FACTOR``)
    does not end the run: it restarts from the best iterate with a smaller step, then with Adam
    (``_fallback``); after ``MAX_RESTARTS`` it stops with a warning and returns the best iterate.

    ``checkpoint(LoopState)`` (which must write the state out before returning: it shares
    tensors with the running optimiser) is called between optimiser steps, at least ``checkpoint_every``
    evaluations apart (L-BFGS: after every ``checkpoint_every`` of its iterations), and once at
    the end; ``state`` continues from such a snapshot, and the continued run takes exactly the
    steps the uninterrupted one would have.  Ctrl-C raises ``LoopInterrupted`` carrying the
    best result so far.

    ``tolerance`` > 0 stops early once the best loss has improved by less than that fraction over
    the last ``patience`` evaluations: a converged level wastes nothing, and ``iters`` becomes a cap.
    """
    if optimizer not in OPTIMIZERS:
        raise TexstyleError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    loop = Loop(iters, callback)
    step = GradientStep(objective, line_search, origin=(optimizer, lr), tolerance=tolerance,
                        patience=patience, checkpoint=checkpoint, every=checkpoint_every)
    if state is None:
        step.begin(init, optimizer, lr, loop)
    else:
        step.restore(state, loop)
    run_loop(step, loop)
    if checkpoint is not None:
        checkpoint(step.snapshot(loop))  # the level's end: a resumed run goes straight on from here
    return step.result(loop)


def _fallback(optimizer: str, lr: float | None, restart: int) -> tuple[str, float]:
    """Optimiser and step size for the ``restart``-th restart after a numerical failure.

    L-BFGS first retries with a tenth of the step and a fresh curvature memory (a poisoned
    history is the usual cause); after that, Adam, whose per-pixel steps are bounded by its
    learning rate, so it cannot jump far whatever the gradient does.
    """
    if optimizer == "lbfgs" and restart == 1:
        return "lbfgs", (lr or 1.0) * 0.1
    if optimizer == "lbfgs":
        return "adam", ADAM_LR * 0.1 ** (restart - 2)
    return "adam", (lr or ADAM_LR) * 0.1**restart


class GradientStep:
    """L-BFGS or Adam on a fixed objective: the iterate, the optimiser, the best image, restarts.

    One ``advance`` is one optimiser ``step()``: for L-BFGS a chunk of iterations (each with its
    line-search evaluations) between two checkpoints, for Adam one evaluation and update.
    """

    def __init__(self, objective: Objective, line_search: bool, *,
                 origin: tuple[str, float | None], tolerance: float = 0.0, patience: int = 10,
                 checkpoint: Callable[[LoopState], None] | None = None,
                 every: int | None = None) -> None:
        self.objective, self.line_search = objective, line_search
        self.tolerance, self.patience = tolerance, patience
        self.origin = origin  # the optimiser and step asked for; restarts step down from these
        self.best: tuple[float, torch.Tensor] = (math.inf, torch.empty(0))
        self.restarts = 0
        # True when the iterate sits where L-BFGS's last line search ended: its next step() begins
        # by evaluating there again, which must not count as an iteration (see _closure).
        self.revisit = False
        self.checkpoint = checkpoint
        self.every = every if checkpoint is not None and every else None
        self.last_saved = 0

    # --- setting up ---------------------------------------------------------------------------
    def begin(self, init: torch.Tensor, optimizer: str, lr: float | None, loop: Loop) -> None:
        self.x = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
        self.best = (math.inf, self.x.detach().clamp(0, 1))
        self._make_optimizer(optimizer, lr, loop.iters)
        loop.start = time.perf_counter()

    def restore(self, state: LoopState, loop: Loop) -> None:
        self.x = state.iterate.detach().clone(memory_format=torch.contiguous_format)
        self.x.requires_grad_(True)
        loop.history = [dict(h) for h in state.history]
        self.best = (state.best_loss, state.best_image.to(self.x.device))
        self.restarts = state.restarts
        self._make_optimizer(state.optimizer, state.lr, loop.iters)
        self.opt.load_state_dict(state.optimizer_state)
        self.revisit = self.name == "lbfgs" and self.line_search and bool(loop.history)
        self.last_saved = len(loop.history)
        loop.start = time.perf_counter() - state.elapsed

    def _make_optimizer(self, name: str, lr: float | None, iters: int) -> None:
        self.name, self.lr = name, lr
        if name == "lbfgs":
            # max_iter/max_eval are set per step() call in advance(); the budget is ours
            # (_BudgetSpent).
            self.opt: torch.optim.Optimizer = torch.optim.LBFGS(
                [self.x], lr=lr or 1.0, max_iter=iters, max_eval=iters,
                history_size=50, tolerance_grad=0.0, tolerance_change=0.0,
                line_search_fn="strong_wolfe" if self.line_search else None,
            )
        else:
            self.opt = torch.optim.Adam([self.x], lr=lr or ADAM_LR)

    # --- running ------------------------------------------------------------------------------
    def advance(self, loop: Loop) -> bool:
        every = self.every
        before = len(loop.history)
        if self.name == "lbfgs":
            # Without checkpoints the whole budget is one step().  With them, a step() ends
            # after ``every`` L-BFGS iterations so a snapshot can be taken between steps.  The
            # path stays the same: L-BFGS keeps its curvature memory in its state across
            # step() calls, the re-evaluation each step() starts with is not counted
            # (``revisit``), and max_eval is set so that the line search is allowed exactly
            # the evaluations left in the budget (torch gives it max_eval minus the
            # evaluations of this step() so far), as in one uninterrupted step().
            group = self.opt.param_groups[0]
            group["max_iter"] = (every or loop.iters) if self.line_search else 1
            group["max_eval"] = loop.iters - len(loop.history) + (1 if self.revisit else 0)
        try:
            self.opt.step(lambda: self._closure(loop))
        except (_BudgetSpent, _Converged):
            return False
        except _Failure as failure:
            return self._restart(failure, loop)
        if self.name == "adam":
            # Adam has no curvature memory to confuse, so keep it inside the valid range.
            with torch.no_grad():
                self.x.clamp_(0, 1)
        # Only chunked runs skip the re-evaluation: without checkpoints step() returns early
        # only on an exactly zero gradient, and then every evaluation counts, as it always has.
        # After a step that evaluated nothing new the next evaluation counts too, so the budget
        # still ends the loop.
        self.revisit = (self.name == "lbfgs" and self.line_search and every is not None
                        and len(loop.history) > before)
        if (every and self.checkpoint is not None and len(loop.history) - self.last_saved >= every
                and len(loop.history) < loop.iters):
            self.checkpoint(self.snapshot(loop))
            self.last_saved = len(loop.history)
        return True

    def _closure(self, loop: Loop) -> torch.Tensor:
        x, opt = self.x, self.opt
        if self.revisit:
            # L-BFGS starts every step() by evaluating the current point, which its previous
            # line search already evaluated (and we recorded): same value, not a new iteration.
            self.revisit = False
            opt.zero_grad(set_to_none=True)
            total, _ = self.objective(x)
            total.backward()
            return total.detach()
        if len(loop.history) >= loop.iters:
            raise _BudgetSpent  # the line search wants more evaluations than we have left
        opt.zero_grad(set_to_none=True)
        total, terms = self.objective(x)
        value = float(total.detach())
        iteration = len(loop.history) + 1
        if not math.isfinite(value):
            raise _Failure(iteration, f"the loss is {value}")
        if (not (self.name == "lbfgs" and self.line_search) and loop.history
                and value > DIVERGENCE_FACTOR * max(self.best[0], LOSS_FLOOR)):
            raise _Failure(iteration, f"the loss jumped to {value:.3g} (best {self.best[0]:.3g})")
        total.backward()
        if x.grad is not None and not torch.isfinite(x.grad).all():
            raise _Failure(iteration, "the gradient is not finite")
        record = {k: float(v.detach()) for k, v in terms.items()}
        record["total"] = value
        loop.history.append(record)
        if value < self.best[0]:
            self.best = (value, x.detach().clamp(0, 1).clone())  # one assignment: Ctrl-C safe
        loop.emit(record, lambda: x.detach().clamp(0, 1))
        if self._converged(loop):
            raise _Converged
        return total.detach()  # L-BFGS only reads the value; the gradient is in x.grad

    def _converged(self, loop: Loop) -> bool:
        """The best loss improved by less than ``tolerance`` (relative) over ``patience`` evaluations."""
        if self.tolerance <= 0 or len(loop.history) <= self.patience:
            return False
        totals = [h["total"] for h in loop.history]
        before = min(totals[: -self.patience])
        return before - self.best[0] < self.tolerance * abs(before)

    def _restart(self, failure: _Failure, loop: Loop) -> bool:
        """Go back to the best iterate with a gentler optimiser; False when it is time to stop."""
        if not loop.history:
            raise TexstyleError(f"{failure.reason} at the first iteration; check the inputs") from None
        if self.restarts >= MAX_RESTARTS:
            log.warning("%s at iteration %d again; stopping after %d restarts and keeping the "
                        "best image so far (loss %.4g)", failure.reason, failure.iteration,
                        self.restarts, self.best[0])
            return False
        self.restarts += 1
        name, lr = _fallback(*self.origin, self.restarts)
        log.warning("%s at iteration %d; restarting from the best image so far with %s, "
                    "step %g (restart %d of at most %d)", failure.reason, failure.iteration,
                    name, lr, self.restarts, MAX_RESTARTS)
        with torch.no_grad():
            self.x.copy_(self.best[1])
        self._make_optimizer(name, lr, loop.iters)
        self.revisit = False
        return True

    # --- reporting ----------------------------------------------------------------------------
    def snapshot(self, loop: Loop) -> LoopState:
        """The loop's state now.  The optimiser state is not copied (L-BFGS's can be 100 image-
        sized vectors), so it is valid only until the next step: write it out at once."""
        return LoopState(self.x.detach().clone(), self.name, self.lr, self.opt.state_dict(),
                         [dict(h) for h in loop.history], self.best[0], self.best[1].clone(),
                         self.restarts, loop.elapsed())

    def result(self, loop: Loop) -> OptimResult:
        return loop.result(self.best[1], self.restarts)


class _BudgetSpent(Exception):
    pass


class _Converged(Exception):
    pass


class _Failure(Exception):
    """A numerical failure at ``iteration``: non-finite loss or gradient, or divergence."""

    def __init__(self, iteration: int, reason: str) -> None:
        super().__init__(iteration, reason)
        self.iteration, self.reason = iteration, reason
