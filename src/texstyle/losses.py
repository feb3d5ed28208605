"""Loss terms: content, style (Gram), total variation, and the objective that sums them.

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
from dataclasses import dataclass

import torch

from .stats import gram

_EPS = 1e-12


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖value − target‖² / ‖target‖², a scalar; 0 at the target, about 1 far from it."""
    return (value - target).pow(2).sum() / target.pow(2).sum().clamp_min(_EPS)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels, (B, 3, H, W) → scalar.

    Squared (not absolute) differences: smooth gradients for L-BFGS; the term only needs to damp
    the high-frequency noise that VGG features cannot see.
    """
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def style_targets(features: Mapping[str, torch.Tensor], layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """The Gram matrices the synthesis must reproduce, one per style layer."""
    return {name: gram(features[name]).detach() for name in layers}


@dataclass
class Objective:
    """What is minimised: weighted style, content and TV terms of an image's features.

    ``__call__`` returns the total and the individual terms (already weighted), so progress
    reports show what each term contributes.
    """

    extractor: Callable[[torch.Tensor], dict[str, torch.Tensor]]
    style_targets: dict[str, torch.Tensor]
    layer_weights: dict[str, float]
    style_weight: float = 1.0
    content_target: torch.Tensor | None = None
    content_layer: str | None = None
    content_weight: float = 0.0
    tv_weight: float = 0.0

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.extractor(image)
        style = sum(
            self.layer_weights[n] * relative_error(gram(feats[n]), t)
            for n, t in self.style_targets.items()
        )
        terms = {"style": self.style_weight * style}
        if self.content_target is not None and self.content_weight > 0:
            content = relative_error(feats[self.content_layer], self.content_target)
            terms["content"] = self.content_weight * content
        if self.tv_weight > 0:
            terms["tv"] = self.tv_weight * total_variation(image)
        total = sum(terms.values())
        return total, terms
