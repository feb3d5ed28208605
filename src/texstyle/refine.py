"""Print-size output: refine a large pyramid level in overlapping tiles, with global statistics.

(Not to be confused with seamless output, ``--tile`` / ``seamless.py``: a texture that wraps
around.  This module is "refine" after its options, ``--refine-tile`` and ``--refine-overlap``.)

A VGG-19 forward and backward pass at 4096 px needs tens of GB for activations; one tile of
``tile`` px needs a fixed amount whatever the image size.  The largest pyramid levels are
therefore refined tile by tile, each tile's pixels optimised while the rest of the image is held
fixed: block-coordinate descent on the *whole image's* objective, not a separate objective per
tile.

Global style statistics, accumulated over tiles.  Every statistic that mixes by averaging
(``gram``, ``mean``, ``meancov``, ``w2``: raw moments) is, for the whole image, the area-weighted
average of its value on disjoint parts.  The image is partitioned into tile *cores*; we keep
every core's representation R_t and their weighted sum G = Σ a_t R_t.  While tile t is
optimised the estimate is G − a_t R_t(old) + a_t R_t(x), so the tile is pushed to fix what is
wrong with the *whole* image (too few bricks' edges overall, say), not to become a miniature of
the style on its own.  We chose this over taking the rest of the image's statistics from the
pyramid level below because it is exact up to padding effects at tile borders (checked by a
test) and stays exact as tiles change, while the level below's statistics go stale as soon as
the first tile moves.  The price: statistics that do not average (``swd``'s sample of feature
vectors) are not supported here.

Seams: tiles overlap by ``overlap`` px; features are read from the core (the middle of each
overlap is the boundary), so the context a tile sees reaches ``overlap / 2`` px past its core;
a refined tile is written back with weights that ramp linearly across each interior overlap,
so neighbouring tiles' pixels fade into each other rather than meet at a line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .errors import TexstyleError
from .guides import layer_mask
from .layers import pools_before
from .losses import Objective, TemporalTarget, temporal_loss, total_variation
from .optimize import Loop, OptimResult, optimize, run_loop
from .progress import Progress, placed
from .stats import Representation, average_mix, relative_error

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 (end exclusive)


@dataclass(frozen=True)
class Tile:
    box: Box  # the pixels optimised together
    core: Box  # the part whose statistics the tile owns; cores partition the image


def _axis(n: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(box start, box end, core start, core end) along one axis of length ``n``."""
    if n <= size:
        return [(0, n, 0, n)]
    count = math.ceil((n - overlap) / (size - overlap))
    # As few tiles as fit, each shrunk to just cover the axis with the overlap (rounded up to
    # VGG's 16 px stride): 2048 px in tiles of 1024 / 128 px takes three 768 px tiles, not three
    # of 1024 that overlap by 512 px, 1.3x the pixels per sweep instead of 2.2x.
    size = min(size, math.ceil(math.ceil((n + (count - 1) * overlap) / count) / 16) * 16)
    starts = [round(i * (n - size) / (count - 1)) for i in range(count)]
    cuts = [0] + [(starts[i + 1] + starts[i] + size) // 2 for i in range(count - 1)] + [n]
    return [(s, s + size, cuts[i], cuts[i + 1]) for i, s in enumerate(starts)]


def plan_tiles(height: int, width: int, size: int, overlap: int) -> list[Tile]:
    """Overlapping tiles of at most ``size`` px covering (height, width), in reading order.

    Neighbouring boxes overlap by at least ``overlap`` px; cores meet in the overlaps' middles.
    """
    if size <= 2 * overlap:
        raise TexstyleError(f"refine tile size {size} px must be more than twice the overlap "
                            f"({overlap} px)")
    rows, cols = _axis(height, size, overlap), _axis(width, size, overlap)
    return [Tile((y0, y1, x0, x1), (cy0, cy1, cx0, cx1))
            for y0, y1, cy0, cy1 in rows for x0, x1, cx0, cx1 in cols]


def feather(tile: Tile, height: int, width: int, overlap: int) -> torch.Tensor:
    """Write-back weights (1, 1, h, w) of a tile: 1 inside, ramping to 0 towards each box edge
    that lies inside the image (across the overlap), 1 up to the image's own borders."""
    y0, y1, x0, x1 = tile.box

    def ramp(n: int, lo_inside: bool, hi_inside: bool) -> torch.Tensor:
        r = torch.ones(n)
        k = min(overlap, n)
        edge = (torch.arange(k, dtype=torch.float32) + 1) / (k + 1)
        if lo_inside:
            r[:k] = torch.minimum(r[:k], edge)
        if hi_inside:
            r[n - k:] = torch.minimum(r[n - k:], edge.flip(0))
        return r

    ry = ramp(y1 - y0, y0 > 0, y1 < height)
    rx = ramp(x1 - x0, x0 > 0, x1 < width)
    return (ry[:, None] * rx[None, :])[None, None]


def _crop(features: torch.Tensor, tile: Tile, name: str) -> torch.Tensor:
    """The part of a layer's feature map (computed on the tile's box) that lies over its core."""
    stride = 2 ** pools_before(name)
    y0, _, x0, _ = tile.box
    cy0, cy1, cx0, cx1 = tile.core
    h, w = features.shape[-2:]
    top, left = round((cy0 - y0) / stride), round((cx0 - x0) / stride)
    bottom = max(top + 1, min(h, round((cy1 - y0) / stride)))
    right = max(left + 1, min(w, round((cx1 - x0) / stride)))
    return features[..., top:bottom, left:right]


def _cut(image: torch.Tensor, box: Box) -> torch.Tensor:
    y0, y1, x0, x1 = box
    return image[..., y0:y1, x0:x1]


def check_tileable(objective: Objective) -> None:
    """Tiles need statistics that add up over parts of the image (see the module doc)."""
    stat = objective.statistic
    if stat.mix is not average_mix or stat.stochastic or (objective.guide is not None
                                                          and stat.weighted is None):
        raise TexstyleError(f"loss {stat.name!r} cannot be refined in tiles (its "
                            "statistics do not add up over parts of the image); use gram, "
                            "mean, meancov or w2, or a larger refine tile")


def core_reps(objective: Objective, features: dict[str, torch.Tensor], tile: Tile,
              masses: dict[str, float] | None = None) -> dict[str, Representation]:
    """The statistic of each style layer over the tile's core (not its whole box).

    With regions (``objective.guide``) one entry per region and layer (``"i:layer"``): the
    region's weighted statistic over the core's positions, each weighted by its mask over the
    region's whole mass ``masses[key]`` and divided by the core's area, so that the sweep's
    area-weighted sum over cores is the region's statistic over the whole image, exactly as for
    a plain statistic.
    """
    if objective.guide is None:
        return {n: objective.statistic.compute(_crop(features[n], tile, n))
                for n in objective.style_targets}
    weighted = objective.statistic.weighted
    assert weighted is not None and masses is not None, "guided tiles need weights and masses"
    area = _area(tile, *objective.guide.regions[0].mask.shape[-2:])
    reps = {}
    for key, (region, name) in _region_keys(objective).items():
        crop = _crop(features[name], tile, name)
        mask = _core_mask(objective, region, crop, tile)
        weights = mask.reshape(1, -1) / max(masses[key], 1e-12)
        reps[key] = tuple(v / area for v in weighted(crop, weights))
    return reps


def _region_keys(objective: Objective) -> dict[str, tuple[int, str]]:
    """``"i:layer"`` → (region index, layer) for every region and style layer of a guide."""
    assert objective.guide is not None
    return {f"{i}:{name}": (i, name) for i, region in enumerate(objective.guide.regions)
            for name in region.targets}


def _core_mask(objective: Objective, region: int, crop: torch.Tensor, tile: Tile
               ) -> torch.Tensor:
    """A region's mask over a tile's core, on the grid of the core's features at one layer."""
    assert objective.guide is not None
    cy0, cy1, cx0, cx1 = tile.core
    mask = objective.guide.regions[region].mask[..., cy0:cy1, cx0:cx1].to(crop.device)
    return layer_mask(mask, (int(crop.shape[-2]), int(crop.shape[-1])), objective.guide.erosion)


def region_masses(objective: Objective, tiles: list[Tile], image: torch.Tensor
                  ) -> dict[str, float] | None:
    """Each region's mask mass at each layer, summed over the tile cores as ``core_reps`` sees
    them (one forward pass per tile for the feature grids); None without regions."""
    if objective.guide is None:
        return None
    masses: dict[str, float] = {}
    keys = _region_keys(objective)
    for tile in tiles:
        with torch.no_grad():
            feats = objective.extractor(_cut(image, tile.box))
        for key, (region, name) in keys.items():
            crop = _crop(feats[name], tile, name)
            masses[key] = masses.get(key, 0.0) + float(_core_mask(objective, region, crop,
                                                                  tile).sum())
    return masses


def style_parts(objective: Objective) -> dict[str, tuple[float, Representation]]:
    """What the style term sums: key → (weight, target); a layer each, or with regions a
    (region, layer) each weighted by its layer's weight times the region's area."""
    if objective.guide is None:
        return {n: (objective.layer_weights[n], t) for n, t in objective.style_targets.items()}
    regions = objective.guide.regions
    return {key: (objective.layer_weights[name] * regions[i].area, regions[i].targets[name])
            for key, (i, name) in _region_keys(objective).items()}


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _area(tile: Tile, height: int, width: int) -> float:
    cy0, cy1, cx0, cx1 = tile.core
    return (cy1 - cy0) * (cx1 - cx0) / (height * width)


def _tile_objective(problem: Objective, tile: Tile, area: float,
                    total: dict[str, Representation], own: dict[str, Representation],
                    content_target: torch.Tensor | None, masses: dict[str, float] | None = None
                    ) -> Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """Whole-image objective as a function of one tile's pixels (the rest held fixed).

    Style: the statistic of G − a·R_old + a·R(x).  Content and TV: the tile's share (area ``a``)
    of the whole image's relative error and mean squared differences, so their balance with the
    style term is the whole image's.
    """
    stat = problem.statistic
    parts = style_parts(problem)
    keep = _cut_keep(problem.keep, tile.box)

    def objective(x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = problem.extractor(x)
        reps = core_reps(problem, feats, tile, masses)
        style = sum(
            weight * stat.distance(
                tuple(g + area * (r - o) for g, r, o in zip(total[n], reps[n], own[n])), target)
            for n, (weight, target) in parts.items())
        terms = {"style": problem.style_weight * style}
        if content_target is not None:
            assert problem.content_layer is not None
            own_content = _crop(feats[problem.content_layer], tile, problem.content_layer)
            terms["content"] = problem.content_weight * area * relative_error(own_content,
                                                                              content_target)
        if problem.tv_weight > 0:
            terms["tv"] = problem.tv_weight * area * total_variation(x)
        if keep is not None:
            terms["keep"] = keep.weight * area * temporal_loss(x, keep)
        return sum(terms.values()), terms

    return objective


def _cut_keep(keep: TemporalTarget | None, box: Box) -> TemporalTarget | None:
    """The pixels kept as the photo (regions mapped to content) over one tile's box."""
    if keep is None or keep.weight <= 0:
        return None
    return TemporalTarget(_cut(keep.image, box), _cut(keep.mask, box), keep.weight)


def _in_whole(image: torch.Tensor, box: Box) -> Callable[[Progress], Callable[[], torch.Tensor]]:
    """Progress shows the whole image with the tile's current pixels in it, not the tile alone."""
    def current(p: Progress) -> Callable[[], torch.Tensor]:
        def whole() -> torch.Tensor:
            assert p.current is not None
            y0, y1, x0, x1 = box
            out = image.clone()
            out[..., y0:y1, x0:x1] = p.current()
            return out
        return whole
    return current


def refine_tiled(image: torch.Tensor, problem: Objective, *, tile: int, overlap: int,
                 iters: int, content: torch.Tensor | None = None, optimizer: str = "lbfgs",
                 lr: float | None = None, callback: Callable[[Progress], None] | None = None
                 ) -> OptimResult:
    """One sweep over the tiles of ``image`` (1, 3, H, W), ``iters`` evaluations per tile.

    ``problem`` is the level's objective for the whole image (its targets stay global); its
    content term, if any, is taken from ``content`` (the content image at this level's size)
    one tile at a time, never from the whole image's features at once.

    Progress iterations count across tiles (total ``iters × len(tiles)``).  Peak memory is one
    tile's forward and backward pass, a few copies of the image, and each tile's statistics
    (for Gram matrices of the five default layers, 2.4 MB per tile: 60 MB for 25 tiles).
    """
    check_tileable(problem)
    sweep = TileSweep(image, problem, tile=tile, overlap=overlap, iters=iters, content=content,
                      optimizer=optimizer, lr=lr)
    loop = Loop(iters * len(sweep.tiles), callback)
    run_loop(sweep, loop)
    return sweep.result(loop)


class TileSweep:
    """Block-coordinate descent over the tiles of one level: each ``advance`` refines one tile
    (an inner ``optimize`` run on the whole image's objective as a function of that tile's
    pixels), writes it back feathered and refreshes the running statistics.

    The inner runs report their own evaluations, placed in the sweep (``progress.placed``); the
    sweep's loop only collects their history.  Ctrl-C hands back the whole image as it stands.
    """

    def __init__(self, image: torch.Tensor, problem: Objective, *, tile: int, overlap: int,
                 iters: int, content: torch.Tensor | None, optimizer: str, lr: float | None
                 ) -> None:
        self.problem, self.overlap, self.iters = problem, overlap, iters
        self.content, self.optimizer, self.lr = content, optimizer, lr
        self.height, self.width = image.shape[-2:]
        self.tiles = plan_tiles(self.height, self.width, tile, overlap)
        self.image = image.detach().clone()
        self.areas = [_area(t, self.height, self.width) for t in self.tiles]
        self.masses = region_masses(problem, self.tiles, self.image)
        # Each core's statistics (C² numbers per layer and tile) and their area-weighted sum.
        self.owns = [self._measure(t) for t in self.tiles]
        self.total = {n: tuple(sum(a * own[n][k] for a, own in zip(self.areas, self.owns))
                               for k in range(len(self.owns[0][n])))
                      for n in style_parts(problem)}
        self.next = 0  # the tile the next advance refines

    def _measure(self, t: Tile) -> dict[str, Representation]:
        with torch.no_grad():
            reps = core_reps(self.problem, self.problem.extractor(_cut(self.image, t.box)), t,
                             self.masses)
        return {n: tuple(v.detach() for v in r) for n, r in reps.items()}

    def advance(self, loop: Loop) -> bool:
        if self.next >= len(self.tiles):
            return False
        i, t, problem, image = self.next, self.tiles[self.next], self.problem, self.image
        content_target = None
        if self.content is not None and problem.content_weight > 0:
            assert problem.content_layer is not None, "a content image needs its layer"
            with torch.no_grad():
                content_feats = problem.extractor(_cut(self.content, t.box))
            content_target = _crop(content_feats[problem.content_layer], t, problem.content_layer)
        objective = _tile_objective(problem, t, self.areas[i], self.total, self.owns[i],
                                    content_target, self.masses)
        report = placed(loop.callback, before=i * self.iters, total=loop.iters,
                        elapsed=loop.elapsed(), current=_in_whole(image, t.box),
                        tile=i + 1, tiles=len(self.tiles))
        result = optimize(_cut(image, t.box), objective, iters=self.iters,
                          optimizer=self.optimizer, lr=self.lr, callback=report, line_search=True)
        weight = feather(t, self.height, self.width, self.overlap).to(image)
        y0, y1, x0, x1 = t.box
        image[..., y0:y1, x0:x1] = weight * result.image + (1 - weight) * image[..., y0:y1, x0:x1]
        loop.history += [r | {"tile": float(i + 1)} for r in result.history]
        # The write-back reached into the neighbours' cores too: refresh every core it touched,
        # so the running total stays the sum of the cores as they are now.
        for j, other in enumerate(self.tiles):
            if _overlaps(other.core, t.box):
                new = self._measure(other)
                self.total = {n: tuple(g + self.areas[j] * (a - b)
                                       for g, a, b in zip(self.total[n], new[n], self.owns[j][n]))
                              for n in self.total}
                self.owns[j] = new
        self.next += 1
        return True

    def result(self, loop: Loop) -> OptimResult:
        return loop.result(self.image)
