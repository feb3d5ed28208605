"""Style statistics: pure functions from feature maps to position-free summaries.

Every statistic averages over spatial positions, so it does not depend on the image size and is
unchanged when positions are shuffled — that is what makes it a *style* (or texture) descriptor.
"""

from __future__ import annotations

import torch


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix averaged over positions: (B, C, H, W) → (B, C, C).

    G[c, d] = (1 / HW) Σ_p F[c, p] F[d, p].  Departure from Gatys et al., who sum over positions:
    dividing by HW makes G a mean of outer products, so a texture and a larger crop of it have the
    same Gram matrix and one set of weights works at every image size.
    """
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)
