"""Video modes side by side: frames per minute, CPU time per frame and flicker, on a generated
clip and on a real (encoded and decoded) clip, both made from the built-in samples; the flicker
tables at a small size (--size), the seconds per frame at 256 px on a few frames of the real
clip (a long clip's rate is set by its later frames: the first is an ordinary stylisation).

Modes: ``independent`` (every frame stylised on its own, the default Gatys settings),
``temporal`` (Ruder et al.: warm start from the warped previous output plus the temporal term),
``fast`` (AdaIN per frame blended along the flow) and, for reference, ``adain`` alone.  Flicker
is video.flicker's measure in 8-bit levels; the ``input`` row is the clip's own value, the floor
set by flow errors.  CPU seconds are the process's (all threads): the machine may be shared, so
wall time alone can mislead.  Writes a sheet of a few frames per clip (input and each mode).

    python benchmarks/video_modes.py [--size 128 --frames 5] [--speed-size 256 --speed-frames 3]
                                     [--threads 1]
                                     [--images docs/images/video]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from texstyle.config import StylizeSettings
from texstyle.image import fit_long_side, save_image, to_pil
from texstyle.report.figures import contact_sheet
from texstyle.video.clips import pan_zoom, write_clip
from texstyle.video.flicker import flicker
from texstyle.video.frames import VideoOptions, _Previous, stylize_frame
from texstyle.video.io import read_frames

STYLE = "sample:mosaic"
MODES = {
    "independent": (StylizeSettings(device="cpu"), VideoOptions(temporal=False)),
    "temporal": (StylizeSettings(device="cpu"), VideoOptions()),
    "adain": (StylizeSettings(device="cpu", method="adain"), VideoOptions(temporal=False)),
    "fast": (StylizeSettings(device="cpu", method="adain"), VideoOptions()),
}
MAIN = ["independent", "temporal", "adain", "fast"]


def clips(size: int, frames: int, folder: Path) -> dict[str, list[torch.Tensor]]:
    h, w = fit_long_side(3, 4, size)
    generated = pan_zoom("sample:gravel", frames, (h, w))
    # The real clip goes through H.264 and back: compression noise, as in any camera clip.
    path = write_clip(pan_zoom("sample:astronaut", frames, (h, w), pan=0.2, zoom=1.4),
                      folder / f"astronaut{size}-{frames}.mp4", tone_hz=440, overwrite=True)
    real = [image for _, image in read_frames(path, size)]
    return {"generated": generated, "real": real}


TITLES = {"generated": "generated: gravel, pan + zoom",
          "real": "real: astronaut via H.264, pan + zoom"}


def stylize_clip(frames: list[torch.Tensor], settings: StylizeSettings, options: VideoOptions
                 ) -> tuple[list[torch.Tensor], float, float]:
    outputs, previous = [], None
    start, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        out = stylize_frame(frame, STYLE, settings, options, previous)
        outputs.append(out)
        previous = _Previous(frame, out)
    return outputs, time.perf_counter() - start, time.process_time() - cpu


def table(name: str, frames: list[torch.Tensor], modes: list[str], size: int,
          images: Path | None) -> None:
    print(f"\n{TITLES[name]}, {len(frames)} frames at {size} px\n\n"
          "| mode | frames/min | CPU s per frame | flicker (8-bit levels) |\n|---|---|---|---|")
    print(f"| input | | | {flicker(frames, frames):.2f} |", flush=True)
    shown = sorted({0, len(frames) // 2, len(frames) - 1})
    rows = [[("input", to_pil(frames[i])) for i in shown]]
    for mode in modes:
        settings, options = MODES[mode]
        outputs, wall, cpu = stylize_clip(frames, settings, options)
        print(f"| {mode} | {len(frames) / wall * 60:.1f} | {cpu / len(frames):.1f} | "
              f"{flicker(frames, outputs):.2f} |", flush=True)
        if mode in MAIN:
            rows.append([(mode, to_pil(outputs[i])) for i in shown])
    if images is not None:
        h, w = frames[0].shape[-2:]
        scale = max(1, 192 // max(h, w))  # small frames shown enlarged
        sheet = contact_sheet(rows, height=h * scale, width=w * scale, title=TITLES[name],
                              header=[f"frame {i}" for i in shown])
        save_image(sheet.convert("RGB"), images / f"frames-{name}-{size}.jpg", overwrite=True)


def speed(frames: list[torch.Tensor], size: int) -> None:
    """Seconds per frame at ``size``: an independent frame (what the first frame of the
    temporal mode costs too), a later temporal frame (warm-started, one level), a fast frame."""
    print(f"\nspeed, real clip at {size} px (seconds per frame; CPU seconds of all threads)\n\n"
          "| mode | frame | wall s | CPU s | frames/min |\n|---|---|---|---|---|")

    def row(mode: str, which: str, seconds: list[float], cpu: list[float]) -> None:
        wall = sum(seconds) / len(seconds)
        print(f"| {mode} | {which} | {wall:.1f} | {sum(cpu) / len(cpu):.1f} | {60 / wall:.2f} |",
              flush=True)

    settings, options = MODES["independent"]
    walls, cpus, outputs = [], [], []
    for frame in frames[:2]:
        start, cpu = time.perf_counter(), time.process_time()
        outputs.append(stylize_frame(frame, STYLE, settings, options, None))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    row("independent", "every frame", walls, cpus)
    settings, options = MODES["temporal"]
    walls, cpus = [], []
    previous = _Previous(frames[0], outputs[0])  # the first temporal frame is an independent one
    for frame in frames[1:]:
        start, cpu = time.perf_counter(), time.process_time()
        out = stylize_frame(frame, STYLE, settings, options, previous)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        previous = _Previous(frame, out)
    row("temporal", "each after the first", walls, cpus)
    settings, options = MODES["fast"]
    stylize_frame(frames[0], STYLE, settings, options, None)  # loads the decoder once
    _, wall, cpu = stylize_clip(frames, settings, options)
    row("fast", "every frame", [wall / len(frames)], [cpu / len(frames)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="flicker table: long side")
    parser.add_argument("--frames", type=int, default=5, help="flicker table: frames per clip")
    parser.add_argument("--speed-size", type=int, default=256)
    parser.add_argument("--speed-frames", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--images", type=Path, help="folder for the frame sheets")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="intra-op threads (on a loaded machine 1 can be several times "
                             "faster than 2: idle OpenMP threads spin)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"style {STYLE}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        small = clips(args.size, args.frames, Path(tmp))
        large = clips(args.speed_size, args.speed_frames, Path(tmp))
    table("generated", small["generated"], args.modes, args.size, args.images)
    table("real", small["real"], args.modes, args.size, args.images)
    if not args.skip_speed:
        speed(large["real"], args.speed_size)


if __name__ == "__main__":
    main()
