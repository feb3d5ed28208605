"""Built-in sample inputs, so the demo, the README and the tests need no user files.

Photos and textures come from scikit-image's bundled data (no download); the ``mosaic`` style is
generated here: a stained-glass pattern with bold colours and dark leading, which makes a
stylisation easy to recognise.  Anywhere texstyle takes an image path, ``sample:NAME`` works too.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import TexstyleError

PREFIX = "sample:"

_SKIMAGE = {
    "cat": "chelsea",
    "astronaut": "astronaut",
    "coffee": "coffee",
    "rocket": "rocket",
    "cells": "immunohistochemistry",
    "stars": "hubble_deep_field",
    "gravel": "gravel",
    "brick": "brick",
    "grass": "grass",
}
SAMPLE_NAMES: tuple[str, ...] = tuple(sorted([*_SKIMAGE, "mosaic"]))


def is_sample(source: object) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def load_sample(source: str) -> np.ndarray:
    """``sample:NAME`` → uint8 array (H, W, 3) or (H, W)."""
    name = source[len(PREFIX):]
    if name == "mosaic":
        return mosaic()
    if name not in _SKIMAGE:
        raise TexstyleError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLE_NAMES)}")
    import skimage.data

    return getattr(skimage.data, _SKIMAGE[name])()


def mosaic(size: int = 320, cells: int = 90, seed: int = 7) -> np.ndarray:
    """A stained-glass picture: Voronoi cells of saturated colour, shaded, with dark leading."""
    rng = np.random.default_rng(seed)
    palette = np.array([
        [196, 30, 58], [243, 156, 18], [241, 196, 15], [39, 174, 96], [22, 160, 133],
        [41, 128, 185], [52, 73, 219], [142, 68, 173], [236, 240, 241], [211, 84, 0],
    ], dtype=np.float32)
    points = rng.uniform(0, size, (cells, 2)).astype(np.float32)
    colours = palette[rng.integers(0, len(palette), cells)]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    grid = torch.from_numpy(np.stack([yy.ravel(), xx.ravel()], 1))
    dist = torch.cdist(grid, torch.from_numpy(points))  # (size*size, cells)
    two = dist.topk(2, dim=1, largest=False)
    nearest = two.indices[:, 0].numpy()
    gap = (two.values[:, 1] - two.values[:, 0]).numpy()
    # Shade each cell darker towards its border, like uneven glass.
    shade = 0.75 + 0.25 * np.clip(gap / 12.0, 0, 1)
    img = colours[nearest] * shade[:, None]
    lead = gap < 2.5
    img[lead] = np.array([25, 22, 20], dtype=np.float32)
    grain = rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img + grain, 0, 255).astype(np.uint8).reshape(size, size, 3)
