"""The statistics comparison sheet: every exemplar and content/style pair under every statistic.

Every cell gets the same seed, size and iteration budget, so along a row only the statistic
changes.  All inputs and settings are checked before the first cell runs (a typo in the last
pair must not cost the whole sheet), and progress is reported for the sheet as a whole, through
one callback; rendering (grids, plot, progress bar) is left to ``report`` and the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..api import RunInterrupted, RunResult, run_stylize, run_texture
from ..config import StylizeSettings, TextureSettings, split_sources
from ..errors import Interrupted, TexstyleError
from ..image import to_pil
from ..layers import min_input_size
from ..plan import output_shape, read_input, style_shape
from ..progress import Callback, Cell, placed
from ..pyramid import level_iterations, level_shapes
from ..samples import PREFIX, is_sample
from ..stats import STATISTICS

Source = str | Path
# Chosen by eye at 64-128 px: a regular grey structure, an organic colour texture and bold flat
# colours with sharp edges are where the statistics differ most.  Grey styles (brick, gravel) make
# muddy stylisations, so the pairs use the colourful ones.
DEFAULT_TEXTURES: tuple[str, ...] = ("sample:brick", "sample:cells", "sample:mosaic")
DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("sample:cat", "sample:mosaic"),
    ("sample:astronaut", "sample:cells"),
    ("sample:coffee", "sample:stars"),
)


@dataclass
class Row:
    """One exemplar (textures) or one content/style pair (stylized) and its cells."""

    label: str
    sources: tuple[Source, ...]  # (exemplar,) or (content, style)
    inputs: tuple[torch.Tensor, ...]  # the sources as read, for the grid's first column(s)
    iterations: int  # per cell: the evaluation budgets of all pyramid levels
    results: dict[str, RunResult] = field(default_factory=dict)  # by statistic


@dataclass
class Grid:
    name: str  # "textures", "stylized" or "regions": also the grid's file stem
    input_columns: tuple[str, ...]  # ("exemplar",) or ("content", "style")
    rows: list[Row]


@dataclass
class Comparison:
    """Everything a sheet needs: the grids with their results, and the shared settings."""

    grids: list[Grid]
    losses: tuple[str, ...]
    settings: dict[str, Any]  # size, iters, seed, weights, device: the same in every cell
    elapsed: float
    # Set when Ctrl-C stopped the sheet: (grid, row label, statistic) of the cell that was
    # running, whose result is its best image so far; the cells after it are missing.
    interrupted: tuple[str, str, str] | None = None

    def table(self, grid: Grid) -> tuple[list[str], list[list[tuple[str, Image.Image]]]]:
        """Column labels and labelled images of ``grid``: inputs first, then one per statistic.

        Result cells are labelled with their final style loss and whether the last level met the
        convergence criterion (``convergence``): "0.0038, conv. 87" (converged after 87
        evaluations) or "0.012, cap 100" (the cap ended it), so the picture carries the numbers.
        """
        columns = [*grid.input_columns, *self.losses]
        rows = []
        for row in grid.rows:
            cells = [(source_label(s), to_pil(img)) for s, img in zip(row.sources, row.inputs)]
            cells += [self._cell(grid, row, loss) for loss in self.losses]
            rows.append(cells)
        return columns, rows

    def _cell(self, grid: Grid, row: Row, loss: str) -> tuple[str, Image.Image]:
        """A result labelled with its final style loss; after Ctrl-C, what is missing says so."""
        result = row.results.get(loss)
        if result is None:
            return "not run", Image.new("RGB", (8, 8), (235, 235, 235))
        converged, evaluations = convergence(result)
        # Short enough for a 128 px cell: "0.0038, conv. 87" or "0.012, cap 100".
        label = (f"{final_style_loss(result):.2g}, "
                 f"{'conv.' if converged else 'cap'} {evaluations}")
        if self.interrupted == (grid.name, row.label, loss):
            label = f"interrupted, {label}"
        return label, result.to_pil()

    def curves(self) -> dict[str, dict[str, list[float]]]:
        """Style loss per iteration: ``curves[statistic][row label]``, all grids together."""
        return {loss: {row.label: [h["style"] for h in row.results[loss].history]
                       for grid in self.grids for row in grid.rows if loss in row.results}
                for loss in self.losses}

    def record(self) -> dict[str, Any]:
        """A JSON-able record: the shared settings and, per cell, its resolved settings and history."""
        return {
            "settings": self.settings | {"losses": list(self.losses)},
            "elapsed_s": round(self.elapsed, 3),
            **({"interrupted": dict(zip(("grid", "row", "loss"), self.interrupted))}
               if self.interrupted is not None else {}),
            "grids": {
                grid.name: {
                    "columns": [*grid.input_columns, *self.losses],
                    "rows": [{
                        "label": row.label,
                        "inputs": [str(s) for s in row.sources],
                        "cells": {loss: {"elapsed_s": round(r.elapsed, 3),
                                         "final_style_loss": final_style_loss(r),
                                         "converged": convergence(r)[0],
                                         "last_level_evaluations": convergence(r)[1],
                                         "settings": r.settings, "history": r.history}
                                  for loss, r in row.results.items()},
                    } for row in grid.rows],
                } for grid in self.grids
            },
        }


class ComparisonInterrupted(Interrupted[Comparison]):
    """Ctrl-C during ``run_compare``: ``partial`` is the ``Comparison`` so far (finished cells,
    the running one's best image, ``interrupted`` naming it)."""


def parse_pair(text: str) -> tuple[str, str]:
    """``CONTENT:STYLE`` → (content, style), where either side may be ``sample:NAME``.

    Split on colons, glue each ``sample`` back onto the name after it, and require exactly two
    parts: so ``sample:cat:sample:mosaic``, ``a.jpg:b.jpg`` and ``sample:cat:b.jpg`` all work.
    """
    parts = split_sources(text)
    if len(parts) != 2 or not all(parts):
        raise TexstyleError(f"expected CONTENT:STYLE (e.g. photo.jpg:painting.jpg or "
                            f"sample:cat:sample:mosaic), got {text!r}")
    return parts[0], parts[1]


def source_label(source: Source) -> str:
    """Short name of an input for labels: the sample name, or the file name."""
    if is_sample(source):
        return str(source)[len(PREFIX):]
    return Path(source).name


def convergence(result: RunResult) -> tuple[bool, int]:
    """(did the last level stop on the tolerance criterion, how many evaluations it took).

    The optimiser stops a level early only when the criterion is met (``optimize``: the best loss
    improved by less than ``tolerance`` over 10 evaluations), so a level that used fewer
    evaluations than its budget converged; one that used them all hit the cap.
    """
    last = result.history[-1]["level"]
    evaluations = sum(1 for h in result.history if h["level"] == last)
    budget = result.settings["level_iters"][-1]
    return result.settings.get("tolerance", 0.0) > 0 and evaluations < budget, evaluations


def final_style_loss(result: RunResult) -> float:
    """Style loss of the returned image: the best total of the last level (what ``optimize`` keeps)."""
    last = result.history[-1]["level"]
    return min((h for h in result.history if h["level"] == last), key=lambda h: h["total"])["style"]


def check_losses(losses: Sequence[str]) -> tuple[str, ...]:
    """The statistics to compare, in order, once each; unknown names are the user's error."""
    unique = tuple(dict.fromkeys(losses))
    if not unique:
        raise TexstyleError(f"give at least one loss; choose from {', '.join(STATISTICS)}")
    for loss in unique:
        if loss not in STATISTICS:
            raise TexstyleError(f"unknown loss {loss!r}; choose from {', '.join(STATISTICS)}")
    return unique


def run_compare(
    textures: Sequence[Source] = DEFAULT_TEXTURES,
    pairs: Sequence[tuple[Source, Source]] = DEFAULT_PAIRS,
    *,
    losses: Sequence[str] = tuple(STATISTICS),
    size: int = 128,
    iters: int = 100,
    tolerance: float = 1e-3,
    seed: int = 0,
    weights: str = "normalized",
    device: str = "auto",
    regions: str | None = None,
    region_pairs: Sequence[tuple[Source, Source]] | None = None,
    callback: Callback | None = None,
) -> Comparison:
    """Run every texture exemplar and every content/style pair under every statistic in ``losses``.

    With ``regions`` (``auto:K``) the pairs (or ``region_pairs``) are run once more with
    automatic regions (docs/spatial.md), a third grid: what each statistic does when every region
    of the photo matches only its partner region of the painting.

    Every cell runs to the same stated criterion, not only the same budget: a level stops once
    its loss improved by less than ``tolerance`` (relative) over 10 evaluations, with ``iters``
    (and the finer levels' geometric share of it) as the cap; the sheet says per cell which of
    the two ended it.  A shared budget alone compares how hard each statistic is to optimise as
    much as what it captures (meancov ended ~10x above the others under it).  ``tolerance=0``
    gives the fixed budget back.

    ``textures`` or ``pairs`` may be empty (that grid is left out), not both.  Everything that
    can be checked without optimising (statistic names, settings, inputs, sizes) is checked
    before the first cell runs.  Ctrl-C raises ``ComparisonInterrupted`` whose ``partial`` is the
    ``Comparison`` so far: the finished cells and the running one's best image.
    """
    losses = check_losses(losses)
    shared = {"size": size, "iters": iters, "tolerance": tolerance, "seed": seed,
              "weights": weights, "device": device}
    settings: dict[tuple[str, str], TextureSettings] = {
        (name, loss): cls.from_options(loss=loss, **shared)
        for name, cls in (("textures", TextureSettings), ("stylized", StylizeSettings))
        for loss in losses}
    if regions is not None:
        settings |= {("regions", loss): StylizeSettings.from_options(loss=loss, regions=regions,
                                                                     **shared)
                     for loss in losses}
    grids = []
    if textures:
        grids.append(Grid("textures", ("exemplar",),
                          [_plan_row((s,), settings["textures", losses[0]]) for s in textures]))
    if pairs:
        grids.append(Grid("stylized", ("content", "style"),
                          [_plan_row(p, settings["stylized", losses[0]]) for p in pairs]))
    recorded = shared | ({"regions": regions} if regions is not None else {})
    guided = list(pairs if region_pairs is None else region_pairs)
    if guided and regions is not None:
        rows = [_plan_row(p, settings["regions", losses[0]]) for p in guided]
        grids.append(Grid("regions", ("content", "style"),
                          [replace(row, label=f"{row.label}, {regions}") for row in rows]))
    if not grids:
        raise TexstyleError("nothing to compare: give at least one texture exemplar or pair")

    cells = sum(len(g.rows) for g in grids) * len(losses)
    total = sum(row.iterations for g in grids for row in g.rows) * len(losses)
    done, cell = 0, 0
    start = time.perf_counter()
    for grid in grids:
        for row in grid.rows:
            for loss in losses:
                cell += 1
                # Iterations and time count over the whole sheet; the event names the cell.
                report = placed(callback, before=done, total=total,
                                elapsed=time.perf_counter() - start,
                                cell=Cell(cell, cells, grid.name, row.label, loss))
                try:
                    chosen = settings[grid.name, loss]
                    if isinstance(chosen, StylizeSettings):
                        result = run_stylize(row.sources[0], row.sources[1], chosen,
                                             callback=report)
                    else:
                        result = run_texture(row.sources[0], chosen, callback=report)
                except KeyboardInterrupt as exc:
                    if isinstance(exc, RunInterrupted):
                        row.results[loss] = exc.partial  # the running cell's best image
                    elif cell == 1:
                        raise  # nothing to save yet
                    raise ComparisonInterrupted(Comparison(grids, losses, recorded,
                                                           time.perf_counter() - start,
                                                           (grid.name, row.label, loss))) from None
                row.results[loss] = result
                done += row.iterations
    return Comparison(grids, losses, recorded, time.perf_counter() - start)


def _plan_row(sources: tuple[Source, ...], settings: TextureSettings) -> Row:
    """Read a row's inputs and work out its cells' iteration count, refusing sizes VGG can't use.

    Mirrors the size checks ``api`` makes at the start of each run, so they fail before any work.
    """
    is_pair = len(sources) == 2
    what = ("content image", "style image") if is_pair else ("exemplar",)
    inputs = tuple(read_input(s, w) for s, w in zip(sources, what))
    style_layers = list(settings.style_layers)
    layers = style_layers + ([settings.content_layer] if isinstance(settings, StylizeSettings) else [])
    out_hw = output_shape(settings, tuple(inputs[0].shape[-2:]))
    _check_side(f"output at size {settings.size}", out_hw, min_input_size(layers))
    style_hw = style_shape(tuple(inputs[-1].shape[-2:]), out_hw, settings.style_scale)
    _check_side(f"{what[-1]} {sources[-1]} (after scaling)", style_hw, min_input_size(style_layers))
    label = " + ".join(source_label(s) for s in sources)
    levels = len(level_shapes(out_hw, min_input_size(layers), settings.coarsest))
    iterations = sum(level_iterations(levels, settings.iters, settings.fine_iters))
    return Row(label, sources, inputs, iterations)


def _check_side(what: str, hw: tuple[int, int], need: int) -> None:
    if min(hw) < need:
        raise TexstyleError(f"{what} is {hw[1]}x{hw[0]} px, too small for the style layers: "
                            f"it needs at least {need} px on each side")


def level_starts(comparison: Comparison) -> list[int]:
    """Iterations where a new pyramid level begins, for the cell with the most levels (the loss
    plots mark them: the loss jumps when the image is upsampled)."""
    budgets = max((r.settings["level_iters"] for g in comparison.grids for row in g.rows
                   for r in row.results.values()), key=len)
    return [sum(budgets[:k]) + 1 for k in range(1, len(budgets))]
