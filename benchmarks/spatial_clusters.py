"""Automatic regions: colour and position (what --regions auto:K uses) against VGG features.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/spatial_clusters.py

Ground truth from built-in samples: each case is a 128 px picture made of two samples (left
half / right half, or an inner disc and the rest).  Each clustering splits it into two regions;
the score is the share of pixels in the right region (best of the two labellings).  Colour:
``regions.colour_points`` (YIQ of a 64 px copy and position); VGG: ``regions.texture_points``
(relu3_1 of a 128 px copy averaged over 2x2 positions, PCA to 8 dimensions, and position), what
``--regions auto:K`` uses; the same k-means for both.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from texstyle.api import _cached_weights
from texstyle.features import VGGFeatures
from texstyle.image import resize
from texstyle.plan import read_input
from texstyle.regions import colour_points, kmeans, texture_points

SIDE = 128
PAIRS = [("sample:brick", "sample:grass"), ("sample:gravel", "sample:brick"),
         ("sample:mosaic", "sample:stars"), ("sample:cells", "sample:mosaic"),
         ("sample:coffee", "sample:gravel")]


def composite(a: str, b: str, shape: str) -> tuple[torch.Tensor, torch.Tensor]:
    left = resize(read_input(a, a), SIDE, SIDE)
    right = resize(read_input(b, b), SIDE, SIDE)
    y, x = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
    if shape == "halves":
        truth = x < SIDE // 2
    else:
        truth = (x - SIDE / 2) ** 2 + (y - SIDE / 2) ** 2 < (SIDE * 0.3) ** 2
    image = torch.where(truth, left, right)
    return image, truth


def score(labels: torch.Tensor, truth: torch.Tensor) -> float:
    hit = float((labels.bool() == truth).float().mean())
    return max(hit, 1 - hit)


def colour_labels(image: torch.Tensor) -> torch.Tensor:
    points, (h, w) = colour_points(image)
    return upsample(kmeans(points, 2).reshape(h, w))


def vgg_labels(net: VGGFeatures, image: torch.Tensor) -> torch.Tensor:
    points, (h, w) = texture_points(image, net)
    return upsample(kmeans(points, 2).reshape(h, w))


def upsample(labels: torch.Tensor) -> torch.Tensor:
    return F.interpolate(labels[None, None].float(), size=(SIDE, SIDE), mode="nearest")[0, 0]


def main() -> None:
    torch.set_num_threads(1)
    net = VGGFeatures(_cached_weights("normalized"), ["relu3_1"])
    print("| picture | colour + position | VGG relu3_1 + position |\n|---|---|---|")
    totals = [0.0, 0.0]
    start = time.perf_counter()
    for shape in ("halves", "disc"):
        for a, b in PAIRS:
            image, truth = composite(a, b, shape)
            scores = (score(colour_labels(image), truth), score(vgg_labels(net, image), truth))
            totals = [t + s for t, s in zip(totals, scores)]
            print(f"| {a[7:]} / {b[7:]}, {shape} | {scores[0]:.2f} | {scores[1]:.2f} |")
    n = 2 * len(PAIRS)
    print(f"| mean | {totals[0] / n:.2f} | {totals[1] / n:.2f} |")
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
