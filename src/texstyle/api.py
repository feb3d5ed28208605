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
    is_gan,
    make_discriminators,
    moment_statistic,
    optimize_adversarial,
    parse_disc,
    real_samples,
)
from .checkpoint import Checkpoint, check_compatible, settings_hash
from .colour import prepare as prepare_colour
from .config import StylizeSettings, TextureSettings
from .errors import Interrupted, TexstyleError
from .features import VGGFeatures
from .image import ImageInput, fit_long_side, load_image, resize, to_pil
from .layers import layer_index, min_input_size
from .losses import Objective, style_targets
from .memory import (
    GB,
    TILE_STATS_BYTES,
    WHOLE_IMAGE_COPIES,
    MemoryEstimate,
    available_bytes,
    check_fits,
    estimate_peak,
    with_oom_fallback,
)
from .optimize import LoopState, OptimResult, Progress, optimize
from .pyramid import level_budgets, level_shapes
from .samples import is_sample, load_sample
from .seamless import periodic_resize
from .stats import STATISTICS
from .tiled import TiledProblem, plan_tiles, refine_tiled
from .weights import VGGWeights, load_weights

log = logging.getLogger(__name__)

Callback = Callable[[Progress], None]
CheckpointWriter = Callable[[Checkpoint], None]
StyleInput = ImageInput | list[ImageInput] | tuple[ImageInput, ...]  # several styles are mixed


@dataclass
class RunResult:
    """An output image with everything needed to reproduce and judge it."""

    image: torch.Tensor  # (1, 3, H, W) in [0, 1], on the CPU
    history: list[dict[str, float]]
    settings: dict[str, Any]  # resolved: sizes, device and layer weights filled in
    elapsed: float

    def to_pil(self) -> Image.Image:
        return to_pil(self.image)


def read_input(source: ImageInput, what: str, max_pixels: int | None = None) -> torch.Tensor:
    """Like ``image.load_image``, and ``sample:NAME`` names a built-in sample."""
    if is_sample(source):
        return load_image(load_sample(source), what)
    return load_image(source, what, max_pixels=max_pixels)


@functools.lru_cache(maxsize=2)
def _cached_weights(spec: str) -> VGGWeights:
    return load_weights(spec)


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


def _check_size(name: str, hw: tuple[int, int], layers: list[str]) -> None:
    need = min_input_size(layers)
    if min(hw) < need:
        raise TexstyleError(
            f"{name} is {hw[1]}x{hw[0]} px, too small for layer {_deepest(layers)}: "
            f"it needs at least {need} px on each side"
        )


def _deepest(layers: list[str]) -> str:
    return max(layers, key=layer_index)


def _blended_colour(style_images: list[torch.Tensor], settings: TextureSettings) -> torch.Tensor:
    """Mean colour of the (blended) styles, (1, 3, 1, 1): where noise initialisation starts."""
    blend = settings.style_blend or (1.0,) * len(style_images)
    means = [img.mean(dim=(2, 3), keepdim=True) * w for img, w in zip(style_images, blend)]
    return sum(means) / sum(blend)


def _initial_image(init: str, shape: tuple[int, int], *, colour: torch.Tensor,
                   content: torch.Tensor | None, generator: torch.Generator,
                   feedforward: Callable[[torch.Tensor], torch.Tensor],
                   max_pixels: int | None = None) -> torch.Tensor:
    h, w = shape
    if init in ("content", "adain"):
        if content is None:
            raise TexstyleError(f"init {init!r} needs a content image; use 'noise' or a path")
        # AdaIN's one-pass stylisation already has the style's colours and much of its texture,
        # so the optimiser starts far closer than from the photo (docs/performance.md).
        return feedforward(content) if init == "adain" else content.clone()
    if init == "noise":
        # Small noise around the style image's mean colour: starting at the right colour and
        # contrast saves iterations compared with the paper's uniform [0, 1] noise.
        noise = torch.randn(1, 3, h, w, generator=generator) * 0.1
        return (colour + noise).clamp(0, 1)
    return resize(read_input(init, "init image", max_pixels), h, w)


