"""The command line, run as users run it: ``python -m texstyle ...`` in a subprocess.

Each subprocess pays a few seconds of start-up (torch import, weight loading), so successful runs
are shared by module-scoped fixtures and several tests assert on one run; every error case is its
own short run, because each one ends the process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import assert_usage_error, run_cli, run_main
from texstyle.cli.commands import record_path, snapshot_path


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        img.load()  # a truncated or corrupt file fails here
        assert img.format == Image.registered_extensions()[path.suffix.lower()]
        return img.size


def write_png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(array, mode).save(path)
    return path


def noise_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# Successful runs (shared)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def texture_run(tmp_path_factory):
    """texture sample:brick -o out.png --size 48 --iters 5 --quiet"""
    cwd = tmp_path_factory.mktemp("texture")
    proc = run_cli("texture", "sample:brick", "-o", "out.png", "--size", "48", "--iters", "5",
                   "--quiet", cwd=cwd)
    return cwd, proc


@pytest.fixture(scope="module")
def sized_run(tmp_path_factory):
    """Exact --width/--height, no --quiet (progress bar), --save-every 2."""
    cwd = tmp_path_factory.mktemp("sized")
    proc = run_cli("texture", "sample:brick", "-o", "wh.png", "--width", "64", "--height", "40",
                   "--iters", "4", "--save-every", "2", cwd=cwd)
    return cwd, proc


@pytest.fixture(scope="module")
def stylize_run(tmp_path_factory):
    """stylize into a folder that does not exist yet."""
    cwd = tmp_path_factory.mktemp("stylize")
    out = Path("new") / "sub" / "s.png"
    proc = run_cli("stylize", "sample:cat", "--style", "sample:mosaic", "-o", out, "--size", "48",
                   "--iters", "3", "--quiet", cwd=cwd)
    return cwd, out, proc


@pytest.mark.slow
def test_texture_exits_zero_and_writes_png_of_requested_size(texture_run):
    cwd, proc = texture_run
    assert proc.returncode == 0, proc.stderr
    assert image_size(cwd / "out.png") == (48, 48)  # brick is square: 48 px long side


@pytest.mark.slow
def test_texture_writes_json_record_with_settings_and_history(texture_run):
    cwd, proc = texture_run
    assert proc.returncode == 0, proc.stderr
    record = json.loads((cwd / "out.json").read_text())
    assert record_path(cwd / "out.png") == cwd / "out.json"
    settings = record["settings"]
    assert settings["size"] == 48
    assert settings["iters"] == 5
    assert settings["output_size"] == [48, 48]
    assert settings["mode"] == "texture"
    history = record["history"]
    assert isinstance(history, list) and len(history) == 5
    assert all("style" in h and "total" in h for h in history)
    assert all(np.isfinite(h["total"]) and h["total"] > 0 for h in history)


@pytest.mark.slow
def test_texture_prints_one_final_line_with_the_path(texture_run):
    _cwd, proc = texture_run
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    assert "out.png" in lines[-1]
    assert "48x48" in lines[-1]


@pytest.mark.slow
def test_quiet_shows_no_progress_bar(texture_run):
    _cwd, proc = texture_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.slow
def test_width_and_height_give_exact_size(sized_run):
    cwd, proc = sized_run
    assert proc.returncode == 0, proc.stderr
    assert image_size(cwd / "wh.png") == (64, 40)
    record = json.loads((cwd / "wh.json").read_text())
    assert record["settings"]["output_size"] == [64, 40]


@pytest.mark.slow
def test_progress_bar_on_stderr_without_quiet(sized_run):
    _cwd, proc = sized_run
    assert proc.returncode == 0, proc.stderr
    assert "4/4" in proc.stderr and "100%" in proc.stderr, proc.stderr
    assert "style=" in proc.stderr  # the loss terms are shown next to the bar
    assert "4/4" not in proc.stdout  # the bar does not pollute stdout


@pytest.mark.slow
def test_save_every_writes_snapshots(sized_run):
    cwd, proc = sized_run
    assert proc.returncode == 0, proc.stderr
    out = cwd / "wh.png"
    for i in (2, 4):
        snap = snapshot_path(out, i)
        assert snap.is_file(), sorted(p.name for p in cwd.iterdir())
        assert image_size(snap) == (64, 40)
    for i in (1, 3):
        assert not snapshot_path(out, i).exists()
    snapshots = sorted(p.name for p in cwd.iterdir() if ".iter" in p.name)
    assert snapshots == [snapshot_path(out, 2).name, snapshot_path(out, 4).name]


@pytest.mark.slow
def test_stylize_keeps_content_aspect_ratio(stylize_run):
    cwd, out, proc = stylize_run
    assert proc.returncode == 0, proc.stderr
    # The cat sample is 451x300: long side 48 gives 48 x round(300 * 48 / 451) = 48x32.
    assert image_size(cwd / out) == (48, 32)
    record = json.loads(record_path(cwd / out).read_text())
    assert record["settings"]["mode"] == "stylize"
    assert all("content" in h for h in record["history"])


@pytest.mark.slow
def test_output_parent_folder_is_created(stylize_run):
    cwd, out, proc = stylize_run
    assert proc.returncode == 0, proc.stderr
    assert (cwd / "new" / "sub").is_dir()
    assert (cwd / out).is_file() and record_path(cwd / out).is_file()


@pytest.mark.slow
def test_overwrite_replaces_existing_output(tmp_path):
    out = tmp_path / "out.png"
    Image.new("RGB", (10, 10), (1, 2, 3)).save(out)
    before = out.read_bytes()
    proc = run_cli("texture", "sample:brick", "-o", "out.png", "--size", "32", "--iters", "3",
                   "--quiet", "--overwrite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() != before
    assert image_size(out) == (32, 32)


# --------------------------------------------------------------------------------------------
# Inputs that need converting
# --------------------------------------------------------------------------------------------


def _grey(path: Path) -> np.ndarray:
    grey = np.random.default_rng(1).integers(40, 120, (64, 64), dtype=np.uint8)
    write_png(path, grey, "L")
    return np.repeat(grey[..., None] / 255.0, 3, axis=2)


def _rgba(path: Path) -> np.ndarray:
    # Left half opaque red noise, right half fully transparent *black*: correct handling
    # composites over white, a plain convert("RGB") would show black.
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[:, :32, 0] = np.random.default_rng(2).integers(150, 250, (64, 32), dtype=np.uint8)
    rgba[:, :32, 3] = 255
    write_png(path, rgba, "RGBA")
    a = rgba[..., 3:] / 255.0
    return rgba[..., :3] / 255.0 * a + (1 - a)


def _palette(path: Path) -> np.ndarray:
    colours = np.array([[255, 0, 0], [0, 200, 0], [0, 0, 255], [250, 250, 0]], np.uint8)
    idx = np.random.default_rng(3).integers(0, 4, (64, 64), dtype=np.uint8)
    img = Image.fromarray(idx, "P")
    img.putpalette(colours.ravel().tolist() + [0] * (3 * 252))
    img.save(path)
    with Image.open(path) as check:
        assert check.mode == "P"
    return colours[idx] / 255.0


def _grey16(path: Path) -> np.ndarray:
    # A 16-bit ramp from 20% to 60% grey; clipping at 255 (8-bit) would make it all white.
    ramp = np.linspace(0.2, 0.6, 64)[None, :] * np.ones((64, 1))
    Image.fromarray((ramp * 65535).astype(np.uint16)).save(path)
    with Image.open(path) as check:
        assert check.mode.startswith("I")
    return np.repeat(ramp[..., None], 3, axis=2)


@pytest.mark.slow
@pytest.mark.parametrize("make", [_grey, _rgba, _palette, _grey16],
                         ids=["grayscale", "rgba", "palette", "16bit"])
def test_converted_inputs_run_end_to_end(tmp_path, make):
    expected = make(tmp_path / "in.png")  # (H, W, 3) floats: what the image should look like
    proc = run_cli("texture", "in.png", "-o", "out.png", "--size", "48", "--iters", "2",
                   "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert image_size(tmp_path / "out.png") == (48, 48)
    # The run starts from noise around the exemplar's mean colour and two iterations barely
    # move it, so a wrongly converted exemplar shows up as a wrong output colour.
    with Image.open(tmp_path / "out.png") as img:
        out = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
    np.testing.assert_allclose(out.mean(axis=(0, 1)), expected.mean(axis=(0, 1)), atol=0.06)


# --------------------------------------------------------------------------------------------
# Help
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_help(tmp_path):
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "texture" in proc.stdout and "stylize" in proc.stdout


def test_texture_help(tmp_path):
    proc = run_main("texture", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for flag in ("--size", "--iters", "--overwrite", "--save-every", "--quiet"):
        assert flag in proc.stdout


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, no traceback, a message that says what is wrong
# --------------------------------------------------------------------------------------------


@pytest.fixture
def good_png(tmp_path) -> Path:
    return write_png(tmp_path / "good.png", noise_rgb(64, 64))


def assert_no_output(tmp_path: Path, name: str = "o.png") -> None:
    assert not (tmp_path / name).exists()
    assert not record_path(tmp_path / name).exists()


def test_missing_input_file(tmp_path):
    proc = run_main("texture", "missing.png", "-o", "o.png", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"not found", r"missing\.png")
    assert_no_output(tmp_path)


def test_input_that_is_not_an_image(tmp_path):
    (tmp_path / "notes.txt").write_text("this is not an image\n")
    proc = run_main("texture", "notes.txt", "-o", "o.png", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"not an image", r"notes\.txt")
    assert_no_output(tmp_path)


def test_truncated_png(tmp_path, good_png):
    data = good_png.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    proc = run_main("texture", "cut.png", "-o", "o.png", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"truncated|corrupt", r"cut\.png")
    assert_no_output(tmp_path)


def test_output_too_small_for_deepest_layer(tmp_path):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "16", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"too small", r"\b32 px", r"relu5_1")
    assert_no_output(tmp_path)


def test_style_exemplar_too_small(tmp_path):
    write_png(tmp_path / "tiny.png", noise_rgb(20, 20))
    proc = run_main("texture", "tiny.png", "-o", "o.png", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"style", r"20x20", r"too small", r"\b32 px")
    assert_no_output(tmp_path)


def test_unknown_layer_name(tmp_path):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "48", "--iters", "2",
                   "--style-layers", "relu1_1,relu9_9", cwd=tmp_path)
    assert_usage_error(proc, r"unknown layer", r"relu9_9", r"relu4_2", r"relu1_1")
    assert_no_output(tmp_path)


@pytest.mark.parametrize("size", ["0", "-5"])
def test_non_positive_size(tmp_path, size):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", size, "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"size", r"positive", re.escape(size))
    assert_no_output(tmp_path)


@pytest.mark.parametrize("weight", ["-1", "0"])
def test_non_positive_style_weight(tmp_path, weight):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "48", "--iters", "2",
                   "--style-weight", weight, cwd=tmp_path)
    assert_usage_error(proc, r"style[_-]weight", r"positive")
    assert_no_output(tmp_path)


def test_negative_content_weight(tmp_path):
    proc = run_main("stylize", "sample:cat", "--style", "sample:mosaic", "-o", "o.png",
                   "--size", "48", "--iters", "2", "--content-weight", "-1", cwd=tmp_path)
    assert_usage_error(proc, r"content[_-]weight", r"-1")
    assert_no_output(tmp_path)


def test_unknown_pooling(tmp_path):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "48", "--iters", "2",
                   "--pooling", "median", cwd=tmp_path)
    assert_usage_error(proc, r"pooling", r"median", r"avg", r"max")
    assert_no_output(tmp_path)


def test_existing_output_refused_without_overwrite(tmp_path):
    out = tmp_path / "o.png"
    Image.new("RGB", (10, 10), (9, 8, 7)).save(out)
    before = out.read_bytes()
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "32", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"exists", r"o\.png", r"--overwrite")
    assert out.read_bytes() == before
    assert not record_path(out).exists()


def test_output_equal_to_input_refused_even_with_overwrite(tmp_path, good_png):
    before = good_png.read_bytes()
    proc = run_main("texture", "good.png", "-o", "good.png", "--size", "48", "--iters", "2",
                   "--overwrite", cwd=tmp_path)
    assert_usage_error(proc, r"input", r"good\.png")
    assert good_png.read_bytes() == before
    assert not record_path(good_png).exists()


def test_output_with_non_image_extension_refused(tmp_path):
    proc = run_main("texture", "sample:brick", "-o", "o.txt", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"extension", r"o\.txt")
    assert_no_output(tmp_path, "o.txt")


def test_missing_weights_file(tmp_path):
    proc = run_main("texture", "sample:brick", "-o", "o.png", "--size", "48", "--iters", "2",
                   "--weights", "nope.pth", cwd=tmp_path)
    assert_usage_error(proc, r"weights", r"not found", r"nope\.pth")
    assert_no_output(tmp_path)


def test_output_extension_pillow_cannot_write_refused_up_front(tmp_path):
    # Pillow reads PSD but cannot write it; the run must stop before any work, not after.
    proc = run_main("texture", "sample:brick", "-o", "o.psd", "--size", "48", "--iters", "2",
                   cwd=tmp_path)
    assert_usage_error(proc, r"extension", r"o\.psd")
    assert_no_output(tmp_path, "o.psd")
