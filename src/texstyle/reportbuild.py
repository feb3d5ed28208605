"""``texstyle report``: every deliverable regenerated into one folder, with an ``index.html``.

One plan (what to run, at which size), one function that runs it (``run_report``: the favourite
texture, the favourite stylisation, the statistics comparison sheets, style mixing) and one pure
function that turns the results into files (``render_report``: name → picture or text).  Nothing
here writes a file or prints; the CLI checks every planned name before any work, renders progress
and writes atomically, as for the other commands.

The favourite stylisation is also shown with both colour controls (``preserve_color``), and the
adversarial experiment of docs/adversarial.md (``experiment.py``) runs as its own stages.

Inputs default to the package's own ``sample:`` images, so the report needs no downloads; a folder
of other images can replace them (``plan_from_folder``).  ``quick`` plans a tiny version (48 px, a
few iterations at each level) that exercises every step in under a minute on two CPU cores: that
is what CI runs.
"""

from __future__ import annotations

import html
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from . import __version__
from .api import RunResult, read_input, run_stylize, run_texture
from .compare import (
    DEFAULT_PAIRS,
    DEFAULT_TEXTURES,
    Comparison,
    SheetProgress,
    level_starts,
    run_compare,
    source_label,
)
from .config import DEFAULT_STYLE_LAYERS
from .errors import TexstyleError
from .experiment import (
    NOISE,
    Experiment,
    ExperimentCell,
    exemplar_at,
    noise_cell,
    run_cell,
)
from .image import OUTPUT_FORMATS, to_pil
from .moments import moment_extractor
from .optimize import Progress
from .report import contact_sheet, gan_curves, grid, loss_plot
from .stats import STATISTICS

# Every file the report writes, by role; the CLI checks them all before any work.
FILES = {
    "texture": "texture.png",
    "texture_sheet": "texture_sheet.png",
    "stylized": "stylized.png",
    "stylized_sheet": "stylized_sheet.png",
    "colour": "colour.png",
    "compare_textures": "compare_textures.png",
    "compare_stylized": "compare_stylized.png",
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
# The adversarial experiment's columns: the three discriminators and the two fixed statistics
# they are compared with (docs/adversarial.md also runs `mean`; left out here to save a run).
ADVERSARIAL_METHODS = ("gan logreg", "gan quadratic", "gan mlp:128", "meancov", "gram")


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


def default_plan(*, quick: bool = False, seed: int = 0, device: str = "auto") -> ReportPlan:
    """Built-in samples only.  Favourites chosen by eye from the statistics sheets: the mosaic is
    where our own statistic (swd) shows its gain, and the stained-glass cat is the classic."""
    return ReportPlan(
        texture="sample:mosaic", texture_loss="swd",
        photo="sample:cat", photo_style="sample:mosaic", photo_loss="gram",
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
    # The adversarial budget is docs/adversarial.md's: 128 px, 150 Adam iterations / 150 L-BFGS
    # evaluations, on the three exemplars of its table.
    return {"size": 256, "iters": None, "compare_size": 128, "compare_iters": 100, "mix_size": 128,
            "mix_iters": 100, "blends": (1.0, 0.75, 0.5, 0.25, 0.0), "mix_losses": ("gram", "swd"),
            "adv_exemplars": ("sample:cells", "sample:brick", "sample:mosaic"), "adv_size": 128,
            "adv_iters": 150, "adv_moment_iters": 150}


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


@dataclass(frozen=True)
class ReportProgress:
    """One iteration's report, placed in the report: which stage, how far within it."""

    stage: str
    stage_index: int  # 1-based
    stages: int
    iteration: int  # within the stage
    total: int


ReportCallback = Callable[[ReportProgress], None]


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


def run_report(plan: ReportPlan, callback: ReportCallback | None = None) -> Report:
    """Run every stage of ``plan`` in order; progress goes to ``callback``.

    Every input is read first, so a bad file fails the report before any work, not an hour in.
    """
    for source in plan_inputs(plan):
        read_input(source, "report input")
    stages = stage_names(plan)
    wall: dict[str, float] = {}
    position = iter(range(len(stages)))  # stages run in the order stage_names lists them

    def staged(index: int) -> Callable[[Progress], None] | None:
        if callback is None:
            return None
        return lambda p: callback(ReportProgress(stages[index], index + 1, len(stages),
                                                 p.iteration, p.total))

    def sheet_progress(index: int) -> Callable[[SheetProgress], None]:
        def report(s: SheetProgress) -> None:
            if callback is not None:
                callback(ReportProgress(stages[index], index + 1, len(stages), s.iteration,
                                        s.total))
        return report

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
        iters=plan.compare_iters, callback=sheet_progress(i), **common))
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
                run_cell(source, method, size=plan.adv_size, iters=plan.adv_iters,
                         moment_iters=plan.adv_moment_iters, callback=staged(i),
                         extractor=extractor, style=style, **common)))
    environment = {"texstyle": __version__, "torch": torch.__version__,
                   "python": platform.python_version(), "machine": platform.machine(),
                   "torch threads": str(torch.get_num_threads()),
                   "device": texture.settings["device"]}
    return Report(plan, texture, stylized, comparison, mixing, wall, adversarial=adversarial,
                  colour=colour, environment=environment)


