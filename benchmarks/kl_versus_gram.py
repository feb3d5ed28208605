"""`kl` against `gram`, `meancov` and `w2` on the comparison sheet's textures, with the moment gaps
each leaves (docs/theory.md §2 predicts that the whitened KL leaves a smaller covariance gap than
the plain Frobenius Gram loss).  Every cell runs to the sheet's stopping rule (a change below
--tolerance over 10 evaluations, --iters as the cap); one level at --size px, equal layer weights
(the adversarial study's settings), so the gaps compare what each statistic matched.

    PYTHONPATH=src python benchmarks/kl_versus_gram.py --size 64 --out kl.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from texstyle.api import run_texture
from texstyle.image import save_image, to_pil
from texstyle.report import grid
from texstyle.studies.compare import convergence, final_style_loss
from texstyle.studies.experiment import exemplar_at, quantised
from texstyle.studies.moments import moment_extractor, relative_moment_gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplars", nargs="+", default=["brick", "cells", "mosaic"])
    parser.add_argument("--losses", nargs="+", default=["gram", "kl", "meancov", "w2"])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--iters", type=int, default=300, help="the cap")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("kl-versus-gram.png"))
    args = parser.parse_args()
    extractor = moment_extractor()
    rows = []
    print("| exemplar | statistic | mean gap | cov gap | style loss | stopped | seconds |")
    print("|---|---|---|---|---|---|---|")
    for ex in args.exemplars:
        source = f"sample:{ex}"
        style = exemplar_at(source, args.size)
        row = [(ex, to_pil(style))]
        for loss in args.losses:
            result = run_texture(source, loss=loss, size=args.size, coarsest=args.size,
                                 iters=args.iters, tolerance=args.tolerance, layer_decay=1.0,
                                 seed=args.seed, device="cpu")
            image = quantised(result.image)
            gaps = relative_moment_gaps(extractor(image), extractor(style))
            done, n = convergence(result)
            stop = f"converged at {n}" if done else f"cap {n}"
            print(f"| {ex} | {loss} | {gaps.mean_gap:.3f} | {gaps.cov_gap:.3f} | "
                  f"{final_style_loss(result):.3g} | {stop} | {result.elapsed:.0f} |", flush=True)
            row.append((f"{gaps.mean_gap:.2f} / {gaps.cov_gap:.2f}", to_pil(image)))
        rows.append(row)
    save_image(grid(["exemplar", *args.losses], rows, cell=max(args.size, 128),
                    title=f"{args.size} px, one level, to a change < {args.tolerance:g} (cap "
                          f"{args.iters}); labels: mean / cov gap"), args.out, overwrite=True)


if __name__ == "__main__":
    main()
