"""Numerical checks of the claims in docs/theory.md, on random feature samples in float64.

The Gaussian cross-entropies below are computed from the samples themselves (one log-density
per feature vector), never from the Gram matrix, so that "it depends on the samples only through
the Gram matrix" and "it is minimised at the Gram matrix" are checked, not assumed.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from texstyle.stats import STATISTICS, covariance, gram, mean, swd_distance

DTYPE = torch.float64


def features(c: int, h: int, w: int, seed: int) -> torch.Tensor:
    """(1, C, H, W) correlated, non-centred random features, like ReLU activations in spirit."""
    gen = torch.Generator().manual_seed(seed)
    # Well-conditioned mixing: the claims hold for any positive definite moment matrix, but a
    # nearly singular one would make float64 round-off, not the maths, decide the comparisons.
    mix = torch.eye(c, dtype=DTYPE) + 0.3 * torch.randn(c, c, generator=gen, dtype=DTYPE) / c**0.5
    raw = torch.randn(1, c, h * w, generator=gen, dtype=DTYPE).abs()
    return (mix @ raw).reshape(1, c, h, w) + torch.rand(1, c, 1, 1, generator=gen, dtype=DTYPE)


def samples(feats: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) → (N, C): one row per position."""
    return feats.flatten(2)[0].T


def cross_entropy(x: torch.Tensor, sigma: torch.Tensor,
                  mu: torch.Tensor | None = None) -> torch.Tensor:
    """−(1/N) Σ_p log N(x_p; μ, Σ), from the samples x (N, C), one quadratic form per sample."""
    d = x if mu is None else x - mu
    c = x.shape[1]
    quad = (d * torch.linalg.solve(sigma, d.T).T).sum(1)
    return 0.5 * (c * math.log(2 * math.pi) + torch.logdet(sigma) + quad.mean())


