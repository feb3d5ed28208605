"""Checkpoints: everything needed to continue a run exactly, in one file written atomically.

A checkpoint holds the optimiser loop's state (``optimize.LoopState``: iterate, optimiser state,
history, best image), the pyramid level it belongs to, the history and time of the levels before
it, and both random-number generators, so that a resumed run on the same machine and device ends
with the same image as an uninterrupted one.

It also holds a hash of the *resolved settings and inputs*, and ``--resume`` refuses a checkpoint
whose hash differs.  The hash covers every ``TextureSettings`` field that changes what is computed
(sizes, iterations per level, seed, layers, weights, statistic, optimiser, …) and the pixels of the
style and content images after loading.  It leaves out what may legitimately differ between the
interrupted run and its continuation: the device (a run started on a GPU may finish on the CPU)
and resource limits (``max_pixels``, ``max_memory``); output paths, ``--save-every``, ``--checkpoint-every`` and
``--overwrite`` are command-line options outside the settings and so are never part of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from .errors import TexstyleError
from .image import _atomic_write
from .optimize import LoopState

FORMAT = 1  # bump when the file layout changes; older files are then refused with a message
NOT_HASHED = ("device", "max_pixels", "max_memory")


def settings_hash(settings: dict[str, Any], images: list[torch.Tensor]) -> str:
    """sha256 over the settings that decide the result and the input pixels (see module doc)."""
    kept = {k: v for k, v in sorted(settings.items()) if k not in NOT_HASHED}
    h = hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode())
    for image in images:
        t = image.detach().to("cpu", torch.float32).contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


@dataclass
class Checkpoint:
    settings_hash: str
    settings: dict[str, Any]  # for the message that says what differs
    level: int  # 1-based pyramid level that ``loop`` belongs to
    loop: LoopState
    history: list[dict[str, float]]  # records of the levels before ``level``
    elapsed: float  # seconds spent in the levels before ``level``
    generator_state: torch.Tensor
    torch_rng_state: torch.Tensor

    @property
    def iteration(self) -> int:
        """Evaluations done so far, over all levels."""
        return len(self.history) + len(self.loop.history)


def save_checkpoint(checkpoint: Checkpoint, path: Path) -> Path:
    """Atomically (temporary file, then rename), so an interruption mid-write keeps the old one.

    The file is rewritten every few iterations, so it replaces its own earlier version; the CLI
    checks before the run that it would not replace anything else without --overwrite.
    """
    payload = {"format": FORMAT, **asdict(checkpoint)}
    return _atomic_write(Path(path), lambda f: torch.save(payload, f), mode="wb", overwrite=True)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint (tensors and plain data only: ``weights_only`` loading, no pickle code)."""
    path = Path(path)
    if not path.is_file():
        raise TexstyleError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - zip, pickle and unpickler errors all mean a bad file
        raise TexstyleError(f"cannot read checkpoint {path}: {type(exc).__name__}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise TexstyleError(f"{path} is not a texstyle checkpoint of format {FORMAT}")
    try:
        payload.pop("format")
        payload["loop"] = LoopState(**payload["loop"])
        return Checkpoint(**payload)
    except (KeyError, TypeError) as exc:
        raise TexstyleError(f"checkpoint {path} is incomplete ({exc})") from None


def check_compatible(checkpoint: Checkpoint, digest: str, settings: dict[str, Any],
                     path: Path | str = "the checkpoint") -> None:
    """Refuse to resume from a run with other settings or inputs, naming what differs."""
    if checkpoint.settings_hash == digest:
        return
    differ = sorted(k for k in set(settings) | set(checkpoint.settings)
                    if k not in NOT_HASHED and settings.get(k) != checkpoint.settings.get(k))
    what = (", ".join(f"{k} {checkpoint.settings.get(k)!r} → {settings.get(k)!r}" for k in differ)
            if differ else "the input images differ")
    raise TexstyleError(f"cannot resume from {path}: it was made with other settings ({what})")
