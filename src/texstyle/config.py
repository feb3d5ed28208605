"""Every option of a run, with its default, in two frozen dataclasses; validation in one place.

The CLI builds its flags from these defaults, so the API and the command line cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any, Self

from .errors import TexstyleError
from .layers import POOLINGS, check_layers, layer_index
from .pyramid import COARSEST_LONG_SIDE
from .samples import PREFIX
from .stats import STATISTICS

OPTIMIZERS = ("lbfgs", "adam")
# Keep the content's colours (colour.py): stylise luma only, or recolour the style first.
PRESERVE_COLOR = ("none", "luminance", "histogram")
# The adversarial statistic (adversarial.py): its --loss names and its options.
GAN_LOSSES = ("gan", "gan+gram", "gan+meancov")
DISC_KINDS = ("logreg", "quadratic", "mlp:H[,H]")


def is_gan(loss: str) -> bool:
    """Whether ``loss`` (a ``--loss`` value) has an adversarial term."""
    return loss in GAN_LOSSES


@dataclass(frozen=True)
class DiscSpec:
    """A parsed ``--disc`` value: the kind and, for an MLP, the hidden widths."""

    kind: str  # "logreg", "quadratic" or "mlp"
    hidden: tuple[int, ...] = ()


def parse_disc(text: str) -> DiscSpec:
    """"logreg" | "quadratic" | "mlp:H[,H]" → DiscSpec; a one-line TexstyleError otherwise."""
    if text in ("logreg", "quadratic"):
        return DiscSpec(text)
    kind, sep, widths = text.partition(":")
    if kind == "mlp" and sep:
        try:
            hidden = tuple(int(w) for w in widths.split(","))
        except ValueError:
            hidden = ()
        if hidden and len(hidden) <= 2 and all(h > 0 for h in hidden):
            return DiscSpec("mlp", hidden)
    raise TexstyleError(f"unknown discriminator {text!r}; choose one of {', '.join(DISC_KINDS)} "
                        "(H: one or two positive hidden widths, e.g. mlp:64 or mlp:128,64)")


def split_sources(text: str) -> list[str]:
    """Colon-separated image names, with ``sample:NAME`` kept whole: ``a.png:sample:cat:b.png``
    → ``[a.png, sample:cat, b.png]``."""
    parts: list[str] = []
    tokens = text.split(":")
    while tokens:
        token = tokens.pop(0)
        if token + ":" == PREFIX and tokens:
            token = PREFIX + tokens.pop(0)
        parts.append(token)
    return parts


@dataclass(frozen=True)
class RegionSpec:
    """A parsed ``--region`` value: the photo's mask, its style (``None``: keep the photo) and
    the part of the style image to take it from (``None``: all of it)."""

    mask: str
    style: str | None
    style_mask: str | None = None


def parse_region(text: str) -> RegionSpec:
    """``MASK:STYLE[:STYLE_MASK]`` → RegionSpec; STYLE may be ``content``; a one-line error."""
    parts = split_sources(text)
    if len(parts) == 1 and parts[0]:
        raise TexstyleError(f"region {text!r} has no style; write MASK:STYLE (e.g. "
                            f"sky.png:sample:mosaic, or sky.png:content to keep the photo there)")
    if len(parts) not in (2, 3) or not all(parts):
        raise TexstyleError(f"expected MASK:STYLE[:STYLE_MASK] for a region, got {text!r}")
    style = None if parts[1] == CONTENT_STYLE else parts[1]
    if style is None and len(parts) == 3:
        raise TexstyleError(f"region {text!r} keeps the photo (content); it takes no style mask")
    return RegionSpec(parts[0], style, parts[2] if len(parts) == 3 else None)


def parse_auto(text: str) -> int:
    """``auto:K`` → K, the number of automatic regions (2 to MAX_REGIONS)."""
    kind, _, count = text.partition(":")
    if kind == "auto" and count.isdigit() and 2 <= int(count) <= MAX_REGIONS:
        return int(count)
    raise TexstyleError(f"expected --regions auto:K with K from 2 to {MAX_REGIONS}, got {text!r}")


def parse_label(text: str) -> tuple[int, int, int]:
    """A label-map value: a grey level ``0``-``255`` or a colour ``#rrggbb`` → (r, g, b)."""
    if text.isdigit() and int(text) <= 255:
        return (int(text),) * 3
    if len(text) == 7 and text[0] == "#":
        try:
            return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))
        except ValueError:
            pass
    raise TexstyleError(f"label {text!r} must be a grey level from 0 to 255 or a colour #rrggbb")


