"""Measurements behind docs/spatial.md: what each choice of spatial control changes, in numbers.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/spatial.py [--size 64] [--iters 30]

Every case is a label-map texture or a stylisation from built-in samples with a generated mask;
prints one markdown table per question:

* regions: a map split down the middle (brick left, mosaic right, or a 1:3 split for the area
  question); per region, the relative Gram distance of its statistics (over its own positions)
  to its own exemplar and to the other one, averaged over relu1_1-relu4_1 (own should be far
  smaller), and the seam: mean |horizontal difference| across the boundary over that inside;
* erosion (--mask-erosion 0, 1, 2), soft edges (regions.SOFT_EDGE 0 vs 0.02), area weighting
  (regions weighed by area vs equally), under gram, w2 and swd;
* keep: the cat's right half kept as the photo (api.KEEP_WEIGHT 0, 10, 100): mean absolute
  difference from the photo on the kept half and on the styled half, and the final style loss.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import texstyle.api as api
import texstyle.regions as regions
from texstyle.features import VGGFeatures
from texstyle.guides import region_statistic
from texstyle.image import resize
from texstyle.plan import read_input
from texstyle.stats import STATISTICS, relative_error

LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
STYLES = ("sample:brick", "sample:mosaic")


def split_map(side: int, left: float, path: Path) -> Path:
    labels = np.full((side, side), 255, np.uint8)
    labels[:, : round(side * left)] = 0
    Image.fromarray(labels).save(path)
    return path


def measure(image: torch.Tensor, cut: int) -> dict[str, float]:
    """Own / other Gram distance per region (mean over layers) and the seam ratio."""
    side = image.shape[-1]
    net = VGGFeatures(api._cached_weights("normalized"), LAYERS)
    gram = STATISTICS["gram"]
    with torch.no_grad():
        out = net(image)
        styles = [net(resize(read_input(s, "style"), side, side)) for s in STYLES]
    left = torch.zeros(1, 1, side, side)
    left[..., :cut] = 1
    found = {}
    for name, mask, own in (("left", left, 0), ("right", 1 - left, 1)):
        own_d, other_d = [], []
        for n in LAYERS:
            (rep,) = region_statistic(gram, out[n], mask)
            own_d.append(float(relative_error(rep, gram.compute(styles[own][n])[0])))
            other_d.append(float(relative_error(rep, gram.compute(styles[1 - own][n])[0])))
        found[f"{name} own"] = float(np.mean(own_d))
        found[f"{name} other"] = float(np.mean(other_d))
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(dim=(0, 1, 2))
    found["seam"] = float(dx[cut - 2:cut + 1].mean() / dx.mean())
    return found


def texture(path: Path, size: int, iters: int, loss: str, **options: object) -> torch.Tensor:
    return api.run_texture(None, size=size, coarsest=size, iters=iters, fine_iters=None,
                           loss=loss, style_layers=LAYERS, label_map=str(path), device="cpu",
                           exemplar=(f"0:{STYLES[0]}", f"255:{STYLES[1]}"), **options).image


def table(title: str, rows: list[tuple[str, dict[str, float]]]) -> None:
    keys = list(rows[0][1])
    print(f"\n### {title}\n")
    print("| case | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for label, values in rows:
        print(f"| {label} | " + " | ".join(f"{values[k]:.3g}" for k in keys) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--iters", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    size, iters = args.size, args.iters
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        half = split_map(size, 0.5, tmp / "half.png")
        rows = [(f"{loss}, erosion {e}", measure(texture(half, size, iters, loss, mask_erosion=e),
                                                 size // 2))
                for loss in ("gram", "w2", "swd") for e in (0, 1, 2)]
        table(f"two regions, {size} px, {iters} evaluations", rows)

        rows = []
        for edge in (0.0, 0.02):
            regions.SOFT_EDGE = edge
            rows.append((f"soft edge {edge:g}", measure(texture(half, size, iters, "gram"),
                                                        size // 2)))
        regions.SOFT_EDGE = 0.02
        table("soft edges (gram)", rows)

        quarter = split_map(size, 0.25, tmp / "quarter.png")
        rows = [("by area", measure(texture(quarter, size, iters, "gram"), size // 4))]
        by_area = api.Region
        api.Region = lambda mask, area, targets: by_area(mask, 0.5, targets)  # type: ignore
        rows.append(("equal", measure(texture(quarter, size, iters, "gram"), size // 4)))
        api.Region = by_area
        table("a 1:3 split, regions weighed by area or equally (gram)", rows)

        photo = read_input("sample:cat", "photo")
        h, w = photo.shape[-2:]
        mask = np.zeros((h, w), np.uint8)
        mask[:, : w // 2] = 255
        Image.fromarray(mask).save(tmp / "left.png")
        rows = []
        for weight in (0.0, 10.0, 100.0):
            api.KEEP_WEIGHT = weight
            result = api.run_stylize("sample:cat", None, size=size, coarsest=size, iters=iters,
                                     fine_iters=None, region=(f"{tmp / 'left.png'}:sample:mosaic",),
                                     device="cpu")
            out = result.image
            oh, ow = out.shape[-2:]
            diff = (out - resize(photo, oh, ow)).abs()
            rows.append((f"keep weight {weight:g}", {
                "kept half vs photo": float(diff[..., ow // 2:].mean()),
                "styled half vs photo": float(diff[..., : ow // 2].mean()),
                "style loss": result.history[-1]["style"]}))
        table("the cat's right half kept (--rest content)", rows)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