def symmetric_directions(c: int, count: int, seed: int) -> list[torch.Tensor]:
    """Random symmetric matrices of spectral norm 1."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        a = torch.randn(c, c, generator=gen, dtype=DTYPE)
        e = a + a.T
        out.append(e / torch.linalg.matrix_norm(e, ord=2))
    return out


# (C, H, W, seed), with enough positions for a positive definite Gram matrix.
shapes = st.tuples(st.integers(1, 5), st.integers(2, 6), st.integers(2, 6),
                   st.integers(0, 10**6)).filter(lambda s: s[1] * s[2] >= 2 * s[0] + 2)


def test_cross_entropy_formula_matches_torch_distributions():
    x = samples(features(4, 5, 6, seed=0))
    sigma = gram(x.T[None, :, :, None])[0]
    mu = x.mean(0)
    ours = cross_entropy(x, sigma, mu)
    reference = -torch.distributions.MultivariateNormal(mu, sigma).log_prob(x).mean()
    torch.testing.assert_close(ours, reference)


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_zero_mean_gaussian_fit_is_the_gram_matrix(shape):
    c, h, w, seed = shape
    feats = features(c, h, w, seed)
    x = samples(feats)
    g = gram(feats)[0]  # the position-averaged Gram matrix texstyle matches
    torch.testing.assert_close(g, x.T @ x / x.shape[0])  # = E_P[f fᵀ]
    best = cross_entropy(x, g)
    lam_min = torch.linalg.eigvalsh(g)[0]
    assert lam_min > 0
    for e in symmetric_directions(c, 4, seed):
        for step in (0.5, -0.5, 0.05, -0.05):
            sigma = g + step * lam_min * e  # still positive definite: |step| * ‖e‖ < 1
            value = cross_entropy(x, sigma)
            assert value > best
            # ... by exactly KL(N(0, G) ‖ N(0, Σ)) = ½ Σ (λ − log λ − 1), λ = eig(Σ⁻¹ G).
            lam = torch.linalg.eigvals(torch.linalg.solve(sigma, g)).real
            torch.testing.assert_close(value - best, 0.5 * (lam - lam.log() - 1).sum())


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_gradient_of_the_cross_entropy_vanishes_at_the_gram_matrix(shape):
    c, h, w, seed = shape
    feats = features(c, h, w, seed)
    x = samples(feats)
    g = gram(feats)[0]

    def grad_at(sigma: torch.Tensor) -> torch.Tensor:
        sigma = sigma.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(cross_entropy(x, sigma), sigma)
        return grad

    at_fit = grad_at(g)
    away = grad_at(g + 0.3 * torch.linalg.eigvalsh(g)[0] * symmetric_directions(c, 1, seed)[0])
    assert at_fit.abs().max() <= 1e-8 * away.abs().max()
    assert away.abs().max() > 0
    # The closed form of the gradient, ½ (Σ⁻¹ − Σ⁻¹ G Σ⁻¹), for a non-trivial check of autograd.
    sigma = g + 0.3 * torch.linalg.eigvalsh(g)[0] * symmetric_directions(c, 1, seed)[0]
    inv = torch.linalg.inv(sigma)
    torch.testing.assert_close(grad_at(sigma), 0.5 * (inv - inv @ g @ inv))


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_gaussian_fit_is_the_mean_and_covariance(shape):
    c, h, w, seed = shape
    feats = features(c, h, w, seed)
    x = samples(feats)
    mu = mean(feats)
    cov = covariance(mu, gram(feats))[0]
    mu = mu[0]
    torch.testing.assert_close(cov, torch.cov(x.T, correction=0).reshape(c, c))
    best = cross_entropy(x, cov, mu)
    lam_min = torch.linalg.eigvalsh(cov)[0]
    gen = torch.Generator().manual_seed(seed)
    for e in symmetric_directions(c, 3, seed + 1):
        for step in (0.5, -0.05):
            shift = torch.randn(c, generator=gen, dtype=DTYPE) * step * lam_min.sqrt()
            assert cross_entropy(x, cov + step * lam_min * e, mu) > best
            assert cross_entropy(x, cov, mu + shift) > best
            assert cross_entropy(x, cov + step * lam_min * e, mu + shift) > best

    def grads_at(mu: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, ...]:
        params = (mu.clone().requires_grad_(True), sigma.clone().requires_grad_(True))
        return torch.autograd.grad(cross_entropy(x, params[1], params[0]), params)

    away = grads_at(mu + 0.1 * lam_min.sqrt(), cov + 0.3 * lam_min * e)
    for at_fit, elsewhere in zip(grads_at(mu, cov), away):
        assert elsewhere.abs().max() > 0
        assert at_fit.abs().max() <= 1e-8 * elsewhere.abs().max()


def test_mean_only_fit_is_the_mean():
    """N(μ, I): the cross-entropy's minimiser over μ is the per-channel mean; gradient zero there."""
    feats = features(5, 6, 7, seed=3)
    x = samples(feats)
    mu = mean(feats)[0].clone().requires_grad_(True)
    eye = torch.eye(5, dtype=DTYPE)
    (grad,) = torch.autograd.grad(cross_entropy(x, eye, mu), mu)
    assert grad.abs().max() < 1e-12
    best = cross_entropy(x, eye, mean(feats)[0])
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        shift = torch.randn(5, generator=gen, dtype=DTYPE) * 0.1
        # Excess is exactly ½ ‖shift‖² (the cross term vanishes because E_P[f − m] = 0).
        torch.testing.assert_close(cross_entropy(x, eye, mean(feats)[0] + shift) - best,
                                   0.5 * shift.pow(2).sum())


def test_cross_entropy_depends_on_the_samples_only_through_the_gram_matrix():
    """Two different clouds with one Gram matrix (F and F R, R orthogonal) have the same
    cross-entropy under every zero-mean Gaussian, so the same fitted model."""
    feats = features(4, 6, 6, seed=1)
    f = feats.flatten(2)[0]
    gen = torch.Generator().manual_seed(2)
    r, _ = torch.linalg.qr(torch.randn(36, 36, generator=gen, dtype=DTYPE))
    other = (f @ r).reshape(1, 4, 6, 6)
    torch.testing.assert_close(gram(other), gram(feats))
    assert not torch.allclose(other.flatten().sort().values, feats.flatten().sort().values)
    for e in symmetric_directions(4, 3, seed=5):
        sigma = torch.eye(4, dtype=DTYPE) * 3 + e
        torch.testing.assert_close(cross_entropy(samples(other), sigma),
                                   cross_entropy(samples(feats), sigma))


