"""The seeded adversarial study (docs/adversarial.md): run its plan from a cache, print its tables.

Works through ``texstyle.studies.study.plan`` in priority order (seed by seed: the core methods,
the separating experiment, the stabilisers, the other statistics), skipping every cell already
in the cache, so it can be stopped at any time and resumed by running the same command again:

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/adversarial_study.py --cache /work/exp/adv18

Split over processes or machines with ``--shard I/N`` (cell i of the plan runs in shard i mod N;
a cell whose start cell is in another shard runs that one too, once, through the cache).
``--tables`` only prints the tables of what the cache holds.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from texstyle.studies.experiment import exemplar_at, noise_cell
from texstyle.studies.moments import moment_extractor
from texstyle.studies.study import (
    CORE,
    EXEMPLARS,
    MORE,
    SEEDS,
    SEPARATING,
    STABILISERS,
    StudyCell,
    Summary,
    autocorrelation,
    cell_image,
    late_accuracy,
    load_cells,
    markdown_summary,
    metric,
    paired,
    plan,
    read_cell,
    ripple,
    run_spec,
    select,
    shallow_ripple,
    study_plan,
    summarise,
)


def tables(cache: Path) -> str:
    cells = load_cells(cache)
    rows = [(m, "plain") for m in (*CORE, *MORE)]
    rows += [(m, "from mean") for m in SEPARATING]
    rows += [("gan logreg", name) for name in STABILISERS]
    text = [f"{len(cells)} cells in {cache}\n", markdown_summary(cells, rows)]
    extractor = moment_extractor()
    noise = [noise_cell(f"sample:{ex}", exemplar_at(f"sample:{ex}", 128), 128, extractor)
             for ex in EXEMPLARS]
    text.append("| uniform noise (for scale) | | " + " | ".join(
        f"{c.gaps.mean_gap:.3f} / {c.gaps.cov_gap:.3f}" for c in noise) + " | |\n")
    text.append("\nPaired differences (first − second) over (exemplar, seed), mean ± sd (n):\n")
    for a, b in [(("gan quadratic", "plain"), ("gan logreg", "plain")),
                 (("gan logreg", "plain"), ("mean", "plain")),
                 (("gan quadratic", "plain"), ("meancov", "plain")),
                 (("gan logreg", "from mean"), ("mean", "plain")),
                 (("gan quadratic", "from mean"), ("mean", "plain")),
                 (("gan quadratic", "from mean"), ("gan logreg", "from mean")),
                 *((("gan logreg", name), ("gan logreg", "plain")) for name in STABILISERS)]:
        for name in ("mean", "cov"):
            d = paired(cells, a, b, name)
            wins = sum(x < 0 for x in d)
            text.append(f"- {name} gap, {a[0]} ({a[1]}) − {b[0]} ({b[1]}): {summarise(d)}; "
                        f"first smaller in {wins} of {len(d)}\n")
    text.append("\nD accuracy over the last 200 iterations (layer average; mean of the per-cell "
                "means ± sd over cells, and the mean per-cell sd: the oscillation):\n")
    for method, variant in [(m, "plain") for m in ("gan logreg", "gan quadratic")] + [
            (m, "from mean") for m in SEPARATING] + [("gan logreg", n) for n in STABILISERS]:
        late = [late_accuracy(c) for c in select(cells, method=method, variant=variant)]
        wobble = summarise(x[1] for x in late)
        text.append(f"- {method} ({variant}): {summarise(x[0] for x in late)}; "
                    f"sd within a run {wobble.mean:.3f}\n")
    text.append(stabiliser_table(cells))
    text.append(per_layer(cells))
    text.append(per_seed(cells))
    seconds = [c.seconds for c in cells]
    cpu = [c.cpu_seconds for c in cells]
    text.append(f"\nwall {sum(seconds) / 3600:.2f} h, CPU {sum(cpu) / 3600:.2f} h in all\n")
    return "".join(text)


def per_layer(cells: list[StudyCell]) -> str:
    """Where the games win and fail: per layer, the covariance gap (mean over seeds) and D's
    late accuracy, and how periodic each logreg game's swing is (``ripple``)."""
    from texstyle.config import DEFAULT_STYLE_LAYERS

    methods = ("gan quadratic", "gan logreg", "mean")
    text = ["\nCovariance gap per layer, mean over seeds: " + " / ".join(methods) + "\n\n",
            "| layer | " + " | ".join(EXEMPLARS) + " |\n", "| --- |" + " --- |" * len(EXEMPLARS)
            + "\n"]
    for layer in DEFAULT_STYLE_LAYERS:
        def gap(method: str, exemplar: str, layer: str = layer) -> float:
            found = select(cells, method=method, exemplar=exemplar)
            return summarise(metric(c, "cov", layer) for c in found).mean

        entries = [" / ".join(f"{gap(m, ex):.2f}" for m in methods) for ex in EXEMPLARS]
        text.append(f"| {layer} | " + " | ".join(entries) + " |\n")
    text.append("\nD accuracy over the last 200 iterations per layer, mean (min–max) over every "
                "(exemplar, seed) run:\n\n| layer | " + " | ".join(SEPARATING) + " |\n| --- |"
                + " --- |" * len(SEPARATING) + "\n")
    for layer in DEFAULT_STYLE_LAYERS:
        entries = []
        for m in SEPARATING:
            acc = [late_accuracy(c, layer=layer)[0] for c in select(cells, method=m)]
            entries.append(f"{summarise(acc).mean:.2f} ({min(acc):.2f}–{max(acc):.2f})"
                           if acc else "not run")
        text.append(f"| {layer} | " + " | ".join(entries) + " |\n")
    text.append("\nRipple (autocorrelation peak of D accuracy past its first zero crossing, "
                "iterations 300–600; periodic = peak ≥ 0.3 at relu1_1 or relu2_1):\n")
    for variant in ("plain", *STABILISERS):
        found = select(cells, method="gan logreg", variant=variant)
        marks, periodic = [], 0
        for c in found:
            best = shallow_ripple(c)
            periodic += best[0] >= 0.3
            marks.append(f"{c.spec.exemplar}/{c.spec.seed} {best[0]:.2f}@{best[1]}")
        text.append(f"- logreg {variant}: periodic in {periodic} of {len(found)}: "
                    + ", ".join(marks) + "\n")
    return "".join(text)


