"""The one place that wires the pieces together: images → features → targets → objective → loop.

``synthesize_texture`` and ``stylize`` are the public face (PIL in, PIL out); ``run_texture`` and
``run_stylize`` return the full record (loss history, resolved settings) that the CLI writes.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from PIL import Image

from .adversarial import (
    LayerDisc,
    make_discriminators,
    moment_statistic,
    optimize_adversarial,
    real_samples,
)
from .checkpoint import Checkpoint, check_compatible
from .colour import distribution_transfer
from .config import StylizeSettings, TextureSettings, is_gan, parse_disc
from .errors import Interrupted, TexstyleError
from .features import VGGFeatures
from .guides import Guide, Region, guided_targets
from .image import ImageInput, resize, to_pil
from .layers import min_input_size
from .losses import Objective, TemporalTarget, style_targets
from .memory import (
    with_oom_fallback,
)
from .optimize import LoopInterrupted, LoopState, OptimResult, optimize
from .plan import LevelPlan, RunPlan, StyleInput, plan_run, read_input, resolve_device, style_shape
from .progress import Callback, placed
from .refine import refine_tiled
from .regions import RegionPlan, SpatialPlan
from .seamless import periodic_resize
from .stats import STATISTICS, Statistic, blend_weights
from .weights import VGGWeights, load_weights

log = logging.getLogger(__name__)
# Weight of the pixel term that keeps regions mapped to the photo (--rest content) as they were:
# the content term alone (relu4_2) lets their colours drift towards the neighbours' styles.
KEEP_WEIGHT = 10.0

CheckpointWriter = Callable[[Checkpoint], None]


@dataclass
class RunResult:
    """An output image with everything needed to reproduce and judge it."""

    image: torch.Tensor  # (1, 3, H, W) in [0, 1], on the CPU
    history: list[dict[str, float]]
    settings: dict[str, Any]  # resolved: sizes, device and layer weights filled in
    elapsed: float

    def to_pil(self) -> Image.Image:
        return to_pil(self.image)


class RunInterrupted(Interrupted[RunResult]):
    """Ctrl-C during ``run_texture`` / ``run_stylize``: ``partial`` is the best ``RunResult`` so
    far, its record marked with ``interrupted_at``.  When nothing is finished yet (Ctrl-C before
    the first evaluation) a plain ``KeyboardInterrupt`` is raised instead."""


@functools.lru_cache(maxsize=2)
def _cached_weights(spec: str) -> VGGWeights:
    return load_weights(spec)


def _blended_colour(style_images: list[torch.Tensor], settings: TextureSettings) -> torch.Tensor:
    """Mean colour of the (blended) styles, (1, 3, 1, 1): where noise initialisation starts."""
    blend = settings.style_blend or (1.0,) * len(style_images)
    means = [img.mean(dim=(2, 3), keepdim=True) * w for img, w in zip(style_images, blend)]
    return sum(means) / sum(blend)


def _initial_image(init: str, shape: tuple[int, int], *, colour: torch.Tensor,
                   content: torch.Tensor | None, generator: torch.Generator,
                   feedforward: Callable[[torch.Tensor], torch.Tensor],
                   palette: Callable[[torch.Tensor], torch.Tensor],
                   max_pixels: int | None = None) -> torch.Tensor:
    h, w = shape
    if init == "palette" and content is None:
        # A texture: white noise whose colours are drawn from the exemplar's palette.
        return palette(torch.rand(1, 3, h, w, generator=generator))
    if init in ("content", "adain", "palette"):
        if content is None:
            raise TexstyleError(f"init {init!r} needs a content image; use 'noise' or a path")
        # AdaIN's one-pass stylisation already has the style's colours and much of its texture,
        # so the optimiser starts far closer than from the photo (docs/performance.md).
        if init == "adain":
            return feedforward(content)
        # The photo repainted in the painting's colours (their whole distribution): the palette
        # is there from the first evaluation, and the budget goes to the strokes.  From the
        # photo itself, L-BFGS's 100 evaluations left much of the photo's colours under a
        # pastel speckle (docs/quality.md: colour distance 0.103 -> 0.023 at 128 px).
        return palette(content) if init == "palette" else content.clone()
    if init == "noise":
        # Small noise around the style image's mean colour: starting at the right colour and
        # contrast saves iterations compared with the paper's uniform [0, 1] noise.
        noise = torch.randn(1, 3, h, w, generator=generator) * 0.1
        return (colour + noise).clamp(0, 1)
    return resize(read_input(init, "init image", max_pixels), h, w)


def _run(
    style: StyleInput | None,
    content: ImageInput | None,
    settings: TextureSettings,
    callback: Callback | None,
    *,
    checkpoint: CheckpointWriter | None = None,
    checkpoint_every: int | None = None,
    resume: Checkpoint | None = None,
    temporal: TemporalTarget | None = None,
) -> RunResult:
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    plan = plan_run(style, content, settings)
    if resume is not None:
        check_compatible(resume, plan.digest, settings.to_dict())
    if temporal is not None:
        _check_temporal(plan, temporal)
    if plan.feedforward:
        quick = _run_feedforward(plan)
        return replace(quick, image=plan.recolour(quick.image)) if plan.recolour else quick
    return _run_levels(plan, generator, callback, checkpoint=checkpoint,
                       checkpoint_every=checkpoint_every, resume=resume, temporal=temporal)


def _check_temporal(plan: RunPlan, temporal: TemporalTarget) -> None:
    """A temporal target must fit the output and the ways of running that can use it."""
    if plan.feedforward:
        raise TexstyleError("a temporal target needs the optimisation (method gatys); a "
                            "feed-forward stylisation is blended along the flow instead")
    if tuple(temporal.image.shape[-2:]) != plan.out_hw:
        h, w = temporal.image.shape[-2:]
        raise TexstyleError(f"the temporal target is {w}x{h} px; the output is "
                            f"{plan.out_hw[1]}x{plan.out_hw[0]} px")
    if any(lv.tiles for lv in plan.levels):
        raise TexstyleError("a temporal target works up to --refine-tile px; refine in tiles "
                            "or keep the video smaller")
    if plan.recolour is not None:
        # The target is the previous output in its final colours; the optimisation runs on
        # luminance only and is recoloured after, so the two would not compare.
        raise TexstyleError("--preserve-color luminance cannot be kept consistent over frames; "
                            "use histogram")


@dataclass
class _Networks:
    """What every level of a run shares: the extractors, the layer weights, the adversarial
    loss's discriminators (trained on over the levels)."""

    extractor: VGGFeatures  # for the targets
    iterate: VGGFeatures  # for the iterate: circular padding when the output is seamless
    layer_weights: dict[str, float]
    discs: dict[str, LayerDisc] | None = None