def parse_exemplar(text: str) -> tuple[tuple[int, int, int], str]:
    """``LABEL:IMAGE`` → (label colour, image)."""
    label, sep, image = text.partition(":")
    if not sep or not image:
        raise TexstyleError(f"expected --exemplar LABEL:IMAGE (e.g. 255:sample:brick), got {text!r}")
    return parse_label(label), image


# Gatys et al. (2016) style layers; we use the same five for textures (see docs/usage.md).
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEVICES = ("auto", "cpu", "cuda")
STYLIZE_METHODS = ("gatys", "adain", "wct")
MAX_SIDE = 32768  # px; far beyond any machine's memory for VGG features, catches typos (1e6)
MAX_STYLE_SCALE = 16.0  # the exemplar analysed at up to 16x the output's long side
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a 64-bit seed
GAN_GROUP = "adversarial loss (--loss gan, gan+gram, gan+meancov)"
SPATIAL_GROUP = "spatial control: regions, label maps, scale (docs/spatial.md)"
REST_MODES = ("content", "style")  # --rest: what pixels in no --region get
CONTENT_STYLE = "content"  # --region MASK:content keeps the photo in MASK
MAX_REGIONS = 8  # --regions auto:K
MAX_EROSION = 8  # positions at a layer; beyond this small regions vanish at every deep layer


def option(default: Any, help: str, *, parse: Any = None, choices: tuple[str, ...] | None = None,
           metavar: str | None = None, flag: str | None = None, group: str | None = None,
           commands: tuple[str, ...] = ("texture", "stylize")) -> Any:
    """A settings field with what the command line needs to offer it (cli/commands.py builds the flags
    from these): one place for the default, the help text, the choices and the flag's name.

    ``help`` may name ``{default}`` (this class's default) and ``{statistics}``; ``parse`` is
    ``int``/``float``/``str`` (inferred from the default when it is not None), ``"names"`` or
    ``"floats"`` (comma-separated lists).
    """
    return field(default=default, metadata={
        "help": help, "parse": parse, "choices": choices, "metavar": metavar, "flag": flag,
        "group": group, "commands": commands})


def flag_name(f: Field[Any]) -> str:
    """The command-line flag of an ``option`` field: its declared ``flag``, else ``--field-name``.
    The CLI's parser and the studio's controls both name options by it."""
    flag: str | None = f.metadata["flag"]
    return flag or "--" + f.name.replace("_", "-")


def option_help(f: Field[Any], default: Any) -> str:
    """An ``option`` field's help text with ``{default}`` (this class's) and ``{statistics}``
    filled in, as ``--help`` and the studio's controls show it."""
    statistics = "; ".join(f"{k}: {v.summary}" for k, v in STATISTICS.items())
    shown = ",".join(default) if isinstance(default, tuple) else default
    text: str = f.metadata["help"].format(default=shown, statistics=statistics)
    return text


def _nested(cls: type) -> dict[str, type]:
    """``cls``'s fields that hold a dataclass of options of their own (``gan``), by name."""
    return {f.name: f.metadata["nested"] for f in fields(cls) if "nested" in f.metadata}


def _override(name: str, default: Any, **changes: Any) -> Any:
    """A subclass's own default for an inherited option, keeping its help and flag."""
    inherited = dict(TextureSettings.__dataclass_fields__[name].metadata)
    return field(default=default, metadata=inherited | changes)