def test_gram_distance_is_an_mmd_with_the_squared_dot_product_kernel():
    a, b = features(3, 4, 5, seed=7), features(3, 6, 3, seed=8)
    x, y = samples(a), samples(b)

    def k(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (u @ v.T).pow(2).mean()

    mmd2 = k(x, x) + k(y, y) - 2 * k(x, y)
    torch.testing.assert_close((gram(a) - gram(b)).pow(2).sum(), mmd2)


# ---- maximum entropy: closed-form entropies with equal covariance ------------------------------


def gaussian_entropy(cov: torch.Tensor) -> torch.Tensor:
    c = cov.shape[-1]
    return 0.5 * (c * math.log(2 * math.pi * math.e) + torch.logdet(cov))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10**6))
def test_gaussian_has_more_entropy_than_uniform_or_laplace_with_equal_covariance(c, seed):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(c, c, generator=gen, dtype=DTYPE) + 3 * torch.eye(c, dtype=DTYPE)
    log_det_a = torch.linalg.slogdet(a).logabsdet
    # A @ u with u uniform on [-1, 1]^C: entropy C log 2 + log|det A|, covariance A Aᵀ / 3.
    uniform = c * math.log(2) + log_det_a
    assert gaussian_entropy(a @ a.T / 3) > uniform
    # A @ l with l i.i.d. Laplace(0, 1): entropy C (1 + log 2) + log|det A|, covariance 2 A Aᵀ.
    laplace = c * (1 + math.log(2)) + log_det_a
    assert gaussian_entropy(2 * a @ a.T) > laplace
    # The gap is KL(p ‖ N(0, Σ)), the same for every A: it depends only on the shape.
    torch.testing.assert_close(gaussian_entropy(a @ a.T / 3) - uniform,
                               torch.tensor(c * 0.5 * math.log(math.pi * math.e / 6), dtype=DTYPE))


def test_cross_entropy_under_the_fitted_gaussian_is_the_gaussian_entropy():
    """−E_P[log q_G] = ½ log det(2πe G) for any P with second moment G (step in the proof)."""
    feats = features(4, 7, 7, seed=4)
    g = gram(feats)[0]
    torch.testing.assert_close(cross_entropy(samples(feats), g), gaussian_entropy(g))


# ---- beyond Gaussians: the sliced Wasserstein statistic ----------------------------------------


def whiten_to(x: torch.Tensor, target_mean: torch.Tensor, target_root: torch.Tensor) -> torch.Tensor:
    """(N, C) cloud → exactly the given empirical mean and covariance root² (1/N normalisation)."""
    d = x - x.mean(0)
    cov = d.T @ d / x.shape[0]
    vals, vecs = torch.linalg.eigh(cov)
    inv_root = vecs @ torch.diag(vals.rsqrt()) @ vecs.T
    return d @ inv_root @ target_root.T + target_mean


def as_features(x: torch.Tensor) -> torch.Tensor:
    """(N, C) → (1, C, N, 1)."""
    return x.T[None, :, :, None]


def test_swd_tells_apart_clouds_that_every_gaussian_statistic_confuses():
    c, n = 3, 4000
    gen = torch.Generator().manual_seed(0)
    root = torch.randn(c, c, generator=gen, dtype=DTYPE) + 2 * torch.eye(c, dtype=DTYPE)
    centre = torch.rand(c, generator=gen, dtype=DTYPE) + 1
    gaussian = whiten_to(torch.randn(n, c, generator=gen, dtype=DTYPE), centre, root)
    other_gaussian = whiten_to(torch.randn(n, c, generator=gen, dtype=DTYPE), centre, root)
    bimodal_raw = torch.randn(n, c, generator=gen, dtype=DTYPE)
    bimodal_raw[:, 0] = torch.randint(0, 2, (n,), generator=gen).to(DTYPE) * 2 - 1  # ±1
    bimodal = whiten_to(bimodal_raw, centre, root)

    a, b, b2 = as_features(bimodal), as_features(gaussian), as_features(other_gaussian)
    # Every Gaussian statistic sees identical mean and covariance: distance zero.
    for name in ("gram", "meancov", "w2"):
        stat = STATISTICS[name]
        assert float(stat.distance(stat.compute(a), stat.compute(b))) < 1e-12, name
    meancov = STATISTICS["meancov"]
    assert float(meancov.distance(meancov.compute(a),
                                  meancov.compute(b))) < 1e-20
    # The sliced Wasserstein distance sees the shape: far above two Gaussian clouds' sampling noise.
    swd = STATISTICS["swd"]

    def sliced(x: torch.Tensor, y: torch.Tensor) -> float:
        return float(swd_distance(swd.compute(x), swd.compute(y), projections=256,
                                  generator=torch.Generator().manual_seed(1)))

    assert sliced(a, b) > 10 * sliced(b2, b)
    assert sliced(a, b) > 0.005


