"""``texstyle video``: flow and warping, the temporal term, flicker that the temporal methods
remove, resuming from the last finished frame, and the command (frame rate, audio, errors)."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from cli_helpers import assert_usage_error, run_main
from texstyle.config import StylizeSettings
from texstyle.image import resize
from texstyle.losses import Objective, TemporalTarget, temporal_loss
from texstyle.plan import read_input
from texstyle.video.clips import pan_zoom, write_clip
from texstyle.video.flicker import flicker
from texstyle.video.flow import consistent, optical_flow, warp
from texstyle.video.frames import (
    VideoOptions,
    _Previous,
    frame_path,
    prepare_folder,
    stylize_frame,
    stylize_frames,
)
from texstyle.video.io import probe, read_frames

TINY = StylizeSettings(device="cpu", iters=15, fine_iters=15, coarsest=64)


def constant_flow(h: int, w: int, dx: float, dy: float) -> np.ndarray:
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


# --------------------------------------------------------------------------------------------
# Flow, warp, the forward-backward check
# --------------------------------------------------------------------------------------------


def test_warping_along_a_whole_pixel_flow_shifts_the_image():
    image = torch.rand(1, 3, 12, 16, generator=torch.Generator().manual_seed(0))
    shifted = warp(image, constant_flow(12, 16, 2, -1))  # out(x, y) = image(x + 2, y - 1)
    assert torch.allclose(shifted[..., 1:, :-2], image[..., :-1, 2:], atol=1e-6)


def test_the_check_trusts_a_consistent_flow_and_not_what_left_the_frame_or_came_back_wrong():
    back, fwd = constant_flow(10, 10, 3, 0), constant_flow(10, 10, -3, 0)
    mask = consistent(back, fwd)
    assert mask.shape == (1, 1, 10, 10)
    assert mask[..., :, :7].eq(1).all() and mask[..., :, 7:].eq(0).all()  # x + 3 leaves the frame
    wrong = fwd.copy()
    wrong[:5] = 0  # the top half does not come back: occluded
    mask = consistent(back, wrong)
    assert mask[..., :5, :].eq(0).all() and mask[..., 6:, :7].eq(1).all()


def test_dis_flow_finds_a_known_shift():
    brick = resize(read_input("sample:brick", "brick"), 96, 96)
    a, b = brick[..., 8:72, 8:72], brick[..., 8:72, 11:75]  # the picture moves 3 px left
    flow = optical_flow(a, b)
    assert np.median(flow[..., 0]) == pytest.approx(-3, abs=0.25)
    assert np.median(flow[..., 1]) == pytest.approx(0, abs=0.25)


def test_the_temporal_term_counts_only_trusted_pixels():
    target = TemporalTarget(torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 4), weight=2.0)
    target.mask[..., :2, :] = 1
    image = torch.full((1, 3, 4, 4), 0.1)
    image[..., 2:, :] = 0.9  # differs only where the mask is 0
    image[..., :2, :] = 0.3
    assert float(temporal_loss(image, target)) == pytest.approx(0.3**2 / 2)
    objective = Objective(lambda x: {}, {}, {}, temporal=target)
    total, terms = objective(image)
    assert float(terms["temporal"]) == pytest.approx(2 * 0.3**2 / 2) and float(total) == float(
        terms["temporal"])


def test_a_pan_and_zoom_clip_moves_smoothly():
    frames = pan_zoom("sample:cat", 4, (32, 48))
    assert len(frames) == 4 and frames[0].shape == (1, 3, 32, 48)
    steps = [float((b - a).abs().mean()) for a, b in itertools.pairwise(frames)]
    assert all(0.005 < s < 0.2 for s in steps), steps


# --------------------------------------------------------------------------------------------
# Flicker: what the temporal methods remove
# --------------------------------------------------------------------------------------------


def run_clip(frames, settings, options):
    outputs, previous = [], None
    for frame in frames:
        out = stylize_frame(frame, "sample:mosaic", settings, options, previous)
        outputs.append(out)
        previous = _Previous(frame, out)
    return outputs


@pytest.mark.slow
def test_the_temporal_method_flickers_clearly_less_than_independent_frames(one_thread):
    frames = pan_zoom("sample:cat", 4, (48, 64))
    independent = flicker(frames, run_clip(frames, TINY, VideoOptions(temporal=False)))
    temporal = flicker(frames, run_clip(frames, TINY, VideoOptions(frame_iters=10)))
    assert temporal < 0.5 * independent, (temporal, independent)


def test_the_fast_mode_flickers_less_than_adain_frame_by_frame(one_thread):
    frames = pan_zoom("sample:cat", 4, (48, 64))
    adain = TINY.with_options(method="adain")
    independent = flicker(frames, run_clip(frames, adain, VideoOptions(temporal=False)))
    fast = flicker(frames, run_clip(frames, adain, VideoOptions()))
    assert fast < 0.6 * independent, (fast, independent)


# --------------------------------------------------------------------------------------------
# Resuming from the last finished frame
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_interrupted_clip_resumes_from_its_last_frame_with_the_same_frames(tmp_path,
                                                                            one_thread):
    frames = list(enumerate(pan_zoom("sample:cat", 4, (48, 64))))
    settings, options = TINY.with_options(iters=6, fine_iters=6), VideoOptions(frame_iters=4)
    whole = tmp_path / "whole"
    prepare_folder(whole, {"run": 1}, overwrite=False)
    list(stylize_frames(frames, "sample:mosaic", settings, options, whole))

    def stop_at_frame_2(position, index):
        if position == 2:
            raise KeyboardInterrupt
        return None

    cut = tmp_path / "cut"
    assert prepare_folder(cut, {"run": 1}, overwrite=False) == 0
    with pytest.raises(KeyboardInterrupt):
        list(stylize_frames(frames, "sample:mosaic", settings, options, cut,
                            callback=stop_at_frame_2))
    kept = [frame_path(cut, i).stat().st_mtime_ns for i in range(2)]
    assert not frame_path(cut, 2).exists()

    done = prepare_folder(cut, {"run": 1}, overwrite=False)
    assert done == 2
    resumed = []
    list(stylize_frames(frames, "sample:mosaic", settings, options, cut, done=done,
                        on_frame=lambda pos, index, again: resumed.append(again)))
    assert resumed == [True, True, False, False]
    assert [frame_path(cut, i).stat().st_mtime_ns for i in range(2)] == kept
    for i in range(4):
        assert frame_path(cut, i).read_bytes() == frame_path(whole, i).read_bytes(), i


def test_a_frames_folder_of_another_run_is_never_mixed_in(tmp_path):
    folder = tmp_path / "out.frames"
    prepare_folder(folder, {"size": 64}, overwrite=False)
    frame_path(folder, 0).write_bytes(b"png")
    assert prepare_folder(folder, {"size": 64}, overwrite=False) == 1
    from texstyle.errors import TexstyleError

    with pytest.raises(TexstyleError, match="another run"):
        prepare_folder(folder, {"size": 128}, overwrite=False)
    assert prepare_folder(folder, {"size": 128}, overwrite=True) == 0


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Six frames of 48x64 at 12 fps, with a sine tone as sound."""
    folder = tmp_path_factory.mktemp("clip")
    return write_clip(pan_zoom("sample:cat", 6, (48, 64)), folder / "clip.mp4", tone_hz=440)


