"""Test clips made from the built-in samples: a camera panning and zooming over a picture.

The motion is known and smooth, so optical flow is reliable and any flicker in a stylised clip
comes from the stylisation; the tests, the benchmark and docs/video.md use them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..extras import optional
from ..plan import read_input
from .io import write_video


def pan_zoom(source: str, frames: int, size: tuple[int, int], *, pan: float = 0.25,
             zoom: float = 1.3) -> list[torch.Tensor]:
    """``frames`` views (1, 3, H, W) of ``source`` (a path or ``sample:NAME``): the window
    moves ``pan`` of the picture's width left to right and narrows by ``zoom`` (a slow push-in).
    """
    image = read_input(source, "clip source")
    h, w = size
    out = []
    for i in range(frames):
        t = i / max(1, frames - 1)
        scale = 1 / (1 + (zoom - 1) * t)  # window size relative to the largest one
        # The largest window that fits with room to pan: 1 - pan of the width.
        sx, sy = (1 - pan) * scale, (1 - pan) * scale * (h / w) * (image.shape[-1] / image.shape[-2])
        cx = -pan + 2 * pan * t
        theta = torch.tensor([[[sx, 0, cx], [0, min(sy, 1.0), 0]]], dtype=torch.float32)
        grid = F.affine_grid(theta, [1, 3, h, w], align_corners=False)
        out.append(F.grid_sample(image, grid, mode="bicubic", padding_mode="border",
                                 align_corners=False).clamp(0, 1))
    return out


def write_clip(frames: list[torch.Tensor], path: Path, fps: int = 12, *,
               tone_hz: float | None = None, overwrite: bool = False) -> Path:
    """Encode ``frames`` as a clip; with ``tone_hz`` it gets an AAC sine tone as its sound
    (so that copying the audio can be checked)."""
    write_video(frames, path, Fraction(fps), overwrite=overwrite)
    if tone_hz is not None:
        _add_tone(path, len(frames) / fps, tone_hz)
    return path


def _add_tone(path: Path, seconds: float, hz: float, rate: int = 44100) -> None:
    """Remux ``path`` with a sine tone added as an AAC stream (the video packets copied)."""
    av = optional("av")
    tmp = path.with_name(f".{path.stem}.tone{path.suffix}")
    with av.open(str(path)) as src, av.open(str(tmp), "w") as out:
        video_in = src.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for packet in src.demux(video_in):
            if packet.dts is not None:
                packet.stream = video_out
                out.mux(packet)
        samples = int(seconds * rate)
        wave = (0.2 * np.sin(2 * math.pi * hz * np.arange(samples) / rate)).astype(np.float32)
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(wave[None, start:start + 1024], format="flt",
                                               layout="mono")
            frame.sample_rate = rate
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    tmp.replace(path)
