"""How much a stylised clip flickers: what the temporal methods are for, as a number.

The measure (after Ruder et al.'s evaluation): for every frame after the first, the mean
absolute difference between the output and the previous output warped onto it by the *input's*
flow, on the pixels the forward-backward check trusts, in 8-bit levels (0-255), averaged over
the frames.  Motion the input has is followed by the warp, so what is left is change the
stylisation made up: flicker, popping strokes.  The input clip's own value (its frames against
themselves) is the floor set by flow errors and resampling.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .flow import previous_on_current


def flicker(frames: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor]) -> float:
    """Mean warped difference of consecutive ``outputs`` (8-bit levels), flow from ``frames``."""
    if len(frames) != len(outputs) or len(frames) < 2:
        raise ValueError("flicker needs two or more frames and one output per frame")
    values = []
    for t in range(1, len(frames)):
        warped, mask = previous_on_current(outputs[t - 1], frames[t], frames[t - 1])
        diff = (outputs[t] - warped).abs().mean(dim=1, keepdim=True)
        values.append(float((diff * mask).sum() / mask.sum().clamp_min(1)) * 255)
    return sum(values) / len(values)
