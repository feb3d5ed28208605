"""Feed-forward stylisation: the AdaIN/WCT feature transforms, the decoder, the API and CLI."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import assert_usage_error, run_cli
from texstyle import api
from texstyle.errors import TexstyleError
from texstyle.feedforward import adain, build_decoder, decoder_path, feedforward_stylize, wct


def _feats(seed: int, c: int = 6, hw: int = 5, scale: float = 1.0, shift: float = 0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, c, hw, hw, generator=g, dtype=torch.float64) * scale + shift


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10), shift=st.floats(-5, 5))
def test_adain_gives_each_channel_the_style_mean_and_std(seed, scale, shift):
    content, style = _feats(seed), _feats(seed + 1, hw=7, scale=scale, shift=shift)
    out = adain(content, style, eps=0.0)
    torch.testing.assert_close(out.mean((2, 3)), style.mean((2, 3)))
    torch.testing.assert_close(out.std((2, 3), unbiased=False), style.std((2, 3), unbiased=False))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_wct_gives_the_style_mean_and_full_covariance(seed):
    c = 4
    content, style = _feats(seed, c=c, hw=8), _feats(seed + 1, c=c, hw=9, shift=2.0)
    mix = torch.randn(c, c, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    style = torch.einsum("ij,bjhw->bihw", mix, style)  # correlated channels
    out = wct(content, style, eps=1e-9).reshape(c, -1)
    s = style.reshape(c, -1)
    torch.testing.assert_close(out.mean(1), s.mean(1))
    torch.testing.assert_close(torch.cov(out), torch.cov(s), rtol=1e-5, atol=1e-6)
    # AdaIN matches only the diagonal: its off-diagonal covariance stays the content's.
    ada = adain(content, style).reshape(c, -1)
    assert (torch.cov(ada) - torch.cov(s)).abs().max() > 1e-3


def test_decoder_has_the_published_layout_and_rejects_other_weights():
    state = torch.load(decoder_path(), map_location="cpu", weights_only=True)
    decoder = build_decoder(state)
    out = decoder(torch.rand(1, 512, 4, 5))
    assert out.shape == (1, 3, 32, 40)  # three 2x upsamplings
    del state["28.bias"]
    with pytest.raises(TexstyleError, match="decoder weights do not fit"):
        build_decoder(state)


@pytest.fixture(scope="module")
def photo():
    return api.read_input("sample:astronaut", "content")


@pytest.mark.parametrize("method", ["adain", "wct"])
def test_feedforward_keeps_the_size_and_range_and_alpha_blends(one_thread, photo, method):
    content = torch.nn.functional.interpolate(photo, size=(44, 60), mode="area")
    style = api.read_input("sample:mosaic", "style")
    style = torch.nn.functional.interpolate(style, size=(64, 64), mode="area")
    style = style * torch.tensor([1.0, 0.3, 0.3]).view(1, 3, 1, 1)  # strongly red
    full = feedforward_stylize(content, style, method=method, alpha=1.0)
    none = feedforward_stylize(content, style, method=method, alpha=0.0)
    assert full.shape == content.shape and none.shape == content.shape
    assert 0 <= full.min() and full.max() <= 1
    # alpha 0 decodes the content's own features: closer to the photo than the stylisation is.
    assert (none - content).abs().mean() < (full - content).abs().mean()
    # The style's colours come through: the mean colour moves toward the style's.
    toward = (full.mean((2, 3)) - style.mean((2, 3))).abs().sum()
    assert toward < (content.mean((2, 3)) - style.mean((2, 3))).abs().sum()


def test_feedforward_rejects_bad_method_and_alpha(photo):
    with pytest.raises(TexstyleError, match="unknown feed-forward method 'nope'"):
        feedforward_stylize(photo, photo, method="nope")
    with pytest.raises(TexstyleError, match=r"alpha must be between 0 and 1, got 1\.5"):
        feedforward_stylize(photo, photo, alpha=1.5)


def test_init_adain_needs_content_for_textures():
    with pytest.raises(TexstyleError, match="init 'adain' needs a content image"):
        api.run_texture("sample:cells", size=64, iters=1, init="adain", device="cpu")


def test_full_resolution_losses_are_zero_at_the_targets(one_thread):
    settings = api.StylizeSettings(size=48, device="cpu")
    style = api.read_input("sample:brick", "style")[..., :48, :48]
    content = api.read_input("sample:cat", "content")
    content = torch.nn.functional.interpolate(content, size=(48, 48), mode="area")
    losses = api.full_resolution_losses(content, style, content, settings)
    assert losses["content"] < 1e-10 and losses["style"] > 0.01
    tex = api.full_resolution_losses(style, style, None, api.TextureSettings(size=48, device="cpu"))
    assert tex["style"] < 1e-8


@pytest.mark.slow
def test_cli_feedforward_writes_image_and_record(tmp_path):
    proc = run_cli("stylize", "sample:cat", "--style", "sample:mosaic", "--method", "adain",
                   "--size", "48", "-o", "out.png", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.png").is_file() and (tmp_path / "out.json").is_file()
    proc = run_cli("stylize", "sample:cat", "--style", "sample:mosaic", "--method", "adain",
                   "--alpha", "2", "-o", "bad.png", cwd=tmp_path)
    assert_usage_error(proc, r"alpha must be between 0 and 1, got 2")
    assert not (tmp_path / "bad.png").exists()
