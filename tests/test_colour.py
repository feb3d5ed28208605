"""Colour control: the YIQ maths, the linear colour transfer, and both modes end to end."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import texstyle
from texstyle.api import read_input
from texstyle.colour import (
    colour_moments,
    colour_transfer,
    grey,
    luma,
    match_luminance,
    prepare,
    rgb_to_yiq,
    with_chroma,
    yiq_to_rgb,
)
from texstyle.errors import TexstyleError
from texstyle.image import resize


def coloured_noise(seed: int, h: int = 12, w: int = 10) -> torch.Tensor:
    """Pixels with a random mean and a random, full-rank, correlated colour covariance."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(3, 3, generator=g, dtype=torch.float64) * 0.2 + torch.eye(3,
                                                                                 dtype=torch.float64) * 0.1
    pixels = mix @ torch.randn(3, h * w, generator=g, dtype=torch.float64)
    pixels += torch.rand(3, 1, generator=g, dtype=torch.float64)
    return pixels.reshape(1, 3, h, w)


seeds = st.integers(0, 2**31 - 1)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(seeds, seeds)
def test_colour_transfer_gives_the_targets_mean_and_covariance(a, b):
    source, target = coloured_noise(a), coloured_noise(b, 9, 7)
    mu, cov = colour_moments(colour_transfer(source, target))
    mu_t, cov_t = colour_moments(target)
    assert torch.allclose(mu, mu_t, atol=1e-9)
    assert torch.allclose(cov, cov_t, atol=1e-4 * cov_t.abs().max().item() + 1e-9)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(seeds)
def test_colour_transfer_to_itself_is_the_identity(a):
    x = coloured_noise(a)
    assert torch.allclose(colour_transfer(x, x), x, atol=1e-3)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(seeds, seeds)
def test_colour_transfer_uses_the_symmetric_map(a, b):
    """The affine map's matrix is the paper's Σ_t^½ Σ_s^-½ (symmetric square roots), not just
    any matrix that maps one covariance onto the other."""
    source, target = coloured_noise(a), coloured_noise(b)
    for image in (source, target):
        # Away from the eigenvalue floor (a millionth of the largest), where the map is
        # deliberately not the paper's; seed pair (0, 2965) has a target at 7e-7 of its largest.
        vals = torch.linalg.eigvalsh(colour_moments(image)[1])
        assume(vals.min() > 1e-4 * vals.max())
    out = colour_transfer(source, target)
    # Recover A by least squares over all pixels (the map is affine); three pixel differences
    # alone can be nearly collinear, and then A comes back with errors of 1e-3 (CI found one).
    s = source.reshape(3, -1)
    o = out.reshape(3, -1)
    ds = s - s.mean(dim=1, keepdim=True)
    do = o - o.mean(dim=1, keepdim=True)
    a_mat = torch.linalg.solve(ds @ ds.T, ds @ do.T).T
    _, cov_s = colour_moments(source)
    _, cov_t = colour_moments(target)

    def sqrt(m):
        vals, vecs = torch.linalg.eigh(m)
        return (vecs * vals.sqrt()) @ vecs.T

    expected = sqrt(cov_t) @ torch.linalg.inv(sqrt(cov_s))
    assert torch.allclose(a_mat, expected, rtol=1e-4, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_yiq_round_trip_and_grey_has_no_chroma(a):
    x = torch.rand(1, 3, 5, 4, generator=torch.Generator().manual_seed(a), dtype=torch.float64)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-10)
    y = luma(x)
    g = grey(y)
    assert torch.allclose(rgb_to_yiq(g)[:, 1:], torch.zeros_like(g[:, 1:]), atol=1e-6)
    assert torch.allclose(luma(g), y, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seeds, seeds)
def test_with_chroma_takes_luma_from_one_image_and_chroma_from_the_other(a, b):
    x = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(a), dtype=torch.float64)
    c = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(b), dtype=torch.float64)
    out = rgb_to_yiq(with_chroma(x, c))
    assert torch.allclose(out[:, :1], luma(x), atol=1e-10)
    assert torch.allclose(out[:, 1:], rgb_to_yiq(c)[:, 1:], atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(seeds, seeds)
def test_match_luminance_gives_the_contents_mean_and_spread(a, b):
    s = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(a), dtype=torch.float64) * 0.3
    c = torch.rand(1, 1, 5, 9, generator=torch.Generator().manual_seed(b), dtype=torch.float64)
    m = match_luminance(s, c)
    assert m.mean().item() == pytest.approx(c.mean().item(), abs=1e-9)
    assert m.std().item() == pytest.approx(c.std().item(), rel=1e-9)
    # Order-preserving: brightest style pixel stays brightest.
    assert torch.equal(m.flatten().argsort(), s.flatten().argsort())


def test_histogram_mode_style_has_the_contents_colour_moments():
    """What the network is shown as the style (clipped to [0, 1]) has the content's colours."""
    content, style = read_input("sample:astronaut", "c"), read_input("sample:mosaic", "s")
    (recoloured,), same_content, recolour = prepare("histogram", [style], content)
    assert recolour is None and same_content is content
    mu, cov = colour_moments(recoloured)
    mu_c, cov_c = colour_moments(content)
    mu_s, cov_s = colour_moments(style)
    assert recoloured.min() >= 0 and recoloured.max() <= 1
    assert (mu - mu_c).abs().max() < 0.005
    assert (mu_s - mu_c).abs().max() > 0.05  # the style's colours were far from the content's

    def rel(m: torch.Tensor) -> float:
        return ((m - cov_c).norm() / cov_c.norm()).item()

    assert rel(cov) < 0.02
    assert rel(cov_s) > 0.2


