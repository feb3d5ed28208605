"""The docs/adversarial.md experiment: GAN-only textures with each discriminator next to gram and
meancov, and the feature-moment gaps each leaves.

For every exemplar and method, one 128 px texture from the same seed; then, at every style layer,
the relative gaps ‖μ_X − μ_S‖ / ‖μ_S‖ and ‖Σ_X − Σ_S‖_F / ‖Σ_S‖_F between the output's and the
exemplar's VGG-19 features, averaged over the five layers.  Writes a labelled grid and prints a
Markdown table (also written to --table).

    PYTHONPATH=src python benchmarks/adversarial_experiment.py \\
        --out docs/images/adversarial-textures.jpg --iters 150 [--cache DIR]

With ``--cache DIR`` every cell is stored as it finishes and reused by later runs, so the three
exemplars can be run as three processes (``--exemplars cells`` …) and assembled by a last run.
The gaps are measured on the 8-bit images as saved.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from PIL import Image

import texstyle
from texstyle.api import _cached_weights, read_input
from texstyle.config import DEFAULT_STYLE_LAYERS
from texstyle.features import VGGFeatures
from texstyle.image import load_image, resize, save_image, to_pil
from texstyle.report import grid
from texstyle.stats import covariance, gram, mean

METHODS = {  # column label → run options
    "gan logreg": {"loss": "gan", "disc": "logreg"},
    "gan quadratic": {"loss": "gan", "disc": "quadratic"},
    "gan mlp:128": {"loss": "gan", "disc": "mlp:128"},
    "mean": {"loss": "mean"},
    "meancov": {"loss": "meancov"},
    "gram": {"loss": "gram"},
}


def to_tensor(img: Image.Image) -> torch.Tensor:
    return load_image(img, "result")


def moment_gaps(extractor: VGGFeatures, image: torch.Tensor, style: torch.Tensor
                ) -> dict[str, tuple[float, float]]:
    """Per layer: (relative mean gap, relative covariance gap) of ``image`` against ``style``."""
    with torch.no_grad():
        fx, fs = extractor(image), extractor(style)
    gaps = {}
    for name in fx:
        mx, ms = mean(fx[name]), mean(fs[name])
        cx, cs = covariance(mx, gram(fx[name])), covariance(ms, gram(fs[name]))
        gaps[name] = (float((mx - ms).norm() / ms.norm()), float((cx - cs).norm() / cs.norm()))
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplars", nargs="+", default=["cells", "brick", "mosaic"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iters", type=int, default=300, help="iterations of every GAN run")
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

    extractor = VGGFeatures(_cached_weights("normalized"), DEFAULT_STYLE_LAYERS)
    rows, table = [], []
    for ex in args.exemplars:
        style_full = read_input(f"sample:{ex}", ex)
        h, w = style_full.shape[-2:]
        scale = args.size / max(h, w)
        style = resize(style_full, max(1, round(h * scale)), max(1, round(w * scale)))
        row = [(f"sample:{ex}", to_pil(style))]
        start = time.perf_counter()
        noise = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(0))
        table.append((ex, "uniform noise", moment_gaps(extractor, noise, style), 0.0))
        for label in args.methods:
            options = dict(METHODS[label])
            gan = options["loss"].startswith("gan")
            options |= extra if gan else {}
            iters = args.iters if gan else args.moment_iters
            cached = args.cache / f"{ex}-{label.replace(' ', '-').replace(':', '')}" if args.cache else None
            if cached is not None and cached.with_suffix(".json").exists():
                image = to_tensor(Image.open(cached.with_suffix(".png")))
                seconds = json.loads(cached.with_suffix(".json").read_text())["seconds"]
            else:
                start = time.perf_counter()
                result = texstyle.run_texture(f"sample:{ex}", size=args.size, iters=iters,
                                              seed=args.seed, **options)
                seconds = time.perf_counter() - start
                image = to_tensor(result.to_pil())  # measured as saved: 8-bit
                if cached is not None:
                    args.cache.mkdir(parents=True, exist_ok=True)
                    save_image(image, cached.with_suffix(".png"), overwrite=True)
                    cached.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
            gaps = moment_gaps(extractor, image, style)
            table.append((ex, label, gaps, seconds))
            mean_gap = sum(g[0] for g in gaps.values()) / len(gaps)
            cov_gap = sum(g[1] for g in gaps.values()) / len(gaps)
            row.append((f"gaps {mean_gap:.2f} / {cov_gap:.2f}", to_pil(image)))
            print(f"{ex:8s} {label:14s} mean gap {mean_gap:.3f} cov gap {cov_gap:.3f} "
                  f"({seconds:.0f} s)", flush=True)
        rows.append(row)

    sheet = grid(["exemplar", *args.methods], rows, cell=args.size,
                 title=f"{args.size} px, seed {args.seed}; gan: Adam, {args.iters} iterations; "
                       f"others: L-BFGS, {args.moment_iters}")
    save_image(sheet, args.out, overwrite=True)
    lines = ["| exemplar | method | mean gap | cov gap | " +
             " | ".join(f"{n} μ / Σ" for n in DEFAULT_STYLE_LAYERS) + " | time (s) |",
             "|---|---|---|---|" + "---|" * len(DEFAULT_STYLE_LAYERS) + "---|"]
    for ex, label, gaps, seconds in table:
        mg = sum(g[0] for g in gaps.values()) / len(gaps)
        cg = sum(g[1] for g in gaps.values()) / len(gaps)
        per = " | ".join(f"{gaps[n][0]:.2f} / {gaps[n][1]:.2f}" for n in DEFAULT_STYLE_LAYERS)
        lines.append(f"| {ex} | {label} | {mg:.3f} | {cg:.3f} | {per} | {seconds:.0f} |")
    text = "\n".join(lines) + "\n"
    if args.table is not None:
        args.table.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
