"""The VGG-19 feature extractor: one forward pass, a dict of named layers.

The extractor owns everything network-specific — preprocessing, padding, pooling, freezing — so
the rest of texstyle works in sRGB [0, 1] and reads activations by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .errors import TexstyleError
from .layers import LAYER_NAMES, POOLINGS, check_layers, layer_index
from .weights import VGGWeights


class VGGFeatures(nn.Module):
    """VGG-19 truncated after the deepest requested layer; frozen and in eval mode.

    ``forward(image)`` takes (B, 3, H, W) sRGB in [0, 1] and returns ``{name: (B, C, h, w)}`` for
    the requested layers only.  ``circular=True`` pads every convolution by wrapping around
    (instead of the weights' own padding), so the image is treated as periodic: what seamless,
    tileable textures are optimised through (see ``seamless``).
    """

    def __init__(self, weights: VGGWeights, layers: Sequence[str], pooling: str = "avg",
                 channels_last: bool = False, circular: bool = False) -> None:
        super().__init__()
        check_layers(layers)
        if pooling not in POOLINGS:
            raise TexstyleError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")
        self.layers = tuple(dict.fromkeys(layers))
        self.weights = weights
        self.pooling = pooling
        self.circular = circular
        padding = "circular" if circular else weights.padding
        last = max(layer_index(n) for n in self.layers)
        self.names = LAYER_NAMES[: last + 1]
        modules: list[nn.Module] = []
        for name in self.names:
            if name.startswith("conv"):
                w = weights.tensors[f"{name}.weight"]
                conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1, padding_mode=padding)
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(weights.tensors[f"{name}.bias"])
                modules.append(conv)
            elif name.startswith("relu"):
                modules.append(nn.ReLU())
            elif pooling == "max":
                modules.append(nn.MaxPool2d(2, ceil_mode=weights.ceil_mode))
            else:
                # Departure from the trained network, as in Gatys et al. (2015): average pooling
                # gives smoother gradients and better-looking syntheses than max pooling.
                modules.append(nn.AvgPool2d(2, ceil_mode=weights.ceil_mode))
        self.body = nn.ModuleList(modules)
        # NHWC activations are an option, not the default: measured in the same process on this
        # 2-core CPU they were a wash (128 px 0.274 vs 0.238 s/iter, 256 px 0.893 vs 0.937,
        # 512 px 4.01 vs 4.11; benchmarks/speed.py --layout both, docs/performance.md).
        self.channels_last = channels_last
        if channels_last:
            self.body.to(memory_format=torch.channels_last)
        if weights.layout == "normalized":
            self.register_buffer("color_weight", weights.tensors["color.weight"].clone())
            self.register_buffer("color_bias", weights.tensors["color.bias"].clone())
        self.eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> VGGFeatures:
        # Always in eval mode: there is nothing to train, and a caller's .train() must not change that.
        return super().train(False)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"expected an image of shape (B, 3, H, W), got {tuple(image.shape)}")
        if self.weights.layout == "normalized":
            x = nn.functional.conv2d(image, self.color_weight, self.color_bias)
        else:
            x = self.weights.preprocess(image)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        wanted = set(self.layers)
        out: dict[str, torch.Tensor] = {}
        for name, module in zip(self.names, self.body):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out
