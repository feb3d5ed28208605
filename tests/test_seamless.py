"""Seamless textures: periodic resizing, wrap-around TV, circular VGG padding, the tile preview.

The end-to-end check is the issue's: across the wrap-around edge a ``tile=True`` synthesis looks
like its own interior, and an ordinary synthesis does not.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cli_helpers import assert_usage_error, run_cli, run_main
from texstyle import run_texture
from texstyle.errors import TexstyleError
from texstyle.features import VGGFeatures
from texstyle.losses import total_variation
from texstyle.seamless import (
    parse_repeat,
    periodic_resize,
    raw_seam_ratio,
    seam_ratio,
    tile_image,
    wrap_pad,
)


def smooth_periodic(h: int, w: int) -> torch.Tensor:
    """A periodic image in [0, 1] made of a few whole sine periods."""
    y = torch.arange(h, dtype=torch.float64)[:, None] / h
    x = torch.arange(w, dtype=torch.float64)[None, :] / w
    chans = [torch.sin(2 * torch.pi * (x + 2 * y) + k) for k in range(3)]
    return (0.5 + 0.4 * torch.stack(chans)[None]).float()


@pytest.mark.parametrize(("src", "dst"), [((37, 50), (80, 101)), ((64, 64), (128, 128)),
                                          ((128, 96), (64, 48)), ((30, 40), (17, 23))])
def test_periodic_resize_equals_middle_of_tiled_resize(src, dst):
    x = torch.rand(1, 3, *src, generator=torch.Generator().manual_seed(0))
    h, w = dst
    tiled = F.interpolate(x.repeat(1, 1, 3, 3), size=(3 * h, 3 * w), mode="bicubic",
                          align_corners=False, antialias=True)[..., h:2 * h, w:2 * w].clamp(0, 1)
    assert torch.allclose(periodic_resize(x, h, w), tiled, atol=1e-5)


def test_periodic_resize_commutes_with_wrap_around_shifts_where_plain_resize_does_not():
    """No place in a periodic image is an edge: shifting by 5 px then resizing x4 equals resizing
    then shifting by 20 px."""
    from texstyle.image import resize

    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    shifted_first = periodic_resize(x.roll((5, 5), dims=(-2, -1)), 64, 64)
    assert torch.allclose(shifted_first, periodic_resize(x, 64, 64).roll((20, 20), dims=(-2, -1)),
                          atol=1e-5)
    plain = resize(x.roll((5, 5), dims=(-2, -1)), 64, 64)
    assert not torch.allclose(plain, resize(x, 64, 64).roll((20, 20), dims=(-2, -1)), atol=1e-2)


def test_wrap_pad_beyond_one_period():
    x = torch.arange(3.0).reshape(1, 1, 1, 3)
    assert wrap_pad(x, 0, 4, 0, 4).flatten().tolist() == [2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_wrap_tv_counts_the_wrap_around_jump():
    ramp = torch.linspace(0, 1, 5).reshape(1, 1, 1, 5).expand(1, 3, 5, 5)
    # Plain: four steps of 0.25 per row, no vertical change; wrapped: a fifth step of 1.
    assert total_variation(ramp).item() == pytest.approx(0.25**2)
    assert total_variation(ramp, wrap=True).item() == pytest.approx((4 * 0.25**2 + 1) / 5)
    periodic = smooth_periodic(16, 16)
    assert total_variation(periodic, wrap=True).item() == pytest.approx(
        total_variation(periodic.roll((5, 7), dims=(-2, -1)), wrap=True).item(), rel=1e-5)


def test_circular_features_are_translation_equivariant(random_weights):
    """With wrap-around padding a shifted image has shifted features: no edge anywhere.  Shifts
    are multiples of 4 so they survive relu3_1's two poolings."""
    layers = ["relu1_1", "relu3_1"]
    net = VGGFeatures(random_weights, layers, circular=True)
    plain = VGGFeatures(random_weights, layers)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    shifted = x.roll((8, 12), dims=(-2, -1))
    f, g = net(x), net(shifted)
    assert torch.allclose(g["relu1_1"], f["relu1_1"].roll((8, 12), dims=(-2, -1)), atol=1e-5)
    assert torch.allclose(g["relu3_1"], f["relu3_1"].roll((2, 3), dims=(-2, -1)), atol=1e-5)
    p, q = plain(x), plain(shifted)
    assert not torch.allclose(q["relu1_1"], p["relu1_1"].roll((8, 12), dims=(-2, -1)), atol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])
def test_tile_synthesis_is_seamless_and_plain_synthesis_is_not(seed, one_thread):
    """The issue's check, on the real network at 48 px: across the wrap-around edge the gradient
    statistics match the interior's with ``tile=True`` and do not without it.

    One seam is one sample of a noisy quantity, so the ratio is averaged over the two axes.
    Measured over seeds 0-3 (standardised ratio, mean of both axes): tiled 0.91-1.33, plain
    2.10-2.43; raw |difference| ratio tiled 1.05-1.23.  Seeds 0 and 3 are the tiled extremes.
    Measured with gram and equal layer weights, pinned here: with the texture default (w2,
    ``layer_decay`` 4) one seam at 48 px is a noisier sample (tiled 0.54-2.28 over seeds 0-3,
    plain 6.3-11.5), though 2x2 tilings of seeds 0 and 1 show no seam by eye.
    """
    options = {"size": 48, "iters": 20, "seed": seed, "device": "cpu", "loss": "gram",
               "layer_decay": 1.0}
    tiled = run_texture("sample:cells", tile=True, **options).image
    plain = run_texture("sample:cells", **options).image
    assert 0.67 < seam_ratio(tiled) < 1.5, seam_ratio(tiled)
    assert 0.67 < raw_seam_ratio(tiled) < 1.5, raw_seam_ratio(tiled)
    assert seam_ratio(plain) > 1.75, seam_ratio(plain)


def test_parse_repeat():
    assert parse_repeat("3x2") == (3, 2)
    assert parse_repeat(" 1X16 ") == (1, 16)
    for bad in ("3", "3x", "x2", "0x2", "3x17", "-1x2", "2.5x2", "axb"):
        with pytest.raises(TexstyleError, match="repeat"):
            parse_repeat(bad)


def test_tile_image_layout():
    x = torch.rand(1, 3, 4, 5)
    t = tile_image(x, 3, 2)
    assert t.shape == (1, 3, 8, 15)
    assert torch.equal(t[..., 4:8, 10:15], x)


@pytest.mark.slow
def test_tile_command_writes_preview_and_refuses_to_clobber(tmp_path):
    src = tmp_path / "t.png"
    Image.fromarray((smooth_periodic(6, 10)[0].permute(1, 2, 0).numpy() * 255).astype("uint8")).save(src)
    out = tmp_path / "preview.png"
    proc = run_cli("tile", src, "--repeat", "3x2", "-o", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as img:
        assert img.size == (30, 12)
    assert "columns" in proc.stdout
    assert_usage_error(run_main("tile", src, "--repeat", "3x2", "-o", out, cwd=tmp_path),
                       "exists", "--overwrite")
    assert_usage_error(run_main("tile", src, "--repeat", "3by2", "-o", tmp_path / "b.png",
                               cwd=tmp_path), "--repeat", "3by2")
    assert not (tmp_path / "b.png").exists()
