"""How much the grid and speckle measures move on the exemplar itself: the noise floor that a
texture's own ratio must be read against.

A synthesised texture is a rearrangement of its exemplar, not a copy, so the fair question is how
far the measures wander between *pieces of the exemplar*: crops at a few scales slightly larger
than the output (150, 170, 200 px long side, three random 128 px crops each) and a circular shift,
each measured against the whole exemplar at 128 px, as quality.py measures an output.

    .venv/bin/python benchmarks/grid_calibration.py [--images ../shared/images] [--size 128]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import quality
import quality_measures as qm
from PIL import Image


def at_long_side(img: np.ndarray, long: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = long / max(h, w)
    pil = Image.fromarray((img * 255).clip(0, 255).astype(np.uint8))
    return np.asarray(pil.resize((round(w * s), round(h * s)), Image.LANCZOS)) / 255.0


def pieces(exemplar: np.ndarray, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    ref = at_long_side(exemplar, size)
    h, w = ref.shape[:2]
    out = []
    for long in (round(size * 1.17), round(size * 1.33), round(size * 1.56)):
        big = at_long_side(exemplar, long)
        for _ in range(3):
            y = rng.integers(0, big.shape[0] - h + 1)
            x = rng.integers(0, big.shape[1] - w + 1)
            out.append(big[y:y + h, x:x + w])
    out.append(np.roll(ref, (h // 3, w // 3), (0, 1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=Path(__file__).parents[1].parent
                        / "shared" / "images")
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| exemplar | grid: median (range) | speckle: median (range) |")
    print("| --- | ---: | ---: |")
    for case in quality.TEXTURES:
        exemplar = quality.to_numpy(quality.load(case.style, args.images))
        ref = at_long_side(exemplar, args.size)
        grid = [qm.grid(p, ref) for p in pieces(exemplar, args.size, rng)]
        speckle = [qm.speckle(p, ref) for p in pieces(exemplar, args.size, rng)]
        print(f"| {case.name} | {np.median(grid):.3f} ({min(grid):.2f}–{max(grid):.2f}) | "
              f"{np.median(speckle):.3f} ({min(speckle):.2f}–{max(speckle):.2f}) |")


if __name__ == "__main__":
    main()
