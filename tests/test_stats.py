"""Properties of the Gram matrix and closed forms of the loss terms."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from texstyle.losses import relative_error, total_variation
from texstyle.stats import gram

SETTINGS = settings(max_examples=30, deadline=None, database=None)

# Small (B, C, H, W) feature maps in float64 with bounded, finite values.
shapes = st.tuples(
    st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)
)
feature_maps = shapes.flatmap(
    lambda shape: hnp.arrays(
        np.float64,
        shape,
        elements=st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    )
).map(torch.from_numpy)


def _tol(g: torch.Tensor) -> float:
    return 1e-10 * (1.0 + g.abs().max().item())


@SETTINGS
@given(feature_maps)
def test_gram_shape_and_dtype(f):
    b, c, _, _ = f.shape
    g = gram(f)
    assert g.shape == (b, c, c)
    assert g.dtype == torch.float64


@SETTINGS
@given(feature_maps)
def test_gram_is_symmetric(f):
    g = gram(f)
    torch.testing.assert_close(g, g.transpose(1, 2), rtol=0, atol=_tol(g))


@SETTINGS
@given(feature_maps)
def test_gram_is_positive_semidefinite(f):
    g = gram(f)
    sym = (g + g.transpose(1, 2)) / 2
    eig = torch.linalg.eigvalsh(sym)
    assert (eig >= -1e-9 * (1.0 + g.abs().max().item())).all(), eig


@SETTINGS
@given(feature_maps, st.data())
def test_gram_invariant_to_shuffled_positions(f, data):
    b, c, h, w = f.shape
    perm = data.draw(st.permutations(range(h * w)))
    shuffled = f.reshape(b, c, h * w)[:, :, list(perm)].reshape(b, c, h, w)
    g = gram(f)
    torch.testing.assert_close(gram(shuffled), g, rtol=1e-12, atol=_tol(g))


@SETTINGS
@given(feature_maps)
def test_gram_independent_of_size_when_tiled(f):
    # A 2x2 tiling is a larger "crop" of the same texture: the mean over positions is unchanged.
    tiled = f.repeat(1, 1, 2, 2)
    g = gram(f)
    torch.testing.assert_close(gram(tiled), g, rtol=1e-12, atol=_tol(g))


@SETTINGS
@given(feature_maps)
def test_gram_matches_einsum_reference(f):
    _, _, h, w = f.shape
    ref = torch.einsum("bchw,bdhw->bcd", f, f) / (h * w)
    torch.testing.assert_close(gram(f), ref, rtol=1e-12, atol=_tol(ref))


def test_gram_known_values():
    # One channel [1, 2, 3, 4] and one of ones: G = [[30/4, 10/4], [10/4, 1]].
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]]]], dtype=torch.float64)
    expected = torch.tensor([[[7.5, 2.5], [2.5, 1.0]]], dtype=torch.float64)
    torch.testing.assert_close(gram(f), expected)


def test_gram_batch_elements_are_independent():
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(3, 4, 5, 6, generator=gen, dtype=torch.float64)
    g = gram(f)
    for i in range(3):
        torch.testing.assert_close(g[i : i + 1], gram(f[i : i + 1]))


def test_gram_gradcheck():
    gen = torch.Generator().manual_seed(1)
    f = torch.randn(2, 3, 3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gram, (f,))


# --- relative_error -----------------------------------------------------------------------


def test_relative_error_is_zero_at_target():
    t = torch.randn(2, 5, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert relative_error(t.clone(), t).item() == 0.0


def test_relative_error_is_one_for_zero_value():
    t = torch.randn(4, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(relative_error(torch.zeros_like(t), t), torch.tensor(1.0, dtype=t.dtype))


def test_relative_error_closed_form():
    t = torch.tensor([3.0, 4.0], dtype=torch.float64)  # ‖t‖² = 25
    v = torch.tensor([0.0, 4.0], dtype=torch.float64)  # ‖v − t‖² = 9
    torch.testing.assert_close(relative_error(v, t), torch.tensor(9 / 25, dtype=torch.float64))
    # Twice the target is as far from it as zero is.
    torch.testing.assert_close(relative_error(2 * t, t), torch.tensor(1.0, dtype=torch.float64))


def test_relative_error_zero_target_is_finite():
    t = torch.zeros(3)
    assert relative_error(t, t).item() == 0.0
    assert torch.isfinite(relative_error(torch.ones(3), t))


def test_relative_error_is_scalar():
    assert relative_error(torch.ones(2, 3, 4), torch.full((2, 3, 4), 2.0)).dim() == 0


# --- total_variation ----------------------------------------------------------------------


def test_total_variation_of_constant_image_is_zero():
    assert total_variation(torch.full((1, 3, 7, 5), 0.3)).item() == 0.0


def test_total_variation_of_checkerboard():
    # 1-px checkerboard of a and b: every horizontal and every vertical neighbour differs by
    # ±(a − b), so each mean of squared differences is (a − b)² and TV = 2 (a − b)².
    a, b = 0.8, 0.2
    h, w = 6, 7
    idx = torch.arange(h)[:, None] + torch.arange(w)[None, :]
    board = torch.where(idx % 2 == 0, a, b).to(torch.float64)
    image = board.expand(1, 3, h, w)
    expected = 2 * (a - b) ** 2
    torch.testing.assert_close(total_variation(image), torch.tensor(expected, dtype=torch.float64))


def test_total_variation_of_horizontal_stripes():
    # Rows alternate 0/1: no horizontal differences, every vertical one is 1 → TV = 0 + 1.
    rows = (torch.arange(6) % 2).to(torch.float64)[:, None].expand(6, 5)
    image = rows.expand(2, 3, 6, 5)
    torch.testing.assert_close(total_variation(image), torch.tensor(1.0, dtype=torch.float64))


def test_total_variation_single_step_means_over_all_pairs():
    # Left half 0, right half 1 (4 columns): one of the 3 horizontal pairs per row differs.
    image = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    image[..., 2:] = 1.0
    torch.testing.assert_close(total_variation(image), torch.tensor(1 / 3, dtype=torch.float64))


def test_total_variation_gradcheck():
    x = torch.rand(1, 3, 4, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert torch.autograd.gradcheck(total_variation, (x.requires_grad_(),))
