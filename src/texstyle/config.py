"""Every option of a run, with its default, in two frozen dataclasses; validation in one place.

The CLI builds its flags from these defaults, so the API and the command line cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from .adversarial import GAN_LOSSES, GanOptions, is_gan, parse_disc
from .errors import TexstyleError
from .features import POOLINGS, check_layers
from .optimize import OPTIMIZERS
from .stats import STATISTICS

# Gatys et al. (2016) style layers; we use the same five for textures (see docs/usage.md).
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEVICES = ("auto", "cpu", "cuda")
_GAN = GanOptions()


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
    optimizer: str = "auto"  # auto: L-BFGS, or Adam for a gan loss (see resolved_optimizer)
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam
    init: str = "noise"  # "noise" or an image path
    weights: str = "normalized"  # "normalized", "torchvision" or a .pth path
    device: str = "auto"
    # Style image long side relative to the output's; None: the output's, but never upscaled.
    style_scale: float | None = None
    loss: str = "gram"  # the style statistic, a name in stats.STATISTICS
    style_blend: tuple[float, ...] | None = None  # one weight per style image; None: equal
    # The adversarial statistic (loss gan, gan+gram, gan+meancov); see adversarial.py.
    disc: str = _GAN.disc  # logreg, quadratic or mlp:H[,H]
    disc_steps: int = _GAN.disc_steps
    disc_every: int = _GAN.disc_every
    disc_lr: float = _GAN.disc_lr
    r1_weight: float = _GAN.r1_weight
    instance_noise: float = _GAN.instance_noise
    gan_weight: float = _GAN.gan_weight

    def __post_init__(self) -> None:
        for name in ("size", "width", "height"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise TexstyleError(f"{name} must be a positive integer, got {value!r}")
        _positive_int("iters", self.iters)
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
        _choice("loss", self.loss, (*STATISTICS, *GAN_LOSSES))
        if self.style_blend is not None:
            if not self.style_blend:
                raise TexstyleError("style_blend needs one weight per style image")
            for w in self.style_blend:
                _non_negative("style blend weight", w)
            if sum(self.style_blend) <= 0:
                raise TexstyleError(f"style blend weights must not all be zero, got {self.style_blend}")
        _choice("pooling", self.pooling, POOLINGS)
        _choice("optimizer", self.optimizer, ("auto", *OPTIMIZERS))
        if is_gan(self.loss) and self.optimizer == "lbfgs":
            raise TexstyleError(f"optimizer 'lbfgs' cannot follow the moving objective of loss "
                                f"{self.loss!r} (its discriminator changes every step); use adam")
        parse_disc(self.disc)
        _positive_int("disc_steps", self.disc_steps)
        _positive_int("disc_every", self.disc_every)
        _positive("disc_lr", self.disc_lr)
        _non_negative("r1_weight", self.r1_weight)
        _non_negative("instance_noise", self.instance_noise)
        _positive("gan_weight", self.gan_weight)
        _choice("device", self.device, DEVICES)

    def resolved_optimizer(self) -> str:
        """The optimiser "auto" stands for: L-BFGS for the fixed statistics, Adam for a gan loss
        (L-BFGS's curvature pairs and line search assume one fixed function)."""
        if self.optimizer != "auto":
            return self.optimizer
        return "adam" if is_gan(self.loss) else "lbfgs"

    def gan_options(self) -> GanOptions:
        return GanOptions(disc=self.disc, disc_steps=self.disc_steps, disc_every=self.disc_every,
                          disc_lr=self.disc_lr, r1_weight=self.r1_weight,
                          instance_noise=self.instance_noise, gan_weight=self.gan_weight)

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

    def __post_init__(self) -> None:
        super().__post_init__()
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
