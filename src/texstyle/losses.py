"""Loss terms: content, style (any registered statistic), total variation, a video frame's
temporal term, and their sum.

Normalisation (one set of default weights for every size, exemplar and layer): each style and
content term is a *relative* squared error, ‖A − T‖² / ‖T‖², where T is the target.  The paper
uses absolute squared errors with per-layer constants 1/(4N²M²); those constants make the loss
depend on the image size and on how strongly an exemplar excites a layer, so the right style
weight changes from picture to picture.  Relative errors start near 1 for every layer and every
exemplar (noise versus target), so equal layer weights mean equal say, and a style weight of
``s`` means the same thing for a watercolour and for a brick wall.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import torch
import torch.nn.functional as F

from .guides import Guide
from .stats import STATISTICS, Representation, Statistic, blend_weights, relative_error


def total_variation(image: torch.Tensor, wrap: bool = False) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels, (B, 3, H, W) → scalar.

    Squared (not absolute) differences: smooth gradients for L-BFGS; the term only needs to damp
    the high-frequency noise that VGG features cannot see.  ``wrap=True`` also counts the last
    and first columns (and rows) as neighbours, for periodic (tileable) images.
    """
    if wrap:
        dx = image - image.roll(1, dims=-1)
        dy = image - image.roll(1, dims=-2)
        return dx.pow(2).mean() + dy.pow(2).mean()
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def style_targets(
    features: Sequence[Mapping[str, torch.Tensor]] | Mapping[str, torch.Tensor],
    layers: Sequence[str],
    statistic: Statistic | str = "gram",
    blend: Sequence[float] | None = None,
) -> dict[str, Representation]:
    """What the synthesis must reproduce at each style layer.

    ``features`` is one style's feature dict or a list of them; several styles are mixed by
    averaging their representations with ``blend`` (normalised to sum 1; equal by default).
    """
    stat = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    styles = [features] if isinstance(features, Mapping) else list(features)
    weights = blend_weights(blend, len(styles))
    targets = {}
    for name in layers:
        reps = [tuple(t.detach() for t in stat.compute(f[name])) for f in styles]
        targets[name] = reps[0] if len(reps) == 1 else stat.mix(reps, weights)
    return targets


@dataclass(frozen=True)
class TemporalTarget:
    """Where a video frame should stay: the previous output warped by optical flow, and the
    pixels where that warp can be trusted (Ruder, Dosovitskiy and Brox 2016).

    ``image`` (1, 3, H, W) in [0, 1]; ``mask`` (1, 1, H, W) in [0, 1]: 1 where the
    forward-backward check finds the pixel visible in both frames, 0 where it was occluded or
    lies on a motion boundary (there the frame must be free to change).
    """

    image: torch.Tensor
    mask: torch.Tensor
    weight: float

    def resized(self, height: int, width: int) -> TemporalTarget:
        """The target at a pyramid level's size (area-averaged, so a mask stays in [0, 1])."""
        if tuple(self.image.shape[-2:]) == (height, width):
            return self
        def shrink(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False,
                                 antialias=True).clamp(0, 1)
        return TemporalTarget(shrink(self.image), shrink(self.mask), self.weight)


def temporal_loss(image: torch.Tensor, target: TemporalTarget) -> torch.Tensor:
    """Ruder et al.'s short-term temporal loss: (1/D) Σ c·(x − ω)², D = 3·H·W, where ω is the
    warped previous output and c the mask.

    An absolute (not relative) error, as in the paper: the target is a picture, not a feature
    statistic whose scale varies with the exemplar, and pixels in [0, 1] have one scale.
    """
    mask = target.mask.to(image.device)
    return (mask * (image - target.image.to(image.device)).pow(2)).mean()


@dataclass
class Objective:
    """What is minimised: weighted style, content and TV terms of an image's features.

    ``__call__`` returns the total and the individual terms (already weighted), so progress
    reports show what each term contributes.
    """

    extractor: Callable[[torch.Tensor], dict[str, torch.Tensor]]
    style_targets: dict[str, Representation]
    layer_weights: dict[str, float]
    style_weight: float = 1.0
    content_target: torch.Tensor | None = None
    content_layer: str | None = None
    content_weight: float = 0.0
    tv_weight: float = 0.0
    statistic: Statistic = field(default_factory=lambda: STATISTICS["gram"])
    generator: torch.Generator | None = None  # for statistics that draw random projections
    wrap: bool = False  # periodic image: total variation across the wrap-around edge too
    temporal: TemporalTarget | None = None  # a video frame: stay close to the warped previous one
    # Spatial control (guides.py): each region matches its own style; replaces style_targets.
    guide: Guide | None = None
    # Regions kept as the photo (--rest content, --region MASK:content): stay close to it there.
    keep: TemporalTarget | None = None

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.evaluate(self.extractor(image), image)

    def evaluate(self, feats: dict[str, torch.Tensor], image: torch.Tensor
                 ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The terms from features already computed (the adversarial loop shares its forward
        pass); with no style targets there is no style term."""
        terms: dict[str, torch.Tensor] = {}
        extra = {"generator": self.generator} if self.statistic.stochastic else {}
        if self.guide is not None:
            terms["style"] = self.style_weight * self.guide.style_term(
                feats, self.statistic, self.layer_weights, **extra)
        elif self.style_targets:
            stat = self.statistic
            style = cast(torch.Tensor, sum(
                self.layer_weights[n] * stat.distance(stat.compute(feats[n]), t, **extra)
                for n, t in self.style_targets.items()
            ))
            terms["style"] = self.style_weight * style
        if self.content_target is not None and self.content_weight > 0:
            assert self.content_layer is not None, "a content target needs its layer"
            content = relative_error(feats[self.content_layer], self.content_target)
            terms["content"] = self.content_weight * content
        if self.tv_weight > 0:
            terms["tv"] = self.tv_weight * total_variation(image, wrap=self.wrap)
        if self.temporal is not None and self.temporal.weight > 0:
            terms["temporal"] = self.temporal.weight * temporal_loss(image, self.temporal)
        if self.keep is not None and self.keep.weight > 0:
            terms["keep"] = self.keep.weight * temporal_loss(image, self.keep)
        # With no term at all the total is the integer 0 (a loop never sees that: see api).
        total = cast(torch.Tensor, sum(terms.values()))
        return total, terms
