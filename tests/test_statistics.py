"""The style statistics of ``texstyle.stats``: NumPy references, invariances, mixing, gradients.

Every statistic is a (compute, distance, mix) triple registered in ``STATISTICS``.  The checks
here are independent of VGG: small random float64 feature maps, compared against plain NumPy
(or SciPy, when installed) computations written out position by position.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from texstyle.losses import style_targets
from texstyle.stats import (
    STATISTICS,
    average_mix,
    covariance,
    gram,
    mean,
    mixture_mix,
    moments_compute,
    swd_compute,
    swd_distance,
    w2_distance,
)

pytestmark = pytest.mark.usefixtures("one_thread")

try:  # an independent matrix square root when SciPy is there; NumPy's eigh otherwise
    from scipy.linalg import sqrtm as _scipy_sqrtm
except ImportError:  # pragma: no cover - depends on the environment
    _scipy_sqrtm = None

SETTINGS = settings(max_examples=25, deadline=None, database=None)
NAMES = list(STATISTICS)
DETERMINISTIC = [n for n, s in STATISTICS.items() if not s.stochastic]


def assert_close(got: torch.Tensor, want: torch.Tensor, rtol: float = 1e-7,
                 atol: float = 1e-12) -> None:
    """Like torch.testing.assert_close (same shape and dtype, close values), via NumPy: the torch
    version imports torch.distributed on first use, which costs seconds."""
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=rtol, atol=atol)


def feats(*shape: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift


def distance(name: str, rep, target, seed: int = 0) -> torch.Tensor:
    """The statistic's distance; stochastic ones get a freshly seeded generator."""
    stat = STATISTICS[name]
    extra = {"generator": torch.Generator().manual_seed(seed)} if stat.stochastic else {}
    return stat.distance(rep, target, **extra)


def between(name: str, x: torch.Tensor, t: torch.Tensor, seed: int = 0) -> float:
    stat = STATISTICS[name]
    return float(distance(name, stat.compute(x), stat.compute(t), seed))