def test_a_clip_round_trips_through_the_encoder(clip):
    info = probe(clip)
    assert (info.fps, info.width, info.height, info.frames, info.has_audio) == (
        Fraction(12), 64, 48, 6, True)
    frames = list(read_frames(clip, 32, start=1, every=2))
    assert [i for i, _ in frames] == [1, 3, 5] and frames[0][1].shape == (1, 3, 24, 32)


def test_the_fast_mode_writes_the_clip_at_its_rate_with_its_audio(clip, tmp_path, one_thread):
    proc = run_main("video", clip, "--style", "sample:mosaic", "-o", "out.mp4", "--size", "48",
                    "--method", "adain", "--quiet", "--device", "cpu", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "6 frames at 12 fps, fast, audio copied" in proc.stdout
    info = probe(tmp_path / "out.mp4")
    assert (info.fps, info.width, info.height, info.frames, info.has_audio) == (
        Fraction(12), 48, 36, 6, True)
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["mode"] == "fast" and record["frames"] == 6
    assert not (tmp_path / "out.frames").exists()  # removed once encoded

    again = run_main("video", clip, "--style", "sample:mosaic", "-o", "out.mp4", cwd=tmp_path)
    assert_usage_error(again, r"output exists: out.mp4", r"--overwrite")

    part = run_main("video", clip, "--style", "sample:mosaic", "-o", "part.mp4", "--size", "48",
                    "--method", "adain", "--quiet", "--device", "cpu", "--every", "2",
                    "--frames", "1:", cwd=tmp_path)
    assert "3 frames at 6 fps, fast, audio left out" in part.stdout, part.stderr
    assert probe(tmp_path / "part.mp4").has_audio is False


@pytest.mark.parametrize(("setup", "args", "patterns"), [
    (None, ["missing.mp4"], [r"video not found: missing.mp4"]),
    ("text", ["notes.mp4"], [r"cannot read notes.mp4 as a video"]),
    (None, ["clip.mp4", "--frames", "5:2"], [r"--frames", r"A:B"]),
    (None, ["clip.mp4", "-o", "out.gif"], [r"use a video extension"]),
    (None, ["clip.mp4", "--every", "0"], [r"--every must be a positive integer"]),
    (None, ["clip.mp4", "--blend", "1"], [r"--blend must be"]),
    (None, ["clip.mp4", "--frames", "6:"], [r"has 6 frames"]),
    (None, ["clip.mp4", "-o", "clip.mp4"], [r"one of the inputs"]),
])
def test_bad_video_input_is_one_line(clip, tmp_path, setup, args, patterns):
    (tmp_path / "clip.mp4").write_bytes(clip.read_bytes())
    if setup == "text":
        (tmp_path / "notes.mp4").write_text("not a video")
    if "-o" not in args:
        args = [*args, "-o", "out.mp4"]
    proc = run_main("video", *args, "--style", "sample:mosaic", cwd=tmp_path)
    assert_usage_error(proc, *patterns)


@pytest.mark.slow
def test_the_command_goes_on_from_the_frames_folder_of_an_interrupted_run(clip, tmp_path,
                                                                         one_thread):
    args = ["video", clip, "--style", "sample:mosaic", "-o", "out.mp4", "--size", "48",
            "--method", "adain", "--quiet", "--device", "cpu", "--keep-frames"]
    first = run_main(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "out.frames"
    kept = {i: frame_path(folder, i).read_bytes() for i in range(6)}
    # As after Ctrl-C at frame 4: frames 0-3 finished, no clip written yet.
    for i in (4, 5):
        frame_path(folder, i).unlink()
    (tmp_path / "out.mp4").unlink()
    (tmp_path / "out.json").unlink()
    again = run_main(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "out.json").read_text())["resumed_frames"] == 4
    assert {i: frame_path(folder, i).read_bytes() for i in range(6)} == kept
    assert probe(tmp_path / "out.mp4").frames == 6

    other = run_main(*args[:-1], "--blend", "0.5", "-o", "other.mp4", cwd=tmp_path)
    assert other.returncode == 0  # another output name: its own folder, no clash
    clash = run_main(*args, "--blend", "0.5", "--overwrite", cwd=tmp_path)
    assert clash.returncode == 0 and json.loads(
        (tmp_path / "out.json").read_text())["resumed_frames"] == 0  # other settings: redone
