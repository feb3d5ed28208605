"""Bad and unusual inputs: every file gives a correct RGB image or one clear error, never a crash.

The fuzz tests call the loader in-process (fast, many cases); a few subprocess runs check that the
same errors reach the user as one line with exit 2.  Range checks of every numeric option are at
the end.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from texstyle.cli import main
from texstyle.config import FileOptions, StylizeSettings, TextureSettings
from texstyle.errors import TexstyleError
from texstyle.image import load_image

FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "GIF")


def encoded(fmt: str, size=(12, 9), seed: int = 0) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format=fmt)
    return buf.getvalue()


GOOD = {fmt: encoded(fmt) for fmt in FORMATS}


def assert_rgb_or_clear_error(path) -> torch.Tensor | None:
    """The loader's contract: a (1, 3, H, W) float tensor in [0, 1] or a one-line TexstyleError."""
    try:
        t = load_image(path, "style image")
    except TexstyleError as exc:
        message = str(exc)
        assert "\n" not in message and str(path) in message, message
        return None
    assert t.dtype == torch.float32 and t.dim() == 4 and t.shape[:2] == (1, 3)
    assert torch.isfinite(t).all() and t.min() >= 0 and t.max() <= 1
    return t


FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(tmp_path, data):
    path = tmp_path / "random.png"
    path.write_bytes(data)
    assert_rgb_or_clear_error(path)


@FUZZ
@given(fmt=st.sampled_from(FORMATS), cut=st.floats(0.0, 0.999))
def test_truncated_files_never_crash_the_loader(tmp_path, fmt, cut):
    data = GOOD[fmt]
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: int(len(data) * cut)])
    assert_rgb_or_clear_error(path)


@FUZZ
@given(fmt=st.sampled_from(FORMATS), flips=st.lists(
    st.tuples(st.floats(0.0, 0.999), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_files_never_crash_the_loader(tmp_path, fmt, flips):
    data = bytearray(GOOD[fmt])
    for where, value in flips:
        data[int(len(data) * where)] = value
    path = tmp_path / f"bad.{fmt.lower()}"
    path.write_bytes(bytes(data))
    assert_rgb_or_clear_error(path)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header (valid CRC) that declares a huge image, with no pixel data behind it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) \
        + chunk(b"IEND", b"")


def test_huge_declared_dimensions_are_refused_naming_the_limit(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(100_000, 100_000))
    with pytest.raises(TexstyleError, match=r"10,000,000,000 px.*limit of 89,478,485 px.*max-pixels"):
        load_image(path)


def test_max_pixels_lowers_and_raises_the_limit(tmp_path):
    path = tmp_path / "small.png"
    Image.new("RGB", (20, 10), (0, 255, 0)).save(path)
    with pytest.raises(TexstyleError, match=r"limit of 199 px"):
        load_image(path, max_pixels=199)
    assert load_image(path, max_pixels=200).shape == (1, 3, 10, 20)
    # Above Pillow's own limit: Pillow's guard must not refuse what the user allowed.
    big = tmp_path / "big.png"
    big.write_bytes(png_declaring(20_000, 10_000))  # 2e8 px, over twice Pillow's limit
    with pytest.raises(TexstyleError, match="truncated or corrupt"):  # got past the size check
        load_image(big, max_pixels=300_000_000)


@pytest.mark.slow
def test_cli_refuses_a_bomb_in_one_line_and_max_pixels_is_checked(tmp_path):
    # One real subprocess: what the user sees, start-up included.
    (tmp_path / "bomb.png").write_bytes(png_declaring(100_000, 100_000))
    proc = run_cli("texture", "bomb.png", "-o", "o.png", "--size", "48", cwd=tmp_path)
    assert_usage_error(proc, r"bomb\.png", r"89,478,485", r"--max-pixels")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("name, data, pattern", [
    ("cut.jpg", GOOD["JPEG"][:200], r"(truncated or corrupt).*cut\.jpg"),
    ("cut.webp", GOOD["WEBP"][:40], r"(truncated or corrupt|not an image).*cut\.webp"),
    ("noise.tif", b"II*\x00" + bytes(range(256)) * 4,
     r"(truncated or corrupt|not an image).*noise\.tif"),
])
def test_cli_damaged_files_are_one_line(tmp_path, monkeypatch, capsys, name, data, pattern):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(data)
    assert_one_line_error(main(["texture", name, "-o", "o.png", "--size", "48"]), capsys, pattern)


# --- unusual but valid images ------------------------------------------------------------------


def test_cmyk_jpeg_and_tiff_give_rgb(tmp_path):
    for ext in ("jpg", "tif"):
        path = tmp_path / f"cmyk.{ext}"
        Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path)  # pure red in CMYK
        t = load_image(path)
        assert torch.allclose(t[0, :, 8, 8], torch.tensor([1.0, 0.0, 0.0]), atol=0.06), t[0, :, 8, 8]


def test_16bit_rgb_png_keeps_its_range(tmp_path):
    path = tmp_path / "deep.png"
    arr = np.full((4, 4), 65535 // 4, np.uint16)  # 16-bit grey at a quarter
    Image.fromarray(arr).save(path)
    assert torch.allclose(load_image(path), torch.full((1, 3, 4, 4), 0.25), atol=1e-3)


def test_animated_gif_gives_its_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(path) as img:
        assert img.n_frames == 2
    t = load_image(path)
    assert torch.allclose(t[0, :, 4, 4], torch.tensor([1.0, 0.0, 0.0]), atol=0.02)


def test_float_tiff_with_nan_loads_finite(tmp_path):
    path = tmp_path / "f.tif"
    arr = np.full((4, 4), 0.5, np.float32)
    arr[1, 1] = np.nan
    Image.fromarray(arr, "F").save(path)
    t = assert_rgb_or_clear_error(path)
    assert t is not None and t[0, 0, 0, 0] == pytest.approx(0.5)


def test_semi_transparent_png_is_composited_on_white(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 64)).save(path)  # black at 25 % opacity
    t = load_image(path)
    assert torch.allclose(t, torch.full((1, 3, 4, 4), 1 - 64 / 255), atol=1 / 255)


def test_exif_rotated_jpeg_is_upright(tmp_path):
    path = tmp_path / "rot.jpg"
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 10, 20))  # red strip on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img.save(path, exif=exif, quality=95)
    t = load_image(path)
    assert t.shape == (1, 3, 40, 20)  # portrait after rotation
    # Displayed upright, the stored left edge is at the top: red (no green) above, white below.
    assert t[0, 1, 2, 10] < 0.1 and t[0, 1, 37, 10] > 0.9