def _run_levels(plan: RunPlan, generator: torch.Generator, callback: Callback | None, *,
                checkpoint: CheckpointWriter | None, checkpoint_every: int | None,
                resume: Checkpoint | None, temporal: TemporalTarget | None = None) -> RunResult:
    """Execute the plan's levels, coarsest first, each warm-started from the one below.

    With a ``temporal`` target (a video frame) the first level starts from the warped previous
    output instead of the initial image, and every level's objective keeps close to it.
    """
    settings, device = plan.settings, plan.device
    weights = _cached_weights(settings.weights)
    extractor = VGGFeatures(weights, plan.layers, pooling=settings.pooling).to(device)
    # Seamless output: the iterate is optimised as a periodic image, but the exemplar is not
    # periodic, so its targets come from the ordinary (non-wrapping) network.
    iterate_extractor = (VGGFeatures(weights, plan.layers, pooling=settings.pooling, circular=True)
                         .to(device) if settings.tile else extractor)
    nets = _Networks(extractor, iterate_extractor, settings.normalized_layer_weights())
    levels = plan.levels

    image: torch.Tensor | None = None
    finished: torch.Tensor | None = None  # the last completed level's image (saved on Ctrl-C)
    history: list[dict[str, float]] = list(resume.history) if resume else []
    elapsed = resume.elapsed if resume else 0.0
    level = 1
    try:
        for level, lv in enumerate(levels, start=1):
            if resume is not None and level < resume.level:
                continue  # done before the checkpoint; its result is in the checkpoint's iterate
            # A tiled level takes its content features tile by tile: never the whole image at once.
            objective = _level_objective(extractor, settings, plan.style_images,
                                         None if lv.tiles else plan.content, lv.shape,
                                         nets.layer_weights, device, generator, plan.spatial,
                                         photo=plan.content)
            objective = replace(objective, extractor=iterate_extractor, wrap=settings.tile,
                                temporal=temporal.resized(*lv.shape) if temporal else None)
            state = resume.loop if resume is not None and level == resume.level else None
            if state is not None:
                assert resume is not None
                image = state.iterate
                # Noise, random projections: continue the random streams where they were.
                generator.set_state(resume.generator_state)
                torch.set_rng_state(resume.torch_rng_state)
            elif image is None and temporal is not None:
                image = temporal.resized(*lv.shape).image  # Ruder et al.: start from the warp
            else:
                image = _level_start(plan, lv.shape, image, generator)
            log.info("level %d/%d: %dx%d px on %s, %d iterations", level, len(levels),
                     lv.shape[1], lv.shape[0], device, lv.iters)
            report = placed(callback, before=plan.offset(level), total=plan.total_evaluations,
                            elapsed=elapsed, level=level, levels=len(levels),
                            size=(lv.shape[1], lv.shape[0]))
            save = _level_checkpointer(checkpoint, plan.digest, settings.to_dict(), level,
                                       list(history), elapsed, generator)
            result = _optimise_level(plan, nets, lv, image.to(device), objective, generator,
                                     report, state=state, save=save,
                                     checkpoint_every=checkpoint_every)
            image = finished = result.image
            history += [record | {"level": float(level)} for record in result.history]
            elapsed += result.elapsed
    except KeyboardInterrupt as exc:
        # Ctrl-C / SIGTERM: hand the best image so far to the caller, with what led to it.
        # Inside a level the loop hands over its result; elsewhere (targets, an upsample) the
        # last finished level is all there is.
        partial = exc.partial if isinstance(exc, LoopInterrupted) else None
        if partial is not None and partial.history:
            history += [record | {"level": float(level)} for record in partial.history]
            finished, elapsed = partial.image, elapsed + partial.elapsed
        if finished is None:
            raise KeyboardInterrupt from exc  # nothing to save; never the loop's own type
        if plan.recolour is not None:
            finished = plan.recolour(finished)
        record = plan.record() | {"interrupted_at": {"level": level, "iteration": len(history)}}
        raise RunInterrupted(RunResult(finished.cpu(), history, record, elapsed)) from None

    assert image is not None, "a plan has at least one level"
    if plan.recolour is not None:
        image = plan.recolour(image)
    return RunResult(image.cpu(), history, plan.record(), elapsed)


