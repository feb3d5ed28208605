"""Everything a run decides before any work: shapes, budgets, tiles, memory, checkpoint digest.

``plan_run`` reads and checks the inputs and settings and returns a ``RunPlan``; ``api`` then
executes the plan level after level, and ``texstyle texture|stylize --dry-run`` prints it.
Keeping the decisions apart from the work lets a user ask "how large, how long" before starting
an hour-long job, and lets the runner read as a loop over levels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .checkpoint import settings_hash
from .colour import prepare as prepare_colour
from .config import StylizeSettings, TextureSettings, is_gan
from .errors import TexstyleError
from .features import VGGFeatures
from .image import ImageInput, fit_long_side, load_image
from .layers import layer_index, min_input_size
from .memory import (
    GB,
    TILE_STATS_BYTES,
    WHOLE_IMAGE_COPIES,
    MemoryEstimate,
    available_bytes,
    check_fits,
    estimate_peak,
)
from .pyramid import level_budgets, level_shapes
from .refine import plan_tiles
from .regions import DESCRIPTOR_LAYER, SpatialPlan, plan_spatial
from .samples import is_sample, load_sample
from .weights import load_weights

StyleInput = ImageInput | list[ImageInput] | tuple[ImageInput, ...]  # several styles are mixed
CALIBRATION_SIDE = 64  # px: large enough that fixed costs do not dominate, small enough for ~1 s


@dataclass(frozen=True)
class LevelPlan:
    """One pyramid level: its size, its budget and whether it is refined in tiles."""

    shape: tuple[int, int]  # (H, W)
    iters: int  # evaluations, per tile at a tiled level
    tiles: int  # 0: the whole level at once

    @property
    def evaluations(self) -> int:
        return self.iters * max(1, self.tiles)


@dataclass(frozen=True)
class RunPlan:
    """A run, decided: the inputs as loaded and every size, budget and estimate, no work done."""

    settings: TextureSettings
    device: torch.device
    style_images: list[torch.Tensor]  # as loaded (and recoloured for --preserve-color histogram)
    content: torch.Tensor | None
    # --preserve-color luminance: applied to the result; None otherwise.
    recolour: Callable[[torch.Tensor], torch.Tensor] | None
    out_hw: tuple[int, int]
    style_sizes: list[tuple[int, int]]  # at which each style is analysed at the finest level
    layers: list[str]  # every layer the extractor computes (style layers, then content layer)
    memory: MemoryEstimate  # peak at the finest level
    digest: str  # what a checkpoint must match to be resumed (checkpoint.settings_hash)
    levels: list[LevelPlan]  # coarsest first; empty for a feed-forward stylisation
    spatial: SpatialPlan | None = None  # regions or scale mixing (regions.py); None: neither

    @property
    def is_stylize(self) -> bool:
        return isinstance(self.settings, StylizeSettings)

    @property
    def feedforward(self) -> bool:
        return isinstance(self.settings, StylizeSettings) and self.settings.method != "gatys"

    @property
    def total_evaluations(self) -> int:
        return sum(level.evaluations for level in self.levels)

    def offset(self, level: int) -> int:
        """Evaluations done before ``level`` (1-based): where its progress starts in the run."""
        return sum(lv.evaluations for lv in self.levels[:level - 1])

    def record(self) -> dict[str, Any]:
        """The resolved settings written next to the output: what was asked plus what it meant."""
        s = self.settings
        record = s.to_dict() | {
            "mode": "stylize" if self.is_stylize else "texture",
            "output_size": [self.out_hw[1], self.out_hw[0]],
            "style_sizes": [[w, h] for h, w in self.style_sizes],
        }
        if self.feedforward:
            return record | {"device": str(self.device)}
        return record | {
            "levels": [[w, h] for h, w in (lv.shape for lv in self.levels)],
            "level_iters": [lv.iters for lv in self.levels],
            "tiles_per_level": [lv.tiles for lv in self.levels],
            "device": str(self.device),
            "optimizer": s.resolved_optimizer(),
            "layer_weights": list(s.normalized_layer_weights().values()),
            "style_layers": list(s.style_layers),
        } | ({"region_plan": self.spatial.describe()}
             if self.spatial is not None and self.spatial.regions else {})

    def describe(self, seconds_per_pixel: float | None = None) -> str:
        """The plan in a few lines, for ``--dry-run``; times when a calibration is given."""
        s = self.settings
        h, w = self.out_hw
        mode = "stylize" if self.is_stylize else "texture"
        what = s.method if self.feedforward else s.loss
        lines = [f"{mode} {w}x{h} px from {len(self.style_images)} style image(s), {what}, "
                 f"on {self.device}"]
        for i, lv in enumerate(self.levels, start=1):
            tiles = f" in {lv.tiles} tiles of up to {s.refine_tile} px" if lv.tiles else ""
            lines.append(f"level {i}/{len(self.levels)}: {lv.shape[1]}x{lv.shape[0]} px, "
                         f"{lv.evaluations} evaluations{tiles}")
        if self.spatial is not None:
            lines += [f"region {line}" for line in self.spatial.describe()]
            if self.spatial.layer_styles is not None:
                lines.append("scale mixing: " + ", ".join(
                    f"{n} from the {'coarse' if i == 0 else 'fine'} style"
                    for n, i in self.spatial.layer_styles.items()))
        if self.feedforward:
            lines.append("one feed-forward pass (no optimisation)")
        else:
            lines.append(f"total: {self.total_evaluations} evaluations")
        lines.append(f"peak memory: about {self.memory.describe()}")
        if seconds_per_pixel is not None and not self.feedforward:
            seconds = self.estimated_seconds(seconds_per_pixel)
            lines.append(f"time: about {_duration(seconds)} on this machine (VGG passes only, "
                         f"from a {CALIBRATION_SIDE} px calibration)")
        return "\n".join(lines)

    def estimated_seconds(self, seconds_per_pixel: float) -> float:
        """Seconds for the optimisation, one forward + backward pass per evaluation.

        The cost of a pass grows with the pixels it sees: the whole level, or one tile.
        """
        total = 0.0
        for lv in self.levels:
            h, w = lv.shape
            if lv.tiles:
                h, w = min(h, self.settings.refine_tile), min(w, self.settings.refine_tile)
            total += lv.evaluations * h * w * seconds_per_pixel
        return total


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min"


def calibrate(plan: RunPlan) -> float:
    """Seconds per pixel of one forward + backward pass through the plan's layers, measured here.

    One pass at ``CALIBRATION_SIDE`` px after a warm-up; the time of a run then scales with the
    pixels each evaluation sees.  Statistics with a heavy distance (w2's matrix roots) take longer.
    """
    s = plan.settings
    extractor = VGGFeatures(load_weights(s.weights), plan.layers, pooling=s.pooling).to(plan.device)
    side = max(CALIBRATION_SIDE, min_input_size(plan.layers))
    x = torch.rand(1, 3, side, side, device=plan.device, requires_grad=True)

    def one_pass() -> float:
        start = time.perf_counter()
        total = sum(f.square().mean() for f in extractor(x).values())
        assert isinstance(total, torch.Tensor)
        total.backward()
        return time.perf_counter() - start

    one_pass()  # warm-up: first-call allocations and kernel selection
    return one_pass() / (side * side)


def read_input(source: ImageInput, what: str, max_pixels: int | None = None) -> torch.Tensor:
    """Like ``image.load_image``, and ``sample:NAME`` names a built-in sample."""
    if is_sample(source):
        return load_image(load_sample(source), what)
    return load_image(source, what, max_pixels=max_pixels)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TexstyleError("device 'cuda' requested but no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def output_shape(settings: TextureSettings, reference: tuple[int, int]) -> tuple[int, int]:
    """(H, W) of the output: explicit width/height, else ``size`` as the long side of ``reference``.

    With only one of width/height, the other follows the reference's aspect ratio.
    """
    ref_h, ref_w = reference
    if settings.width is not None and settings.height is not None:
        return settings.height, settings.width
    if settings.width is not None:
        return max(1, round(settings.width * ref_h / ref_w)), settings.width
    if settings.height is not None:
        return settings.height, max(1, round(settings.height * ref_w / ref_h))
    long_side = settings.size if settings.size is not None else max(ref_h, ref_w)
    return fit_long_side(ref_h, ref_w, long_side)


def style_shape(style_hw: tuple[int, int], out_hw: tuple[int, int], scale: float | None,
                min_side: int = 1) -> tuple[int, int]:
    """Size at which the style image is analysed.

    Texture statistics depend on scale, so the exemplar's long side follows the output's
    (``scale`` x output long side).  With no scale given we also never upscale the exemplar: a
    large texture grown from a small sample keeps the sample's element size instead of blurring it.
    """
    out_long = max(out_hw)
    style_long = max(style_hw)
    target = round(out_long * scale) if scale is not None else min(style_long, out_long)
    h, w = fit_long_side(*style_hw, max(1, target))
    if min(h, w) < min_side:
        # A coarse pyramid level must not shrink the style below what the deepest layer needs.
        h, w = fit_long_side(*style_hw, -(-max(h, w) * min_side // min(h, w)))
    return h, w


def is_tiled(hw: tuple[int, int], settings: TextureSettings) -> bool:
    """Whether a level of size ``hw`` is refined in tiles (refine.py).  The adversarial loss never
    is: its discriminators see the whole level."""
    return max(hw) > settings.refine_tile and not is_gan(settings.loss)


def hw_of(image: torch.Tensor) -> tuple[int, int]:
    h, w = image.shape[-2:]
    return int(h), int(w)


def plan_run(style: StyleInput | None, content: ImageInput | None, settings: TextureSettings) -> RunPlan:
    """Read and check the inputs, then decide every size, budget and estimate of the run.

    Raises ``TexstyleError`` for anything that would stop the run later (sizes, memory), so that
    nothing is computed for a run that cannot finish.
    """
    device = resolve_device(settings.device)
    styles = (list(style) if isinstance(style, (list, tuple)) else
              [] if style is None else [style])
    sp = settings.spatial
    if not styles and not sp.active:
        raise TexstyleError("give at least one style image")
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise TexstyleError(f"got {len(settings.style_blend)} style blend weights for "
                            f"{len(styles)} style images")
    style_images = [read_input(s, "style image", settings.max_pixels) for s in styles]
    content_full = (read_input(content, "content image", settings.max_pixels)
                    if content is not None else None)
    spatial, label_map = None, None
    if sp.active:
        style_images, spatial, label_map = plan_spatial(
            sp, settings.style_layers, style_images, content_full,
            lambda source, what: read_input(source, what, settings.max_pixels), settings.seed,
            lambda: VGGFeatures(load_weights(settings.weights), [DESCRIPTOR_LAYER],
                                pooling=settings.pooling))
    reference = (content_full if content_full is not None else
                 label_map if label_map is not None else style_images[0])
    out_hw = output_shape(settings, hw_of(reference))

    is_stylize = isinstance(settings, StylizeSettings)
    recolour = None
    if isinstance(settings, StylizeSettings) and content_full is not None:
        style_images, content_full, recolour = prepare_colour(settings.preserve_color,
                                                             style_images, content_full)
    layers = list(settings.style_layers)
    if isinstance(settings, StylizeSettings):
        layers.append(settings.content_layer)
    _check_size("output", out_hw, layers)
    style_sizes = [style_shape(hw_of(img), out_hw, settings.style_scale) for img in style_images]
    for style_hw in style_sizes:
        _check_size("style image (after scaling)", style_hw, list(settings.style_layers))
    memory = check_memory(settings, out_hw, style_images, content_full, layers, device)
    # Checkpoints are tied to these settings and inputs (checkpoint.py says what is left out).
    masks = [m for r in (spatial.regions if spatial else ()) for m in (r.mask, r.style_mask)
             if m is not None]
    digest = settings_hash(settings.to_dict(), [*style_images, *masks,
                                                *([content_full] if content_full is not None else [])])
    plan = RunPlan(settings, device, style_images, content_full, recolour, out_hw, style_sizes,
                   layers, memory, digest, [], spatial)
    if is_stylize and plan.feedforward:
        return plan
    shapes = level_shapes(out_hw, min_input_size(layers), settings.coarsest)
    if settings.tile and max(out_hw) > settings.refine_tile:
        raise TexstyleError(f"--tile works up to --refine-tile ({settings.refine_tile} px); "
                            f"the output is {out_hw[1]}x{out_hw[0]} px")
    tiles = [len(plan_tiles(*hw, settings.refine_tile, settings.refine_overlap))
             if is_tiled(hw, settings) else 0 for hw in shapes]
    budgets = level_budgets(shapes, settings.iters, settings.fine_iters, [t > 0 for t in tiles],
                            settings.print_iters)
    levels = [LevelPlan(hw, n, t) for hw, n, t in zip(shapes, budgets, tiles)]
    return RunPlan(settings, device, style_images, content_full, recolour, out_hw, style_sizes,
                   layers, memory, digest, levels, spatial)


def _check_size(name: str, hw: tuple[int, int], layers: list[str]) -> None:
    need = min_input_size(layers)
    if min(hw) < need:
        raise TexstyleError(
            f"{name} is {hw[1]}x{hw[0]} px, too small for layer {max(layers, key=layer_index)}: "
            f"it needs at least {need} px on each side"
        )


def check_memory(settings: TextureSettings, out_hw: tuple[int, int],
                 style_images: Sequence[torch.Tensor], content_full: torch.Tensor | None,
                 layers: list[str], device: torch.device) -> MemoryEstimate:
    """The peak at the finest level; stop before starting when it would not fit (memory.py)."""
    inputs = [hw_of(img) for img in [*style_images, content_full] if img is not None]
    min_side = min_input_size(list(settings.style_layers))

    def at(long_side: int) -> tuple[tuple[int, int], MemoryEstimate]:
        hw = fit_long_side(*out_hw, long_side)
        styles = [style_shape(hw_of(img), hw, settings.style_scale, min_side)
                  for img in style_images]
        tiled = is_tiled(hw, settings)
        # Tiled refinement (refine.py) holds one tile's activations and optimiser state at a time,
        # plus a few whole-image buffers and each tile's stored statistics.
        work = (min(hw[0], settings.refine_tile), min(hw[1], settings.refine_tile)) if tiled else hw
        estimate = estimate_peak(work, styles, inputs, layers,
                                 optimizer=settings.resolved_optimizer(), iters=settings.iters,
                                 device=device.type)
        if tiled:
            n_tiles = len(plan_tiles(*hw, settings.refine_tile, settings.refine_overlap))
            whole = WHOLE_IMAGE_COPIES * 4 * 3 * hw[0] * hw[1] + n_tiles * TILE_STATS_BYTES
            estimate = MemoryEstimate(estimate.parts | {"whole image (tiled)": whole})
        return hw, estimate

    limit: int | None
    if settings.max_memory is not None:
        limit, name = int(settings.max_memory * GB), "limit set by max_memory (--max-memory)"
    else:
        limit, name = available_bytes(device), f"free on the {device.type.upper()}"
    if limit is None:
        return at(max(out_hw))[1]  # unknown (not Linux): nothing to check against
    return check_fits(at, max(out_hw), limit, name)