@dataclass(frozen=True)
class GanOptions:
    """How the discriminators are built and trained; defaults chosen on 128 px exemplars
    (docs/adversarial.md has the trade-off between ``disc_steps`` and ``disc_every``).

    One field of the settings (``TextureSettings.gan``) so that ``adversarial`` takes all of them
    at once; users still see them flat: each is its own CLI flag (from the metadata below), its
    own keyword of ``run_texture`` and friends (``TextureSettings.with_options``) and its own key
    in the record (``TextureSettings.to_dict``).
    """

    disc: str = option("logreg", "per-pixel discriminator on each style layer (default "
                       "{default})", metavar="logreg|quadratic|mlp:H[,H]", group=GAN_GROUP)
    disc_steps: int = option(1, "Adam steps of each discriminator per round (default {default})",
                             group=GAN_GROUP)
    disc_every: int = option(1, "image iterations between discriminator rounds (default "
                             "{default})", group=GAN_GROUP)
    disc_lr: float = option(0.01, "discriminator learning rate (default {default:g})",
                            group=GAN_GROUP)
    # γ of the R1 penalty (γ/2)·E_real ‖∇D‖².
    r1_weight: float = option(0.0, "R1 gradient penalty weight (default {default:g}: off)",
                              flag="--r1", group=GAN_GROUP)
    # In standardised units: a fraction of the style's feature std on every channel.
    instance_noise: float = option(
        0.0, "std of noise added to the discriminator's inputs, in units of the style's feature "
        "std (default {default:g}: off)", group=GAN_GROUP)
    gan_weight: float = option(1.0, "weight of the adversarial term (default {default:g})",
                               group=GAN_GROUP)

    def __post_init__(self) -> None:
        parse_disc(self.disc)
        _positive_int("disc_steps", self.disc_steps)
        _positive_int("disc_every", self.disc_every)
        _positive("disc_lr", self.disc_lr)
        _non_negative("r1_weight", self.r1_weight)
        _non_negative("instance_noise", self.instance_noise)
        _positive("gan_weight", self.gan_weight)


def _spatial(default: Any, help: str, commands: tuple[str, ...] = ("texture", "stylize"),
             **kwargs: Any) -> Any:
    return option(default, help, group=SPATIAL_GROUP, commands=commands, **kwargs)


@dataclass(frozen=True)
class SpatialOptions:
    """Where each style goes (guides.py, regions.py): regions of the photo, a label map for a
    texture, or coarse and fine layers from two styles.  Nested in the settings like the GAN
    options: flat flags, keywords and record keys.  Paths stay text here; they are read (and
    their errors raised) when the run is planned."""

    region: tuple[str, ...] = _spatial(
        (), "the photo's MASK (white inside, grey: partly) painted in STYLE, or in the part of "
        "STYLE under STYLE_MASK; STYLE 'content' keeps the photo there (repeatable)",
        ("stylize",), parse="repeat", metavar="MASK:STYLE[:STYLE_MASK]")
    rest: str = _spatial("content", "with --region: pixels in no region keep the photo (content) "
                         "or take --style (style) (default {default})", ("stylize",),
                         choices=REST_MODES)
    regions: str | None = _spatial(
        None, "automatic regions: cluster the photo and --style into K regions by local texture "
        "(VGG features) and position and pair them (sky to sky)", ("stylize",), parse=str,
        metavar="auto:K")
    label_map: str | None = _spatial(
        None, "grow a texture whose regions follow this map: each grey level or colour grows "
        "its --exemplar", ("texture",), parse=str, metavar="MAP")
    exemplar: tuple[str, ...] = _spatial(
        (), "the exemplar grown where the label map is LABEL (a grey level 0-255 or #rrggbb; "
        "repeatable)", ("texture",), parse="repeat", metavar="LABEL:IMAGE")
    # Erode each region's mask by this many positions at every style layer (guides.layer_mask),
    # so border positions, which see the neighbouring region, do not pollute its statistics.
    mask_erosion: int = _spatial(
        0, "erode region masks by N positions at every style layer, keeping border positions "
        "out of a region's statistics (default {default})", metavar="N")
    style_coarse: str | None = _spatial(
        None, "scale mixing: the large-scale arrangement of this image (its statistics at "
        "--scale-split and deeper layers)", parse=str, metavar="IMAGE")
    style_fine: str | None = _spatial(
        None, "scale mixing: the fine strokes of this image (the layers shallower than "
        "--scale-split)", parse=str, metavar="IMAGE")
    # relu3_1 is where Gatys et al. (2017) split coarse from fine in their scale-control figures.
    scale_split: str = _spatial(
        "relu3_1", "with --style-coarse/--style-fine: the shallowest layer taken from the coarse "
        "style (default {default})", metavar="LAYER")

    def __post_init__(self) -> None:
        for name in ("region", "exemplar"):
            if not isinstance(getattr(self, name), tuple):
                raise TexstyleError(f"{name} must be a tuple of strings, got "
                                    f"{getattr(self, name)!r}")
        for text in self.region:
            parse_region(text)
        _choice("rest", self.rest, REST_MODES)
        if self.regions is not None:
            parse_auto(self.regions)
            if self.region:
                raise TexstyleError("give --region masks or --regions auto:K, not both")
        labels = [parse_exemplar(text)[0] for text in self.exemplar]
        if len(set(labels)) != len(labels):
            raise TexstyleError("two --exemplar values name the same label")
        if self.exemplar and self.label_map is None:
            raise TexstyleError("--exemplar needs a --label-map to place it")
        if self.label_map is not None and not self.exemplar:
            raise TexstyleError("--label-map needs an --exemplar LABEL:IMAGE for each of its values")
        if not isinstance(self.mask_erosion, int) or not 0 <= self.mask_erosion <= MAX_EROSION:
            raise TexstyleError(f"mask_erosion must be an integer from 0 to {MAX_EROSION}, got "
                                f"{self.mask_erosion!r}")
        if (self.style_coarse is None) != (self.style_fine is None):
            raise TexstyleError("scale mixing needs both --style-coarse and --style-fine")
        check_layers([self.scale_split])
        if self.scale_mixing and self.guided:
            raise TexstyleError("scale mixing (--style-coarse/--style-fine) cannot be combined "
                                "with regions or a label map")

    @property
    def guided(self) -> bool:
        """Whether the run has regions (masks, automatic regions or a label map)."""
        return bool(self.region) or self.regions is not None or self.label_map is not None

    @property
    def scale_mixing(self) -> bool:
        return self.style_coarse is not None

    @property
    def active(self) -> bool:
        return self.guided or self.scale_mixing