# --- numeric options: range-checked in config, errors name the option and the value -----------


@pytest.mark.parametrize("cls, option, value", [
    (TextureSettings, "size", 100_000),
    (TextureSettings, "width", 0),
    (TextureSettings, "seed", -1),
    (TextureSettings, "iters", 0),
    (TextureSettings, "lr", float("nan")),
    (TextureSettings, "tv_weight", -0.5),
    (TextureSettings, "style_weight", float("inf")),
    (TextureSettings, "style_scale", 100.0),
    (TextureSettings, "max_pixels", 0),
    (TextureSettings, "layer_weights", (1.0, 1.0, -1.0, 1.0, 1.0)),
    (TextureSettings, "style_blend", (-1.0,)),
    (StylizeSettings, "content_weight", -2.0),
    (FileOptions, "save_every", 0),
    (FileOptions, "checkpoint_every", -3),
])
def test_every_numeric_option_is_range_checked(cls, option, value):
    shown = repr(value[2] if option == "layer_weights" else value[0] if option == "style_blend"
                 else value)
    with pytest.raises(TexstyleError) as info:
        cls(**{option: value})
    message = str(info.value)
    assert option.replace("_", " ").split()[0] in message.replace("_", " ") and shown in message, \
        message


@pytest.mark.parametrize("flag, value, pattern", [
    ("--seed", "-1", r"seed.*-1"),
    ("--save-every", "0", r"--save-every.*\b0\b"),
    ("--checkpoint-every", "0", r"--checkpoint-every.*\b0\b"),
    ("--max-pixels", "0", r"max_pixels.*\b0\b"),
    ("--size", "1e3", r"--size.*1e3"),
    ("--lr", "nan", r"lr.*nan"),
])
def test_cli_numeric_options_name_flag_and_value(tmp_path, monkeypatch, capsys, flag, value,
                                                 pattern):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if flag == "--size" else _no_exit() as exit_info:
        code = main(["texture", "sample:brick", "-o", "o.png", flag, value])
    code = exit_info.value.code if flag == "--size" else code
    assert_one_line_error(code, capsys, pattern)
    assert not (tmp_path / "o.png").exists()


class _no_exit:
    """``with`` stand-in for the cases where main() returns instead of argparse exiting."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