def stabiliser_table(cells: list[StudyCell], seed: int = 0) -> str:
    """The logreg game with each stabiliser against the plain one, at one seed over every
    exemplar: gaps, how often the covariance gap fell, D's end state, its ripple, the cost."""
    text = [f"\nThe logreg game's stabilisers, seed {seed}, mean ± sd over exemplars:\n\n"
            "| logreg game | n | mean gap | cov gap | cov gap below plain | D accuracy | swing "
            "| periodic | CPU s |\n| --- |" + " ---: |" * 8 + "\n"]
    plain = {c.spec.exemplar: c for c in select(cells, method="gan logreg") if c.spec.seed == seed}
    for variant in ("plain", *STABILISERS):
        found = [c for c in select(cells, method="gan logreg", variant=variant)
                 if c.spec.seed == seed]
        if not found:
            continue
        below = [c.gaps.cov_gap < plain[c.spec.exemplar].gaps.cov_gap for c in found
                 if c.spec.exemplar in plain]
        late = [late_accuracy(c) for c in found]
        periodic = sum(shallow_ripple(c)[0] >= 0.3 for c in found)
        name = variant if variant == "plain" else f"{variant} {dict(found[0].spec.extra)}"
        text.append(
            f"| {name} | {len(found)} | {_pm(summarise(c.gaps.mean_gap for c in found))} | "
            f"{_pm(summarise(c.gaps.cov_gap for c in found))} | "
            f"{'—' if variant == 'plain' else f'{sum(below)} of {len(below)}'} | "
            f"{_pm(summarise(x[0] for x in late))} | {summarise(x[1] for x in late).mean:.3f} | "
            f"{periodic} of {len(found)} | {summarise(c.cpu_seconds for c in found).mean:.0f} |\n")
    return "".join(text)


