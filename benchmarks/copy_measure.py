"""How much of a texture is a copy of its exemplar: the best normalised cross-correlation of the
output with the exemplar over all (circular) shifts, in grey.

A texture that regrows the exemplar's layout, in place or shifted, scores near 1; a new
arrangement of the same stuff scores far lower (the exemplar against a shuffled version of itself:
see ``--floor``).  The colour, style and speckle measures of quality.py compare with the exemplar
and score a copy as perfect, so read them next to this one.

    .venv/bin/python benchmarks/copy_measure.py --size 128 \\
        --system gatys=/work/qcache/gatys/KEY --system recipe=/work/qcache/recipe/KEY ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import quality
import quality_measures as qm
from PIL import Image


def copy_score(out: np.ndarray, exemplar: np.ndarray) -> float:
    """Max over circular shifts of the normalised cross-correlation of the two grey images,
    both cut to their common top-left size."""
    a, b = qm.grey(out), qm.grey(exemplar)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:h, :w] - a[:h, :w].mean(), b[:h, :w] - b[:h, :w].mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12
    corr = np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))).real / denom
    return float(corr.max())


def shuffled(img: np.ndarray, tiles: int, rng: np.random.Generator) -> np.ndarray:
    """The exemplar cut into tiles x tiles blocks and put back in random order: same stuff, new
    layout (the floor a genuinely new arrangement would reach, blocks' seams aside)."""
    h, w = (img.shape[0] // tiles) * tiles, (img.shape[1] // tiles) * tiles
    th, tw = h // tiles, w // tiles
    blocks = [img[i * th:(i + 1) * th, j * tw:(j + 1) * tw] for i in range(tiles) for j in range(tiles)]
    order = rng.permutation(len(blocks))
    rows = [np.concatenate([blocks[order[i * tiles + j]] for j in range(tiles)], axis=1)
            for i in range(tiles)]
    return np.concatenate(rows, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=Path(__file__).parents[1].parent
                        / "shared" / "images")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--system", action="append", default=[], metavar="LABEL=CACHE_DIR",
                        help="a system's cache folder (quality.py's CACHE/SYSTEM/KEY)")
    args = parser.parse_args()
    systems = [s.split("=", 1) for s in args.system]
    rng = np.random.default_rng(0)
    print("| exemplar | shuffled 4x4 (floor) | " + " | ".join(lab for lab, _ in systems) + " |")
    print("| --- | ---: |" + " ---: |" * len(systems))
    for case in quality.TEXTURES:
        scores = []
        ref = None
        for _, folder in systems:
            path = Path(folder) / str(args.size) / f"{case.name}_s{args.seed}.png"
            if not path.exists():
                scores.append("—")
                continue
            out = np.asarray(Image.open(path).convert("RGB")) / 255.0
            if ref is None:
                ex = quality.to_numpy(quality.load(case.style, args.images))
                ref = qm.fit_long(ex, max(out.shape[:2]))
            scores.append(f"{copy_score(out, ref):.2f}")
        floor = f"{copy_score(shuffled(ref, 4, rng), ref):.2f}" if ref is not None else "—"
        print(f"| {case.name} | {floor} | " + " | ".join(scores) + " |")


if __name__ == "__main__":
    main()