# ---- rendering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of index.html: a heading, some HTML, figures (file name, caption)."""

    anchor: str
    title: str
    body: str  # HTML
    figures: tuple[tuple[str, str], ...] = ()


def render_report(report: Report) -> dict[str, Image.Image | str]:
    """File name → picture or text, for every name in ``FILES``; nothing is written here."""
    plan = report.plan
    files: dict[str, Image.Image | str] = {}
    files[FILES["texture"]] = report.texture.to_pil()
    files[FILES["stylized"]] = report.stylized.to_pil()
    files[FILES["texture_sheet"]] = contact_sheet(
        [[(f"exemplar: {source_label(plan.texture)}", _input(plan.texture)),
          (f"texture ({plan.texture_loss})", report.texture.to_pil())]],
        height=max(256, plan.size))
    files[FILES["stylized_sheet"]] = contact_sheet(
        [[(f"content: {source_label(plan.photo)}", _input(plan.photo)),
          (f"style: {source_label(plan.photo_style)}", _input(plan.photo_style)),
          (f"stylised ({plan.photo_loss})", report.stylized.to_pil())]],
        height=max(256, plan.size))
    files[FILES["colour"]] = colour_figure(report)
    files.update(comparison_figures(report.comparison))
    files[FILES["mixing"]] = mixing_grid(plan, report.mixing)
    files[FILES["losses"]] = loss_plot(
        {"favourites": {f"texture ({plan.texture_loss})": _style_curve(report.texture),
                        f"stylised ({plan.photo_loss})": _style_curve(report.stylized)}}
        | {f"mixing ({loss})": {f"{c.blend:.2f} / {1 - c.blend:.2f}": _style_curve(c.result)
                                for c in report.mixing if c.loss == loss}
           for loss in plan.mix_losses},
        title="style loss per iteration (each run's own statistic)")
    files.update(adversarial_figures(report))
    files[FILES["record"]] = json.dumps(report_record(report), indent=1, default=str) + "\n"
    files[FILES["index"]] = index_html(report)
    return files


def comparison_figures(comparison: Comparison) -> dict[str, Image.Image]:
    """The two comparison grids and their loss curves, as ``texstyle compare`` draws them."""
    s = comparison.settings
    out: dict[str, Image.Image] = {}
    for g in comparison.grids:
        title = f"{g.name}: {s['size']} px, {s['iters']} iterations at the coarsest level, seed {s['seed']}"
        out[FILES[f"compare_{g.name}"]] = grid(*comparison.table(g), cell=max(s["size"], 128),
                                               title=title)
    dashed = [row.label for g in comparison.grids if g.name == "stylized" for row in g.rows]
    out[FILES["compare_losses"]] = loss_plot(
        comparison.curves(), dashed=dashed,
        title="style loss per iteration: textures (solid) and stylised (dashed)",
        level_starts=level_starts(comparison))
    return out


def colour_figure(report: Report) -> Image.Image:
    """Content, style, then the favourite stylisation plain and under each colour control."""
    plan = report.plan
    return contact_sheet(
        [[(f"content: {source_label(plan.photo)}", _input(plan.photo)),
          (f"style: {source_label(plan.photo_style)}", _input(plan.photo_style)),
          ("plain", report.stylized.to_pil()),
          *((f"preserve_color={mode}", report.colour[mode].to_pil()) for mode in COLOUR_MODES)]],
        height=max(256, plan.size))


