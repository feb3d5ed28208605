"""Guided statistics (Gatys, Ecker, Bethge, Hertzmann & Shechtman 2017, "Controlling Perceptual
Factors in Neural Style Transfer"): each region of the output matches its own style.

A region is a soft mask (1 inside, 0 outside, grey in between) on the output and, for its style,
a mask on the style image (or the whole image).  At every style layer the mask is carried to
the layer's grid and becomes *position weights*: the region's statistic is the statistic of its
feature vectors only, each counted with its weight (``Statistic.weighted``), so the same code
serves gram, mean, meancov, w2 and swd.

Carrying a mask to a layer (``layer_mask``).  The paper gives two ways: downsample the mask to
the layer's size, or propagate it through the network so that a position counts only where its
receptive field lies inside the region.  We area-average the mask onto the layer's grid (each
position's weight is the share of its own input cell inside the region, so soft masks and thin
regions keep their mass), then optionally *erode* it by ``erosion`` positions at that layer (a
minimum filter): a position then counts only if its neighbours do too, which keeps the border
positions, whose receptive fields reach into the neighbouring region, out of the region's
statistics.  An erosion that would leave a region empty at a deep layer falls back to the plain
mask there, so small regions keep a say at every layer.

Each region's distance is weighted by its share of the output's area (``Region.area``): the
style term is then an average over the picture, and a sliver of sky cannot outweigh the
buildings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .stats import Representation, Statistic

_MIN_MASS = 1e-6  # a mask with less total weight than this (in positions) covers nothing


def layer_mask(mask: torch.Tensor, hw: tuple[int, int], erosion: int = 0) -> torch.Tensor:
    """A (1, 1, H, W) mask in [0, 1] on a layer's (h, w) grid: area average, then an optional
    erosion by ``erosion`` positions (see the module doc); never empty where the mask is not."""
    small = F.adaptive_avg_pool2d(mask, hw) if tuple(mask.shape[-2:]) != hw else mask
    if erosion <= 0:
        return small
    k = 2 * erosion + 1
    eroded = -F.max_pool2d(-small, k, stride=1, padding=erosion)
    return eroded if float(eroded.sum()) > _MIN_MASS else small


def position_weights(mask: torch.Tensor) -> torch.Tensor:
    """(1, 1, h, w) mask → (1, h·w) weights summing to 1: how much each position counts."""
    flat = mask.reshape(1, -1)
    return flat / flat.sum().clamp_min(_MIN_MASS)


def region_statistic(stat: Statistic, features: torch.Tensor, mask: torch.Tensor,
                     erosion: int = 0) -> Representation:
    """``stat`` of the feature vectors of one region: features (1, C, h, w), a full-size mask."""
    if stat.weighted is None:
        raise ValueError(f"statistic {stat.name!r} cannot be restricted to a region")
    hw = (int(features.shape[-2]), int(features.shape[-1]))
    return stat.weighted(features, position_weights(layer_mask(mask, hw, erosion)))


@dataclass(frozen=True)
class Region:
    """One region of one pyramid level: where it is, how much it counts, what it matches.

    ``mask`` (1, 1, H, W) in [0, 1] at the level's size; ``area`` its mean (its share of the
    picture); ``targets`` the style statistic per layer that its positions must reproduce.
    """

    mask: torch.Tensor
    area: float
    targets: Mapping[str, Representation]


@dataclass(frozen=True)
class Guide:
    """The regions of one level and how their masks reach the layers: the guided style term."""

    regions: tuple[Region, ...]
    erosion: int = 0

    def style_term(self, feats: Mapping[str, torch.Tensor], stat: Statistic,
                   layer_weights: Mapping[str, float], **extra: object) -> torch.Tensor:
        """Σ_layers w_l Σ_regions area_r · distance(region statistic, region target)."""
        total = torch.zeros((), device=next(iter(feats.values())).device)
        for region in self.regions:
            mask = region.mask.to(total.device)
            for name, target in region.targets.items():
                rep = region_statistic(stat, feats[name], mask, self.erosion)
                total = total + layer_weights[name] * region.area * stat.distance(rep, target,
                                                                                  **extra)
        return total


def guided_targets(stat: Statistic, features: Sequence[Mapping[str, torch.Tensor]],
                   masks: Sequence[torch.Tensor | None], layers: Sequence[str],
                   weights: Sequence[float], erosion: int = 0) -> dict[str, Representation]:
    """One region's targets: each style's statistic over its mask (None: the whole image),
    mixed with ``weights`` (summing to 1) when the region takes several styles."""
    targets = {}
    for name in layers:
        reps = []
        for f, mask in zip(features, masks, strict=True):
            with torch.no_grad():
                if mask is None:
                    rep = stat.compute(f[name])
                else:
                    rep = region_statistic(stat, f[name], mask.to(f[name].device), erosion)
            reps.append(tuple(t.detach() for t in rep))
        targets[name] = reps[0] if len(reps) == 1 else stat.mix(reps, weights)
    return targets
