"""The golden runs: small fixed-seed CPU runs through the public API, one per code path.

Every option is passed explicitly (``TEXTURE`` / ``STYLIZE`` name every settings field, ``GAN``
every field of the nested ``GanOptions``), so a change of a default elsewhere does not change what
is recorded here; ``test_golden`` checks that the lists stay complete.  Each case returns the
output image and the loss history's totals.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from texstyle.api import RunResult, run_stylize, run_texture
from texstyle.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from texstyle.config import GanOptions, SpatialOptions

# One intra-op thread: the reduction order (and so the bits) can depend on the thread count.
THREADS = 1
FOUR_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")  # 16 px minimum: two levels at 48 px
FIVE_LAYERS = (*FOUR_LAYERS, "relu5_1")

GAN: dict[str, Any] = dict(disc="logreg", disc_steps=1, disc_every=1, disc_lr=0.01, r1_weight=0.0,
                          instance_noise=0.0, gan_weight=1.0)
SPATIAL: dict[str, Any] = dict(region=(), rest="content", regions=None, label_map=None, exemplar=(),
                               mask_erosion=0, style_coarse=None, style_fine=None,
                               scale_split="relu3_1")
TEXTURE: dict[str, Any] = dict(
    size=32, width=None, height=None, iters=4, fine_iters=None, coarsest=32, tolerance=0.0, seed=0,
    style_layers=FIVE_LAYERS, layer_weights=None, layer_decay=1.0, style_weight=1.0, tv_weight=0.5,
    pooling="avg", optimizer="lbfgs", lr=1.0, init="noise", weights="normalized", device="cpu", style_scale=None,
    loss="gram", style_blend=None, max_pixels=None, max_memory=None, tile=False, refine_tile=1024,
    refine_overlap=128, print_iters=8, gan=GanOptions(**GAN), spatial=SpatialOptions(**SPATIAL),
)
STYLIZE: dict[str, Any] = TEXTURE | dict(
    size=48, coarsest=48, init="content", method="gatys", alpha=1.0, content_layer="relu4_2",
    content_weight=1.0, style_weight=3.0, tv_weight=1.0, preserve_color="none",
)
PYRAMID = TEXTURE | dict(size=48, coarsest=24, style_layers=FOUR_LAYERS)  # levels 24 and 48 px


def _texture(**changes: Any) -> RunResult:
    return run_texture("sample:brick", **(TEXTURE | changes))


def _stylize(**changes: Any) -> RunResult:
    return run_stylize("sample:cat", "sample:mosaic", **(STYLIZE | changes))


def _resumed() -> RunResult:
    """Checkpoint after every L-BFGS iteration, then resume from the first checkpoint of level 2."""
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[Path] = []

        def keep(c: Checkpoint) -> None:
            paths.append(save_checkpoint(c, Path(tmp) / f"c{len(paths)}.ckpt"))

        run_texture("sample:brick", checkpoint=keep, checkpoint_every=1, **PYRAMID)
        mid = next(load_checkpoint(p) for p in paths if load_checkpoint(p).level == 2)
        assert 0 < len(mid.loop.history) < PYRAMID["iters"], "not a mid-level checkpoint"
        return run_texture("sample:brick", resume=mid, **PYRAMID)


CASES: dict[str, Callable[[], RunResult]] = {
    **{f"texture-{loss}": (lambda loss=loss: _texture(loss=loss))
       for loss in ("gram", "kl", "mean", "meancov", "w2", "swd")},
    "stylize-gram": lambda: _stylize(),
    "texture-gan": lambda: _texture(loss="gan", optimizer="adam", lr=0.02),
    "texture-seamless": lambda: _texture(tile=True, refine_tile=64, refine_overlap=8),
    # 64 px output, levels 32 and 64 px; the 64 px level is refined in four 48 px tiles.
    "texture-tiled": lambda: _texture(size=64, iters=3, refine_tile=48, refine_overlap=8,
                                      print_iters=2),
    "texture-pyramid": lambda: run_texture("sample:brick", **PYRAMID),
    "texture-resumed": _resumed,
    "stylize-adain": lambda: _stylize(method="adain"),
    "stylize-wct": lambda: _stylize(method="wct", alpha=0.7),
}


def run_case(name: str) -> dict[str, np.ndarray]:
    """The arrays recorded for one case: the image (float32) and the history's totals (float64)."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        result = CASES[name]()
    finally:
        torch.set_num_threads(before)
    return {
        f"{name}/image": result.image.detach().cpu().to(torch.float32).numpy().copy(),
        f"{name}/loss": np.array([h["total"] for h in result.history], dtype=np.float64),
    }
