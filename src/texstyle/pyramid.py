"""Coarse-to-fine: the sizes of the pyramid and how an iterate moves up a level.

Large structures (bricks, brush strokes) are cheap to settle at a low resolution, where one
iteration costs a quarter as much and the receptive fields of the deep layers cover more of the
image; each finer level then only has to add detail.
"""

from __future__ import annotations

import math

COARSEST_LONG_SIDE = 128  # below this VGG's deep layers see too few positions to be useful


def level_shapes(out_hw: tuple[int, int], min_side: int, coarsest: int = COARSEST_LONG_SIDE
                 ) -> list[tuple[int, int]]:
    """(H, W) of each level, coarsest first, halving until the long side would drop below
    ``coarsest`` or the short side below ``min_side``.  The last entry is ``out_hw`` itself."""
    h, w = out_hw
    shapes = [(h, w)]
    while max(h, w) // 2 >= coarsest and min(h, w) // 2 >= min_side:
        h, w = h // 2, w // 2
        shapes.append((h, w))
    return shapes[::-1]


def level_iterations(levels: int, coarse_iters: int, fine_iters: int | None) -> list[int]:
    """Evaluation budget of each level, coarsest first: geometric from ``coarse_iters`` down to
    ``fine_iters`` at the finest level (every level gets ``coarse_iters`` when it is None; the
    finest level never gets more than the coarsest, so a small ``--iters`` means a short run).

    An evaluation at a level costs about 4x one at the level below, and the coarse levels settle
    the layout; the finest levels only need to add detail, so most of the budget goes where it is
    cheap (docs/performance.md has the measurements behind the default).
    """
    if levels == 1 or fine_iters is None or fine_iters >= coarse_iters:
        return [coarse_iters] * levels
    ratio = (fine_iters / coarse_iters) ** (1 / (levels - 1))
    return [max(1, math.ceil(coarse_iters * ratio**k - 1e-9)) for k in range(levels)]


def level_budgets(shapes: list[tuple[int, int]], coarse_iters: int, fine_iters: int | None,
                  tiled: list[bool], print_iters: int) -> list[int]:
    """Evaluation budget of each level: ``print_iters`` per tile at levels refined in tiles
    (print size), the geometric schedule of ``level_iterations`` over the others.

    A tiled level costs its tile count times a whole level of the tile's size and only adds
    detail finer than anything the levels below could hold, so it gets a small budget of its
    own; the geometric schedule then ends at the largest whole level, as it does for any output
    that fits in one tile.
    """
    whole = len(shapes) - sum(tiled)
    if any(tiled[:whole]):
        raise ValueError("tiled levels must be the largest ones")
    return (level_iterations(whole, coarse_iters, fine_iters) if whole else []) + \
        [print_iters] * (len(shapes) - whole)
