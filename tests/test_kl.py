"""The Gaussian KL statistic (`--loss kl`) and the whitened expansion of docs/theory.md §2."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from texstyle.stats import STATISTICS, gaussian_kl, gram, kl_distance, whitened_gram_error

SETTINGS = settings(max_examples=40, deadline=None, database=None)


def _spd(seed: int, c: int) -> torch.Tensor:
    """A random well-conditioned symmetric positive definite (1, c, c) matrix."""
    a = torch.randn(c, 2 * c, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (a @ a.T / (2 * c) + 0.2 * torch.eye(c, dtype=torch.float64))[None]


def _closed_form(gt: torch.Tensor, g: torch.Tensor) -> float:
    """½[tr(G⁻¹Gₜ) − C + log det G − log det Gₜ] by plain inverse and slogdet (no ridge)."""
    c = g.shape[-1]
    inv = torch.linalg.inv(g[0])
    return 0.5 * float(torch.trace(inv @ gt[0]) - c + torch.logdet(g[0]) - torch.logdet(gt[0]))


def test_one_dimension_closed_form():
    # KL(N(0, a) ‖ N(0, b)) = ½ (a/b − 1 + log(b/a)).
    a, b = 2.0, 5.0
    kl = gaussian_kl(torch.tensor([[[a]]]), torch.tensor([[[b]]]), ridge=0.0)
    assert math.isclose(float(kl), 0.5 * (a / b - 1 + math.log(b / a)), rel_tol=1e-12)


def test_matches_the_textbook_formula_without_ridge():
    gt, g = _spd(0, 6), _spd(1, 6)
    assert math.isclose(float(gaussian_kl(gt, g, ridge=0.0)), _closed_form(gt, g), rel_tol=1e-10)


def test_zero_at_target_positive_elsewhere_and_not_symmetric():
    gt, g = _spd(2, 5), _spd(3, 5)
    assert abs(float(gaussian_kl(gt, gt))) < 1e-12
    forward, backward = float(gaussian_kl(gt, g)), float(gaussian_kl(g, gt))
    assert forward > 0 and backward > 0
    assert not math.isclose(forward, backward, rel_tol=1e-3)  # a KL, not a metric


def test_invariant_to_rotation_and_scale_of_both():
    # The ridge is a multiple of the identity scaled by tr(Gₜ), so a shared orthogonal change of
    # feature basis or a shared scale of the features changes nothing (the plain Frobenius Gram
    # loss is rotation-invariant too, but e.g. not invariant to rescaling one channel).
    gt, g = _spd(4, 5), _spd(5, 5)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(6),
                                       dtype=torch.float64))
    rotated = float(gaussian_kl(q @ gt @ q.T, q @ g @ q.T))
    scaled = float(gaussian_kl(7.0 * gt, 7.0 * g))
    assert math.isclose(rotated, float(gaussian_kl(gt, g)), rel_tol=1e-9)
    assert math.isclose(scaled, float(gaussian_kl(gt, g)), rel_tol=1e-9)


def test_whitened_norm_sees_what_frobenius_misses():
    # Two perturbations of the same Frobenius size: along the dominant direction of Gₜ and along a
    # weak one.  The KL (and its whitened expansion) weighs the weak direction far more.
    gt = torch.diag(torch.tensor([100.0, 1.0], dtype=torch.float64))[None]
    strong = gt + torch.diag(torch.tensor([0.5, 0.0], dtype=torch.float64))[None]
    weak = gt + torch.diag(torch.tensor([0.0, 0.5], dtype=torch.float64))[None]
    assert math.isclose(float((strong - gt).norm()), float((weak - gt).norm()))
    assert float(gaussian_kl(gt, weak, ridge=0.0)) > 100 * float(gaussian_kl(gt, strong, ridge=0.0))


symmetric = hnp.arrays(np.float64, (4, 4), elements=st.floats(-1, 1, allow_nan=False))


@SETTINGS
@given(seed=st.integers(0, 10_000), direction=symmetric, size=st.sampled_from([1e-2, 1e-3]))
def test_whitened_expansion_matches_the_kl_near_the_target(seed, direction, size):
    """KL(N(0, Gₜ) ‖ N(0, Gₜ + Δ)) = ¼‖Gₜ^{-½} Δ Gₜ^{-½}‖² + O(‖Δ‖³): the relative error of the
    expansion shrinks in proportion to the perturbation."""
    gt = _spd(seed, 4)
    d = torch.from_numpy(direction + direction.T)[None]
    if float(d.norm()) < 1e-3:
        return  # no direction to perturb along
    delta = size * d / d.norm() * gt.norm()
    exact = float(gaussian_kl(gt, gt + delta, ridge=0.0))
    approx = float(whitened_gram_error(gt, gt + delta))
    white = float(torch.linalg.matrix_norm(torch.linalg.inv(gt[0]), ord=2) * delta.norm())
    # The cubic remainder relative to the quadratic term is at most about ‖Gₜ^{-½}ΔGₜ^{-½}‖.
    assert abs(exact - approx) <= 2.0 * white * approx + 1e-15


def test_kl_distance_gradient_is_finite_with_fewer_positions_than_channels():
    # 3 positions, 8 channels: both Gram matrices singular, as at relu5_1 of a small image.
    gen = torch.Generator().manual_seed(0)
    f = torch.rand(1, 8, 1, 3, generator=gen, requires_grad=True)
    ft = torch.rand(1, 8, 1, 3, generator=gen)
    loss = kl_distance((gram(f),), (gram(ft),))
    loss.backward()
    assert torch.isfinite(loss) and float(loss.detach()) > 0
    assert f.grad is not None and torch.isfinite(f.grad).all()


def test_kl_is_registered_with_the_gram_representation():
    stat = STATISTICS["kl"]
    f = torch.rand(1, 4, 5, 5, generator=torch.Generator().manual_seed(1))
    (rep,) = stat.compute(f)
    assert torch.equal(rep, gram(f))
    assert abs(float(stat.distance((rep,), (rep,)))) < 1e-10
