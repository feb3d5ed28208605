"""The docs/adversarial.md experiment: GAN-only textures with each discriminator next to gram and
meancov, and the feature-moment gaps each leaves.

For every exemplar and method, one 128 px texture from the same seed, optimised at that size
alone (no pyramid; ``--extra '{"coarsest": 64}'`` gives the GAN runs the CLI's pyramid, as in
docs/adversarial.md's budget sweep); then, at every style layer,
the relative gaps ‖μ_X − μ_S‖ / ‖μ_S‖ and ‖Σ_X − Σ_S‖_F / ‖Σ_S‖_F between the output's and the
exemplar's VGG-19 features, averaged over the five layers.  Writes a labelled grid and prints a
Markdown table (also written to --table).

    PYTHONPATH=src python benchmarks/adversarial_experiment.py \\
        --out docs/images/adversarial-textures.jpg --iters 600 [--cache DIR]

With ``--cache DIR`` every cell is stored as it finishes and reused by later runs, so the three
exemplars can be run as three processes (``--exemplars cells`` …) and assembled by a last run.
The gaps are measured on the 8-bit images as saved.  The experiment itself (methods, one cell's
run, the gaps, the table) is ``texstyle.studies.experiment``; this script adds the cache and the files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

from texstyle.image import load_image, save_image
from texstyle.report import grid
from texstyle.studies.experiment import (
    METHODS,
    Experiment,
    exemplar_at,
    markdown_table,
    measure,
    noise_cell,
    run_cell,
)
from texstyle.studies.moments import moment_extractor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplars", nargs="+", default=["cells", "brick", "mosaic"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=600, help="iterations of every GAN run")
    parser.add_argument("--moment-iters", type=int, default=150,
                        help="L-BFGS evaluations of the gram / meancov runs (the CLI default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("adversarial-textures.jpg"))
    parser.add_argument("--table", type=Path, help="also write the Markdown table here")
    parser.add_argument("--extra", default="{}", help="JSON of extra options for the GAN runs")
    parser.add_argument("--cache", type=Path,
                        help="folder for each cell's image and numbers: cells found there are "
                             "reused, so exemplars can run in parallel processes and be assembled")
    args = parser.parse_args()
    extra = json.loads(args.extra)

    extractor = moment_extractor()
    experiment = Experiment(tuple(f"sample:{ex}" for ex in args.exemplars), tuple(args.methods),
                            args.size, args.iters, args.moment_iters, args.seed)
    for ex, source in zip(args.exemplars, experiment.exemplars):
        style = exemplar_at(source, args.size)
        experiment.cells.append(noise_cell(source, style, args.size, extractor))
        for label in args.methods:
            cached = args.cache / f"{ex}-{label.replace(' ', '-').replace(':', '')}" if args.cache else None
            if cached is not None and cached.with_suffix(".json").exists():
                image = load_image(Image.open(cached.with_suffix(".png")), "result")
                seconds = json.loads(cached.with_suffix(".json").read_text())["seconds"]
                cell = measure(source, label, image, style, extractor, seconds)
            else:
                cell = run_cell(source, label, size=args.size, iters=args.iters,
                                moment_iters=args.moment_iters, seed=args.seed, extra=extra,
                                extractor=extractor, style=style)
                if cached is not None:
                    args.cache.mkdir(parents=True, exist_ok=True)
                    save_image(cell.image, cached.with_suffix(".png"), overwrite=True)
                    cached.with_suffix(".json").write_text(json.dumps({"seconds": cell.seconds}))
            experiment.cells.append(cell)
            print(f"{ex:8s} {label:14s} mean gap {cell.gaps.mean_gap:.3f} "
                  f"cov gap {cell.gaps.cov_gap:.3f} ({cell.seconds:.0f} s)", flush=True)

    sheet = grid(["exemplar", *args.methods], experiment.grid_rows(), cell=args.size,
                 title=experiment.grid_title())
    save_image(sheet, args.out, overwrite=True)
    text = markdown_table(experiment.cells)
    if args.table is not None:
        args.table.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
