"""The content/style front from one or more quality.json files: photo kept (SSIM) against
style distance, medians over the stylisation cases, one curve per family of systems.

    python benchmarks/quality_front.py out/quality/quality.json --family old=texstyle,sw10,sw30 \\
        --family new=pal_sw1,palette,pal_sw10,pal_sw30 -o docs/images/quality/front.png

Systems not named in a family are drawn as single points (the peers).  Labels are the systems'
``label``s in quality.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def medians(paths: list[Path], size: int) -> dict[str, dict[str, float]]:
    """label -> measure -> median over the stylisation cases at ``size``."""
    values: dict[str, dict[str, list[float]]] = {}
    for path in paths:
        for row in json.loads(path.read_text())["rows"]:
            if row["kind"] != "stylize" or row["size"] != size:
                continue
            for name, value in row["measures"].items():
                values.setdefault(row["label"], {}).setdefault(name, []).append(value)
    return {label: {m: statistics.median(v) for m, v in ms.items()} for label, ms in values.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", type=Path, nargs="+")
    parser.add_argument("--family", action="append", default=[], metavar="NAME=LABEL,LABEL",
                        help="systems drawn as one curve, in order")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    points = medians(args.json, args.size)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    in_family = set()
    for spec in args.family:
        name, _, labels = spec.partition("=")
        labels = [lab for lab in labels.split(",") if lab in points]
        in_family.update(labels)
        for ax, measure in zip(axes, ("style", "colour"), strict=True):
            xs = [points[lab][measure] for lab in labels]
            ys = [points[lab]["ssim"] for lab in labels]
            ax.plot(xs, ys, "o-", label=name)
            for lab, x, y in zip(labels, xs, ys, strict=True):
                ax.annotate(lab, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for lab, p in points.items():
        if lab in in_family:
            continue
        for ax, measure in zip(axes, ("style", "colour"), strict=True):
            ax.plot([p[measure]], [p["ssim"]], "s", markersize=8, label=lab)
    for ax, measure in zip(axes, ("style", "colour"), strict=True):
        ax.set_xlabel(f"{measure} distance to the painting (lower: more like it)")
        ax.set_ylabel("photo kept, SSIM (higher: more of the photo)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"content/style front at {args.size} px: medians over the stylisation pairs "
                 "(up and to the left is better)")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
