"""``texstyle report``: every deliverable regenerated into one folder, with an ``index.html``.

One plan (what to run, at which size), one function that runs it (``run_report``: the favourite
texture, the favourite stylisation, the statistics comparison sheets, style mixing) and one pure
function that turns the results into files (``render_report``: name → picture or text).  Nothing
here writes a file or prints; the CLI checks every planned name before any work, renders progress
and writes atomically, as for the other commands.

Inputs default to the package's own ``sample:`` images, so the report needs no downloads; a folder
of other images can replace them (``plan_from_folder``).  ``quick`` plans a tiny version (48 px, a
few iterations at each level) that exercises every step in about a minute on two CPU cores: that is
what CI runs.
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
from .errors import TexstyleError
from .image import OUTPUT_FORMATS, to_pil
from .optimize import Progress
from .report import contact_sheet, grid, loss_plot
from .stats import STATISTICS

# Every file the report writes, by role; the CLI checks them all before any work.
FILES = {
    "texture": "texture.png",
    "texture_sheet": "texture_sheet.png",
    "stylized": "stylized.png",
    "stylized_sheet": "stylized_sheet.png",
    "compare_textures": "compare_textures.png",
    "compare_stylized": "compare_stylized.png",
    "compare_losses": "compare_losses.png",
    "mixing": "mixing.png",
    "losses": "losses.png",
    "record": "report.json",
    "index": "index.html",
}

PHOTO_PREFIXES = ("photo", "content")  # --images: file names that mark a content photo


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
        mix=("sample:brick", "sample:cells"), **_budget(quick),
        seed=seed, device=device, quick=quick,
    )


def _budget(quick: bool) -> dict[str, Any]:
    """Sizes and iterations: the commands' own defaults, or a tiny version for CI."""
    if quick:
        return {"size": 48, "iters": 4, "compare_size": 48, "compare_iters": 2, "mix_size": 48,
                "mix_iters": 3, "blends": (1.0, 0.5, 0.0), "mix_losses": ("gram", "swd")}
    return {"size": 256, "iters": None, "compare_size": 128, "compare_iters": 100, "mix_size": 128,
            "mix_iters": 100, "blends": (1.0, 0.75, 0.5, 0.25, 0.0), "mix_losses": ("gram", "swd")}


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
    return replace(default_plan(quick=quick, seed=seed, device=device),
                   texture=styles[0], photo=photos[0], photo_style=styles[0],
                   textures=tuple(styles[:3]), pairs=pairs, mix=(styles[0], styles[1]))


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
                               *(s for pair in plan.pairs for s in pair), *plan.mix]))


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
    """Everything the report shows.  ``adversarial`` is the hook for issue 4's experiment."""

    plan: ReportPlan
    texture: RunResult
    stylized: RunResult
    comparison: Comparison
    mixing: list[MixCell]
    wall_s: dict[str, float]  # wall-clock seconds per stage
    adversarial: Any = None
    environment: dict[str, str] = field(default_factory=dict)


def stage_names(plan: ReportPlan) -> list[str]:
    return (["favourite texture", "favourite stylisation", "comparison sheets"]
            + [f"mixing ({loss}, {blend:.2f} / {1 - blend:.2f})"
               for loss in plan.mix_losses for blend in plan.blends])


def run_report(plan: ReportPlan, callback: ReportCallback | None = None) -> Report:
    """Run every stage of ``plan`` in order; progress goes to ``callback``.

    Every input is read first, so a bad file fails the report before any work, not an hour in.
    """
    for source in plan_inputs(plan):
        read_input(source, "report input")
    stages = stage_names(plan)
    wall: dict[str, float] = {}

    def staged(index: int) -> Callable[[Progress], None] | None:
        if callback is None:
            return None
        return lambda p: callback(ReportProgress(stages[index], index + 1, len(stages),
                                                 p.iteration, p.total))

    def timed(index: int, job: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = job()
        wall[stages[index]] = round(time.perf_counter() - start, 3)
        return out

    common = {"seed": plan.seed, "device": plan.device}
    iters = {"iters": plan.iters} if plan.iters is not None else {}
    texture = timed(0, lambda: run_texture(plan.texture, loss=plan.texture_loss, size=plan.size,
                                           callback=staged(0), **iters, **common))
    stylized = timed(1, lambda: run_stylize(plan.photo, plan.photo_style, loss=plan.photo_loss,
                                            size=plan.size, callback=staged(1), **iters, **common))

    def sheet_progress(s: SheetProgress) -> None:
        if callback is not None:
            callback(ReportProgress(stages[2], 3, len(stages), s.iteration, s.total))

    comparison = timed(2, lambda: run_compare(
        plan.textures, plan.pairs, losses=plan.losses, size=plan.compare_size,
        iters=plan.compare_iters, callback=sheet_progress, **common))
    mixing = []
    index = 3
    for loss in plan.mix_losses:
        for blend in plan.blends:
            result = timed(index, lambda i=index, loss=loss, blend=blend: run_texture(
                list(plan.mix), loss=loss, style_blend=(blend, 1 - blend), size=plan.mix_size,
                iters=plan.mix_iters, callback=staged(i), **common))
            mixing.append(MixCell(loss, blend, result))
            index += 1
    environment = {"texstyle": __version__, "torch": torch.__version__,
                   "python": platform.python_version(), "machine": platform.machine(),
                   "torch threads": str(torch.get_num_threads()),
                   "device": texture.settings["device"]}
    return Report(plan, texture, stylized, comparison, mixing, wall, environment=environment)


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
    files.update(comparison_figures(report.comparison))
    files[FILES["mixing"]] = mixing_grid(plan, report.mixing)
    files[FILES["losses"]] = loss_plot(
        {"favourites": {f"texture ({plan.texture_loss})": _style_curve(report.texture),
                        f"stylised ({plan.photo_loss})": _style_curve(report.stylized)}}
        | {f"mixing ({loss})": {f"{c.blend:.2f} / {1 - c.blend:.2f}": _style_curve(c.result)
                                for c in report.mixing if c.loss == loss}
           for loss in plan.mix_losses},
        title="style loss per iteration (each run's own statistic)")
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
    }


def adversarial_section(report: Report) -> Section:
    """Hook for the adversarial experiment (issue 4): the lead wires its figures and numbers here
    (and runs the experiment in ``run_report``, storing it in ``Report.adversarial``)."""
    return Section("adversarial", "Adversarial experiment",
                   "<p><em>Not yet wired: the adversarial statistic (issue 4) will add its "
                   "experiment here — discriminator accuracies per statistic, linear versus "
                   "quadratic, as discussed in the theory note.</em></p>")


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
