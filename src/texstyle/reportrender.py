"""``texstyle report``, second half: a finished ``Report`` turned into files.

``render_report`` is a pure function from the results of ``reportbuild.run_report`` to
name → picture or text: the figures, ``report.json`` and ``index.html`` with its sections
(captions, settings, timings, the theory note's formulas, and the adversarial analysis written
from the run's own numbers).  Nothing here runs a model, writes a file or prints.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

from . import __version__
from .api import RunResult, read_input
from .compare import (
    Comparison,
    level_starts,
    source_label,
)
from .config import DEFAULT_STYLE_LAYERS
from .experiment import (
    NOISE,
    Experiment,
    ExperimentCell,
)
from .image import to_pil
from .report import contact_sheet, gan_curves, grid, loss_plot
from .reportbuild import (
    COLOUR_MODES,
    FILES,
    MixCell,
    Report,
    ReportPlan,
)


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
        f"statistics they should emulate. Every cell: {exp.size} px at one level (no pyramid), "
        f"seed {exp.seed}; GAN runs take {exp.iters} Adam iterations, the others "
        f"{exp.moment_iters} L-BFGS evaluations. "
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