def adversarial_figures(report: Report) -> dict[str, Image.Image]:
    """The experiment's labelled grid and the D training curves of one GAN run."""
    exp = report.adversarial
    if exp is None:
        raise ValueError("the report has no adversarial experiment")
    out = {FILES["adversarial"]: grid(["exemplar", *exp.methods], exp.grid_rows(),
                                      cell=max(exp.size, 128), title=exp.grid_title())}
    curves = curves_cell(exp)
    result = curves.result
    assert result is not None  # a cell run in this report
    out[FILES["adversarial_curves"]] = gan_curves(
        result.history, result.settings.get("style_layers", DEFAULT_STYLE_LAYERS),
        title=f"{source_label(curves.exemplar)}, {curves.method}: discriminator per layer")
    return out


def curves_cell(exp: Experiment) -> ExperimentCell:
    """The GAN run whose training curves are shown: the first exemplar's first GAN method."""
    for method in exp.methods:
        cell = exp.cell(exp.exemplars[0], method)
        if cell.result is not None and any(k.startswith("d_acc/") for k in cell.result.history[-1]):
            return cell
    raise ValueError("the adversarial experiment has no GAN run with training curves")


def mixing_grid(plan: ReportPlan, cells: Sequence[MixCell]) -> Image.Image:
    """One row per statistic: the two styles, then the texture at each blend."""
    a, b = (_input(s) for s in plan.mix)
    columns = [source_label(plan.mix[0]), source_label(plan.mix[1]),
               *(f"{w:.2f} / {1 - w:.2f}" for w in plan.blends)]
    rows = [[("style A", a), ("style B", b),
             *((loss, c.result.to_pil()) for c in cells if c.loss == loss)]
            for loss in plan.mix_losses]
    return grid(columns, rows, cell=max(plan.mix_size, 128),
                title=f"mixing A and B (weights A / B), {plan.mix_size} px")


def report_record(report: Report) -> dict[str, Any]:
    def run(r: RunResult) -> dict[str, Any]:
        return {"elapsed_s": round(r.elapsed, 3), "settings": r.settings, "history": r.history}

    return {
        "texstyle": __version__,
        "plan": asdict(report.plan),
        "environment": report.environment,
        "wall_s": report.wall_s,
        "texture": run(report.texture),
        "stylized": run(report.stylized),
        "comparison": report.comparison.record(),
        "mixing": [{"loss": c.loss, "blend": [c.blend, 1 - c.blend]} | run(c.result)
                   for c in report.mixing],
        "colour": {mode: run(r) for mode, r in report.colour.items()},
        "adversarial": [
            {"exemplar": c.exemplar, "method": c.method, "seconds": round(c.seconds, 3),
             "mean_gap": c.gaps.mean_gap, "cov_gap": c.gaps.cov_gap,
             "per_layer": {name: {"mean_gap": m, "cov_gap": v}
                           for name, (m, v) in c.gaps.per_layer.items()}}
            | ({"settings": c.result.settings, "history": c.result.history} if c.result else {})
            for c in (report.adversarial.cells if report.adversarial else [])],
    }


def adversarial_section(report: Report) -> Section:
    """The experiment of docs/adversarial.md: pictures, the gap tables, D's curves, and what this
    run's numbers say (every number in the text is read from the run, none is written in)."""
    exp = report.adversarial
    if exp is None:
        return Section("adversarial", "Adversarial experiment", "<p>Not run.</p>")
    curves = curves_cell(exp)
    body = (
        f"<p>Which discriminator matches what (<code>docs/adversarial.md</code>, "
        f"<code>docs/theory.md</code> §5): GAN-only textures (<code>--loss gan</code>) with a "
        f"linear (<code>logreg</code>), a quadratic and an MLP discriminator, next to the fixed "
        f"statistics they should emulate. Every cell: {exp.size} px, seed {exp.seed}; GAN runs "
        f"take {exp.iters} Adam iterations, the others {exp.moment_iters} L-BFGS evaluations. "
        f"For each output X and exemplar S, at each style layer, the relative gaps "
        f"‖μ<sub>X</sub> − μ<sub>S</sub>‖ / ‖μ<sub>S</sub>‖ of the feature means and "
        f"‖Σ<sub>X</sub> − Σ<sub>S</sub>‖<sub>F</sub> / ‖Σ<sub>S</sub>‖<sub>F</sub> of the "
        f"feature covariances (<code>texstyle.feature_moment_gaps</code>), averaged over the "
        f"{len(DEFAULT_STYLE_LAYERS)} layers; uniform noise gives the scale.</p>"
        + _gap_average_table(exp) + adversarial_analysis(exp) + _gap_table(exp))
    figures = (
        (FILES["adversarial"], ("One row per exemplar, one column per method; each cell is "
                                "labelled with its mean / covariance gap.")),
        (FILES["adversarial_curves"],
         (f"{source_label(curves.exemplar)}, {curves.method}: discriminator accuracy, "
          f"discriminator loss and generator loss per layer; dotted: chance.")),
    )
    return Section("adversarial", "Adversarial experiment", body, figures)