def _pm(s: Summary) -> str:
    return f"{s.mean:.3f}" if s.sd != s.sd else f"{s.mean:.3f} ± {s.sd:.3f}"


def per_seed(cells: list[StudyCell]) -> str:
    """Every seed's covariance gap, so a claim's count ("smaller in 11 of 15") can be checked."""
    text = ["\nCovariance gap seed by seed:\n"]
    for ex in EXEMPLARS:
        for method, variant in [(m, "plain") for m in (*CORE, *MORE)] + [
                (m, "from mean") for m in SEPARATING] + [("gan logreg", n) for n in STABILISERS]:
            found = select(cells, method=method, variant=variant, exemplar=ex)
            if found:
                text.append(f"- {ex} {method} ({variant}): " + " ".join(
                    f"s{c.spec.seed} {c.gaps.cov_gap:.3f}" for c in found) + "\n")
    return "".join(text)


def figures(cache: Path, out: Path) -> None:
    """The D curves of the first exemplar's seed-0 logreg game, plain and with each stabiliser
    (one row each), and the seed-0 textures (exemplar × method, with the separating runs)."""
    from PIL import Image

    from texstyle.config import DEFAULT_STYLE_LAYERS
    from texstyle.image import save_image, to_pil
    from texstyle.report import gan_curves, grid

    cells = load_cells(cache)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Image.Image] = []
    for variant in ("plain", *STABILISERS):
        found = [c for c in select(cells, method="gan logreg", variant=variant,
                                   exemplar=EXEMPLARS[0]) if c.spec.seed == 0]
        if found:
            c = found[0]
            rows.append(gan_curves(list(c.history), DEFAULT_STYLE_LAYERS, title=(
                f"{EXEMPLARS[0]}, gan logreg, {variant} {dict(c.spec.extra) or ''}: "
                f"gaps {c.gaps.mean_gap:.3f} / {c.gaps.cov_gap:.3f}")))
    if rows:
        sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
        y = 0
        for r in rows:
            sheet.paste(r, (0, y))
            y += r.height
        sheet = sheet.resize((sheet.width * 3 // 4, sheet.height * 3 // 4), Image.LANCZOS)
        sheet.save(out / "study-d-curves.jpg", quality=80)
    ripple_figure(cells).save(out / "study-ripple.jpg", quality=85)
    columns = [(m, "plain") for m in CORE] + [(m, "from mean") for m in SEPARATING]
    table: list[list[tuple[str, Image.Image]]] = []
    for ex in EXEMPLARS:
        row: list[tuple[str, Image.Image]] = []
        for method, variant in columns:
            found = [c for c in select(cells, method=method, variant=variant, exemplar=ex)
                     if c.spec.seed == 0]
            row.append(_labelled(found[0], cache) if found
                       else ("not run", Image.new("RGB", (128, 128), (235, 235, 235))))
        if any(label != "not run" for label, _ in row):
            table.append([(ex, to_pil(exemplar_at(f"sample:{ex}", 128))), *row])
    if table:
        names = ["exemplar", *(m if v == "plain" else m.replace("gan ", "") + "*"
                               for m, v in columns)]
        save_image(grid(names, table, cell=128, title="seed 0, 128 px; labels: mean / cov gap; "
                        "*: started from the mean texture"),
                   out / "study-textures.jpg", overwrite=True)


def ripple_figure(cells: list[StudyCell], layer: str = "relu1_1", start: int = 300,
                  max_lag: int = 100) -> object:
    """Per exemplar (seed 0): the logreg game's D accuracy at one layer, plain and with each
    stabiliser, and its autocorrelation over the last iterations, peak marked: the Dirac-GAN's
    rotation shows as a regular second peak, a D that only jitters has none."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from texstyle.report.figures import _figure_image

    fig = Figure(figsize=(3.2 * len(EXEMPLARS), 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(EXEMPLARS), sharey="row")
    for j, ex in enumerate(EXEMPLARS):
        top, bottom = axes[0][j], axes[1][j]
        for k, variant in enumerate(("plain", *STABILISERS)):
            found = [c for c in select(cells, method="gan logreg", variant=variant, exemplar=ex)
                     if c.spec.seed == 0]
            if not found:
                continue
            c = found[0]
            acc = [h.get(f"d_acc/{layer}", float("nan")) for h in c.history]
            style = {"color": f"C{k}", "linewidth": 1.4 if variant == "plain" else 0.8,
                     "label": variant}
            top.plot(range(1, len(acc) + 1), acc, **style)
            acf = autocorrelation(acc[start:], max_lag)
            if acf:
                bottom.plot(range(len(acf)), acf, **style)
                peak, lag = ripple(c, layer, start, max_lag)
                if peak == peak:
                    bottom.plot([lag], [peak], "o", color=f"C{k}", markersize=4)
        top.set_title(f"{ex}, seed 0")
        top.axhline(0.5, color="0.5", linewidth=0.8, linestyle=":")
        top.set_ylim(0.35, 1.02)
        top.set_xlabel("iteration")
        bottom.axhline(0, color="0.5", linewidth=0.8, linestyle=":")
        bottom.set_xlabel(f"lag (iterations {start}–end)")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel(f"D accuracy, {layer}")
    axes[1][0].set_ylabel("autocorrelation")
    axes[0][0].legend(loc="lower left", fontsize=7, frameon=False)
    fig.suptitle("logreg game: a rotation (Dirac-GAN) shows as a regular second peak of the "
                 "autocorrelation")
    return _figure_image(fig)


def _labelled(cell: StudyCell, cache: Path) -> tuple[str, object]:
    from texstyle.image import to_pil
    return (f"{cell.gaps.mean_gap:.2f} / {cell.gaps.cov_gap:.2f}",
            to_pil(cell_image(cell.spec, cache)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--exemplars", nargs="+", default=list(EXEMPLARS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--phases", nargs="+",
                        help="core, separating, stabilisers, more (default: the whole study in "
                             "the priority order of study.study_plan)")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=600)
    parser.add_argument("--moment-iters", type=int, default=150)
    parser.add_argument("--shard", default="0/1", help="I/N: run every N-th cell from the I-th")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    parser.add_argument("--tables", action="store_true", help="only print the cache's tables")
    parser.add_argument("--figures", type=Path, metavar="DIR",
                        help="only draw the D curves and the seed-0 texture grid into DIR")
    args = parser.parse_args()
    if args.tables or args.figures:
        if args.tables:
            print(tables(args.cache))
        if args.figures:
            figures(args.cache, args.figures)
        return
    torch.set_num_threads(args.threads)
    index, count = (int(x) for x in args.shard.split("/"))
    budgets = {"size": args.size, "iters": args.iters, "moment_iters": args.moment_iters}
    specs = (plan(args.exemplars, args.seeds, args.phases, **budgets) if args.phases
             else study_plan(args.exemplars, args.seeds, **budgets))
    mine = specs[index::count]
    todo = [s for s in mine if read_cell(s, args.cache) is None]
    print(f"{len(specs)} cells in the plan, {len(mine)} in this shard, {len(todo)} to run",
          flush=True)
    extractor = moment_extractor()
    for number, spec in enumerate(todo, 1):
        if read_cell(spec, args.cache) is not None:  # another process did it meanwhile
            continue
        start = time.perf_counter()
        cell = run_spec(spec, args.cache, extractor=extractor,
                        style=exemplar_at(spec.source, spec.size))
        print(f"[{number}/{len(todo)}] {spec.key()}: mean gap {cell.gaps.mean_gap:.3f} "
              f"cov gap {cell.gaps.cov_gap:.3f} ({time.perf_counter() - start:.0f} s wall, "
              f"{cell.cpu_seconds:.0f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