def _in_style_colours(content: torch.Tensor, style_images: list[torch.Tensor],
                      blend: tuple[float, ...] | None) -> torch.Tensor:
    """``content`` recoloured so that its colour distribution is the (blended) styles'.

    Several styles: the target is their pixels pooled, each style resized so that its share of
    the pool is its blend weight, which is the mixture's colour distribution.
    """
    pool = []
    for img, share in zip(style_images, blend_weights(blend, len(style_images)), strict=True):
        if share <= 0:
            continue
        h, wd = img.shape[-2:]
        scale = (share * 65536 / (h * wd)) ** 0.5
        small = resize(img, max(1, round(h * scale)), max(1, round(wd * scale)))
        pool.append(small.reshape(1, 3, 1, -1))
    return distribution_transfer(content, torch.cat(pool, dim=-1))


def _level_start(plan: RunPlan, hw: tuple[int, int], below: torch.Tensor | None,
                 generator: torch.Generator) -> torch.Tensor:
    """The image a level starts from: the level below upsampled, or the initial image."""
    settings = plan.settings
    if below is not None:
        return (periodic_resize if settings.tile else resize)(below, *hw)
    content = resize(plan.content, *hw) if plan.content is not None else None
    if plan.spatial is not None and plan.spatial.regions and settings.init in ("palette", "noise"):
        return _regional_start(plan, plan.spatial.regions, hw, content, generator)
    return _initial_image(settings.init, hw, colour=_blended_colour(plan.style_images, settings),
                          content=content, generator=generator,
                          feedforward=lambda c: _feedforward(c, plan.style_images, settings,
                                                             plan.device, "adain"),
                          palette=lambda c: _in_style_colours(c, plan.style_images,
                                                              settings.style_blend),
                          max_pixels=settings.max_pixels)