@dataclass(frozen=True)
class TextureSettings:
    """Options of ``texstyle texture`` / ``synthesize_texture``."""

    size: int | None = option(256, "long side of the output in px (default {default})")
    width: int | None = option(None, "output width in px (with --height: exact size)", parse=int)
    height: int | None = option(None, "output height in px", parse=int)
    iters: int = option(150, "iterations at the coarsest pyramid level (default {default})")
    # At the finest level (at most ``iters``); levels between get a geometric share
    # (pyramid.level_iterations). None: ``iters`` at every level.  The defaults halve the cost of
    # 150 per level at 128/256 px for the same full-resolution losses (docs/performance.md).
    fine_iters: int | None = option(
        60, "iterations at the finest level; levels between get geometrically fewer than --iters "
        "(default {default})", parse=int)
    # 128, not 64: at a 64 px level the deep layers see 4x4-8x8 positions, whose statistics pin
    # them, so textures copied the exemplar's layout (best shifted correlation with it 0.62 on
    # cells against a shuffled-blocks floor of 0.29); at 128 px they copy no more than the peers
    # (0.31; benchmarks/copy_measure.py) and stay closer to the exemplar in colour and style than
    # the style-transfer-pytorch recipe (docs/quality.md).  Stylisation needs it too: below it
    # the photo's layout is lost.
    coarsest: int = option(COARSEST_LONG_SIDE, "long side of the coarsest pyramid level in px "
                           "(default {default})")
    # Stop a level early once the loss improved by less than this fraction over 10 evaluations.
    tolerance: float = option(
        0.0, "stop a level once the loss improves by less than this fraction over 10 iterations; "
        "0 never stops early (default {default:g})")
    seed: int = option(0, "random seed (default {default})")
    style_layers: tuple[str, ...] = option(
        DEFAULT_STYLE_LAYERS, "layers whose statistics are matched (default {default})",
        parse="names", metavar="L1,L2,…")
    layer_weights: tuple[float, ...] | None = option(
        None, "one weight per style layer, normalised to sum 1 (default: from --layer-decay)",
        parse="floats", metavar="W1,W2,…")
    # Without layer_weights, each style layer weighs layer_decay times the next deeper one.  For
    # textures 4 (256:64:16:4:1 over relu1_1..relu5_1, style-transfer-pytorch's weights): with w2
    # it moved the quality benchmark's colour distance 0.014 -> 0.007 and style distance
    # 0.306 -> 0.175 (docs/quality.md); shallow layers carry colour and fine structure.
    layer_decay: float = option(
        4.0, "without --layer-weights: each style layer weighs this many times the next deeper "
        "one; 1 weighs them equally (default {default:g})", metavar="R")
    style_weight: float = option(1.0, "weight of the style term (default {default:g})")
    # A little smoothing removes the pixel-level colour speckle Gram matching leaves behind
    # (chosen by eye at 128 px; 3 starts to blur).
    tv_weight: float = option(0.5, "weight of total-variation smoothing (default {default:g})")
    pooling: str = option("avg", "pooling in VGG (default {default}, as Gatys et al. for synthesis)",
                          choices=POOLINGS)
    optimizer: str = option("auto", "(default {default}: lbfgs, or adam for a gan loss)",
                            choices=("auto", *OPTIMIZERS))
    lr: float | None = option(None, "step size (default 1 for L-BFGS, 0.02 for Adam)", parse=float)
    init: str = option("noise", "starting image: noise, palette (noise in the style's colours) "
                       "or an image path (default {default})")
    weights: str = option("normalized", "VGG-19 weights (default {default})",
                          metavar="normalized|torchvision|PATH")
    device: str = option("auto", "(default {default}: CUDA when present)", choices=DEVICES)
    # Style image long side relative to the output's; None: the output's, but never upscaled.
    style_scale: float | None = option(
        None, "style image long side relative to the output's (default: the output's, never "
        "upscaled)", parse=float)
    # w2 with decaying layer weights beat gram (and the recipe) in colour, style and speckle on
    # the quality benchmark's 9 exemplars (docs/quality.md); gram stays one flag away.
    loss: str = option("w2", "style statistic: {statistics}; gan, gan+gram, gan+meancov: a "
                       "discriminator per layer trained in the loop, alone or with a fixed "
                       "statistic (default {default})", choices=(*STATISTICS, *GAN_LOSSES))
    style_blend: tuple[float, ...] | None = option(
        None, "with several style images: their weights, normalised to sum 1 (default equal)",
        parse="floats", metavar="W1,W2,…")
    # Resource limits: they decide whether a run starts, never what it computes, so they are
    # left out of a checkpoint's settings hash (checkpoint.py).
    max_pixels: int | None = option(
        None, "refuse input images with more pixels than this (default: Pillow's "
        "decompression-bomb limit, 89,478,485)", parse=int, metavar="N")
    max_memory: float | None = option(
        None, "refuse to start a run estimated to need more memory than this (default: what is "
        "free on the device)", parse=float, metavar="GB")
    tile: bool = option(False, "seamless: the texture wraps around, so copies laid side by side "
                        "show no seam (preview with `texstyle tile`)", commands=("texture",))
    # Print size: pyramid levels whose long side exceeds refine_tile px are refined in
    # overlapping tiles of that size (bounded memory, global statistics; see refine.py).
    refine_tile: int = option(
        1024, "print size: pyramid levels larger than this are refined in overlapping tiles of "
        "this size, bounding memory (default {default})", metavar="PX")
    refine_overlap: int = option(128, "overlap between refine tiles (default {default})",
                                 metavar="PX")
    # Evaluations per tile at those levels (pyramid.level_budgets): each adds only detail, and
    # one evaluation there costs the tile count times one at the largest whole level.
    print_iters: int = option(
        8, "iterations per tile at the levels refined in tiles (default {default})", metavar="N")
    # The adversarial statistic (loss gan, gan+gram, gan+meancov); see adversarial.py.  Nested:
    # its fields are flags, keywords and record keys of their own (see GanOptions).
    gan: GanOptions = field(default_factory=GanOptions, metadata={"nested": GanOptions})
    # Spatial control (guides.py, regions.py): nested like gan.
    spatial: SpatialOptions = field(default_factory=SpatialOptions,
                                    metadata={"nested": SpatialOptions})

    def __post_init__(self) -> None:
        if not isinstance(self.tile, bool):
            raise TexstyleError(f"tile must be True or False, got {self.tile!r}")
        for name in ("size", "width", "height"):
            value = getattr(self, name)
            if value is not None:
                _int_in_range(name, value, 1, MAX_SIDE)
        _positive_int("iters", self.iters)
        if self.fine_iters is not None:
            _positive_int("fine_iters", self.fine_iters)
        _positive_int("coarsest", self.coarsest)
        _non_negative("tolerance", self.tolerance)
        _int_in_range("seed", self.seed, 0, MAX_SEED)
        if self.max_pixels is not None:
            _positive_int("max_pixels", self.max_pixels)
        if self.max_memory is not None:
            _positive("max_memory", self.max_memory)
        _positive_int("refine_tile", self.refine_tile)
        _positive_int("refine_overlap", self.refine_overlap)
        _positive_int("print_iters", self.print_iters)
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
        _positive("layer_decay", self.layer_decay)
        _positive("style_weight", self.style_weight)
        _non_negative("tv_weight", self.tv_weight)
        if self.style_scale is not None:
            _positive("style_scale", self.style_scale)
            if self.style_scale > MAX_STYLE_SCALE:
                raise TexstyleError(f"style_scale must be at most {MAX_STYLE_SCALE:g}, "
                                    f"got {self.style_scale!r}")
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
        if not isinstance(self.gan, GanOptions):
            raise TexstyleError(f"gan must be GanOptions(...), got {self.gan!r}")
        _choice("device", self.device, DEVICES)
        self._check_spatial()

    def _check_spatial(self) -> None:
        sp = self.spatial
        if not isinstance(sp, SpatialOptions):
            raise TexstyleError(f"spatial must be SpatialOptions(...), got {sp!r}")
        if sp.active and is_gan(self.loss):
            raise TexstyleError(f"regions and scale mixing need a fixed statistic (gram, mean, "
                                f"meancov, w2 or swd), not loss {self.loss!r}")
        if sp.scale_mixing:
            split = layer_index(sp.scale_split)
            coarse = [n for n in self.style_layers if layer_index(n) >= split]
            if not coarse or len(coarse) == len(self.style_layers):
                raise TexstyleError(f"--scale-split {sp.scale_split} must leave style layers on "
                                    f"both sides (style layers: {', '.join(self.style_layers)})")

    def resolved_optimizer(self) -> str:
        """The optimiser "auto" stands for: L-BFGS for the fixed statistics, Adam for a gan loss
        (L-BFGS's curvature pairs and line search assume one fixed function)."""
        if self.optimizer != "auto":
            return self.optimizer
        return "adam" if is_gan(self.loss) else "lbfgs"

    def normalized_layer_weights(self) -> dict[str, float]:
        """Layer weights summing to 1, so ``style_weight`` keeps its meaning for any layer set."""
        # Decay by depth, whatever order the layers were named in.
        depth = sorted(self.style_layers, key=layer_index, reverse=True)
        raw = self.layer_weights or tuple(self.layer_decay ** depth.index(n)
                                          for n in self.style_layers)
        total = sum(raw)
        return {n: w / total for n, w in zip(self.style_layers, raw)}

    def to_dict(self) -> dict[str, Any]:
        """Flat, one key per option as users name it (``disc``, not ``gan.disc``): the record
        written next to an output and the checkpoint's settings hash keep the shape they had
        before the GAN options were nested, so old records read the same and old checkpoints
        resume.  ``with_options(**to_dict())`` gives these settings back."""
        return {name: value for key, value in asdict(self).items()
                for name, value in (value.items() if key in _nested(type(self)) else [(key, value)])}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The option names users pass (keywords of ``run_texture``, keys of ``to_dict``): the
        fields, with a nested dataclass's fields in place of its own name."""
        nested = _nested(cls)
        return tuple(name for f in fields(cls)
                     for name in ([g.name for g in fields(nested[f.name])] if f.name in nested
                                  else [f.name]))

    @classmethod
    def from_options(cls, **options: Any) -> Self:
        """Settings from option names as ``field_names`` lists them (``disc="quadratic"``, as
        well as the nested ``gan=GanOptions(...)``); the defaults for the rest."""
        return cls().with_options(**options)

    def with_options(self, **options: Any) -> Self:
        """These settings with ``options`` changed; a flat GAN option (``disc_steps=5``) goes into
        ``gan``, on top of a ``gan=`` given with it.  An unknown name is a TypeError, as for a
        function's keyword; values are checked as always (one-line ``TexstyleError``)."""
        names = self.field_names()
        unknown = set(options) - set(names) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; "
                            f"valid: {', '.join(names)}")
        changes = dict(options)
        for key, kind in _nested(type(self)).items():
            inner = {f.name: changes.pop(f.name) for f in fields(kind) if f.name in changes}
            if inner:
                changes[key] = replace(changes.get(key, getattr(self, key)), **inner)
        return replace(self, **changes)


