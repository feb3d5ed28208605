"""``texstyle report``, second half: a finished ``Report`` turned into files.

``render_report`` is a pure function from the results of ``report.build.run_report`` to
name → picture or text: the figures, ``report.json`` and ``index.html`` with its sections
(captions, settings, timings, the theory note's formulas, and the adversarial analysis written
from the run's own numbers).  Nothing here runs a model, writes a file or prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import jinja2
from markupsafe import Markup
from PIL import Image

from .. import __version__
from ..api import RunResult, read_input
from ..config import DEFAULT_STYLE_LAYERS
from ..image import to_pil
from ..studies.compare import (
    Comparison,
    level_starts,
    source_label,
)
from ..studies.experiment import (
    NOISE,
    Experiment,
    ExperimentCell,
)
from .build import (
    COLOUR_MODES,
    FILES,
    MixCell,
    Report,
    ReportPlan,
)
from .figures import contact_sheet, gan_curves, grid, loss_plot


@dataclass(frozen=True)
class Section:
    """One part of index.html: a heading, some HTML, figures (file name, caption)."""

    anchor: str
    title: str
    body: Markup  # HTML rendered from a template
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
        stop = (f"until a change < {s['tolerance']:g} over 10 (cap {s['iters']})"
                if s.get("tolerance", 0) > 0 else f"{s['iters']} iterations at the coarsest level")
        title = f"{g.name}: {s['size']} px, seed {s['seed']}, {stop}"
        out[FILES[f"compare_{g.name}"]] = grid(*comparison.table(g), cell=max(s["size"], 128),
                                               title=title)
    dashed = [row.label for g in comparison.grids if g.name != "textures" for row in g.rows]
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
        return Section("adversarial", "Adversarial experiment", Markup("<p>Not run.</p>"))
    curves = curves_cell(exp)
    averages = [(m, *exp.average(m), sum(exp.cell(ex, m).seconds for ex in exp.exemplars))
                for m in (NOISE, *exp.methods)]
    cells = [{"label": source_label(c.exemplar), "method": c.method, "gaps": c.gaps,
              "seconds": c.seconds} for c in exp.cells]
    body = _render("adversarial.html.j2", exp=exp, n_layers=len(DEFAULT_STYLE_LAYERS),
                   averages=averages, a=adversarial_analysis(exp), cells=cells,
                   layers=list(exp.cells[0].gaps.per_layer))
    figures = (
        (FILES["adversarial"], ("One row per exemplar, one column per method; each cell is "
                                "labelled with its mean / covariance gap.")),
        (FILES["adversarial_curves"],
         (f"{source_label(curves.exemplar)}, {curves.method}: discriminator accuracy, "
          f"discriminator loss and generator loss per layer; dotted: chance.")),
    )
    return Section("adversarial", "Adversarial experiment", body, figures)


def adversarial_analysis(exp: Experiment) -> dict[str, Any]:
    """What this run's gaps say about the theory's predictions, as numbers and verdicts for the
    template (adversarial.html.j2 words them)."""
    avg = {m: exp.average(m) for m in (NOISE, *exp.methods)}
    gan = [m for m in exp.methods if m.startswith("gan")]
    fixed = [m for m in exp.methods if not m.startswith("gan")]
    out: dict[str, Any] = {"noise": avg[NOISE], "linquad": None, "means": None, "meancov": None,
                           "accuracy": _final_accuracy(curves_cell(exp))}
    if "gan logreg" in exp.methods and "gan quadratic" in exp.methods:
        lin, quad = avg["gan logreg"][1], avg["gan quadratic"][1]
        wins = [ex for ex in exp.exemplars if exp.cell(ex, "gan quadratic").gaps.cov_gap
                < exp.cell(ex, "gan logreg").gaps.cov_gap]
        better, worse = ("quadratic", "logreg") if quad < lin else ("logreg", "quadratic")
        out["linquad"] = {"better": better, "worse": worse, "low": min(lin, quad),
                          "high": max(lin, quad), "as_predicted": quad < lin,
                          "wins": [source_label(e) for e in wins],
                          "exemplars": len(exp.exemplars)}
    if gan and fixed:
        gan_mean = [avg[m][0] for m in gan]
        fixed_mean = [avg[m][0] for m in fixed]
        verdict = ("fixed" if min(gan_mean) > max(fixed_mean) else
                   "level" if max(gan_mean) >= min(fixed_mean) else "gan")
        out["means"] = {"gan": _span(gan_mean), "fixed": _span(fixed_mean),
                        "fixed_names": fixed, "verdict": verdict}
    if "meancov" in exp.methods and gan:
        best = min(gan, key=lambda m: avg[m][1])
        out["meancov"] = {"mc": avg["meancov"][1], "best": best, "best_gap": avg[best][1]}
    return out


def _final_accuracy(cell: ExperimentCell) -> float | None:
    last = cell.result.history[-1] if cell.result is not None else {}
    accs = [v for k, v in last.items() if k.startswith("d_acc/")]
    return sum(accs) / len(accs) if accs else None


def _span(values: Sequence[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.3f}" if round(lo, 3) == round(hi, 3) else f"{lo:.3f}–{hi:.3f}"


def _colour_section(report: Report) -> Section:
    plan = report.plan
    body = _render("colour.html.j2", plain=_final(report.stylized, "style"),
                   modes=[(mode, _final(r, "style")) for mode, r in report.colour.items()])
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

def index_html(report: Report) -> str:
    sections = [
        _favourites_section(report),
        _colour_section(report),
        _comparison_section(report),
        _mixing_section(report),
        Section("losses", "Loss curves", _render("losses.html.j2"),
                ((FILES["losses"], "Style loss per iteration."),)),
        adversarial_section(report),
        Section("formulas", "Formulas", _render("formulas.html.j2", formulas=FORMULAS)),
        _timings_section(report),
    ]
    plan = report.plan
    return str(_render("index.html.j2", sections=sections, quick=plan.quick, seed=plan.seed,
                       version=__version__, record=FILES["record"]))


def _favourites_section(report: Report) -> Section:
    plan, tex, sty = report.plan, report.texture, report.stylized
    body = _render("favourites.html.j2", plan=plan, files=FILES,
                   settings=_settings_table({"texture": tex, "stylisation": sty}))
    texture_caption = (f"Exemplar and texture ({_size(tex)}, final style loss "
                       f"{_final(tex, 'style'):.3g}).")
    stylized_caption = (f"Content, style and stylisation ({_size(sty)}, final style loss "
                        f"{_final(sty, 'style'):.3g}, content loss {_final(sty, 'content'):.3g}).")
    return Section("favourites", "Favourite texture and stylisation", body, (
        (FILES["texture_sheet"], texture_caption), (FILES["stylized_sheet"], stylized_caption)))


def _comparison_section(report: Report) -> Section:
    c = report.comparison
    body = _render("comparison.html.j2", losses=c.losses, size=c.settings["size"],
                   iters=c.settings["iters"], tolerance=c.settings.get("tolerance", 0.0))
    figures = [(FILES[f"compare_{g.name}"], f"{g.name}: one column per statistic."
                if g.name != "regions" else "regions: the first pair again with automatic "
                f"regions ({c.settings.get('regions', 'auto:K')}): each region of the photo "
                "matches only its paired region of the painting (docs/spatial.md).")
               for g in c.grids]
    figures.append((FILES["compare_losses"],
                    "Style loss per iteration, one panel per statistic; dotted: a new level."))
    return Section("comparison", "Comparison of the statistics", body, tuple(figures))


def _mixing_section(report: Report) -> Section:
    plan = report.plan
    body = _render("mixing.html.j2", a=plan.mix[0], b=plan.mix[1], size=plan.mix_size,
                   iters=plan.mix_iters)
    caption = "One row per statistic; the end columns are A alone and B alone."
    return Section("mixing", "Style mixing", body, ((FILES["mixing"], caption),))


def _timings_section(report: Report) -> Section:
    body = _render("timings.html.j2", stages=list(report.wall_s.items()),
                   total=sum(report.wall_s.values()),
                   environment=list(report.environment.items()))
    return Section("timings", "Timings and environment", body)


def _settings_table(runs: dict[str, RunResult]) -> dict[str, Any]:
    """The settings that tell the runs apart, as rows of display strings."""
    keys = ("loss", "output_size", "levels", "iters", "style_weight", "content_weight",
            "tv_weight", "style_layers", "content_layer", "pooling", "optimizer", "seed", "device")
    rows = []
    for key in keys:
        values = [r.settings.get(key, "") for r in runs.values()]
        if all(v in ("", None) for v in values):
            continue
        if key == "content_weight":  # a texture run has no content term
            values = [v if r.settings.get("mode") == "stylize" else ""
                      for v, r in zip(values, runs.values())]
        if key == "output_size":
            values = ["x".join(map(str, v)) for v in values]
        rows.append((key, [_fmt(v) for v in values]))
    return {"names": list(runs), "rows": rows, "times": [r.elapsed for r in runs.values()]}


# Markup lives in report/templates/*.j2; autoescaping escapes every value put into them.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("texstyle.report", "templates"),
    autoescape=True, lstrip_blocks=True, keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters["fmt"] = format  # {{ x|fmt(".3g") }}


def _render(name: str, **context: Any) -> Markup:
    return Markup(_TEMPLATES.get_template(name).render(**context))


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



