"""Make the style-strength strip of docs/quality.md and the README from built-in samples.

    python docs/make_quality_pictures.py [--size 256] [--weights 1 3 10 30 100] [--overwrite]

One row per content/style pair (sample:astronaut and sample:cat in the style of sample:mosaic):
the photo, the painting, then the stylisation at each ``--style-weight``, labelled with the
weight and the photo kept (SSIM, grey) so the strip shows the control is monotonic.  Writes
docs/images/quality/strength.jpg; refuses to overwrite unless --overwrite is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from skimage.metrics import structural_similarity

from texstyle import run_stylize
from texstyle.api import read_input
from texstyle.image import resize, to_pil
from texstyle.report import contact_sheet

OUT = Path(__file__).parent / "images" / "quality" / "strength.jpg"
PAIRS = (("sample:astronaut", "sample:mosaic"), ("sample:cat", "sample:mosaic"))


def photo_kept(image, photo) -> float:
    grey = lambda t: t[0].mean(0).numpy()  # noqa: E731
    return float(structural_similarity(grey(image), grey(resize(photo, *image.shape[-2:])),
                                       data_range=1.0))


def strip(size: int, weights: list[float]):
    rows = []
    for content, style in PAIRS:
        photo = read_input(content, "content image")
        row = [(content, to_pil(photo)), (style, to_pil(read_input(style, "style image")))]
        for w in weights:
            result = run_stylize(content, style, size=size, style_weight=w)
            row.append((f"weight {w:g}, SSIM {photo_kept(result.image, photo):.2f}",
                        result.to_pil()))
        rows.append(row)
    # A grid of equal boxes: square and landscape pictures line up, and labels never overlap.
    return contact_sheet(rows, height=size, width=round(size * 4 / 3),
                         title=f"--style-weight at {size} px (defaults otherwise); SSIM: how much "
                         "of the photo is kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--weights", type=float, nargs="+", default=[1, 3, 10, 30, 100])
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    if OUT.exists() and not args.overwrite:
        raise SystemExit(f"{OUT} exists; pass --overwrite to replace it")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    strip(args.size, args.weights).convert("RGB").save(OUT, quality=88)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
