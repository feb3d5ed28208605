"""Make the pictures of docs/artist.md: colour control and seamless tiling, from built-in samples.

    PYTHONPATH=src python docs/make_artist_pictures.py [--size 256] [--iters 60] [--only colour|tile]

Writes docs/images/artist-colour.jpg (content, style, plain, luminance, histogram) and
docs/images/artist-tile.jpg (2x2 layouts of ordinary and --tile textures).  Refuses to overwrite
unless --overwrite is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from texstyle import run_stylize, run_texture
from texstyle.api import read_input
from texstyle.image import save_image, to_pil
from texstyle.report import contact_sheet
from texstyle.seamless import seam_ratio, tile_image

OUT = Path(__file__).parent / "images"


def colour_sheet(size: int, iters: int):
    content, style = "sample:astronaut", "sample:mosaic"
    row = [("content (sample:astronaut)", to_pil(read_input(content, "c"))),
           ("style (sample:mosaic)", to_pil(read_input(style, "s")))]
    for mode in ("none", "luminance", "histogram"):
        result = run_stylize(content, style, size=size, iters=iters, preserve_color=mode)
        row.append((f"--preserve-color {mode}", result.to_pil()))
    return contact_sheet([row], height=size,
                         title=f"colour control: {size} px, {iters} iterations per level")


def tile_sheet(size: int, iters: int):
    rows = []
    for name in ("brick", "cells"):
        row = []
        for tile in (False, True):
            image = run_texture(f"sample:{name}", size=size, iters=iters, tile=tile).image
            label = f"{name}, {'--tile' if tile else 'plain'}: seam {seam_ratio(image):.2f}x"
            row.append((label, to_pil(tile_image(image, 2, 2))))
        rows.append(row)
    return contact_sheet(rows, height=2 * size,
                         title=f"each texture laid out 2x2: {size} px, {iters} iterations per level")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--only", choices=("colour", "tile"))
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    if args.only in (None, "colour"):
        save_image(colour_sheet(args.size, args.iters), OUT / "artist-colour.jpg",
                   overwrite=args.overwrite)
    if args.only in (None, "tile"):
        save_image(tile_sheet(args.size, args.iters), OUT / "artist-tile.jpg",
                   overwrite=args.overwrite)


if __name__ == "__main__":
    main()