def level_mask(mask: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """A region's mask at a pyramid level's size (area-averaged, so it stays in [0, 1])."""
    if tuple(mask.shape[-2:]) == hw:
        return mask
    return torch.nn.functional.interpolate(mask, size=hw, mode="bilinear", align_corners=False,
                                           antialias=True).clamp(0, 1)


def _region_pixels(plan: RunPlan, region: RegionPlan) -> torch.Tensor:
    """The colours a region takes: its style image's pixels under its style mask, (1, 3, 1, N)."""
    pool = []
    for i in region.styles:
        img = plan.style_images[i]
        pixels = img.reshape(3, -1)
        if region.style_mask is not None:
            # Mostly inside; a faint (soft, small) region takes its most-inside half.
            weights = region.style_mask.reshape(-1)
            pixels = pixels[:, weights >= min(0.5, 0.5 * float(weights.max()))]
        step = max(1, pixels.shape[1] // 65536)
        pool.append(pixels[:, ::step])
    return torch.cat(pool, dim=1).reshape(1, 3, 1, -1)


def _regional_start(plan: RunPlan, regions: tuple[RegionPlan, ...], hw: tuple[int, int],
                    content: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """The first level's image with regions: each region starts in its own style's colours (the
    photo repainted in them, or noise around their mean), kept regions as the photo; blended
    by the soft masks, so a boundary starts as a gradient, not a seam."""
    out = torch.zeros(1, 3, *hw)
    weight = torch.zeros(1, 1, *hw)
    for region in regions:
        mask = level_mask(region.mask, hw)
        if not region.styles:
            assert content is not None, "a kept region needs the photo"
            piece = content
        else:
            pixels = _region_pixels(plan, region)
            if content is not None and plan.settings.init == "palette":
                piece = distribution_transfer(content, pixels)
            else:
                noise = torch.randn(1, 3, *hw, generator=generator) * 0.1
                piece = (pixels.mean(dim=(2, 3), keepdim=True) + noise).clamp(0, 1)
        out += mask * piece
        weight += mask
    return out / weight.clamp_min(1e-6)


def _optimise_level(plan: RunPlan, nets: _Networks, lv: LevelPlan, image: torch.Tensor,
                    objective: Objective, generator: torch.Generator, report: Callback | None, *,
                    state: LoopState | None, save: Callable[[LoopState], None] | None,
                    checkpoint_every: int | None) -> OptimResult:
    """Run the step that fits the level: adversarial, a sweep over tiles, or L-BFGS/Adam."""
    settings, device = plan.settings, plan.device
    if is_gan(settings.loss):
        # A moving objective: no line search, no checkpoints mid-level (adversarial.py).
        reals = real_samples(_style_features(nets.extractor, settings, plan.style_images,
                                             lv.shape, device),
                             settings.style_layers, settings.style_blend)
        nets.discs = nets.discs or make_discriminators(parse_disc(settings.gan.disc), reals,
                                                       settings.gan.disc_lr)
        return optimize_adversarial(image, objective, nets.discs, reals, settings.gan,
                                    iters=lv.iters, lr=settings.lr, callback=report,
                                    generator=generator)
    if lv.tiles:
        # No mid-level checkpoints here: a resumed run restarts this level from the
        # checkpoint written at the end of the level below.
        log.info("%d tiles of up to %d px", lv.tiles, settings.refine_tile)
        content = None
        if isinstance(settings, StylizeSettings) and plan.content is not None:
            content = resize(plan.content, *lv.shape).to(device)
            objective = replace(objective, content_layer=settings.content_layer,
                                content_weight=settings.content_weight)
        return refine_tiled(image, objective, content=content, tile=settings.refine_tile,
                            overlap=settings.refine_overlap, iters=lv.iters,
                            optimizer=settings.resolved_optimizer(), lr=settings.lr,
                            callback=report)
    return optimize(image, objective, iters=lv.iters, optimizer=settings.resolved_optimizer(),
                    lr=settings.lr, callback=report,
                    line_search=not objective.statistic.stochastic, state=state, checkpoint=save,
                    checkpoint_every=checkpoint_every, tolerance=settings.tolerance)


def _run_with_fallback(style: StyleInput | None, content: ImageInput | None, settings: TextureSettings,
                       callback: Callback | None, **files: Any) -> RunResult:
    """``_run``, started again with cheaper settings or on the CPU if CUDA runs out of memory."""
    on_cuda = resolve_device(settings.device).type == "cuda"
    return with_oom_fallback(lambda s: _run(style, content, s, callback, **files), settings,
                             on_cuda=on_cuda)


def _level_checkpointer(write: CheckpointWriter | None, digest: str, settings: dict[str, Any],
                        level: int, history: list[dict[str, float]], elapsed: float,
                        generator: torch.Generator) -> Callable[[LoopState], None] | None:
    """Turn one level's loop snapshots into whole-run checkpoints (random streams included)."""
    if write is None:
        return None

    def save(loop: LoopState) -> None:
        write(Checkpoint(digest, settings, level, loop, history, elapsed, generator.get_state(),
                         torch.get_rng_state()))

    return save


def _feedforward(content: torch.Tensor, style_images: list[torch.Tensor],
                 settings: TextureSettings, device: torch.device, method: str) -> torch.Tensor:
    """One feed-forward stylisation of ``content`` at its own size; styles scaled to match."""
    from .feedforward import feedforward_stylize  # loads the decoder only when asked for

    hw = tuple(content.shape[-2:])
    styles = [resize(img, *style_shape(tuple(img.shape[-2:]), hw, settings.style_scale, min_side=16))
              for img in style_images]
    alpha = getattr(settings, "alpha", 1.0)
    return feedforward_stylize(content, styles, method=method, alpha=alpha,
                               blend=settings.style_blend, device=device)


def _run_feedforward(plan: RunPlan) -> RunResult:
    start = time.perf_counter()
    assert plan.content is not None and isinstance(plan.settings, StylizeSettings)
    image = _feedforward(resize(plan.content, *plan.out_hw), plan.style_images, plan.settings,
                         plan.device, plan.settings.method)
    return RunResult(image, [], plan.record(), time.perf_counter() - start)


def _level_objective(extractor: VGGFeatures, settings: TextureSettings,
                     style_images: list[torch.Tensor], content_full: torch.Tensor | None,
                     hw: tuple[int, int], layer_weights: dict[str, float], device: torch.device,
                     generator: torch.Generator, spatial: SpatialPlan | None = None,
                     photo: torch.Tensor | None = None) -> Objective:
    """Targets for one pyramid level: each style is analysed at the scale that matches ``hw``.

    ``photo``: the content image for the pixels kept as the photo (regions mapped to content),
    given even at a tiled level, where ``content_full`` is None."""
    feats = _style_features(extractor, settings, style_images, hw, device)
    # A gan loss keeps only its fixed part here (gan+gram: gram); the adversarial term is added
    # by adversarial.optimize_adversarial.
    name = moment_statistic(settings.loss)
    statistic = STATISTICS[name or "gram"]
    targets = (style_targets(feats, settings.style_layers, statistic, settings.style_blend)
               if name and spatial is None else {})
    if spatial is not None and spatial.layer_styles is not None:
        # Scale mixing: each layer's target from its own style (coarse deep, fine shallow).
        targets = {n: style_targets(feats[i], [n], statistic)[n]
                   for n, i in spatial.layer_styles.items()}
    objective = Objective(extractor, targets, layer_weights, style_weight=settings.style_weight,
                          tv_weight=settings.tv_weight, statistic=statistic, generator=generator)
    if spatial is not None and spatial.regions:
        objective = replace(objective, **_guidance(spatial, feats, statistic, settings, hw,
                                                   photo, device))
    if isinstance(settings, StylizeSettings) and content_full is not None:
        with torch.no_grad():
            target = extractor(resize(content_full, *hw).to(device))[settings.content_layer]
        objective = replace(objective, content_target=target, content_layer=settings.content_layer,
                            content_weight=settings.content_weight)
    return objective


def _guidance(spatial: SpatialPlan, feats: list[dict[str, torch.Tensor]], statistic: Statistic,
              settings: TextureSettings, hw: tuple[int, int], photo: torch.Tensor | None,
              device: torch.device) -> dict[str, Any]:
    """The guided style term of one level (guides.py) and the pixel term of the kept regions."""
    blend = blend_weights(settings.style_blend, len(settings.style_blend or ())) \
        if settings.style_blend else None
    regions = []
    for r in spatial.styled:
        weights = (blend if blend is not None and len(blend) == len(r.styles)
                   else blend_weights(None, len(r.styles)))
        targets = guided_targets(statistic, [feats[i] for i in r.styles],
                                 [r.style_mask] * len(r.styles), settings.style_layers, weights,
                                 settings.spatial.mask_erosion)
        mask = level_mask(r.mask, hw).to(device)
        regions.append(Region(mask, float(mask.mean()), targets))
    changes: dict[str, Any] = {"guide": Guide(tuple(regions), settings.spatial.mask_erosion)}
    keep = spatial.keep_mask()
    if keep is not None and photo is not None:
        changes["keep"] = TemporalTarget(resize(photo, *hw).to(device),
                                         level_mask(keep, hw).to(device), KEEP_WEIGHT)
    return changes


def _style_features(extractor: VGGFeatures, settings: TextureSettings,
                    style_images: list[torch.Tensor], hw: tuple[int, int], device: torch.device
                    ) -> list[dict[str, torch.Tensor]]:
    feats = []
    for img in style_images:
        style_hw = style_shape(tuple(img.shape[-2:]), hw, settings.style_scale,
                               min_side=min_input_size(list(settings.style_layers)))
        with torch.no_grad():
            feats.append(extractor(resize(img, *style_hw).to(device)))
    return feats


def _settings(cls: type[TextureSettings], settings: TextureSettings | None,
              options: dict[str, Any]) -> TextureSettings:
    for key in ("style_layers", "layer_weights", "style_blend", "region", "exemplar"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    if settings is not None and type(settings) is not cls:
        raise TypeError(f"settings must be {cls.__name__}, got {type(settings).__name__}")
    base = settings if settings is not None else cls()
    return base.with_options(**options)  # flat GAN options (disc=…) go into base.gan


def run_texture(style: StyleInput | None, settings: TextureSettings | None = None,
                callback: Callback | None = None, *, checkpoint: CheckpointWriter | None = None,
                checkpoint_every: int | None = None, resume: Checkpoint | None = None,
                **options: Any) -> RunResult:
    """Grow a texture from ``style``; returns the image with its loss history and settings.

    ``checkpoint(Checkpoint)`` is called about every ``checkpoint_every`` iterations and at the
    end of each level (``checkpoint.save_checkpoint`` writes one); ``resume`` continues from one.
    Ctrl-C raises ``RunInterrupted`` whose ``partial`` is the best ``RunResult`` so far.
    ``style`` may be None when the options name the styles (``label_map`` with ``exemplar``,
    ``style_coarse`` with ``style_fine``; docs/spatial.md).
    """
    return _run_with_fallback(style, None, _settings(TextureSettings, settings, options), callback,
                              checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                              resume=resume)


def run_stylize(content: ImageInput, style: StyleInput | None, settings: StylizeSettings | None = None,
                callback: Callback | None = None, *, checkpoint: CheckpointWriter | None = None,
                checkpoint_every: int | None = None, resume: Checkpoint | None = None,
                temporal: TemporalTarget | None = None, **options: Any) -> RunResult:
    """Paint ``content`` in the style of ``style``; returns the image, history and settings.

    Checkpoints, resuming and Ctrl-C as for ``run_texture``.  ``temporal`` (a video frame, see
    ``video/``) starts from the warped previous output and adds Ruder et al.'s temporal term.
    ``style`` may be None when regions name their styles (``region=("sky.png:painting.jpg",)``)
    or with ``style_coarse`` / ``style_fine`` (docs/spatial.md).
    """
    return _run_with_fallback(style, content, _settings(StylizeSettings, settings, options),
                              callback, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                              resume=resume, temporal=temporal)


def synthesize_texture(style: StyleInput | None, *, callback: Callback | None = None,
                       **options: Any) -> Image.Image:
    """A texture that VGG-19 cannot tell from ``style`` by the chosen statistic (``loss``).

    ``style`` may be a path, a PIL image, a NumPy array or a (3, H, W) tensor in [0, 1], or a
    list of them mixed with the weights ``style_blend``.
    ``options`` are the fields of ``TextureSettings`` (size, iters, seed, style_layers, …).
    """
    return run_texture(style, callback=callback, **options).to_pil()


def stylize(content: ImageInput, style: StyleInput | None, *, callback: Callback | None = None,
            **options: Any) -> Image.Image:
    """``content`` painted in the style of ``style`` (Gatys et al., 2016).

    ``options`` are the fields of ``StylizeSettings`` (content_weight, style_weight, …).
    """
    return run_stylize(content, style, callback=callback, **options).to_pil()


def full_resolution_losses(image: torch.Tensor, style: StyleInput, content: ImageInput | None,
                           settings: TextureSettings) -> dict[str, float]:
    """Each loss term of ``image`` against the targets of its own (final) size.

    The yardstick for comparing schedules and methods: a pyramid's last-level loss and a
    single-scale run's loss are then measured by the same function.
    """
    device = resolve_device(settings.device)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    style_images = [read_input(s, "style image") for s in styles]
    content_full = read_input(content, "content image") if content is not None else None
    layers = list(settings.style_layers)
    if isinstance(settings, StylizeSettings):
        layers.append(settings.content_layer)
    extractor = VGGFeatures(_cached_weights(settings.weights), layers, pooling=settings.pooling)
    extractor = extractor.to(device)
    hw = tuple(image.shape[-2:])
    generator = torch.Generator().manual_seed(settings.seed)
    objective = _level_objective(extractor, settings, style_images, content_full, hw,
                                 settings.normalized_layer_weights(), device, generator)
    with torch.no_grad():
        total, terms = objective(image.to(device))
    return {k: float(v) for k, v in terms.items()} | {"total": float(total)}
