"""Image I/O: every way an image comes in, the way it goes out, and the size helper."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from texstyle.errors import TexstyleError
from texstyle.image import fit_long_side, load_image, save_image, to_pil


def _rgb_array(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _as_tensor(arr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 → (1, 3, H, W) float32 / 255, the reference for loaded images."""
    return torch.from_numpy(arr.astype(np.float32) / 255.0).permute(2, 0, 1)[None]


# --- files --------------------------------------------------------------------------------


def test_rgb_png_round_trip(tmp_path):
    arr = _rgb_array(5, 7)
    path = tmp_path / "rgb.png"
    Image.fromarray(arr).save(path)
    t = load_image(path)
    assert t.shape == (1, 3, 5, 7)
    assert t.dtype == torch.float32
    torch.testing.assert_close(t, _as_tensor(arr), rtol=0, atol=0)


def test_load_image_accepts_str_path(tmp_path):
    arr = _rgb_array(3, 4, seed=1)
    path = tmp_path / "rgb.png"
    Image.fromarray(arr).save(path)
    torch.testing.assert_close(load_image(str(path)), _as_tensor(arr), rtol=0, atol=0)


def test_grayscale_gives_three_equal_channels(tmp_path):
    arr = np.array([[0, 64, 255], [10, 128, 200]], dtype=np.uint8)
    path = tmp_path / "gray.png"
    Image.fromarray(arr, mode="L").save(path)
    t = load_image(path)
    assert t.shape == (1, 3, 2, 3)
    expected = torch.from_numpy(arr.astype(np.float32) / 255.0)
    for c in range(3):
        torch.testing.assert_close(t[0, c], expected, rtol=0, atol=0)


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.array(
        [[[0, 0, 0, 0], [255, 0, 0, 255]], [[0, 0, 0, 128], [10, 20, 30, 0]]], dtype=np.uint8
    )
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    t = load_image(path)
    assert t.shape == (1, 3, 2, 2)
    px = t[0].permute(1, 2, 0)  # (H, W, 3)
    torch.testing.assert_close(px[0, 0], torch.ones(3))  # transparent black → white
    torch.testing.assert_close(px[1, 1], torch.ones(3))  # transparent colour → white
    torch.testing.assert_close(px[0, 1], torch.tensor([1.0, 0.0, 0.0]))  # opaque kept
    # Half-transparent black over white: 255 · (1 − 128/255) = 127.
    torch.testing.assert_close(px[1, 0], torch.full((3,), 127 / 255), atol=1.5 / 255, rtol=0)


def test_la_image_is_composited_over_white(tmp_path):
    la = np.array([[[0, 0], [50, 255]]], dtype=np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(la, mode="LA").save(path)
    t = load_image(path)
    torch.testing.assert_close(t[0, :, 0, 0], torch.ones(3))
    torch.testing.assert_close(t[0, :, 0, 1], torch.full((3,), 50 / 255))


def test_palette_image(tmp_path):
    colours = [(255, 0, 0), (0, 128, 255), (12, 34, 56)]
    arr = np.array([[colours[(i + j) % 3] for j in range(5)] for i in range(4)], dtype=np.uint8)
    pal = Image.fromarray(arr).convert("P", palette=Image.Palette.ADAPTIVE, colors=3)
    assert pal.mode == "P"
    path = tmp_path / "pal.png"
    pal.save(path)
    t = load_image(path)
    torch.testing.assert_close(t, _as_tensor(arr), rtol=0, atol=0)


def test_palette_transparency_is_composited_over_white(tmp_path):
    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 0, 0, 200, 100, 50] + [0] * (3 * 254))
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = tmp_path / "pal_t.png"
    pal.save(path, transparency=0)
    t = load_image(path)
    torch.testing.assert_close(t[0, :, 0, 0], torch.ones(3))
    torch.testing.assert_close(t[0, :, 0, 1], torch.tensor([200, 100, 50]) / 255.0)


def test_16bit_grayscale_is_scaled_by_65535(tmp_path):
    arr = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    img = Image.fromarray(arr)
    assert img.mode == "I;16"
    path = tmp_path / "deep.png"
    img.save(path)
    t = load_image(path)
    assert t.shape == (1, 3, 2, 2)
    assert t[0, 0, 0, 1].item() == 1.0
    assert t[0, 0, 0, 0].item() == 0.0
    assert t[0, 0, 1, 0].item() == pytest.approx(0.5, abs=1e-4)
    assert t[0, 0, 1, 1].item() == pytest.approx(1000 / 65535, abs=1e-6)
    assert torch.equal(t[0, 0], t[0, 1]) and torch.equal(t[0, 0], t[0, 2])


