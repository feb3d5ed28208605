"""Read and write clips with PyAV (FFmpeg's libraries): frames as tensors, the frame rate, the
audio copied packet for packet (never re-encoded).

Frames are resized to the output size as they are decoded and handed out one at a time, so a
long clip never sits in memory.  The output is written under a temporary name in its folder
and renamed when complete, like every other output: an interrupted encode leaves no half file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import TexstyleError
from ..extras import optional
from ..image import fit_long_side, resize

OUTPUT_SUFFIXES = (".mp4", ".mkv", ".mov")


@dataclass(frozen=True)
class VideoInfo:
    """What the output needs to know of the input: rate, size, length, whether it has sound."""

    fps: Fraction
    width: int
    height: int
    frames: int  # as the container says, or estimated from the duration (0: unknown)
    has_audio: bool


def _open(path: Path) -> Any:
    av = optional("av")
    if not path.is_file():
        raise TexstyleError(f"video not found: {path}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise TexstyleError(f"cannot read {path} as a video: {exc}") from None
    if not container.streams.video:
        container.close()
        raise TexstyleError(f"{path} has no video stream")
    return container


def probe(path: Path) -> VideoInfo:
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = stream.frames
        if not frames and stream.duration and stream.time_base:
            frames = round(float(stream.duration * stream.time_base) * fps)
        return VideoInfo(Fraction(fps), stream.codec_context.width, stream.codec_context.height,
                         int(frames or 0), bool(container.streams.audio))


def read_frames(path: Path, size: int | None, *, start: int = 0, stop: int | None = None,
                every: int = 1) -> Iterator[tuple[int, torch.Tensor]]:
    """(index, frame) for the frames ``start``, ``start + every``, … before ``stop``, each a
    (1, 3, H, W) tensor in [0, 1] with its long side ``size`` (None: as decoded)."""
    av = optional("av")
    with _open(path) as container:
        try:
            for index, frame in enumerate(container.decode(video=0)):
                if stop is not None and index >= stop:
                    break
                if index < start or (index - start) % every:
                    continue
                rgb = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1)
                image = rgb[None].float() / 255
                if size is not None:
                    h, w = image.shape[-2:]
                    image = resize(image, *fit_long_side(h, w, size))
                yield index, image
        except av.error.FFmpegError as exc:
            raise TexstyleError(f"cannot decode {path}: {exc}") from None


def _even(image: torch.Tensor) -> np.ndarray:
    """H.264 in 4:2:0 needs even sides: drop a last odd row or column (never stretch)."""
    _, _, h, w = image.shape
    t = image[0, :, : h - h % 2, : w - w % 2].clamp(0, 1)
    return (t.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def write_video(frames: Iterable[torch.Tensor], path: Path, fps: Fraction, *,
                audio_from: Path | None = None, overwrite: bool = False, crf: int = 18) -> int:
    """Encode ``frames`` (H.264, ``crf`` 18: visually lossless) at ``fps``; copy the audio of
    ``audio_from`` when given.  Returns the number of frames written."""
    av = optional("av")
    if path.exists() and not overwrite:
        raise TexstyleError(f"output exists: {path} (pass --overwrite to replace it)")
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise TexstyleError("no frames to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    count = 0
    try:
        with av.open(tmp, "w") as out, _audio_source(audio_from) as audio_in:
            height, width = _even(first).shape[:2]
            stream = out.add_stream("libx264", rate=fps)
            stream.height, stream.width = height, width
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf)}
            # Every stream is declared before the first packet: the header is written then.
            audio_out = out.add_stream_from_template(audio_in) if audio_in is not None else None
            for image in itertools.chain([first], frames):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(_even(image), format="rgb24")))
                count += 1
            out.mux(stream.encode(None))
            if audio_in is not None:
                for packet in audio_in.container.demux(audio_in):
                    if packet.dts is None:
                        continue  # the demuxer's flush packet
                    packet.stream = audio_out
                    out.mux(packet)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


@contextlib.contextmanager
def _audio_source(path: Path | None) -> Iterator[Any]:
    """The first audio stream of ``path`` (copied packet for packet), or None."""
    if path is None:
        yield None
        return
    with _open(path) as container:
        yield container.streams.audio[0] if container.streams.audio else None