def _run(
    style: StyleInput,
    content: ImageInput | None,
    settings: TextureSettings,
    callback: Callback | None,
    *,
    checkpoint: CheckpointWriter | None = None,
    checkpoint_every: int | None = None,
    resume: Checkpoint | None = None,
) -> RunResult:
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)

    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise TexstyleError("give at least one style image")
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise TexstyleError(f"got {len(settings.style_blend)} style blend weights for "
                            f"{len(styles)} style images")
    style_images = [read_input(s, "style image", settings.max_pixels) for s in styles]
    content_full = (read_input(content, "content image", settings.max_pixels)
                    if content is not None else None)
    reference = content_full if content_full is not None else style_images[0]
    out_hw = output_shape(settings, tuple(reference.shape[-2:]))

    is_stylize = isinstance(settings, StylizeSettings)
    recolour = None
    if is_stylize and content_full is not None:
        style_images, content_full, recolour = prepare_colour(settings.preserve_color,
                                                             style_images, content_full)
    layers = list(settings.style_layers)
    if is_stylize:
        layers.append(settings.content_layer)
    _check_size("output", out_hw, layers)
    style_sizes = [style_shape(tuple(img.shape[-2:]), out_hw, settings.style_scale)
                   for img in style_images]
    for style_hw in style_sizes:
        _check_size("style image (after scaling)", style_hw, list(settings.style_layers))
    _check_memory(settings, out_hw, style_images, content_full, layers, device)
    # Checkpoints are tied to these settings and inputs (checkpoint.py says what is left out).
    digest = settings_hash(settings.to_dict(), [*style_images,
                                                *([content_full] if content_full is not None else [])])
    if resume is not None:
        check_compatible(resume, digest, settings.to_dict())

    if is_stylize and settings.method != "gatys":
        quick = _run_feedforward(settings, style_images, content_full, out_hw, style_sizes, device)
        return replace(quick, image=recolour(quick.image)) if recolour is not None else quick
    weights = _cached_weights(settings.weights)
    extractor = VGGFeatures(weights, layers, pooling=settings.pooling).to(device)
    # Seamless output: the iterate is optimised as a periodic image, but the exemplar is not
    # periodic, so its targets come from the ordinary (non-wrapping) network.
    iterate_extractor = (VGGFeatures(weights, layers, pooling=settings.pooling, circular=True)
                         .to(device) if settings.tile else extractor)
    layer_weights = settings.normalized_layer_weights()
    shapes = level_shapes(out_hw, min_input_size(layers), settings.coarsest)
    if settings.tile and max(out_hw) > settings.refine_tile:
        raise TexstyleError(f"--tile works up to --refine-tile ({settings.refine_tile} px); "
                            f"the output is {out_hw[1]}x{out_hw[0]} px")
    tiles = [len(plan_tiles(*hw, settings.refine_tile, settings.refine_overlap))
             if _is_tiled(hw, settings) else 0 for hw in shapes]
    budgets = level_budgets(shapes, settings.iters, settings.fine_iters, [t > 0 for t in tiles],
                            settings.print_iters)
    evaluations = [n * max(1, t) for n, t in zip(budgets, tiles)]
    grand_total = sum(evaluations)

    def resolved() -> dict[str, Any]:
        return settings.to_dict() | {
            "mode": "stylize" if is_stylize else "texture",
            "output_size": [out_hw[1], out_hw[0]],
            "style_sizes": [[w, h] for h, w in style_sizes],
            "levels": [[w, h] for h, w in shapes],
            "level_iters": budgets,
            "tiles_per_level": tiles,
            "device": str(device),
            "optimizer": settings.resolved_optimizer(),
            "layer_weights": list(layer_weights.values()),
            "style_layers": list(settings.style_layers),
        }

    image: torch.Tensor | None = None
    finished: torch.Tensor | None = None  # the last completed level's image (saved on Ctrl-C)
    discs = None  # the adversarial loss's discriminators, carried over the levels
    history: list[dict[str, float]] = list(resume.history) if resume else []
    elapsed = resume.elapsed if resume else 0.0
    try:
        for level, (hw, iters) in enumerate(zip(shapes, budgets), start=1):
            if resume is not None and level < resume.level:
                continue  # done before the checkpoint; its result is in the checkpoint's iterate
            tiled = tiles[level - 1] > 0
            # A tiled level takes its content features tile by tile: never the whole image at once.
            objective = _level_objective(extractor, settings, style_images,
                                         None if tiled else content_full, hw, layer_weights,
                                         device, generator)
            objective = replace(objective, extractor=iterate_extractor, wrap=settings.tile)
            state: LoopState | None = None
            if resume is not None and level == resume.level:
                state = resume.loop
                image = state.iterate
                # Noise, random projections: continue the random streams where they were.
                generator.set_state(resume.generator_state)
                torch.set_rng_state(resume.torch_rng_state)
            elif image is None:
                content_img = resize(content_full, *hw) if content_full is not None else None
                image = _initial_image(settings.init, hw,
                                       colour=_blended_colour(style_images, settings),
                                       content=content_img, generator=generator,
                                       feedforward=lambda c: _feedforward(c, style_images, settings,
                                                                          device, "adain"),
                                       max_pixels=settings.max_pixels)
            else:
                image = (periodic_resize if settings.tile else resize)(image, *hw)
            log.info("level %d/%d: %dx%d px on %s, %d iterations", level, len(shapes), hw[1],
                     hw[0], device, iters)
            report = _level_reporter(callback, level, len(shapes), hw,
                                     offset=sum(evaluations[:level - 1]), total=grand_total,
                                     elapsed_before=elapsed)
            save = _level_checkpointer(checkpoint, digest, settings.to_dict(), level,
                                       list(history), elapsed, generator)
            if is_gan(settings.loss):
                # A moving objective: no line search, no checkpoints mid-level (adversarial.py).
                reals = real_samples(_style_features(extractor, settings, style_images, hw, device),
                                     settings.style_layers, settings.style_blend)
                discs = discs or make_discriminators(parse_disc(settings.disc), reals,
                                                     settings.disc_lr)
                result = optimize_adversarial(image.to(device), objective, discs, reals,
                                              settings.gan_options(), iters=iters, lr=settings.lr,
                                              callback=report, generator=generator)
            elif tiled:
                # No mid-level checkpoints here: a resumed run restarts this level from the
                # checkpoint written at the end of the level below.
                log.info("level %d: %d tiles of up to %d px", level, tiles[level - 1],
                         settings.refine_tile)
                problem = _tiled_problem(objective, settings, content_full, hw, device)
                result: OptimResult = refine_tiled(
                    image.to(device), problem, tile=settings.refine_tile,
                    overlap=settings.refine_overlap, iters=iters,
                    optimizer=settings.resolved_optimizer(), lr=settings.lr, callback=report)
            else:
                result = optimize(image.to(device), objective, iters=iters,
                                  optimizer=settings.resolved_optimizer(), lr=settings.lr,
                                  callback=report,
                                  line_search=not objective.statistic.stochastic, state=state,
                                  checkpoint=save, checkpoint_every=checkpoint_every,
                                  tolerance=settings.tolerance)
            image = finished = result.image
            history += [record | {"level": float(level)} for record in result.history]
            elapsed += result.elapsed
    except KeyboardInterrupt as exc:
        # Ctrl-C / SIGTERM: hand the best image so far to the caller, with what led to it.
        partial = exc.partial if isinstance(exc, Interrupted) else None
        if isinstance(partial, OptimResult) and partial.history:
            history += [record | {"level": float(level)} for record in partial.history]
            finished, elapsed = partial.image, elapsed + partial.elapsed
        if finished is None:
            raise
        if recolour is not None:
            finished = recolour(finished)
        record = resolved() | {"interrupted_at": {"level": level, "iteration": len(history)}}
        raise Interrupted(RunResult(finished.cpu(), history, record, elapsed)) from None

    if recolour is not None:
        image = recolour(image)
    return RunResult(image.cpu(), history, resolved(), elapsed)