def adversarial_analysis(exp: Experiment) -> str:
    """A paragraph of what this run's gaps say about the theory's predictions (HTML)."""
    avg = {m: exp.average(m) for m in (NOISE, *exp.methods)}
    gan = [m for m in exp.methods if m.startswith("gan")]
    fixed = [m for m in exp.methods if not m.startswith("gan")]
    points = [(f"Uniform noise sits at {avg[NOISE][0]:.2f} / {avg[NOISE][1]:.2f} "
               f"(mean / covariance gap, averaged over the exemplars).")]
    if "gan logreg" in exp.methods and "gan quadratic" in exp.methods:
        lin, quad = avg["gan logreg"][1], avg["gan quadratic"][1]
        wins = [ex for ex in exp.exemplars if exp.cell(ex, "gan quadratic").gaps.cov_gap
                < exp.cell(ex, "gan logreg").gaps.cov_gap]
        better, worse = ("quadratic", "logreg") if quad < lin else ("logreg", "quadratic")
        verdict = ("as the theory predicts: only the quadratic one can see a covariance "
                   "difference" if quad < lin else
                   "against the theory's prediction (only the quadratic one can see covariances): "
                   "at this budget the game is far from its equilibrium")
        points.append(
            f"In this run the <code>{better}</code> discriminator left the smaller covariance gap "
            f"({min(lin, quad):.3f} against <code>{worse}</code>'s {max(lin, quad):.3f}), "
            f"{verdict}; quadratic was smaller on {len(wins)} of {len(exp.exemplars)} "
            f"exemplar(s){_which(wins)}.")
    if gan and fixed:
        gan_mean = [avg[m][0] for m in gan]
        fixed_mean = [avg[m][0] for m in fixed]
        points.append(
            f"Mean gaps: {_span(gan_mean)} for the GAN runs against {_span(fixed_mean)} for "
            f"{', '.join(fixed)} — " + (
                "the fixed statistics with L-BFGS match the means more closely at equal budget."
                if min(gan_mean) > max(fixed_mean) else
                "the GAN runs are level with the fixed statistics here."
                if max(gan_mean) >= min(fixed_mean) else
                "the GAN runs match the means more closely here."))
    if "meancov" in exp.methods and gan:
        best = min(gan, key=lambda m: avg[m][1])
        mc = avg["meancov"][1]
        points.append(
            f"<code>meancov</code>, which matches covariances directly, left {mc:.3f}; the best "
            f"GAN run (<code>{best}</code>) {avg[best][1]:.3f}"
            + (", so a discriminator that could see covariances did not yet match them as well "
               "as matching them outright." if mc < avg[best][1] else "."))
    acc = _final_accuracy(curves_cell(exp))
    if acc is not None:
        points.append(f"At the end of the curves' run D still classified {100 * acc:.0f} % of positions "
                      f"correctly on average over the layers (chance: 50 %): "
                      + ("the game had not settled." if acc > 0.55 else "close to chance."))
    return "<p><strong>What this run says.</strong> " + " ".join(points) + "</p>"


def _final_accuracy(cell: ExperimentCell) -> float | None:
    last = cell.result.history[-1] if cell.result is not None else {}
    accs = [v for k, v in last.items() if k.startswith("d_acc/")]
    return sum(accs) / len(accs) if accs else None


