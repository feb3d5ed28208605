"""Print size: wall time per pyramid level, peak RSS, and 100% crops across the tile seams.

One run in this process (start it fresh: the time counts from the interpreter's start, imports
and weight loading included, and the peak RSS is this process's own VmHWM).  Writes into OUT:

- ``print-SIZE.png``: the result; ``print-SIZE.json``: settings, per-level seconds, evaluations
  and tiles, total wall time, peak RSS and the memory model's estimate for the same run;
- ``print-SIZE-crops.png``: 256 px crops at 100% where four tile cores meet, on a vertical and
  a horizontal core boundary of the finest level, and inside a tile, side by side with a
  labelled strip, for looking at seams.

    python benchmarks/print_size.py texture sample:brick --size 4096 --out /tmp/print
    python benchmarks/print_size.py stylize sample:astronaut --style sample:mosaic --size 2048 \\
        --out /tmp/print

Full-resolution losses are not measured here: one whole-image VGG pass at 4096 px needs more
memory than the tiled run itself (that is why it is tiled).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

import texstyle  # noqa: E402
from texstyle.image import save_image, to_pil  # noqa: E402
from texstyle.memory import peak_rss_bytes  # noqa: E402
from texstyle.refine import plan_tiles  # noqa: E402

CROP = 256


def crop_points(height: int, width: int, tile: int, overlap: int) -> list[tuple[str, int, int]]:
    """(label, centre y, centre x) of the crops: where seams would show, and a control."""
    tiles = plan_tiles(height, width, tile, overlap)
    if len(tiles) == 1:
        return [("centre (no tiles)", height // 2, width // 2)]
    corner = tiles[0].core  # cores meet at its bottom-right corner
    cy, cx = corner[1], corner[3]
    inside = tiles[0].box
    return [("four cores meet", cy, cx),
            ("vertical boundary", height // 2, cx),
            ("horizontal boundary", cy, width // 2),
            ("inside a tile", (inside[0] + cy) // 3, (inside[2] + cx) // 3)]


def crops_sheet(image: Image.Image, points: list[tuple[str, int, int]]) -> Image.Image:
    w, h = image.size
    size = min(CROP, w, h)
    sheet = Image.new("RGB", (len(points) * (size + 8), size + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, cy, cx) in enumerate(points):
        y0 = min(max(cy - size // 2, 0), h - size)
        x0 = min(max(cx - size // 2, 0), w - size)
        sheet.paste(image.crop((x0, y0, x0 + size, y0 + size)), (i * (size + 8), 24))
        draw.text((i * (size + 8) + 2, 4), f"{label} ({cx},{cy})", fill="black")
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("texture", "stylize"))
    parser.add_argument("source", help="exemplar (texture) or content image (stylize)")
    parser.add_argument("--style", help="style image (stylize)")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--print-iters", type=int)
    parser.add_argument("--fine-iters", type=int)
    parser.add_argument("--refine-tile", type=int)
    parser.add_argument("--refine-overlap", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    levels: dict[int, dict] = {}

    def progress(p: texstyle.Progress) -> None:
        now = time.perf_counter() - START
        entry = levels.setdefault(p.level, {"size": list(p.size), "start_s": now, "evaluations": 0})
        entry["evaluations"] += 1
        entry["end_s"] = now
        if p.iteration % 10 == 0 or p.iteration == p.total:
            print(f"{now:8.1f} s  level {p.level}/{p.levels} {p.size[0]}x{p.size[1]}  "
                  f"{p.iteration}/{p.total}  loss {p.losses['total']:.4g}", flush=True)

    names = ("print_iters", "fine_iters", "refine_tile", "refine_overlap")
    options = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if args.mode == "texture":
        result = texstyle.run_texture(args.source, size=args.size, callback=progress, **options)
    else:
        if not args.style:
            parser.error("stylize needs --style")
        result = texstyle.run_stylize(args.source, args.style, size=args.size, callback=progress,
                                      **options)
    stem = args.out / f"print-{args.size}"
    save_image(result.image, stem.with_suffix(".png"), overwrite=True)
    wall = time.perf_counter() - START
    s = result.settings
    for level, entry in levels.items():
        entry["tiles"] = s["tiles_per_level"][level - 1]
        entry["budget"] = s["level_iters"][level - 1]
    record = {"mode": args.mode, "source": args.source, "style": args.style, "size": args.size,
              "wall_s": round(wall, 1), "peak_rss_gb": round(peak_rss_bytes() / 2**30, 2),
              "threads": args.threads, "levels": levels, "settings": s}
    (stem.with_suffix(".json")).write_text(json.dumps(record, indent=1, default=str) + "\n")
    image = to_pil(result.image)
    h, w = result.image.shape[-2:]
    crops_sheet(image, crop_points(h, w, s["refine_tile"], s["refine_overlap"])).save(
        f"{stem}-crops.png")
    print(json.dumps({k: record[k] for k in ("size", "wall_s", "peak_rss_gb")}))
    for level, e in levels.items():
        print(f"level {level} {e['size'][0]} px: {e['end_s'] - e['start_s']:.0f} s, "
              f"{e['evaluations']} evaluations, {e['tiles']} tiles")


if __name__ == "__main__":
    main()
