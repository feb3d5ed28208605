"""Every option of a run, with its default, in two frozen dataclasses; validation in one place.

The CLI builds its flags from these defaults, so the API and the command line cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from .colour import PRESERVE_COLOR
from .errors import TexstyleError
from .features import POOLINGS, check_layers
from .optimize import OPTIMIZERS
from .stats import STATISTICS

# Gatys et al. (2016) style layers; we use the same five for textures (see docs/usage.md).
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TextureSettings:
    """Options of ``texstyle texture`` / ``synthesize_texture``."""

    size: int | None = 256  # long side of the output in px (ignored when width and height are set)
    width: int | None = None
    height: int | None = None
    iters: int = 150  # per pyramid level
    seed: int = 0
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    layer_weights: tuple[float, ...] | None = None  # None: equal; normalised to sum 1
    style_weight: float = 1.0
    # A little smoothing removes the pixel-level colour speckle Gram matching leaves behind
    # (chosen by eye at 128 px; 3 starts to blur).
    tv_weight: float = 0.5
    pooling: str = "avg"
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam
    init: str = "noise"  # "noise" or an image path
    weights: str = "normalized"  # "normalized", "torchvision" or a .pth path
    device: str = "auto"
    # Style image long side relative to the output's; None: the output's, but never upscaled.
    style_scale: float | None = None
    loss: str = "gram"  # the style statistic, a name in stats.STATISTICS
    style_blend: tuple[float, ...] | None = None  # one weight per style image; None: equal
    tile: bool = False  # seamless: the output wraps around (circular padding, wrap-around TV)
    # Print size: pyramid levels whose long side exceeds refine_tile px are refined in
    # overlapping tiles of that size (bounded memory, global statistics; see tiled.py).
    refine_tile: int = 1024
    refine_overlap: int = 128

    def __post_init__(self) -> None:
        if not isinstance(self.tile, bool):
            raise TexstyleError(f"tile must be True or False, got {self.tile!r}")
        for name in ("size", "width", "height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise TexstyleError(f"{name} must be a positive integer, got {value!r}")
        _positive_int("iters", self.iters)
        _positive_int("refine_tile", self.refine_tile)
        _positive_int("refine_overlap", self.refine_overlap)
        if self.refine_tile <= 2 * self.refine_overlap:
            raise TexstyleError(f"refine_tile ({self.refine_tile}) must be more than twice "
                                f"refine_overlap ({self.refine_overlap})")
        if not self.style_layers:
            raise TexstyleError("style_layers must name at least one layer")
        check_layers(self.style_layers)
        if self.layer_weights is not None:
            if len(self.layer_weights) != len(self.style_layers):
                raise TexstyleError(
                    f"got {len(self.layer_weights)} layer weights for {len(self.style_layers)} "
                    f"style layers ({', '.join(self.style_layers)})"
                )
            for w in self.layer_weights:
                _positive("layer weight", w)
        _positive("style_weight", self.style_weight)
        _non_negative("tv_weight", self.tv_weight)
        if self.style_scale is not None:
            _positive("style_scale", self.style_scale)
        if self.lr is not None:
            _positive("lr", self.lr)
        _choice("loss", self.loss, tuple(STATISTICS))
        if self.style_blend is not None:
            if not self.style_blend:
                raise TexstyleError("style_blend needs one weight per style image")
            for w in self.style_blend:
                _non_negative("style blend weight", w)
            if sum(self.style_blend) <= 0:
                raise TexstyleError(f"style blend weights must not all be zero, got {self.style_blend}")
        _choice("pooling", self.pooling, POOLINGS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("device", self.device, DEVICES)

    def normalized_layer_weights(self) -> dict[str, float]:
        """Layer weights summing to 1, so ``style_weight`` keeps its meaning for any layer set."""
        raw = self.layer_weights or (1.0,) * len(self.style_layers)
        total = sum(raw)
        return {n: w / total for n, w in zip(self.style_layers, raw)}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class StylizeSettings(TextureSettings):
    """Options of ``texstyle stylize`` / ``stylize``; defaults tuned by eye (docs/usage.md)."""

    iters: int = 100  # per pyramid level; starting from the content converges sooner
    init: str = "content"  # "content", "noise" or an image path
    content_layer: str = "relu4_2"
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 1.0
    # Keep the content's colours: "luminance" (stylise luma only) or "histogram" (recolour the
    # style to the content's colour mean and covariance first); see colour.py.
    preserve_color: str = "none"

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice("preserve_color", self.preserve_color, PRESERVE_COLOR)
        check_layers([self.content_layer])
        _non_negative("content_weight", self.content_weight)


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TexstyleError(f"{name} must be a positive integer, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise TexstyleError(f"{name} must be a positive number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TexstyleError(f"{name} must be zero or positive, got {value!r}")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise TexstyleError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
