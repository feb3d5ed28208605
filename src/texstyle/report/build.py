"""``texstyle report``: every deliverable regenerated into one folder, with an ``index.html``.

One plan (what to run, at which size), one function that runs it (``run_report``: the favourite
texture, the favourite stylisation, the statistics comparison sheets, style mixing); the pure
function that turns the results into files is ``report.render.render_report``.  Nothing
here writes a file or prints; the CLI checks every planned name before any work, renders progress
and writes atomically, as for the other commands.

The favourite stylisation is also shown with both colour controls (``preserve_color``), and the
adversarial experiment of docs/adversarial.md (``studies/experiment.py``) runs as its own stages.

Inputs default to the package's own ``sample:`` images, so the report needs no downloads; a folder
of other images can replace them (``plan_from_folder``).  ``quick`` plans a tiny version (48 px, a
few iterations at each level) that exercises every step in under a minute on two CPU cores: that
is what CI runs.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..api import RunResult, read_input, run_stylize, run_texture
from ..config import DEFAULT_STYLE_LAYERS, StylizeSettings, TextureSettings
from ..errors import TexstyleError
from ..features import VGGFeatures
from ..image import OUTPUT_FORMATS
from ..progress import Callback, Stage, placed
from ..samples import PREFIX, is_sample
from ..stats import STATISTICS
from ..studies.compare import (
    DEFAULT_PAIRS,
    DEFAULT_TEXTURES,
    Comparison,
    run_compare,
    source_label,
)
from ..studies.experiment import (
    METHODS,
    Experiment,
    ExperimentCell,
    exemplar_at,
    noise_cell,
    run_cell,
)
from ..studies.moments import moment_extractor
from ..studies.study import CellSpec, cell_image, run_spec

# Every file the report writes, by role; the CLI checks them all before any work.
FILES = {
    "texture": "texture.png",
    "texture_sheet": "texture_sheet.png",
    "stylized": "stylized.png",
    "stylized_sheet": "stylized_sheet.png",
    "colour": "colour.png",
    "compare_textures": "compare_textures.png",
    "compare_stylized": "compare_stylized.png",
    "compare_regions": "compare_regions.png",
    "compare_losses": "compare_losses.png",
    "mixing": "mixing.png",
    "losses": "losses.png",
    "adversarial": "adversarial.png",
    "adversarial_curves": "adversarial_curves.png",
    "record": "report.json",
    "index": "index.html",
}

PHOTO_PREFIXES = ("photo", "content")  # --images: file names that mark a content photo
COLOUR_MODES = ("luminance", "histogram")  # shown next to the plain favourite stylisation
# The adversarial experiment's columns: the three discriminators and the fixed statistics they
# should emulate (logreg: mean; quadratic: meancov), with gram, the classic.
ADVERSARIAL_METHODS = ("gan logreg", "gan quadratic", "gan mlp:128", "mean", "meancov", "gram")


@dataclass(frozen=True)
class ReportPlan:
    """What the report runs and at which sizes; recorded in report.json and shown in index.html."""

    texture: str  # the favourite texture's exemplar
    texture_loss: str
    photo: str  # the favourite stylisation: content photo, style image and statistic
    photo_style: str
    photo_loss: str
    textures: tuple[str, ...]  # comparison sheet rows
    pairs: tuple[tuple[str, str], ...]
    losses: tuple[str, ...]  # comparison sheet columns
    mix: tuple[str, str]  # the pair of styles that is blended
    blends: tuple[float, ...]  # weight of mix[0] in each mixing cell (mix[1] gets the rest)
    mix_losses: tuple[str, ...]  # one mixing row per statistic
    size: int  # favourites' long side (px)
    iters: int | None  # favourites' iterations at the coarsest level; None: each command's default
    compare_size: int
    compare_iters: int
    mix_size: int
    mix_iters: int
    adv_exemplars: tuple[str, ...]  # the adversarial experiment: rows
    adv_methods: tuple[str, ...]  # columns (labels of experiment.METHODS)
    adv_size: int
    adv_iters: int  # Adam iterations of every GAN run
    adv_moment_iters: int  # L-BFGS evaluations of the fixed statistics' runs
    seed: int = 0
    device: str = "auto"
    quick: bool = False
    # The first pair once more with automatic regions (docs/spatial.md): one row, so the
    # report's time grows by one row of the comparison sheet.
    regions: str = "auto:2"
    # A folder of the seeded study's cells (studies.study, benchmarks/adversarial_study.py): the
    # adversarial cells of this seed are read from it when there, run and added when not.
    adv_cache: str | None = None


def default_plan(*, quick: bool = False, seed: int = 0, device: str = "auto") -> ReportPlan:
    """Built-in samples only.  The favourites show what a user gets from the commands' defaults
    (their statistic included), on the mosaic, the exemplar that shows most clearly whether glass
    stays flat and leading continuous, and the stained-glass cat, the classic."""
    return ReportPlan(
        texture="sample:mosaic", texture_loss=TextureSettings().loss,
        photo="sample:cat", photo_style="sample:mosaic", photo_loss=StylizeSettings().loss,
        textures=DEFAULT_TEXTURES, pairs=DEFAULT_PAIRS, losses=tuple(STATISTICS),
        mix=("sample:brick", "sample:cells"), adv_methods=ADVERSARIAL_METHODS, **_budget(quick),
        seed=seed, device=device, quick=quick,
    )


def _budget(quick: bool) -> dict[str, Any]:
    """Sizes and iterations: the commands' own defaults, or a tiny version for CI."""
    if quick:
        return {"size": 48, "iters": 4, "compare_size": 48, "compare_iters": 2, "mix_size": 48,
                "mix_iters": 3, "blends": (1.0, 0.5, 0.0), "mix_losses": ("gram", "swd"),
                "adv_exemplars": ("sample:cells",), "adv_size": 48, "adv_iters": 8,
                "adv_moment_iters": 4}
    # The adversarial budget is docs/adversarial.md's: 128 px at one level, 600 Adam iterations
    # (at 150 the games are far from settled; its sweep) / 150 L-BFGS evaluations, on the three
    # exemplars of its table.
    return {"size": 256, "iters": None, "compare_size": 128, "compare_iters": 100, "mix_size": 128,
            "mix_iters": 100, "blends": (1.0, 0.75, 0.5, 0.25, 0.0), "mix_losses": ("gram", "swd"),
            "adv_exemplars": ("sample:cells", "sample:brick", "sample:mosaic"), "adv_size": 128,
            "adv_iters": 600, "adv_moment_iters": 150}