@pytest.fixture(scope="module")
def colour_runs():
    torch.set_num_threads(1)
    # Noise start: the plain run's colours then come from the style, so it is a real contrast.
    options = {"size": 48, "iters": 8, "seed": 0, "device": "cpu", "init": "noise"}
    return {mode: texstyle.run_stylize("sample:astronaut", "sample:mosaic", preserve_color=mode,
                                       **options).image
            for mode in ("none", "luminance")}


def test_luminance_mode_keeps_the_contents_chroma(colour_runs):
    content = resize(read_input("sample:astronaut", "c"), *colour_runs["luminance"].shape[-2:])
    chroma = rgb_to_yiq(content)[:, 1:]
    kept = (rgb_to_yiq(colour_runs["luminance"])[:, 1:] - chroma).abs().mean().item()
    plain = (rgb_to_yiq(colour_runs["none"])[:, 1:] - chroma).abs().mean().item()
    assert kept < 0.005, kept  # only clipping to [0, 1] may move it
    assert plain > 0.03, plain


def test_bad_preserve_color_is_refused():
    with pytest.raises(TexstyleError, match=r"preserve_color.*'sepia'"):
        texstyle.StylizeSettings(preserve_color="sepia")


def test_cli_flag_reaches_the_settings():
    from texstyle.cli.commands import _settings_from_args, build_parser

    args = build_parser().parse_args(["stylize", "c.png", "--style", "s.png", "-o", "o.png",
                                      "--preserve-color", "histogram"])
    assert _settings_from_args(args, texstyle.StylizeSettings).preserve_color == "histogram"
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["stylize", "c.png", "--style", "s.png", "-o", "o.png",
                                   "--preserve-color", "sepia"])
    assert exit_info.value.code == 2


def test_colour_transfer_survives_a_target_without_spread_in_one_direction():
    """A grey target has zero variance along two colour directions; the eigenvalue floor keeps
    Σ^-½ finite, so the result is finite and grey like the target."""
    source = coloured_noise(1)
    level = torch.rand(1, 1, 12, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    target = level.expand(1, 3, 12, 10).clone()
    out = colour_transfer(source, target)
    assert torch.isfinite(out).all()
    spread = out - out.mean(dim=1, keepdim=True)
    assert spread.abs().max() < 1e-2 * out.std()


def _sliced_distance(a: torch.Tensor, b: torch.Tensor, directions: int = 32) -> float:
    """Mean squared difference of sorted projections (same pixel count), fixed directions."""
    d = torch.randn(3, directions, generator=torch.Generator().manual_seed(123), dtype=a.dtype)
    d = d / d.norm(dim=0)
    pa = (a.reshape(3, -1).T @ d).sort(0).values
    pb = (b.reshape(3, -1).T @ d).sort(0).values
    return float((pa - pb).pow(2).mean())


def test_distribution_transfer_matches_a_palette_that_an_affine_map_cannot():
    from texstyle.colour import colour_transfer, distribution_transfer

    g = torch.Generator().manual_seed(0)
    source = torch.rand(1, 3, 32, 32, generator=g)
    # A palette of three saturated colours: no affine map takes a smooth cloud onto it.
    palette = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.8, 0.2], [0.1, 0.2, 0.9]])
    target = palette[torch.randint(0, 3, (32 * 32,), generator=g)].T.reshape(1, 3, 32, 32)
    out = distribution_transfer(source, target)
    assert out.shape == source.shape and 0 <= out.min() and out.max() <= 1
    affine = colour_transfer(source, target).clamp(0, 1)
    assert _sliced_distance(out, target) < 0.1 * _sliced_distance(affine, target)
    assert _sliced_distance(out, target) < 0.01 * _sliced_distance(source, target)


def test_distribution_transfer_keeps_the_source_layout_and_is_reproducible():
    from texstyle.colour import distribution_transfer

    g = torch.Generator().manual_seed(1)
    ramp = torch.linspace(0, 1, 24)[None, None, None, :].expand(1, 3, 16, 24)
    source = (ramp * torch.tensor([1.0, 0.5, 0.2])[None, :, None, None]
              + 0.05 * torch.rand(1, 3, 16, 24, generator=g))
    target = torch.rand(1, 3, 20, 20, generator=g) * 0.5 + 0.3
    out = distribution_transfer(source, target)
    # Where the source is brighter the result is too: the layout survives the new colours.
    grey, grey_source = out.mean(1).flatten(), source.mean(1).flatten()
    assert torch.corrcoef(torch.stack([grey, grey_source]))[0, 1] > 0.7  # shuffled: about 0
    assert torch.equal(out, distribution_transfer(source, target))


def test_distribution_transfer_of_an_image_onto_itself_changes_little():
    from texstyle.colour import distribution_transfer

    image = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(2))
    assert (distribution_transfer(image, image) - image).abs().max() < 1e-6
