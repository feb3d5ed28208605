"""``texstyle video``: a clip stylised frame by frame, without flicker, resumable.

The stylisation flags are ``texstyle stylize``'s (config.option); the flags of this command
are about frames (which, how they follow each other) and stay off the settings, which describe
one picture.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import StylizeSettings, check_positive_int
from ..errors import TexstyleError
from ..image import load_image, write_text
from ..progress import JobPlace, placed
from ..records import record_path
from ..samples import is_sample
from .commands import _add_settings_flags, _settings_from_args
from .progress import BatchRenderer


def add_video_parser(sub: Any) -> None:
    d = _video_defaults()
    p = sub.add_parser(
        "video", help="stylise a clip frame by frame, without flicker (pip install "
                      "'texstyle[video]')",
        description="Decode IN, stylise every frame in the style of --style, encode OUT at the "
                    "input's frame rate with its audio. Each frame starts from the previous "
                    "output warped by optical flow and keeps close to it (Ruder et al. 2016); "
                    "finished frames are kept in OUT.frames/ so an interrupted run goes on.")
    p.add_argument("input", type=Path, metavar="IN", help="a clip PyAV reads (.mp4, .mov, .mkv, …)")
    p.add_argument("--style", action="append", required=True,
                   help="style image; repeat to mix several")
    p.add_argument("-o", "--output", type=Path, required=True, help="output clip (.mp4, .mkv, .mov)")
    p.add_argument("--every", type=int, default=1, metavar="N",
                   help="stylise every Nth frame (the output's rate is divided by N) (default 1)")
    p.add_argument("--frames", type=_frames, metavar="A:B",
                   help="only frames A to B-1 (0-based; A: or :B open), for a quick look; the "
                        "audio is then left out")
    p.add_argument("--independent", action="store_true",
                   help="stylise every frame on its own (no flow; it flickers)")
    p.add_argument("--temporal-weight", type=float, default=d.temporal_weight, metavar="W",
                   help=f"weight of the temporal term (default {d.temporal_weight:g})")
    p.add_argument("--frame-iters", type=int, default=d.frame_iters, metavar="N",
                   help=f"evaluations of each frame after the first (default {d.frame_iters})")
    p.add_argument("--blend", type=float, default=d.blend, metavar="B",
                   help="--method adain/wct: share of the warped previous output kept on pixels "
                        f"the flow is sure of (default {d.blend:g})")
    p.add_argument("--keep-frames", action="store_true",
                   help="keep OUT.frames/ (one PNG per stylised frame) after encoding")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_settings_flags(p, StylizeSettings, "stylize")


def _video_defaults() -> Any:
    from ..video.frames import VideoOptions  # imports no optional package

    return VideoOptions()


def _frames(text: str) -> tuple[int, int | None]:
    start, sep, stop = text.partition(":")
    try:
        a = int(start) if start.strip() else 0
        b = int(stop) if stop.strip() else None
    except ValueError:
        a, b, sep = -1, None, ""
    if not sep or a < 0 or (b is not None and b <= a):
        raise argparse.ArgumentTypeError(f"expected A:B with 0 <= A < B, got {text!r}")
    return a, b


def frames_folder(output: Path) -> Path:
    """Where the finished frames wait for the encoder: OUT.mp4 → OUT.frames/."""
    return output.with_suffix(".frames")


def run_video(args: argparse.Namespace) -> int:
    from ..video.frames import (
        VideoOptions,
        mode,
        prepare_folder,
        state_of,
        stylize_frames,
    )
    from ..video.io import OUTPUT_SUFFIXES, probe, read_frames, write_video

    check_positive_int("--every", args.every)
    options = VideoOptions(temporal=not args.independent, temporal_weight=args.temporal_weight,
                           frame_iters=args.frame_iters, blend=args.blend)
    settings = _settings_from_args(args, StylizeSettings)
    assert isinstance(settings, StylizeSettings)
    output: Path = args.output
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise TexstyleError(f"cannot write {output}: use a video extension, one of "
                            f"{', '.join(OUTPUT_SUFFIXES)}")
    inputs = {Path(p).resolve() for p in [*args.style, args.input] if not is_sample(p)}
    for path in (output, record_path(output)):
        if path.resolve() in inputs:
            raise TexstyleError(f"refusing to write {path}: it is one of the inputs")
        if path.exists() and not args.overwrite:
            raise TexstyleError(f"output exists: {path} (pass --overwrite to replace it)")
    if options.temporal and settings.method == "gatys" and settings.preserve_color == "luminance":
        raise TexstyleError("--preserve-color luminance cannot be kept consistent over frames; "
                            "use histogram or --independent")
    info = probe(args.input)
    start, stop = args.frames or (0, None)
    if info.frames and start >= info.frames:
        raise TexstyleError(f"--frames starts at {start}; {args.input} has {info.frames} frames")
    last = info.frames if stop is None else min(stop, info.frames or stop)
    count = len(range(start, last, args.every)) if last else 0
    size = settings.size if args.width is None and args.height is None else None
    if size is None:
        raise TexstyleError("video frames are sized by --size (the long side); --width and "
                            "--height are for single pictures")
    folder = frames_folder(output)
    selection = {"start": start, "stop": stop, "every": args.every, "size": size}
    state = state_of(str(args.input.resolve()), list(args.style), settings, options, selection)
    done = prepare_folder(folder, state, overwrite=args.overwrite)

    render = BatchRenderer(quiet=args.quiet, count=count, unit="frame")

    def listener(position: int, index: int) -> Any:
        return placed(render, job=JobPlace(position + 1, count, f"frame {index}", position))

    def finished(position: int, index: int, resumed: bool) -> None:
        render.advance(f"frame {index}", "skipped" if resumed else "done")

    begin = time.perf_counter()
    frames = read_frames(args.input, size, start=start, stop=stop, every=args.every)
    paths = []
    try:
        for path in stylize_frames(frames, list(args.style), settings, options, folder, done=done,
                                   callback=listener, on_frame=finished):
            paths.append(path)
    except KeyboardInterrupt:
        render.close()
        print(f"texstyle: interrupted; {len(paths)} finished frame(s) are kept in {folder}; run "
              "the same command again to go on", file=sys.stderr)
        return 130
    finally:
        render.close()
    if not paths:
        raise TexstyleError(f"no frames selected from {args.input} ({info.frames} frames)")
    seconds = time.perf_counter() - begin
    fps = Fraction(info.fps) / args.every
    audio = args.input if info.has_audio and args.frames is None else None
    write_video((load_image(p, "frame") for p in paths), output, fps, audio_from=audio,
                overwrite=args.overwrite)
    record = {"texstyle": __version__, "output": str(output), "input": str(args.input),
              "mode": mode(settings, options), "frames": len(paths), "fps": float(fps),
              "resumed_frames": done, "elapsed_s": round(seconds, 3),
              "settings": settings.to_dict(), "video": asdict(options) | selection,
              "styles": list(args.style)}
    write_text(json.dumps(record, indent=1) + "\n", record_path(output), overwrite=args.overwrite)
    if not args.keep_frames:
        shutil.rmtree(folder)
    sound = ("audio copied" if audio is not None else
             "audio left out (--frames)" if info.has_audio else "no audio")
    print(f"texstyle: wrote {output} ({len(paths)} frames at {float(fps):.3g} fps, "
          f"{mode(settings, options)}, {sound}) in {seconds:.1f} s")
    return 0