def plan_from_folder(folder: Path, *, quick: bool = False, seed: int = 0,
                     device: str = "auto") -> ReportPlan:
    """Inputs from ``folder``: files named ``photo*`` or ``content*`` are content photos, every
    other image is a style/texture exemplar (sorted by name; the first is the favourite).

    Needs at least one photo and two exemplars (mixing blends two).  Comparison rows take up to
    three exemplars and three photo/style pairs, cycling through whichever list is shorter.
    """
    photos, styles = find_images(folder)
    if not photos or len(styles) < 2:
        raise TexstyleError(
            f"--images {folder} needs at least one content photo (a file named photo* or "
            f"content*) and two style images; found {len(photos)} photo(s) and "
            f"{len(styles)} style image(s)")
    rows = min(3, max(len(photos), len(styles)))
    pairs = tuple((photos[i % len(photos)], styles[i % len(styles)]) for i in range(rows))
    plan = default_plan(quick=quick, seed=seed, device=device)
    return replace(plan, texture=styles[0], photo=photos[0], photo_style=styles[0],
                   textures=tuple(styles[:3]), pairs=pairs, mix=(styles[0], styles[1]),
                   adv_exemplars=tuple(styles[:len(plan.adv_exemplars)]))


def find_images(folder: Path) -> tuple[list[str], list[str]]:
    """(photos, styles): the image files directly inside ``folder``, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TexstyleError(f"--images {folder} is not a folder")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in (*OUTPUT_FORMATS, ".gif"))
    photos = [str(p) for p in files if p.stem.lower().startswith(PHOTO_PREFIXES)]
    styles = [str(p) for p in files if str(p) not in photos]
    return photos, styles


def planned_files(plan: ReportPlan) -> list[str]:
    """Names of every file the report writes into OUTDIR (the same for every plan, for now)."""
    return list(FILES.values())


def plan_inputs(plan: ReportPlan) -> list[str]:
    """Every input the plan reads (so the CLI can refuse to write over one)."""
    return list(dict.fromkeys([plan.texture, plan.photo, plan.photo_style, *plan.textures,
                               *(s for pair in plan.pairs for s in pair), *plan.mix,
                               *plan.adv_exemplars]))


# ---- running ------------------------------------------------------------------------------------


@dataclass
class MixCell:
    loss: str
    blend: float  # weight of the first style
    result: RunResult


@dataclass
class Report:
    """Everything the report shows."""

    plan: ReportPlan
    texture: RunResult
    stylized: RunResult
    comparison: Comparison
    mixing: list[MixCell]
    wall_s: dict[str, float]  # wall-clock seconds per stage
    adversarial: Experiment | None = None
    colour: dict[str, RunResult] = field(default_factory=dict)  # preserve_color mode → result
    environment: dict[str, str] = field(default_factory=dict)


def stage_names(plan: ReportPlan) -> list[str]:
    return (["favourite texture", "favourite stylisation"]
            + [f"colour control ({mode})" for mode in COLOUR_MODES]
            + ["comparison sheets"]
            + [f"mixing ({loss}, {blend:.2f} / {1 - blend:.2f})"
               for loss in plan.mix_losses for blend in plan.blends]
            + [f"adversarial ({source_label(ex)}, {method})"
               for ex in plan.adv_exemplars for method in plan.adv_methods])


def _adversarial_cell(plan: ReportPlan, source: str, method: str, callback: Callback | None,
                      extractor: VGGFeatures, style: torch.Tensor) -> ExperimentCell:
    """One cell of the adversarial experiment: from the study cache when the plan names one (and
    the exemplar is a built-in sample, the study's key), else run here."""
    if plan.adv_cache is not None and is_sample(source):
        spec = CellSpec(source[len(PREFIX):], method, plan.seed, plan.adv_size, plan.adv_iters,
                        plan.adv_moment_iters)
        cache = Path(plan.adv_cache)
        cell = run_spec(spec, cache, extractor=extractor, style=style, device=plan.device)
        image = cell_image(spec, cache)
        # The cache keeps the history (losses, D curves), not the settings: record where it came
        # from, and the layers the study uses, so the curves and the record can be drawn from it.
        settings = {"study_cache": str(cache), "study_key": spec.key(),
                    "style_layers": list(DEFAULT_STYLE_LAYERS), "size": spec.size,
                    "seed": spec.seed, **METHODS[method]}
        result = RunResult(image, [dict(h) for h in cell.history], settings, cell.seconds)
        return ExperimentCell(source, method, image, cell.gaps, cell.seconds, result)
    return run_cell(source, method, size=plan.adv_size, iters=plan.adv_iters,
                    moment_iters=plan.adv_moment_iters, callback=callback, extractor=extractor,
                    style=style, seed=plan.seed, device=plan.device)


def run_report(plan: ReportPlan, callback: Callback | None = None) -> Report:
    """Run every stage of ``plan`` in order; progress goes to ``callback``.

    Every input is read first, so a bad file fails the report before any work, not an hour in.
    """
    for source in plan_inputs(plan):
        read_input(source, "report input")
    stages = stage_names(plan)
    wall: dict[str, float] = {}
    position = iter(range(len(stages)))  # stages run in the order stage_names lists them

    def staged(index: int) -> Callback | None:
        # Iterations count within the stage: each stage gets its own bar.
        return placed(callback, stage=Stage(index + 1, len(stages), stages[index]))

    def timed(job: Callable[[int], Any]) -> Any:
        """Run the next stage; ``job`` gets its index (for its progress callback)."""
        index = next(position)
        start = time.perf_counter()
        out = job(index)
        wall[stages[index]] = round(time.perf_counter() - start, 3)
        return out

    common = {"seed": plan.seed, "device": plan.device}
    iters = {"iters": plan.iters} if plan.iters is not None else {}
    texture = timed(lambda i: run_texture(plan.texture, loss=plan.texture_loss, size=plan.size,
                                          callback=staged(i), **iters, **common))

    def stylize(index: int, mode: str = "none") -> RunResult:
        # The colour controls run with the plain run's seed and budget: only the colours differ.
        return run_stylize(plan.photo, plan.photo_style, loss=plan.photo_loss, size=plan.size,
                           preserve_color=mode, callback=staged(index), **iters, **common)

    stylized = timed(stylize)
    colour = {mode: timed(lambda i, mode=mode: stylize(i, mode)) for mode in COLOUR_MODES}
    comparison = timed(lambda i: run_compare(
        plan.textures, plan.pairs, losses=plan.losses, size=plan.compare_size,
        iters=plan.compare_iters, regions=plan.regions, region_pairs=plan.pairs[:1],
        callback=staged(i), **common))
    mixing = []
    for loss in plan.mix_losses:
        for blend in plan.blends:
            result = timed(lambda i, loss=loss, blend=blend: run_texture(
                list(plan.mix), loss=loss, style_blend=(blend, 1 - blend), size=plan.mix_size,
                iters=plan.mix_iters, callback=staged(i), **common))
            mixing.append(MixCell(loss, blend, result))
    adversarial = Experiment(plan.adv_exemplars, plan.adv_methods, plan.adv_size, plan.adv_iters,
                             plan.adv_moment_iters, plan.seed)
    extractor = moment_extractor()
    for source in plan.adv_exemplars:
        style = exemplar_at(source, plan.adv_size)
        adversarial.cells.append(noise_cell(source, style, plan.adv_size, extractor))
        for method in plan.adv_methods:
            adversarial.cells.append(timed(lambda i, source=source, method=method, style=style:
                _adversarial_cell(plan, source, method, staged(i), extractor, style)))
    environment = {"texstyle": __version__, "torch": torch.__version__,
                   "python": platform.python_version(), "machine": platform.machine(),
                   "torch threads": str(torch.get_num_threads()),
                   "device": texture.settings["device"]}
    return Report(plan, texture, stylized, comparison, mixing, wall, adversarial=adversarial,
                  colour=colour, environment=environment)