def _is_tiled(hw: tuple[int, int], settings: TextureSettings) -> bool:
    """Whether a level of size ``hw`` is refined in tiles (tiled.py).  The adversarial loss never
    is: its discriminators see the whole level."""
    return max(hw) > settings.refine_tile and not is_gan(settings.loss)


def _check_memory(settings: TextureSettings, out_hw: tuple[int, int],
                  style_images: list[torch.Tensor], content_full: torch.Tensor | None,
                  layers: list[str], device: torch.device) -> None:
    """Stop before starting when the finest level would not fit (memory.py has the model)."""
    if settings.max_memory is not None:
        limit, name = int(settings.max_memory * GB), "limit set by max_memory (--max-memory)"
    else:
        limit, name = available_bytes(device), f"free on the {device.type.upper()}"
    if limit is None:
        return  # unknown (not Linux): nothing to check against
    inputs = [tuple(img.shape[-2:]) for img in [*style_images, content_full] if img is not None]
    min_side = min_input_size(list(settings.style_layers))

    def at(long_side: int):
        hw = fit_long_side(*out_hw, long_side)
        styles = [style_shape(tuple(img.shape[-2:]), hw, settings.style_scale, min_side)
                  for img in style_images]
        tiled = _is_tiled(hw, settings)
        # Tiled refinement (tiled.py) holds one tile's activations and optimiser state at a time,
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

    check_fits(at, max(out_hw), limit, name)