def test_exif_orientation_is_honoured(tmp_path):
    # Stored 20 wide x 10 high, left half blue, right half red.  Orientation 6 says "rotate
    # 90° clockwise to display": the loaded image is 10 wide x 20 high with blue on top.
    img = Image.new("RGB", (20, 10), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 10))
    exif = img.getexif()
    exif[274] = 6
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif, quality=95, subsampling=0)
    t = load_image(path)
    assert t.shape == (1, 3, 20, 10)  # (H, W): height and width swapped
    blue = t[0, 2] > 0.5
    red = t[0, 0] > 0.5
    assert blue[:8].all() and not red[:8].any()
    assert red[12:].all() and not blue[12:].any()


def test_truncated_png_is_rejected(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(_rgb_array(32, 32, seed=2)).save(good)
    data = good.read_bytes()
    bad = tmp_path / "half.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(TexstyleError) as info:
        load_image(bad)
    assert str(bad) in str(info.value)


def test_text_file_is_rejected(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n")
    with pytest.raises(TexstyleError, match="not an image") as info:
        load_image(path, "style image")
    assert str(path) in str(info.value)
    assert "style image" in str(info.value)


def test_missing_file_is_rejected(tmp_path):
    path = tmp_path / "missing.png"
    with pytest.raises(TexstyleError, match="not found") as info:
        load_image(path, "content image")
    assert str(path) in str(info.value)
    assert "content image" in str(info.value)


def test_directory_is_rejected(tmp_path):
    with pytest.raises(TexstyleError, match="not a file"):
        load_image(tmp_path)


def test_pil_image_input():
    arr = _rgb_array(4, 6, seed=3)
    torch.testing.assert_close(load_image(Image.fromarray(arr)), _as_tensor(arr), rtol=0, atol=0)


# --- tensors and arrays -------------------------------------------------------------------


def test_tensor_chw_is_batched():
    x = torch.rand(3, 4, 5, generator=torch.Generator().manual_seed(0))
    t = load_image(x)
    assert t.shape == (1, 3, 4, 5)
    assert t.dtype == torch.float32
    torch.testing.assert_close(t[0], x)


def test_tensor_bchw_is_kept():
    x = torch.rand(1, 3, 4, 5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(load_image(x), x)


def test_tensor_hw_becomes_three_equal_channels():
    x = torch.rand(4, 5, generator=torch.Generator().manual_seed(2))
    t = load_image(x)
    assert t.shape == (1, 3, 4, 5)
    for c in range(3):
        torch.testing.assert_close(t[0, c], x)


def test_tensor_input_is_detached_float32_and_not_aliased():
    x = torch.rand(3, 4, 4, dtype=torch.float64, requires_grad=True)
    t = load_image(x)
    assert t.dtype == torch.float32
    assert not t.requires_grad
    t.mul_(0)
    assert x.abs().sum() > 0


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf")])
def test_tensor_values_outside_unit_interval_are_rejected(bad):
    x = torch.rand(3, 4, 4)
    x[1, 2, 3] = bad
    with pytest.raises(TexstyleError, match=r"\[0, 1\]"):
        load_image(x)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (4, 4, 4), (1, 2, 4, 4), (3,), (1, 1, 3, 4, 4)])
def test_tensor_wrong_shape_is_rejected(shape):
    with pytest.raises(TexstyleError, match="shape"):
        load_image(torch.rand(*shape))


def test_numpy_uint8_hwc():
    arr = _rgb_array(4, 6, seed=4)
    t = load_image(arr)
    assert t.shape == (1, 3, 4, 6)
    torch.testing.assert_close(t, _as_tensor(arr), rtol=0, atol=0)


def test_numpy_uint8_grayscale():
    arr = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    t = load_image(arr)
    assert t.shape == (1, 3, 2, 2)
    expected = torch.tensor([[0.0, 1.0], [0.2, 0.4]])
    for c in range(3):
        torch.testing.assert_close(t[0, c], expected)


def test_numpy_float_hwc_in_unit_interval():
    arr = np.random.default_rng(5).random((3, 5, 3))
    t = load_image(arr)
    assert t.shape == (1, 3, 3, 5)
    torch.testing.assert_close(t[0].permute(1, 2, 0), torch.from_numpy(arr).float())


def test_numpy_float_out_of_range_is_rejected():
    with pytest.raises(TexstyleError):
        load_image(np.full((4, 4, 3), 2.0))


# --- output -------------------------------------------------------------------------------


def test_to_pil_rounds_to_nearest():
    k = torch.arange(256, dtype=torch.float32)
    below = ((k + 0.49) / 255).clamp(max=1)
    above = ((k[:-1] + 0.51) / 255)
    for values, expected in [(k / 255, k), (below, k), (above, k[:-1] + 1)]:
        n = values.numel()
        img = to_pil(values.view(1, 1, n).expand(3, 1, n))
        got = np.asarray(img)[0, :, 0].astype(np.float32)
        np.testing.assert_array_equal(got, expected.numpy())


def test_to_pil_clamps_and_keeps_geometry():
    x = torch.zeros(1, 3, 2, 5)
    x[0, 0, 0, 0] = -3.0
    x[0, 1, 1, 4] = 7.0
    img = to_pil(x)
    assert img.mode == "RGB"
    assert img.size == (5, 2)  # PIL is (W, H)
    arr = np.asarray(img)
    assert arr[0, 0, 0] == 0
    assert arr[1, 4, 1] == 255


def test_to_pil_then_load_is_identity_on_8bit_values():
    x = torch.from_numpy(_rgb_array(3, 4, seed=6).astype(np.float32) / 255).permute(2, 0, 1)[None]
    torch.testing.assert_close(load_image(to_pil(x)), x, rtol=0, atol=0)


def _img(seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(_rgb_array(4, 5, seed).astype(np.float32) / 255).permute(2, 0, 1)[None]


def test_save_image_writes_png(tmp_path):
    path = tmp_path / "out.png"
    returned = save_image(_img(), path)
    assert returned == path
    torch.testing.assert_close(load_image(path), _img(), rtol=0, atol=0)
    assert os.listdir(tmp_path) == ["out.png"]  # no temporary files left behind


def test_save_image_refuses_existing_file(tmp_path):
    path = tmp_path / "out.png"
    save_image(_img(0), path)
    before = path.read_bytes()
    with pytest.raises(TexstyleError, match="exists") as info:
        save_image(_img(1), path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.png"]


def test_save_image_overwrite_replaces(tmp_path):
    path = tmp_path / "out.png"
    save_image(_img(0), path)
    save_image(_img(1), path, overwrite=True)
    torch.testing.assert_close(load_image(path), _img(1), rtol=0, atol=0)
    assert os.listdir(tmp_path) == ["out.png"]


def test_save_image_creates_parent_folders(tmp_path):
    path = tmp_path / "a" / "b" / "out.png"
    save_image(_img(), path)
    assert path.is_file()
    assert os.listdir(path.parent) == ["out.png"]


def test_save_image_format_follows_extension(tmp_path):
    save_image(_img(), tmp_path / "out.JPG")
    with Image.open(tmp_path / "out.JPG") as img:
        assert img.format == "JPEG"
    save_image(Image.fromarray(_rgb_array(4, 5)), tmp_path / "pil.bmp")
    with Image.open(tmp_path / "pil.bmp") as img:
        assert img.format == "BMP"


def test_save_image_unknown_extension(tmp_path):
    path = tmp_path / "new" / "out.xyz"
    with pytest.raises(TexstyleError, match="xyz"):
        save_image(_img(), path)
    assert not path.exists()
    assert not path.parent.exists()
    with pytest.raises(TexstyleError):
        save_image(_img(), tmp_path / "no_extension")
    assert os.listdir(tmp_path) == []


def test_save_image_cleans_up_when_encoding_fails(tmp_path, monkeypatch):
    img = Image.new("RGB", (3, 3))

    def broken_save(fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(img, "save", broken_save)
    with pytest.raises(OSError):
        save_image(img, tmp_path / "out.png")
    assert os.listdir(tmp_path) == []


def test_save_image_rgba_as_jpeg_drops_alpha(tmp_path):
    out = save_image(Image.new("RGBA", (3, 3), (10, 20, 30, 128)), tmp_path / "out.jpg")
    with Image.open(out) as img:
        assert img.mode == "RGB" and img.size == (3, 3)


def test_saved_files_get_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        out = save_image(torch.rand(1, 3, 2, 2), tmp_path / "a.png")
    finally:
        os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o644


# --- fit_long_side ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hw, long_side, expected",
    [
        ((100, 200), 50, (25, 50)),
        ((200, 100), 50, (50, 25)),
        ((64, 64), 256, (256, 256)),
        ((300, 400), 400, (300, 400)),
        ((3, 1000), 100, (1, 100)),  # never below 1 px
        ((480, 640), 321, (241, 321)),  # 240.75 → 241
    ],
)
def test_fit_long_side(hw, long_side, expected):
    assert fit_long_side(*hw, long_side) == expected


@settings(max_examples=50, deadline=None, database=None)
@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 5000))
def test_fit_long_side_properties(h, w, long_side):
    nh, nw = fit_long_side(h, w, long_side)
    assert isinstance(nh, int) and isinstance(nw, int)
    assert max(nh, nw) == long_side
    assert nh >= 1 and nw >= 1
    scale = long_side / max(h, w)
    assert abs(nh - h * scale) <= 0.5 + 1e-9 or nh == 1
    assert abs(nw - w * scale) <= 0.5 + 1e-9 or nw == 1
    if h >= w:
        assert nh >= nw
    else:
        assert nw >= nh


def test_numpy_rgba_is_composited_like_a_file():
    a = np.zeros((1, 1, 4), np.uint8)  # transparent black
    from_array = load_image(a)
    from_pil = load_image(Image.fromarray(a, "RGBA"))
    assert torch.allclose(from_array, from_pil)
    assert torch.allclose(from_array, torch.ones(1, 3, 1, 1))


def test_decompression_bomb_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 px is over twice the limit
    with pytest.raises(TexstyleError, match="too large"):
        load_image(path)
