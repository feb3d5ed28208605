"""The adversarial experiment (docs/adversarial.md): which discriminator matches what.

For every exemplar and method, one texture from the same seed, and the feature-moment gaps it
leaves against the exemplar (``moments.feature_moment_gaps``): GAN-only textures with a linear
(``logreg``), a quadratic and an MLP discriminator, next to the fixed statistics the first two
should emulate.  Shared by ``texstyle report``, the notebook and
``benchmarks/adversarial_experiment.py`` (which adds a file cache around ``run_cell``).
Nothing here writes files or prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from ..api import RunResult, read_input, run_texture
from ..config import DEFAULT_STYLE_LAYERS, is_gan
from ..features import VGGFeatures
from ..image import fit_long_side, load_image, resize, to_pil
from ..progress import Progress
from .moments import MomentGaps, moment_extractor, relative_moment_gaps

# Column label → run options.  `mean` is what `logreg` should emulate at equilibrium, `meancov`
# what `quadratic` should; `gram` is the classic, `kl` its whitened form.
METHODS: dict[str, dict[str, str]] = {
    "gan logreg": {"loss": "gan", "disc": "logreg"},
    "gan quadratic": {"loss": "gan", "disc": "quadratic"},
    "gan mlp:128": {"loss": "gan", "disc": "mlp:128"},
    "mean": {"loss": "mean"},
    "meancov": {"loss": "meancov"},
    "gram": {"loss": "gram"},
    # The Gaussian KL between the Gram models (docs/theory.md §2): gram, whitened.
    "kl": {"loss": "kl"},
}
NOISE = "uniform noise"  # the row that gives the gaps' scale: what an unrelated image leaves


@dataclass
class ExperimentCell:
    """One texture of the experiment and what it left unmatched."""

    exemplar: str
    method: str
    image: torch.Tensor  # (1, 3, H, W) in [0, 1], quantised to 8 bits as a saved PNG would be
    gaps: MomentGaps
    seconds: float  # wall-clock seconds of the run (0 for the noise row)
    result: RunResult | None = None  # None for the noise row and for cells read back from a cache


def method_options(method: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``run_texture`` options of a method label; ``extra`` is added to the GAN methods only."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    options: dict[str, Any] = dict(METHODS[method])
    return options | dict(extra or {}) if is_gan(options["loss"]) else options


def exemplar_at(source: str, size: int) -> torch.Tensor:
    """The exemplar with its long side at ``size`` px: what the gaps are measured against."""
    image = read_input(source, "exemplar")
    return resize(image, *fit_long_side(*image.shape[-2:], size))


def quantised(image: torch.Tensor) -> torch.Tensor:
    """``image`` rounded to 8 bits, as saved: the gaps are those of the picture one looks at."""
    return load_image(to_pil(image), "result")


def measure(exemplar: str, method: str, image: torch.Tensor, style: torch.Tensor,
            extractor: VGGFeatures, seconds: float = 0.0,
            result: RunResult | None = None) -> ExperimentCell:
    """The cell for an ``image`` already made (or read back): its gaps against ``style``."""
    with torch.no_grad():
        gaps = relative_moment_gaps(extractor(image), extractor(style))
    return ExperimentCell(exemplar, method, image, gaps, seconds, result)


def noise_cell(exemplar: str, style: torch.Tensor, size: int,
               extractor: VGGFeatures) -> ExperimentCell:
    """The scale of the gaps: uniform noise (fixed seed 0) against the exemplar."""
    noise = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    return measure(exemplar, NOISE, noise, style, extractor)


def run_cell(exemplar: str, method: str, *, size: int = 128, iters: int = 600,
             moment_iters: int = 150, seed: int = 0, device: str = "auto",
             extra: Mapping[str, Any] | None = None, callback: Callable[[Progress], None] | None = None,
             extractor: VGGFeatures | None = None, style: torch.Tensor | None = None,
             init: str | None = None) -> ExperimentCell:
    """One texture of ``exemplar`` (e.g. ``"sample:cells"``) by ``method`` (a ``METHODS`` label)
    at ``size`` px, and its gaps.

    GAN methods run ``iters`` Adam iterations, the fixed statistics ``moment_iters`` L-BFGS
    evaluations (different optimisers: see docs/adversarial.md, "Why not L-BFGS").  Every run
    is one level at ``size`` px, no pyramid: the gaps should measure what each statistic
    matches, not a schedule.  A pyramid hurts the GAN runs most (their discriminators, trained
    at the coarse level, meet a new image at the next; the fine level gets fewer iterations), so
    much that it reversed the logreg/quadratic ordering in docs/adversarial.md's budget sweep.
    ``init`` (an image path) is the starting image for every method, GAN or not: the study's
    separating experiment starts all methods from a texture whose feature means already match.
    """
    # Equal layer weights, as the study was designed and published (docs/adversarial.md), whatever
    # the texture default's layer decay; extra may ask for a pyramid.
    options = {"coarsest": size, "layer_decay": 1.0} | method_options(method, extra)
    if init is not None:
        options["init"] = init
    budget = iters if is_gan(options["loss"]) else moment_iters
    start = time.perf_counter()
    result = run_texture(exemplar, size=size, iters=budget, seed=seed, device=device,
                         callback=callback, **options)
    seconds = time.perf_counter() - start
    extractor = extractor if extractor is not None else moment_extractor()
    style = style if style is not None else exemplar_at(exemplar, size)
    return measure(exemplar, method, quantised(result.image), style, extractor, seconds, result)


@dataclass
class Experiment:
    """Every cell, exemplar by exemplar: the noise row first, then the methods in order."""

    exemplars: tuple[str, ...]
    methods: tuple[str, ...]
    size: int
    iters: int
    moment_iters: int
    seed: int
    cells: list[ExperimentCell] = field(default_factory=list)

    def cell(self, exemplar: str, method: str) -> ExperimentCell:
        return next(c for c in self.cells if c.exemplar == exemplar and c.method == method)

    def average(self, method: str) -> tuple[float, float]:
        """(mean gap, covariance gap) of ``method`` averaged over the exemplars."""
        cells = [self.cell(ex, method) for ex in self.exemplars]
        return (sum(c.gaps.mean_gap for c in cells) / len(cells),
                sum(c.gaps.cov_gap for c in cells) / len(cells))

    def grid_rows(self) -> list[list[tuple[str, Image.Image]]]:
        """Rows for ``report.grid``: the exemplar, then each method labelled with its gaps."""
        return [[(source, to_pil(exemplar_at(source, self.size))),
                 *((f"gaps {c.gaps.mean_gap:.2f} / {c.gaps.cov_gap:.2f}", to_pil(c.image))
                   for c in (self.cell(source, m) for m in self.methods))]
                for source in self.exemplars]

    def grid_title(self) -> str:
        return (f"{self.size} px (one level), seed {self.seed}; gan: Adam, {self.iters} "
                f"iterations; others: L-BFGS, {self.moment_iters}")


def run_experiment(exemplars: Sequence[str], methods: Sequence[str] = tuple(METHODS), *,
                   size: int = 128, iters: int = 600, moment_iters: int = 150, seed: int = 0,
                   device: str = "auto", extra: Mapping[str, Any] | None = None,
                   callback: Callable[[str, str, Progress], None] | None = None) -> Experiment:
    """Every exemplar by every method; ``callback(exemplar, method, progress)`` per iteration."""
    for method in methods:
        method_options(method)  # an unknown label fails before any work
    experiment = Experiment(tuple(exemplars), tuple(methods), size, iters, moment_iters, seed)
    extractor = moment_extractor()
    for source in exemplars:
        style = exemplar_at(source, size)
        experiment.cells.append(noise_cell(source, style, size, extractor))
        for method in methods:
            report = (None if callback is None
                      else lambda p, s=source, m=method: callback(s, m, p))
            experiment.cells.append(run_cell(
                source, method, size=size, iters=iters, moment_iters=moment_iters, seed=seed,
                device=device, extra=extra, callback=report, extractor=extractor, style=style))
    return experiment


def markdown_table(cells: Sequence[ExperimentCell],
                   layers: Sequence[str] = DEFAULT_STYLE_LAYERS) -> str:
    """The full table of docs/adversarial.md: average and per-layer gaps, and seconds."""
    lines = ["| exemplar | method | mean gap | cov gap | " +
             " | ".join(f"{n} μ / Σ" for n in layers) + " | time (s) |",
             "|---|---|---|---|" + "---|" * len(layers) + "---|"]
    for c in cells:
        per = " | ".join(f"{c.gaps.per_layer[n][0]:.2f} / {c.gaps.per_layer[n][1]:.2f}"
                         for n in layers)
        lines.append(f"| {_name(c.exemplar)} | {c.method} | {c.gaps.mean_gap:.3f} | "
                     f"{c.gaps.cov_gap:.3f} | {per} | {c.seconds:.0f} |")
    return "\n".join(lines) + "\n"


def _name(source: str) -> str:
    return source.removeprefix("sample:")