def _span(values: Sequence[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.3f}" if round(lo, 3) == round(hi, 3) else f"{lo:.3f}–{hi:.3f}"


def _which(exemplars: Sequence[str]) -> str:
    return f" ({', '.join(source_label(e) for e in exemplars)})" if exemplars else ""


def _gap_average_table(exp: Experiment) -> str:
    head = "<tr><th>method</th><th>mean gap</th><th>cov gap</th><th>time (s)</th></tr>"
    rows = ""
    for method in (NOISE, *exp.methods):
        m, v = exp.average(method)
        seconds = sum(exp.cell(ex, method).seconds for ex in exp.exemplars)
        rows += (f"<tr><td>{_e(method)}</td><td>{m:.3f}</td><td>{v:.3f}</td>"
                 f"<td>{seconds:.1f}</td></tr>")
    return (f"<p>Averaged over the {len(exp.exemplars)} exemplar(s) (time: summed):</p>"
            f"<table>{head}{rows}</table>")


def _gap_table(exp: Experiment) -> str:
    layers = list(exp.cells[0].gaps.per_layer)
    head = ("<tr><th>exemplar</th><th>method</th><th>mean gap</th><th>cov gap</th>"
            + "".join(f"<th>{_e(n)} μ / Σ</th>" for n in layers) + "<th>time (s)</th></tr>")
    rows = ""
    for c in exp.cells:
        per = "".join(f"<td>{c.gaps.per_layer[n][0]:.2f} / {c.gaps.per_layer[n][1]:.2f}</td>"
                      for n in layers)
        rows += (f"<tr><td>{_e(source_label(c.exemplar))}</td><td>{_e(c.method)}</td>"
                 f"<td>{c.gaps.mean_gap:.3f}</td><td>{c.gaps.cov_gap:.3f}</td>{per}"
                 f"<td>{c.seconds:.1f}</td></tr>")
    return (f"<p>Per exemplar and layer (mean gap / covariance gap):</p>"
            f"<table>{head}{rows}</table>")


def _colour_section(report: Report) -> Section:
    plan = report.plan
    body = (f"<p>The favourite stylisation again, with the same seed, size and budget, under "
            f"each colour control (Gatys et al., \"Preserving Color in Neural Artistic Style "
            f"Transfer\", 2016; <code>--preserve-color</code>): <code>luminance</code> "
            f"transfers the style on the luma channel only and puts the content's chroma (YIQ) "
            f"back; <code>histogram</code> first maps the style image's colours so that their "
            f"RGB mean and covariance equal the content's. Final style loss: plain "
            f"{_final(report.stylized, 'style'):.3g}"
            + "".join(f", {mode} {_final(r, 'style'):.3g}" for mode, r in report.colour.items())
            + " (each measured against its own, recoloured or grey, style targets).</p>")
    caption = (f"Content ({source_label(plan.photo)}), style ({source_label(plan.photo_style)}), "
               f"then {plan.photo_loss} stylisations: plain, keeping the content's colours "
               f"through luminance-only transfer, and through colour histogram matching of the "
               f"style.")
    return Section("colour", "Colour control", body, ((FILES["colour"], caption),))


# The formulas of docs/theory.md, in plain Unicode so the page reads offline without MathJax.
FORMULAS = (
    ("Features as samples", "P = (1/N) Σₚ δ(fₚ),  fₚ ∈ ℝᶜ the feature vector at position p"),
    ("Gram matrix (averaged over positions)", "G = (1/N) F Fᵀ = E_P[f fᵀ]"),
    ("Gaussian cross-entropy", "H(P, N(0, Σ)) = ½ [C log 2π + log det Σ + tr(Σ⁻¹ G)]"),
    ("… minimised at the Gram matrix",
     "H(P, N(0, Σ)) − H(P, N(0, G)) = ½ Σᵢ (λᵢ − log λᵢ − 1) ≥ 0,  λᵢ = eig(Σ⁻¹ G)"),
    ("Mean and covariance", "N(μ, Σ) fitted at μ = E_P[f], Σ = E_P[(f − μ)(f − μ)ᵀ] = G − μμᵀ"),
    ("Gram distance as an MMD", "‖G − Gₜ‖² = E[(fᵀf′)²] + E[(gᵀg′)²] − 2 E[(fᵀg)²]"),
    ("Wasserstein-2 between Gaussians", "W₂² = ‖μ − μₜ‖² + tr Σ + tr Σₜ − 2 tr (Σₜ^½ Σ Σₜ^½)^½"),
    ("Sliced Wasserstein (1-D: sort and compare)",
     "SW₂² = E_θ [ (1/N) Σᵢ (x₍ᵢ₎ − y₍ᵢ₎)² ],  x = θᵀf, y = θᵀg sorted"),
    ("Relative error (every loss term)", "rel(A, T) = ‖A − T‖² / ‖T‖²"),
    ("Objective",
     "style_weight · Σ_l w_l d_l(X, S) + content_weight · rel(F_X, F_C) + tv_weight · TV(X)"),
)

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
line-height:1.45;color:#222}img{max-width:100%;border:1px solid #ddd}figure{margin:1em 0}
figcaption{color:#555;font-size:.92em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.92em}
code{background:#f4f4f4;padding:0 .2em}.formula{font-family:monospace;white-space:pre-wrap}"""


def index_html(report: Report) -> str:
    plan = report.plan
    sections = [
        _favourites_section(report),
        _colour_section(report),
        _comparison_section(report),
        _mixing_section(report),
        Section("losses", "Loss curves",
                "<p>Style loss per evaluation of the favourites and of every mixing cell (log "
                "scale; each run measured by its own statistic, so compare shapes, not levels). "
                "The comparison sheets' curves are with the sheets.</p>",
                ((FILES["losses"], "Style loss per iteration."),)),
        adversarial_section(report),
        _formulas_section(),
        _timings_section(report),
    ]
    mode = "quick (tiny, for CI)" if plan.quick else "full"
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    body = "".join(_section_html(s) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>texstyle report</title><style>{_CSS}</style></head><body>"
        f"<h1>texstyle report</h1><p>Regenerated by <code>texstyle report OUTDIR"
        f"{' --quick' if plan.quick else ''}</code> ({mode} mode, seed {plan.seed}, texstyle "
        f"{__version__}). Every number and picture below comes from this run; the full record, "
        f"with settings and loss histories, is <a href=\"{FILES['record']}\">{FILES['record']}</a>."
        f" The derivations are in <code>docs/theory.md</code>.</p>{_quick_note(plan)}"
        f"<ul>{toc}</ul>{body}"
        "</body></html>\n")


def _quick_note(plan: ReportPlan) -> str:
    if not plan.quick:
        return ""
    return ("<p><strong>Quick mode:</strong> sizes and budgets are tiny so that CI can check every "
            "step in about a minute; the pictures are mostly noise. Run without "
            "<code>--quick</code> (a GPU helps) for the real report.</p>")


def _favourites_section(report: Report) -> Section:
    plan, tex, sty = report.plan, report.texture, report.stylized
    body = (
        f"<p>A texture grown from <code>{_e(plan.texture)}</code> with the "
        f"<code>{_e(plan.texture_loss)}</code> statistic, and <code>{_e(plan.photo)}</code> painted "
        f"in the style of <code>{_e(plan.photo_style)}</code> with <code>{_e(plan.photo_loss)}</code>."
        f" Full-size results: <a href=\"{FILES['texture']}\">{FILES['texture']}</a>, "
        f"<a href=\"{FILES['stylized']}\">{FILES['stylized']}</a>.</p>"
        + _settings_table({"texture": tex, "stylisation": sty}))
    texture_caption = (f"Exemplar and texture ({_size(tex)}, final style loss "
                       f"{_final(tex, 'style'):.3g}).")
    stylized_caption = (f"Content, style and stylisation ({_size(sty)}, final style loss "
                        f"{_final(sty, 'style'):.3g}, content loss {_final(sty, 'content'):.3g}).")
    return Section("favourites", "Favourite texture and stylisation", body, (
        (FILES["texture_sheet"], texture_caption), (FILES["stylized_sheet"], stylized_caption)))


def _comparison_section(report: Report) -> Section:
    c = report.comparison
    s = c.settings
    body = (f"<p>Every exemplar and content/style pair under every statistic "
            f"({', '.join(f'<code>{_e(x)}</code>' for x in c.losses)}), same seed, size "
            f"({s['size']} px) and budget ({s['iters']} evaluations at the coarsest pyramid level) in every "
            f"cell; each cell is labelled with its final style loss. What to look for is "
            f"discussed in <code>docs/statistics.md</code> and <code>docs/theory.md</code> "
            f"(§3: is the mean enough? §4: what swd sees).</p>")
    figures = [(FILES[f"compare_{g.name}"], f"{g.name}: one column per statistic.")
               for g in c.grids]
    figures.append((FILES["compare_losses"],
                    "Style loss per iteration, one panel per statistic; dotted: a new level."))
    return Section("comparison", "Comparison of the statistics", body, tuple(figures))


def _mixing_section(report: Report) -> Section:
    plan = report.plan
    body = (f"<p>Textures from two styles at once, <code>{_e(plan.mix[0])}</code> (A) and "
            f"<code>{_e(plan.mix[1])}</code> (B), blended with the weights shown "
            f"(<code>--style A --style B --style-blend wA,wB</code>). For the moment statistics "
            f"the raw moments are averaged; for swd the target is the weighted mixture of the "
            f"two feature clouds. {plan.mix_size} px, {plan.mix_iters} evaluations at the coarsest level.</p>")
    caption = "One row per statistic; the end columns are A alone and B alone."
    return Section("mixing", "Style mixing", body, ((FILES["mixing"], caption),))


def _formulas_section() -> Section:
    rows = "".join(f"<tr><th>{_e(name)}</th><td class=\"formula\">{_e(text)}</td></tr>"
                   for name, text in FORMULAS)
    body = ("<p>From <code>docs/theory.md</code>, where each is derived: matching Gram matrices "
            "is fitting the same maximum-likelihood Gaussian N(0, G) to the two feature "
            "distributions; the other statistics change the model (mean, mean and covariance) "
            "or compare whole distributions (swd).</p>"
            f"<table>{rows}</table>")
    return Section("formulas", "Formulas", body)


def _timings_section(report: Report) -> Section:
    rows = "".join(f"<tr><td>{_e(stage)}</td><td>{seconds:.1f}</td></tr>"
                   for stage, seconds in report.wall_s.items())
    total = sum(report.wall_s.values())
    env = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in report.environment.items())
    body = (f"<p>Wall-clock seconds per stage (image loading, targets and optimisation); "
            f"total {total:.1f} s. Timings depend on the machine and on what else it was "
            f"running.</p><table><tr><th>stage</th><th>s</th></tr>{rows}</table>"
            f"<table><tr><th>environment</th><th></th></tr>{env}</table>")
    return Section("timings", "Timings and environment", body)


def _settings_table(runs: dict[str, RunResult]) -> str:
    keys = ("loss", "output_size", "levels", "iters", "style_weight", "content_weight",
            "tv_weight", "style_layers", "content_layer", "pooling", "optimizer", "seed", "device")
    head = "".join(f"<th>{_e(name)}</th>" for name in runs)
    rows = ""
    for key in keys:
        values = [r.settings.get(key, "") for r in runs.values()]
        if all(v in ("", None) for v in values):
            continue
        if key == "content_weight":  # a texture run has no content term
            values = [v if r.settings.get("mode") == "stylize" else ""
                      for v, r in zip(values, runs.values())]
        if key == "output_size":
            values = ["x".join(map(str, v)) for v in values]
        cells = "".join(f"<td>{_e(_fmt(v))}</td>" for v in values)
        rows += f"<tr><td>{_e(key)}</td>{cells}</tr>"
    times = "".join(f"<td>{r.elapsed:.1f} s</td>" for r in runs.values())
    return (f"<table><tr><th>setting</th>{head}</tr>{rows}"
            f"<tr><td>optimisation time</td>{times}</tr></table>")


def _section_html(s: Section) -> str:
    figures = "".join(
        f'<figure><a href="{_e(name)}"><img src="{_e(name)}" alt="{_e(caption)}"></a>'
        f"<figcaption>{_e(caption)}</figcaption></figure>" for name, caption in s.figures)
    return f'<section id="{_e(s.anchor)}"><h2>{_e(s.title)}</h2>{s.body}{figures}</section>'


def _input(source: str) -> Image.Image:
    return to_pil(read_input(source, "report input"))


def _style_curve(result: RunResult) -> list[float]:
    return [h["style"] for h in result.history]


def _final(result: RunResult, term: str) -> float:
    """A term of the returned image: the best total of the last level, as ``optimize`` keeps."""
    last = result.history[-1]["level"]
    best = min((h for h in result.history if h["level"] == last), key=lambda h: h["total"])
    return best.get(term, float("nan"))


def _size(result: RunResult) -> str:
    w, h = result.settings["output_size"]
    return f"{w}x{h} px"


def _fmt(value: object) -> str:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            return " → ".join("x".join(map(str, v)) for v in value)
        return ", ".join(map(str, value))
    return str(value)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
