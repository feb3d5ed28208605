"""Stylise a sequence of frames: independently, with Ruder et al.'s temporal consistency, or
fast (AdaIN) blended along the flow; finished frames kept in a folder to resume from.

Temporal consistency (Ruder, Dosovitskiy and Brox 2016, "Artistic style transfer for videos"):
frame t starts from the output of frame t-1 warped onto it by optical flow, and the objective
gets a term that keeps it there on the pixels the forward-backward check trusts; the first
frame is an ordinary stylisation.  Departures from the paper: the flow is OpenCV's DIS (the
paper used DeepFlow/EpicFlow), later frames are one pyramid level at the output size (the warm
start already holds the picture, so coarser levels would only blur it), and only the
short-term term (t-1), not the long-term one over several earlier frames.

Every output is rounded to 8 bits before it is used as the next frame's previous output: that
is what the frame's PNG holds, so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ..api import run_stylize
from ..config import StylizeSettings
from ..errors import TexstyleError
from ..image import load_image, save_image, write_text
from ..losses import TemporalTarget
from ..plan import StyleInput
from ..progress import Callback
from .flow import previous_on_current

STATE = "state.json"  # in the frames folder: what the frames were made from


@dataclass(frozen=True)
class VideoOptions:
    """How frames follow each other; kept off ``StylizeSettings`` (they mean nothing for one
    picture), validated here, offered as flags by ``texstyle video``."""

    temporal: bool = True  # False: every frame on its own (the baseline that flickers)
    # Weight of the temporal term, Σ c (x - ω)² / D on [0, 1] pixels, against the relative
    # style and content terms (about 1 at the start): measured on the test clips, docs/video.md.
    temporal_weight: float = 200.0
    frame_iters: int = 40  # evaluations of each frame after the first (warm-started)
    blend: float = 0.7  # fast mode: share of the warped previous output on trusted pixels

    def __post_init__(self) -> None:
        if not isinstance(self.temporal_weight, (int, float)) or self.temporal_weight < 0:
            raise TexstyleError(f"--temporal-weight must be zero or positive, got "
                                f"{self.temporal_weight!r}")
        if not isinstance(self.frame_iters, int) or self.frame_iters <= 0:
            raise TexstyleError(f"--frame-iters must be a positive integer, got "
                                f"{self.frame_iters!r}")
        if not isinstance(self.blend, (int, float)) or not 0 <= self.blend < 1:
            raise TexstyleError(f"--blend must be at least 0 and below 1, got {self.blend!r}")


def mode(settings: StylizeSettings, options: VideoOptions) -> str:
    """The name the docs and the record use: independent, temporal or fast."""
    if settings.method != "gatys":
        return "fast" if options.temporal else f"{settings.method}-independent"
    return "temporal" if options.temporal else "independent"


def quantised(image: torch.Tensor) -> torch.Tensor:
    """``image`` as its 8-bit PNG will hold it (image.to_pil's rounding)."""
    return torch.floor(image.clamp(0, 1) * 255 + 0.5) / 255


@dataclass
class _Previous:
    frame: torch.Tensor  # the input frame before
    output: torch.Tensor  # its stylised output, quantised


def stylize_frame(frame: torch.Tensor, style: StyleInput, settings: StylizeSettings,
                  options: VideoOptions, previous: _Previous | None,
                  callback: Callback | None = None) -> torch.Tensor:
    """One frame's output (quantised), given the frame before and its output."""
    # The frame is already at the output size.
    settings = settings.with_options(size=None, width=None, height=None)
    if previous is None or not options.temporal:
        return quantised(run_stylize(frame, style, settings, callback).image)
    warped, mask = previous_on_current(previous.output, frame, previous.frame)
    if settings.method != "gatys":
        # Fast mode: AdaIN per frame, then the warped previous output mixed in where the flow
        # is trusted, an exponential average along the motion that damps the decoder's flicker.
        raw = run_stylize(frame, style, settings, callback).image
        return quantised(mask * (options.blend * warped + (1 - options.blend) * raw)
                         + (1 - mask) * raw)
    one_level = settings.with_options(coarsest=max(frame.shape[-2:]), iters=options.frame_iters,
                                      fine_iters=options.frame_iters)
    target = TemporalTarget(warped, mask, options.temporal_weight)
    return quantised(run_stylize(frame, style, one_level, callback, temporal=target).image)


def frame_path(folder: Path, position: int) -> Path:
    return folder / f"{position:06d}.png"


def prepare_folder(folder: Path, state: dict[str, Any], *, overwrite: bool) -> int:
    """Make or reuse the frames folder; the number of frames already finished in it.

    A folder made for other inputs or settings is never mixed in: it is refused, or with
    ``overwrite`` emptied first.  One made for the same is reused even with ``overwrite``: on
    the CPU its frames are the ones a new run would compute.
    """
    if folder.exists() and not folder.is_dir():
        raise TexstyleError(f"{folder} is a file; the frames folder needs that name")
    saved = folder / STATE
    if folder.exists() and any(folder.iterdir()):
        same = saved.is_file() and json.loads(saved.read_text()) == state
        if not same:
            if not overwrite:
                raise TexstyleError(f"{folder} holds frames of another run (other input or "
                                    "settings); remove it or pass --overwrite")
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not saved.is_file():
        write_text(json.dumps(state, indent=1) + "\n", saved)
    done = 0
    while frame_path(folder, done).is_file():
        done += 1
    return done


def stylize_frames(frames: Iterable[tuple[int, torch.Tensor]], style: StyleInput,
                   settings: StylizeSettings, options: VideoOptions, folder: Path, *,
                   done: int = 0, callback: Callable[[int, int], Callback | None] | None = None,
                   on_frame: Callable[[int, int, bool], None] | None = None) -> Iterator[Path]:
    """Stylise ``frames`` ((index, image) pairs) into ``folder``, one PNG per frame, yielding
    each frame's path; the first ``done`` are already there and are only read back.

    ``callback(position, index)`` gives the listener for that frame's progress events;
    ``on_frame(position, index, resumed)`` hears of each frame as it is finished.
    """
    previous: _Previous | None = None
    for position, (index, frame) in enumerate(frames):
        path = frame_path(folder, position)
        resumed = position < done
        if resumed:
            output = load_image(path, "finished frame")
        else:
            report = callback(position, index) if callback is not None else None
            output = stylize_frame(frame, style, settings, options, previous, report)
            save_image(output, path)
        previous = _Previous(frame, output)
        if on_frame is not None:
            on_frame(position, index, resumed)
        yield path


def state_of(source: str, style: list[str], settings: StylizeSettings, options: VideoOptions,
             selection: dict[str, Any]) -> dict[str, Any]:
    """What a frames folder's frames depend on: a resumed run must match it exactly."""
    # Through JSON and back: tuples become lists, as in the saved state it is compared with.
    state: dict[str, Any] = json.loads(json.dumps({
        "input": source, "style": style, "settings": settings.to_dict(),
        "video": asdict(options), "frames": selection}))
    return state
