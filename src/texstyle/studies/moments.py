"""Feature-moment gaps: how far an image's VGG feature means and covariances are from an exemplar's.

The yardstick of the adversarial experiment (docs/adversarial.md).  A logistic-regression
discriminator can only see a difference of feature *means*, a quadratic one also a difference of
*covariances* (docs/theory.md §5), so what each discriminator left unmatched is measured by these
two numbers per layer, independently of any loss the runs themselves optimised:

    mean gap = ‖μ_X − μ_S‖ / ‖μ_S‖,    covariance gap = ‖Σ_X − Σ_S‖_F / ‖Σ_S‖_F

with μ, Σ the per-channel mean and the covariance of the feature vectors over all positions of the
layer (``stats.mean``, ``stats.covariance``).  Relative, so layers with large activations do not
dominate the average; not squared (unlike the losses' ``relative_error``), so 0.1 reads as 10 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ..api import _cached_weights, read_input
from ..config import DEFAULT_STYLE_LAYERS
from ..features import VGGFeatures
from ..image import ImageInput, fit_long_side, resize
from ..stats import covariance, gram, mean


@dataclass(frozen=True)
class MomentGaps:
    """Per layer (in VGG order): (relative mean gap, relative covariance gap)."""

    per_layer: dict[str, tuple[float, float]]

    @property
    def mean_gap(self) -> float:
        """The mean gap averaged over the layers (each layer counts once)."""
        return sum(g[0] for g in self.per_layer.values()) / len(self.per_layer)

    @property
    def cov_gap(self) -> float:
        """The covariance gap averaged over the layers."""
        return sum(g[1] for g in self.per_layer.values()) / len(self.per_layer)


def relative_moment_gaps(features: Mapping[str, torch.Tensor],
                         target: Mapping[str, torch.Tensor]) -> MomentGaps:
    """Gaps of ``features`` against ``target``, layer by layer: both map a layer name to a
    (1, C, H, W) activation (sizes may differ: only the moments over positions are compared).

    Pure: no network is involved, so the maths can be checked on made-up tensors.
    """
    gaps = {}
    for name in features:
        fx, fs = features[name].double(), target[name].double()
        mx, ms = mean(fx), mean(fs)
        cx, cs = covariance(mx, gram(fx)), covariance(ms, gram(fs))
        gaps[name] = (float((mx - ms).norm() / ms.norm()), float((cx - cs).norm() / cs.norm()))
    return MomentGaps(gaps)


def moment_extractor(layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
                     weights: str = "normalized") -> VGGFeatures:
    """The VGG-19 feature extractor the gaps are measured with (make one, reuse it)."""
    return VGGFeatures(_cached_weights(weights), list(layers))


def feature_moment_gaps(image: ImageInput, exemplar: ImageInput, *,
                        layers: Sequence[str] = DEFAULT_STYLE_LAYERS, weights: str = "normalized",
                        extractor: VGGFeatures | None = None,
                        exemplar_size: int | None = None) -> MomentGaps:
    """How far ``image``'s VGG-19 feature means and covariances are from ``exemplar``'s.

    Both may be anything ``run_texture`` takes (a (1, 3, H, W) tensor in [0, 1], a PIL image, a
    path, ``sample:NAME``).  The exemplar is resized so that its long side is ``exemplar_size``
    (default: the image's long side): a texture is synthesised from the exemplar at its own size,
    so that is the scale at which their features should agree.  Measured on the CPU, without
    gradients; pass ``extractor`` (``moment_extractor(layers, weights)``) to reuse one across calls.
    """
    x = _tensor(image, "image")
    s = _tensor(exemplar, "exemplar")
    long_side = exemplar_size if exemplar_size is not None else max(x.shape[-2:])
    s = resize(s, *fit_long_side(*s.shape[-2:], long_side))
    if extractor is None:
        extractor = moment_extractor(layers, weights)
    with torch.no_grad():
        return relative_moment_gaps(extractor(x), extractor(s))


def _tensor(source: ImageInput, what: str) -> torch.Tensor:
    if isinstance(source, torch.Tensor) and source.dim() == 4:
        return source.detach().float().cpu()
    return read_input(source, what)