@dataclass(frozen=True)
class StylizeSettings(TextureSettings):
    """Options of ``texstyle stylize`` / ``stylize``; defaults tuned by eye (docs/usage.md)."""

    # At the coarsest level; starting from the content converges sooner.
    iters: int = _override("iters", 100)
    fine_iters: int | None = _override("fine_iters", 40)  # half the cost of 100 per level
    # The photo repainted in the painting's colour distribution: measured the largest single gain
    # in style and colour distance at no cost in time (docs/quality.md).
    init: str = _override("init", "palette", help="starting image: content, palette (the content in "
                          "the style's colours), adain (a feed-forward stylisation), noise or an "
                          "image path (default {default})")
    # "gatys": optimise the image; "adain" / "wct": one feed-forward pass (feedforward.py).
    method: str = option("gatys", "gatys: optimise the image (best); adain / wct: one "
                         "feed-forward pass with the AdaIN decoder, about a second (default "
                         "{default})", choices=STYLIZE_METHODS)
    alpha: float = option(1.0, "adain / wct: style strength from 0 (content) to 1 (default "
                          "{default:g})")
    content_layer: str = option("relu4_2", "layer whose activations are kept (default {default})")
    content_weight: float = option(1.0, "weight of the content term (default {default:g})")
    # From the measured content/style front (docs/quality.md, 8 pairs at 128 and 256 px): with
    # the palette start and w2, 7 is the weight that keeps the most photo while being at least as
    # close to the painting as the closer peer in style and colour at both sizes (5 is not, at
    # 256 px: style 0.322 against the recipe's 0.317).
    style_weight: float = _override("style_weight", 7.0)
    # Equal layer weights: the textures' shallow-heavy weights lost style distance here (0.525 ->
    # 0.633, docs/quality.md's ablations).  w2 rather than the paper's gram: with the palette start
    # it is closer to the painting at the same photo kept (style 0.375 -> 0.339 mean, 8 pairs).
    layer_decay: float = _override("layer_decay", 1.0)
    loss: str = _override("loss", "w2")
    tv_weight: float = _override("tv_weight", 1.0)
    # Keep the content's colours: "luminance" (stylise luma only) or "histogram" (recolour the
    # style to the content's colour mean and covariance first); see colour.py.
    preserve_color: str = option(
        "none", "keep the content's colours: luminance (stylise brightness only) or histogram "
        "(match the style's colours to the content's first) (default {default})",
        choices=PRESERVE_COLOR)

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice("preserve_color", self.preserve_color, PRESERVE_COLOR)
        check_layers([self.content_layer])
        _non_negative("content_weight", self.content_weight)
        _choice("method", self.method, STYLIZE_METHODS)
        if not isinstance(self.alpha, (int, float)) or not 0 <= self.alpha <= 1:
            raise TexstyleError(f"alpha must be between 0 and 1, got {self.alpha!r}")
        if self.spatial.active and self.method != "gatys":
            raise TexstyleError(f"regions and scale mixing need the optimisation (method gatys), "
                                f"not method {self.method!r}")


@dataclass(frozen=True)
class FileOptions:
    """Command-line options about files written during a run (snapshots, checkpoints).

    They change what is saved, never the result, so they live outside ``TextureSettings`` (and
    outside its record and checkpoint hash); they are validated here with everything else.
    Names are the flags' names so errors point at what the user typed.
    """

    save_every: int | None = None
    checkpoint_every: int = 20

    def __post_init__(self) -> None:
        if self.save_every is not None:
            _positive_int("--save-every", self.save_every)
        _positive_int("--checkpoint-every", self.checkpoint_every)


def check_positive_int(name: str, value: object) -> None:
    """For the few numeric options outside the dataclasses (the demo's --size and --iters)."""
    _positive_int(name, value)


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TexstyleError(f"{name} must be a positive integer, got {value!r}")


def _int_in_range(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        kind = "a positive integer" if low == 1 else "an integer"
        raise TexstyleError(f"{name} must be {kind} between {low} and {high}, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise TexstyleError(f"{name} must be a positive number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TexstyleError(f"{name} must be zero or positive, got {value!r}")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise TexstyleError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
