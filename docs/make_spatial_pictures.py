"""Make the picture of docs/spatial.md and the README: spatial control from built-in samples.

    PYTHONPATH=src python docs/make_spatial_pictures.py [--size 192] [--overwrite]

Writes docs/images/spatial.jpg, four rows: two styles in two regions of a photo (a generated
ellipse mask), automatic regions (--regions auto:3) next to the plain stylisation, a texture
grown along a generated label map, and coarse/fine scale mixing both ways round (equal layer
weights).  Every option
that decides the look is passed explicitly, so a change of default elsewhere does not change it.
Masks are generated here and written to a temporary folder only.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from texstyle import run_stylize, run_texture
from texstyle.image import save_image, to_pil
from texstyle.plan import plan_run, read_input
from texstyle.report import contact_sheet
from texstyle.report.figures import region_map

OUT = Path(__file__).parent / "images"
# Stylisation as the README's defaults were when this was made, written out.
STYLIZE = dict(loss="gram", style_weight=5.0, content_weight=1.0, tv_weight=1.0, layer_decay=1.0,
               init="palette", seed=0, device="cpu")
TEXTURE = dict(loss="w2", layer_decay=4.0, tv_weight=0.5, init="noise", seed=0, device="cpu")


def ellipse(h: int, w: int) -> np.ndarray:
    """White inside an ellipse around the centre (the cat's head), black outside."""
    y, x = np.mgrid[0:h, 0:w]
    inside = ((x - w * 0.5) / (w * 0.3)) ** 2 + ((y - h * 0.5) / (h * 0.45)) ** 2 <= 1
    return (inside * 255).astype(np.uint8)


def label_map(side: int) -> np.ndarray:
    """Three labels in waves: 0 (top), 128 (a band), 255 (bottom)."""
    y, x = np.mgrid[0:side, 0:side] / side
    wave = y + 0.08 * np.sin(2 * np.pi * 2 * x)
    return np.where(wave < 0.38, 0, np.where(wave < 0.62, 128, 255)).astype(np.uint8)


def picture(source: str) -> Image.Image:
    return to_pil(read_input(source, source))


def two_styles(size: int, tmp: Path) -> list[tuple[str, Image.Image]]:
    cat = read_input("sample:cat", "cat")
    inside = tmp / "head.png"
    Image.fromarray(ellipse(*cat.shape[-2:])).save(inside)
    Image.fromarray(255 - ellipse(*cat.shape[-2:])).save(tmp / "around.png")
    regions = (f"{inside}:sample:mosaic", f"{tmp / 'around.png'}:sample:stars")
    result = run_stylize("sample:cat", None, size=size, region=regions, **STYLIZE)
    return [("sample:cat", picture("sample:cat")),
            ("mask: white mosaic, black stars", Image.open(inside).convert("RGB")),
            ("sample:mosaic", picture("sample:mosaic")), ("sample:stars", picture("sample:stars")),
            ("two regions", result.to_pil())]


def automatic(size: int) -> list[tuple[str, Image.Image]]:
    content, style = "sample:astronaut", "sample:mosaic"
    plan = plan_run(style, content, _stylize_settings(size, regions="auto:3"))
    assert plan.spatial is not None
    photo_map = region_map([r.mask for r in plan.spatial.regions])
    style_map = region_map([r.style_mask for r in plan.spatial.regions
                            if r.style_mask is not None])
    plain = run_stylize(content, style, size=size, **STYLIZE)
    guided = run_stylize(content, style, size=size, regions="auto:3", **STYLIZE)
    return [(content, picture(content)), ("photo regions (auto:3)", photo_map),
            ("paired style regions", style_map), ("plain", plain.to_pil()),
            ("--regions auto:3", guided.to_pil())]


def _stylize_settings(size: int, **options: object):
    from texstyle.config import StylizeSettings

    return StylizeSettings.from_options(size=size, **STYLIZE, **options)


def labelled_texture(size: int, tmp: Path) -> list[tuple[str, Image.Image]]:
    path = tmp / "labels.png"
    Image.fromarray(label_map(size)).save(path)
    exemplars = ("0:sample:mosaic", "128:sample:brick", "255:sample:grass")
    result = run_texture(None, size=size, label_map=str(path), exemplar=exemplars, **TEXTURE)
    return [("label map: 0, 128, 255", Image.open(path).convert("RGB")),
            ("0: sample:mosaic", picture("sample:mosaic")),
            ("128: sample:brick", picture("sample:brick")),
            ("255: sample:grass", picture("sample:grass")),
            ("label-map texture", result.to_pil())]


def scale_mixing(size: int) -> list[tuple[str, Image.Image]]:
    # Equal layer weights: with the texture default (4:1 per layer) the fine layers carry 94 %
    # of the weight and the coarse style hardly shows (docs/spatial.md).
    a, b = "sample:brick", "sample:mosaic"
    mixing = TEXTURE | {"layer_decay": 1.0}
    one = run_texture(None, size=size, style_coarse=a, style_fine=b, **mixing)
    two = run_texture(None, size=size, style_coarse=b, style_fine=a, **mixing)
    return [(a, picture(a)), (b, picture(b)),
            ("coarse brick, fine mosaic", one.to_pil()),
            ("coarse mosaic, fine brick", two.to_pil())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows = [two_styles(args.size, tmp), automatic(args.size),
                labelled_texture(args.size, tmp), scale_mixing(args.size)]
    sheet = contact_sheet(rows, height=args.size,
                          title=f"spatial control: {args.size} px, built-in samples")
    save_image(sheet, OUT / "spatial.jpg", overwrite=args.overwrite)


if __name__ == "__main__":
    main()