def _run_with_fallback(style: StyleInput, content: ImageInput | None, settings: TextureSettings,
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


def _run_feedforward(settings: StylizeSettings, style_images: list[torch.Tensor],
                     content: torch.Tensor, out_hw: tuple[int, int],
                     style_sizes: list[tuple[int, int]], device: torch.device) -> RunResult:
    start = time.perf_counter()
    image = _feedforward(resize(content, *out_hw), style_images, settings, device, settings.method)
    resolved = settings.to_dict() | {
        "mode": "stylize", "output_size": [out_hw[1], out_hw[0]],
        "style_sizes": [[w, h] for h, w in style_sizes], "device": str(device),
    }
    return RunResult(image, [], resolved, time.perf_counter() - start)


def _level_objective(extractor: VGGFeatures, settings: TextureSettings,
                     style_images: list[torch.Tensor], content_full: torch.Tensor | None,
                     hw: tuple[int, int], layer_weights: dict[str, float], device: torch.device,
                     generator: torch.Generator) -> Objective:
    """Targets for one pyramid level: each style is analysed at the scale that matches ``hw``."""
    feats = _style_features(extractor, settings, style_images, hw, device)
    # A gan loss keeps only its fixed part here (gan+gram: gram); the adversarial term is added
    # by adversarial.optimize_adversarial.
    name = moment_statistic(settings.loss)
    statistic = STATISTICS[name or "gram"]
    targets = (style_targets(feats, settings.style_layers, statistic, settings.style_blend)
               if name else {})
    objective = Objective(extractor, targets, layer_weights, style_weight=settings.style_weight,
                          tv_weight=settings.tv_weight, statistic=statistic, generator=generator)
    if isinstance(settings, StylizeSettings) and content_full is not None:
        with torch.no_grad():
            target = extractor(resize(content_full, *hw).to(device))[settings.content_layer]
        objective = replace(objective, content_target=target, content_layer=settings.content_layer,
                            content_weight=settings.content_weight)
    return objective


def _tiled_problem(objective: Objective, settings: TextureSettings,
                   content_full: torch.Tensor | None, hw: tuple[int, int],
                   device: torch.device) -> TiledProblem:
    """The level's objective in the pieces tiled refinement needs (targets stay global)."""
    is_stylize = isinstance(settings, StylizeSettings) and content_full is not None
    return TiledProblem(
        objective.extractor, objective.style_targets, objective.layer_weights,
        objective.statistic, style_weight=objective.style_weight,
        content=resize(content_full, *hw).to(device) if is_stylize else None,
        content_layer=settings.content_layer if is_stylize else None,
        content_weight=settings.content_weight if is_stylize else 0.0,
        tv_weight=objective.tv_weight)


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


def _level_reporter(callback: Callback | None, level: int, levels: int, hw: tuple[int, int], *,
                    offset: int, total: int, elapsed_before: float) -> Callback | None:
    """Turn one level's progress into progress over the whole pyramid."""
    if callback is None:
        return None

    def report(p: Progress) -> None:
        callback(replace(p, iteration=p.iteration + offset, total=total,
                         elapsed=p.elapsed + elapsed_before, level=level, levels=levels,
                         size=(hw[1], hw[0])))

    return report


def _settings(cls: type[TextureSettings], settings: TextureSettings | None,
              options: dict[str, Any]) -> TextureSettings:
    unknown = set(options) - set(cls.field_names())
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; "
                        f"valid: {', '.join(cls.field_names())}")
    for key in ("style_layers", "layer_weights", "style_blend"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    if settings is not None and type(settings) is not cls:
        raise TypeError(f"settings must be {cls.__name__}, got {type(settings).__name__}")
    base = settings if settings is not None else cls()
    return replace(base, **options)


def run_texture(style: StyleInput, settings: TextureSettings | None = None,
                callback: Callback | None = None, *, checkpoint: CheckpointWriter | None = None,
                checkpoint_every: int | None = None, resume: Checkpoint | None = None,
                **options: Any) -> RunResult:
    """Grow a texture from ``style``; returns the image with its loss history and settings.

    ``checkpoint(Checkpoint)`` is called about every ``checkpoint_every`` iterations and at the
    end of each level (``checkpoint.save_checkpoint`` writes one); ``resume`` continues from one.
    Ctrl-C raises ``errors.Interrupted`` whose ``partial`` is the best ``RunResult`` so far.
    """
    return _run_with_fallback(style, None, _settings(TextureSettings, settings, options), callback,
                              checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                              resume=resume)


def run_stylize(content: ImageInput, style: StyleInput, settings: StylizeSettings | None = None,
                callback: Callback | None = None, *, checkpoint: CheckpointWriter | None = None,
                checkpoint_every: int | None = None, resume: Checkpoint | None = None,
                **options: Any) -> RunResult:
    """Paint ``content`` in the style of ``style``; returns the image, history and settings.

    Checkpoints, resuming and Ctrl-C as for ``run_texture``.
    """
    return _run_with_fallback(style, content, _settings(StylizeSettings, settings, options),
                              callback, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                              resume=resume)


def synthesize_texture(style: StyleInput, *, callback: Callback | None = None,
                       **options: Any) -> Image.Image:
    """A texture that VGG-19 cannot tell from ``style`` by the chosen statistic (``loss``).

    ``style`` may be a path, a PIL image, a NumPy array or a (3, H, W) tensor in [0, 1], or a
    list of them mixed with the weights ``style_blend``.
    ``options`` are the fields of ``TextureSettings`` (size, iters, seed, style_layers, …).
    """
    return run_texture(style, callback=callback, **options).to_pil()


def stylize(content: ImageInput, style: StyleInput, *, callback: Callback | None = None,
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