def np_positions(f: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) → (B, N, C): one feature vector per position, row-major over (H, W)."""
    a = f.detach().numpy()
    b, _c, h, w = a.shape
    return np.stack([[a[i, :, y, x] for y in range(h) for x in range(w)] for i in range(b)])


def np_sqrtm(m: np.ndarray) -> np.ndarray:
    m = (m + m.T) / 2
    if _scipy_sqrtm is not None:
        return np.real(_scipy_sqrtm(m))
    vals, vecs = np.linalg.eigh(m)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def np_w2_relative(x: torch.Tensor, t: torch.Tensor) -> float:
    """Σ over the batch of W₂²(N(μ, Σ), N(μₜ, Σₜ)) / E‖fₜ‖², from the positions themselves."""
    total = 0.0
    for fx, ft in zip(np_positions(x), np_positions(t)):
        mu, mu_t = fx.mean(0), ft.mean(0)
        cov, cov_t = np.cov(fx.T, bias=True), np.cov(ft.T, bias=True)
        cov, cov_t = np.atleast_2d(cov), np.atleast_2d(cov_t)
        root_t = np_sqrtm(cov_t)
        cross = np.trace(np_sqrtm(root_t @ cov @ root_t))
        w2 = np.sum((mu - mu_t) ** 2) + np.trace(cov) + np.trace(cov_t) - 2 * cross
        total += max(w2, 0.0) / np.mean(np.sum(ft**2, axis=1))
    return total


# Small (B, C, H, W) float64 feature maps with bounded values.
feature_maps = st.tuples(
    st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)
).flatmap(
    lambda shape: hnp.arrays(
        np.float64, shape, elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    )
).map(torch.from_numpy)


# ---- compute against NumPy ---------------------------------------------------------------


def test_registry_holds_the_five_statistics():
    assert set(STATISTICS) == {"gram", "kl", "mean", "meancov", "w2", "swd"}
    assert [n for n, s in STATISTICS.items() if s.stochastic] == ["swd"]
    for name, stat in STATISTICS.items():
        assert stat.name == name and stat.summary


def test_mean_matches_numpy():
    f = feats(2, 3, 4, 5, seed=0, shift=1.5)
    expected = np_positions(f).mean(axis=1)
    np.testing.assert_allclose(mean(f).numpy(), expected, rtol=1e-12, atol=1e-12)
    (rep,) = STATISTICS["mean"].compute(f)
    np.testing.assert_allclose(rep.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_gram_is_mean_outer_product_over_positions():
    f = feats(2, 3, 4, 5, seed=1, shift=0.5)
    pos = np_positions(f)
    expected = np.stack([sum(np.outer(v, v) for v in vectors) / len(vectors) for vectors in pos])
    np.testing.assert_allclose(gram(f).numpy(), expected, rtol=1e-12, atol=1e-12)
    (rep,) = STATISTICS["gram"].compute(f)
    np.testing.assert_allclose(rep.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["meancov", "w2"])
def test_moment_statistics_keep_mean_and_raw_second_moment(name):
    f = feats(2, 4, 3, 5, seed=2, shift=-1.0)
    mu, second = STATISTICS[name].compute(f)
    pos = np_positions(f)
    np.testing.assert_allclose(mu.numpy(), pos.mean(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second.numpy(), np.einsum("bnc,bnd->bcd", pos, pos) / pos.shape[1],
                               rtol=1e-12, atol=1e-12)


def test_covariance_from_raw_moments_equals_np_cov():
    f = feats(3, 4, 5, 6, seed=3, scale=2.0, shift=3.0)  # a large mean: the cross term matters
    cov = covariance(mean(f), gram(f)).numpy()
    for i, vectors in enumerate(np_positions(f)):
        np.testing.assert_allclose(cov[i], np.cov(vectors.T, bias=True), rtol=1e-10, atol=1e-10)


def test_swd_compute_is_the_cloud_with_uniform_weights():
    f = feats(2, 3, 4, 5, seed=4)
    values, weights = swd_compute(f)
    np.testing.assert_array_equal(values.numpy(), np_positions(f).transpose(0, 2, 1))
    assert weights.shape == (2, 20)
    np.testing.assert_allclose(weights.numpy(), np.full((2, 20), 1 / 20), rtol=1e-15)


# ---- w2 against its closed form ----------------------------------------------------------


def _gaussian_features(b: int, c: int, h: int, w: int, seed: int) -> torch.Tensor:
    """Samples of N(μ, A Aᵀ) per batch element, laid out as (B, C, H, W) feature maps."""
    gen = torch.Generator().manual_seed(seed)
    mix = torch.randn(b, c, c, generator=gen, dtype=torch.float64)
    mu = torch.randn(b, c, 1, generator=gen, dtype=torch.float64)
    z = torch.randn(b, c, h * w, generator=gen, dtype=torch.float64)
    return (mix @ z + mu).reshape(b, c, h, w)


def test_reference_sqrtm_squares_back():
    a = np.random.default_rng(0).normal(size=(5, 5))
    m = a @ a.T
    root = np_sqrtm(m)
    np.testing.assert_allclose(root @ root, m, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(root, root.T, atol=1e-9)
    assert np.all(np.linalg.eigvalsh((root + root.T) / 2) > 0)


@pytest.mark.parametrize("seed", range(4))
def test_w2_matches_numpy_reference(seed):
    x = _gaussian_features(2, 4, 6, 5, seed=seed)
    t = _gaussian_features(2, 4, 5, 7, seed=100 + seed)  # another number of positions
    got = float(w2_distance(moments_compute(x), moments_compute(t)))
    expected = np_w2_relative(x, t)
    assert expected > 0.05
    assert got == pytest.approx(expected, rel=1e-8, abs=1e-12)


def test_w2_one_channel_closed_form():
    # 1-D Gaussians: W₂² = (μ − μₜ)² + (σ − σₜ)², here relative to E[fₜ²] = μₜ² + σₜ².
    x = feats(1, 1, 8, 8, seed=5, scale=2.0, shift=1.0)
    t = feats(1, 1, 6, 9, seed=6, scale=0.5, shift=-0.5)
    a, b = x.numpy().ravel(), t.numpy().ravel()
    expected = ((a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2) / np.mean(b**2)
    got = float(w2_distance(moments_compute(x), moments_compute(t)))
    assert got == pytest.approx(expected, rel=1e-9)


# ---- swd in one dimension ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))  # the one direction is +1 or -1: both must agree
def test_swd_one_channel_is_exact_1d_w2(seed):
    x = feats(1, 1, 6, 7, seed=10 + seed, scale=1.5, shift=0.3)
    t = feats(1, 1, 7, 6, seed=20 + seed, shift=-0.8)  # same number of positions (42)
    a, b = np.sort(x.numpy().ravel()), np.sort(t.numpy().ravel())
    expected = np.mean((a - b) ** 2) / np.mean(b**2)  # exact 1-D W2², relative to E[fₜ²]
    gen = torch.Generator().manual_seed(seed)
    got = float(swd_distance(swd_compute(x), swd_compute(t), generator=gen))
    assert expected > 0.05
    assert got == pytest.approx(expected, rel=1e-10)


def test_swd_one_channel_with_other_target_size_uses_target_quantiles():
    # 64 image positions, 25 target positions: the target's quantile function (the inverse of
    # its empirical CDF) is read at the image's quantile levels (i + ½) / 64, and the scale is
    # the mean square of those target values.
    x = feats(1, 1, 8, 8, seed=30)
    t = feats(1, 1, 5, 5, seed=31, scale=2.0, shift=1.0)
    levels = (np.arange(64) + 0.5) / 64
    q = np.quantile(t.numpy().ravel(), levels, method="inverted_cdf")
    expected = np.mean((np.sort(x.numpy().ravel()) - q) ** 2) / np.mean(q**2)
    got = float(swd_distance(swd_compute(x), swd_compute(t), generator=torch.Generator().manual_seed(0)))
    assert got == pytest.approx(expected, rel=1e-10)


def test_swd_same_generator_seed_same_value_other_seed_other_value():
    x, t = feats(1, 6, 4, 4, seed=40), feats(1, 6, 4, 4, seed=41, shift=0.5)
    rep, target = swd_compute(x), swd_compute(t)
    one = swd_distance(rep, target, generator=torch.Generator().manual_seed(7))
    two = swd_distance(rep, target, generator=torch.Generator().manual_seed(7))
    other = swd_distance(rep, target, generator=torch.Generator().manual_seed(8))
    assert torch.equal(one, two)
    assert float(one) != float(other)


# ---- invariance to the positions -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_distance_invariant_to_permuted_positions(name, data):
    seed = data.draw(st.integers(0, 2**16), label="seed")
    x = feats(2, 3, 4, 5, seed=seed, shift=0.5)
    t = feats(2, 3, 5, 3, seed=seed + 1, scale=1.5)
    perm_x = data.draw(st.permutations(range(20)), label="perm_x")
    perm_t = data.draw(st.permutations(range(15)), label="perm_t")
    xs = x.reshape(2, 3, 20)[:, :, list(perm_x)].reshape(2, 3, 4, 5)
    ts = t.reshape(2, 3, 15)[:, :, list(perm_t)].reshape(2, 3, 5, 3)
    base = between(name, x, t, seed=seed)
    assert base > 1e-3  # a non-trivial comparison
    assert between(name, xs, t, seed=seed) == pytest.approx(base, rel=1e-9)
    assert between(name, x, ts, seed=seed) == pytest.approx(base, rel=1e-9)
    assert between(name, xs, ts, seed=seed) == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("k", [0.1, 10.0])
def test_distance_is_relative_so_unchanged_by_a_common_scale(name, k):
    x, t = feats(2, 3, 6, 6, seed=50, shift=0.3), feats(2, 3, 5, 5, seed=51, scale=2.0)
    base = between(name, x, t)
    assert between(name, k * x, k * t) == pytest.approx(base, rel=1e-7)


# ---- zero at the target, positive elsewhere -------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(f=feature_maps)
def test_distance_is_zero_for_identical_inputs(name, f):
    stat = STATISTICS[name]
    d = float(distance(name, stat.compute(f), stat.compute(f.clone())))
    assert d == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(f=feature_maps)
def test_distance_is_positive_for_shifted_inputs(name, f):
    # Adding s > 2 max|f| to every channel moves every mean and strictly raises tr E[f fᵀ]
    # (by C s (s + 2 mean(f)) > 0), so no statistic can see the two as equal.
    stat = STATISTICS[name]
    shifted = f + (1.0 + 2.0 * float(f.abs().max()))
    assert float(distance(name, stat.compute(shifted), stat.compute(f))) > 0
    assert float(distance(name, stat.compute(f), stat.compute(shifted))) > 0


@pytest.mark.parametrize("name", NAMES)
def test_distance_between_unrelated_features_is_of_order_one(name):
    x = feats(1, 8, 6, 6, seed=60)
    t = feats(1, 8, 6, 6, seed=61, scale=2.0, shift=1.0)
    assert 0.05 < between(name, x, t) < 20


# ---- w2 gradients where a generic sqrtm breaks down -----------------------------------------


def _w2_grad(x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    d = w2_distance(moments_compute(x), moments_compute(t.detach()))
    d.backward()
    return d.detach(), x.grad


def test_w2_gradient_finite_at_the_target():
    t = _gaussian_features(1, 4, 5, 5, seed=70)
    d, grad = _w2_grad(t, t)
    assert float(d) == pytest.approx(0.0, abs=1e-10)
    assert torch.isfinite(grad).all()
    assert float(grad.abs().max()) < 1e-5  # a minimum: the gradient (nearly) vanishes


def test_w2_gradient_finite_with_repeated_eigenvalues():
    # Four positions (±1, ±1): mean 0 and covariance exactly I, so every eigenvalue is 1.
    t = torch.tensor([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]], dtype=torch.float64)
    t = t.reshape(1, 2, 2, 2)
    d, grad = _w2_grad(t, t)
    assert float(d) == pytest.approx(0.0, abs=1e-10)
    assert torch.isfinite(grad).all()
    # Equal covariances, other means: W₂² is the squared mean difference only, the gradient
    # moves every position by the same amount towards the target's mean.
    d, grad = _w2_grad(t + 0.5, t)
    assert float(d) == pytest.approx(2 * 0.25 / 2.0, rel=1e-8)  # ‖Δμ‖² / tr E[f fᵀ] = 0.5 / 2
    assert torch.isfinite(grad).all()
    expected = torch.full_like(grad, 2 * 0.5 / 4 / 2.0)  # d/df of ‖μ − μₜ‖² / 2 per position
    assert_close(grad, expected, rtol=1e-6, atol=1e-8)


def test_w2_gradient_finite_with_fewer_positions_than_channels():
    x = feats(1, 16, 2, 2, seed=71)  # 4 positions, 16 channels: covariance of rank ≤ 3
    t = feats(1, 16, 2, 2, seed=72, scale=1.5, shift=0.2)
    d, grad = _w2_grad(x, t)
    assert torch.isfinite(d) and float(d) > 0
    assert torch.isfinite(grad).all() and float(grad.abs().max()) > 0
    d, grad = _w2_grad(t, t)  # and at the (rank-deficient) target itself
    assert float(d) == pytest.approx(0.0, abs=1e-6)
    assert torch.isfinite(grad).all()


def test_w2_gradient_finite_with_dead_channels():
    # ReLU features often have channels that are zero everywhere: exactly zero eigenvalues,
    # where d√λ/dλ is infinite.
    x = feats(1, 16, 2, 2, seed=75).clamp_min(0)
    t = feats(1, 16, 2, 2, seed=76, scale=1.5, shift=0.2).clamp_min(0)
    x[:, :4] = 0
    t[:, :4] = 0
    d, grad = _w2_grad(x, t)
    assert torch.isfinite(d) and float(d) > 0
    assert torch.isfinite(grad).all() and float(grad.abs().max()) > 0
    d, grad = _w2_grad(t, t)
    assert float(d) == pytest.approx(0.0, abs=1e-6)
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("seed", range(3))
def test_w2_gradient_matches_finite_differences_when_rank_deficient(seed):
    x = feats(1, 16, 2, 2, seed=77 + seed)
    t = feats(1, 16, 2, 2, seed=87 + seed, scale=1.5, shift=0.2)
    _, grad = _w2_grad(x, t)

    def f(y: torch.Tensor) -> float:
        return float(w2_distance(moments_compute(y), moments_compute(t)))

    h = 1e-4
    for direction in (grad, feats(*x.shape, seed=97 + seed)):
        u = direction / direction.norm()
        numeric = (f(x + h * u) - f(x - h * u)) / (2 * h)
        assert numeric == pytest.approx(float((grad * u).sum()), rel=1e-5, abs=1e-7)


def test_w2_gradient_descent_step_lowers_the_distance_when_rank_deficient():
    x = feats(1, 16, 2, 2, seed=73)
    t = feats(1, 16, 2, 2, seed=74, scale=1.5, shift=0.2)
    d0, grad = _w2_grad(x, t)
    d1, _ = _w2_grad(x - 0.05 * grad / grad.norm(), t)
    assert float(d1) < float(d0)


# ---- mixing raw moments ---------------------------------------------------------------------


def _cloud(n: int, centre: tuple[float, float], seed: int) -> torch.Tensor:
    """n samples of N(centre, I) in 2-D as a (1, 2, n, 1) feature map."""
    gen = torch.Generator().manual_seed(seed)
    pts = torch.randn(2, n, generator=gen, dtype=torch.float64) + torch.tensor(centre).double()[:, None]
    return pts.reshape(1, 2, n, 1)


@pytest.mark.parametrize("name", ["meancov", "w2"])
@pytest.mark.parametrize("wa", [0.5, 0.7])
def test_mixing_raw_moments_gives_the_pooled_covariance(name, wa):
    wb = 1.0 - wa
    a, b = _cloud(20000, (-2.0, 0.0), seed=80), _cloud(20000, (2.0, 0.0), seed=81)
    stat = STATISTICS[name]
    mixed = stat.mix([stat.compute(a), stat.compute(b)], [wa, wb])
    cov_mixed = covariance(*mixed)[0].numpy()

    # The pooled samples, A and B weighted wa : wb (equal counts, so weights per point).
    pooled = torch.cat([a, b], dim=2).reshape(2, -1).numpy()
    n = a.shape[2]
    pooled_cov = np.cov(pooled, bias=True, aweights=np.r_[np.full(n, wa), np.full(n, wb)])
    np.testing.assert_allclose(cov_mixed, pooled_cov, rtol=1e-9, atol=1e-9)
    # Along the mean difference (4): variance 1 + wa wb 16, i.e. 5 for 0.5/0.5, 4.36 for 0.7/0.3.
    assert cov_mixed[0, 0] == pytest.approx(1 + wa * wb * 16, abs=0.1)
    assert cov_mixed[1, 1] == pytest.approx(1.0, abs=0.05)

    naive = wa * covariance(*stat.compute(a))[0].numpy() + wb * covariance(*stat.compute(b))[0].numpy()
    assert naive[0, 0] == pytest.approx(1.0, abs=0.05)
    assert cov_mixed[0, 0] - naive[0, 0] == pytest.approx(wa * wb * 16, abs=0.1)


def test_style_targets_mix_moments_into_the_pooled_covariance():
    a, b = _cloud(5000, (-2.0, 0.0), seed=82), _cloud(5000, (2.0, 0.0), seed=83)
    target = style_targets([{"l": a}, {"l": b}], ["l"], "meancov", blend=(7, 3))["l"]
    pooled = torch.cat([a, b], dim=2).reshape(2, -1).numpy()
    expected = np.cov(pooled, bias=True, aweights=np.r_[np.full(5000, 0.7), np.full(5000, 0.3)])
    np.testing.assert_allclose(covariance(*target)[0].numpy(), expected, rtol=1e-9, atol=1e-9)


# ---- mixing clouds (swd) -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_swd_mixture_of_a_cloud_with_itself_is_the_cloud(seed):
    a = feats(1, 3, 8, 8, seed=90 + seed)
    rep = swd_compute(a)
    mixed = mixture_mix([rep, rep], [0.5, 0.5])
    assert mixed[0].shape == (1, 3, 128)
    assert_close(mixed[1].sum(-1), torch.ones(1, dtype=torch.float64))
    for projections in (None, 32):
        d = swd_distance(rep, mixed, generator=torch.Generator().manual_seed(seed),
                         projections=projections)
        assert float(d) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_swd_mixture_of_two_clouds_is_their_union(seed):
    a = feats(1, 3, 8, 8, seed=100 + seed)
    b = feats(1, 3, 8, 8, seed=200 + seed, scale=0.5, shift=2.0)
    mixed = mixture_mix([swd_compute(a), swd_compute(b)], [0.5, 0.5])
    union = torch.cat([a, b], dim=3)  # (1, 3, 8, 16): all 128 vectors
    for projections in (None, 32):
        def d(rep, target, projections=projections):
            gen = torch.Generator().manual_seed(seed)
            return float(swd_distance(rep, target, generator=gen, projections=projections))

        assert d(swd_compute(union), mixed) == pytest.approx(0.0, abs=1e-12)
        assert d(swd_compute(a), mixed) > 0.05  # the mixture is neither A …
        assert d(swd_compute(b), mixed) > 0.05  # … nor B


def test_swd_unequal_mixture_is_the_union_with_proportional_copies():
    # 0.75 / 0.25 of two equal-sized clouds = three copies of A pooled with one copy of B.
    a = feats(1, 3, 5, 6, seed=110)
    b = feats(1, 3, 5, 6, seed=111, shift=1.5)
    mixed = mixture_mix([swd_compute(a), swd_compute(b)], [0.75, 0.25])
    pooled = torch.cat([a, a, a, b], dim=3)
    for seed in range(3):
        gen = torch.Generator().manual_seed(seed)
        assert float(swd_distance(swd_compute(pooled), mixed, generator=gen)) == pytest.approx(0.0, abs=1e-12)
    # … and not the equal mixture.
    equal = mixture_mix([swd_compute(a), swd_compute(b)], [0.5, 0.5])
    gen = torch.Generator().manual_seed(0)
    assert float(swd_distance(swd_compute(pooled), equal, generator=gen)) > 1e-3


# ---- style_targets --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_style_targets_with_one_style_is_compute(name):
    fa = {"a": feats(1, 3, 4, 4, seed=120), "b": feats(1, 5, 2, 3, seed=121)}
    stat = STATISTICS[name]
    for style in (fa, [fa]):  # one feature dict, or a list of one
        targets = style_targets(style, ["a", "b"], name)
        assert set(targets) == {"a", "b"}
        for layer in ("a", "b"):
            expected = stat.compute(fa[layer])
            assert len(targets[layer]) == len(expected)
            for got, want in zip(targets[layer], expected):
                assert torch.equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_style_targets_are_detached(name):
    f = feats(1, 3, 4, 4, seed=122).requires_grad_(True)
    g = feats(1, 3, 4, 4, seed=123).requires_grad_(True)
    for style in ({"l": f}, [{"l": f}, {"l": g}]):
        assert not any(t.requires_grad for t in style_targets(style, ["l"], name)["l"])


def test_style_targets_blend_averages_gram_matrices():
    fa = {"x": feats(1, 3, 4, 4, seed=130), "y": feats(1, 2, 3, 3, seed=131)}
    fb = {"x": feats(1, 3, 5, 3, seed=132, shift=1.0), "y": feats(1, 2, 2, 2, seed=133)}
    blended = style_targets([fa, fb], ["x", "y"], "gram", blend=(1, 3))
    scaled = style_targets([fa, fb], ["x", "y"], STATISTICS["gram"], blend=(2.0, 6.0))
    equal = style_targets([fa, fb], ["x", "y"], "gram")
    for layer in ("x", "y"):
        ga, gb = gram(fa[layer]), gram(fb[layer])
        assert_close(blended[layer][0], 0.25 * ga + 0.75 * gb, rtol=1e-12, atol=1e-12)
        assert_close(scaled[layer][0], blended[layer][0], rtol=1e-12, atol=1e-12)
        assert_close(equal[layer][0], 0.5 * ga + 0.5 * gb, rtol=1e-12, atol=1e-12)


def test_style_targets_blend_weights_the_swd_mixture():
    fa, fb = {"l": feats(1, 3, 4, 4, seed=140)}, {"l": feats(1, 3, 2, 5, seed=141)}
    values, weights = style_targets([fa, fb], ["l"], "swd", blend=(1, 3))["l"]
    assert values.shape == (1, 3, 26)
    assert_close(values, torch.cat([fa["l"].reshape(1, 3, 16), fb["l"].reshape(1, 3, 10)], -1))
    f64 = torch.float64
    expected = torch.cat([torch.full((1, 16), 0.25 / 16, dtype=f64),
                          torch.full((1, 10), 0.75 / 10, dtype=f64)], -1)
    assert_close(weights, expected, rtol=1e-12, atol=1e-15)


def test_average_mix_is_weighted_average_of_every_tensor():
    ra = (torch.tensor([1.0, 2.0]), torch.tensor([[1.0]]))
    rb = (torch.tensor([3.0, 6.0]), torch.tensor([[5.0]]))
    mixed = average_mix([ra, rb], [0.25, 0.75])
    assert_close(mixed[0], torch.tensor([2.5, 5.0]))
    assert_close(mixed[1], torch.tensor([[4.0]]))


# ---- gradcheck -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_distance_gradcheck(name):
    stat = STATISTICS[name]
    x = feats(2, 3, 3, 4, seed=150, shift=0.2).requires_grad_(True)
    target = stat.compute(feats(2, 3, 4, 3, seed=151, scale=1.3))
    assert torch.autograd.gradcheck(lambda f: stat.distance(stat.compute(f), target), (x,))


def test_swd_gradcheck_with_fixed_projections():
    x = feats(2, 3, 3, 4, seed=152).requires_grad_(True)
    target = swd_compute(feats(2, 3, 4, 3, seed=153, shift=0.5))

    def fn(f):
        return swd_distance(swd_compute(f), target, generator=torch.Generator().manual_seed(0))

    assert torch.autograd.gradcheck(fn, (x,))


def test_w2_is_scale_invariant_for_small_features():
    # The eigenvalue floor is relative to the largest eigenvalue, so tiny features still count.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 8, 8, 8, generator=g, dtype=torch.float64)
    t = torch.randn(1, 8, 8, 8, generator=g, dtype=torch.float64) * 2 + 1
    reference = float(w2_distance(moments_compute(x), moments_compute(t)))
    for k in (1e-3, 1e-5):
        small = float(w2_distance(moments_compute(k * x), moments_compute(k * t)))
        assert small == pytest.approx(reference, rel=1e-6)