def test_one_dimensional_w2_between_gaussian_and_two_points_is_the_closed_form():
    """W₂²(N(0, 1), ±1) = 2 − 2√(2/π): same mean and variance, different shape."""
    n = 20000
    levels = (torch.arange(n, dtype=DTYPE) + 0.5) / n
    gaussian = torch.special.ndtri(levels)  # exact quantiles: the Gaussian as an even sample
    two_points = torch.where(levels < 0.5, -1.0, 1.0).to(DTYPE)
    assert float(gaussian.var(correction=0)) == pytest.approx(1, abs=1e-3)
    assert float(gaussian.mean()) == pytest.approx(0, abs=1e-12)
    x, y = gaussian[None, None, :, None], two_points[None, None, :, None]
    swd = STATISTICS["swd"]
    # In 1-D the only directions are ±1, and the target's mean square is 1, so swd is W₂² itself.
    gen = torch.Generator().manual_seed(0)
    value = float(swd_distance(swd.compute(x), swd.compute(y), generator=gen))
    assert value == pytest.approx(2 - 2 * math.sqrt(2 / math.pi), abs=2e-3)
    moments = STATISTICS["meancov"]
    assert float(moments.distance(moments.compute(x), moments.compute(y))) < 2e-3


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 50), st.integers(0, 10**6))
def test_one_dimensional_w2_bounds_the_gaussian_w2_of_the_moments(n, seed):
    """Sorted W₂² ≥ (a − b)² + (s − r)²: swd penalises every mismatch of projected moments."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=gen, dtype=DTYPE) * 2
    y = torch.rand(n, generator=gen, dtype=DTYPE).pow(3) + 0.5
    w2 = (x.sort().values - y.sort().values).pow(2).mean()
    gaussian = (x.mean() - y.mean()) ** 2 + (x.std(correction=0) - y.std(correction=0)) ** 2
    assert w2 >= gaussian - 1e-12
    assert w2 > 0


# ---- the discriminator view ---------------------------------------------------------------------


def logistic_loss(phi_x: torch.Tensor, phi_t: torch.Tensor) -> float:
    """Best mean logistic loss of D = σ(wᵀφ) telling class X (1) from class t (0), equal weights."""
    w = torch.zeros(phi_x.shape[1], dtype=DTYPE, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-14)

    def loss() -> torch.Tensor:  # −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z)
        return 0.5 * (torch.nn.functional.softplus(-phi_x @ w).mean()
                      + torch.nn.functional.softplus(phi_t @ w).mean())

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    opt.step(closure)
    with torch.no_grad():
        return float(loss())


def test_linear_discriminator_sees_means_quadratic_sees_covariances():
    n, c = 600, 3
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, generator=gen, dtype=DTYPE) * torch.tensor([2.0, 0.5, 1.0], dtype=DTYPE)
    t = torch.randn(n, c, generator=gen, dtype=DTYPE)
    x, t = x - x.mean(0), t - t.mean(0)  # exactly equal means, very different covariances

    def linear(f: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.ones(len(f), 1, dtype=DTYPE), f], 1)

    def quadratic(f: torch.Tensor) -> torch.Tensor:
        return torch.cat([linear(f), (f[:, :, None] * f[:, None, :]).flatten(1)], 1)

    chance = math.log(2)
    assert logistic_loss(linear(x), linear(t)) == pytest.approx(chance, abs=1e-9)
    assert logistic_loss(quadratic(x), quadratic(t)) < chance - 0.1
    # Shift the means apart: now the linear discriminator beats chance too.
    assert logistic_loss(linear(x + 0.5), linear(t)) < chance - 0.02
    # "At chance" is in log-loss: a one-sided linear threshold still beats 50% accuracy on equal
    # means (axis 1: std 0.5 against 1; expected ½Φ(1) + ½Φ(-½) ≈ 0.575), as the note warns.
    accuracy = 0.5 * (x[:, 1] > -0.5).double().mean() + 0.5 * (t[:, 1] <= -0.5).double().mean()
    assert accuracy > 0.54
