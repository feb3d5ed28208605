"""Style statistics: pure functions from feature maps to position-free summaries, and distances.

Every statistic here averages over (or sorts) spatial positions, so it does not depend on the
image size and is unchanged when positions are shuffled — that is what makes it a *style*
(texture) descriptor rather than a picture.

Each statistic is one pair of pure functions registered in ``STATISTICS``:

* ``compute(features) -> representation``: a tuple of tensors, from (B, C, H, W) features;
* ``distance(rep, target) -> scalar``: a *relative* error, about 1 between unrelated images and
  0 at the target, so one style weight fits every statistic, layer and exemplar.

Style mixing averages representations with the blend weights (``mix``).  Representations are
chosen so that averaging is the right thing: raw moments (mean and E[f fᵀ]), never covariances,
and for the sliced Wasserstein distance a weighted sample of feature vectors (a mixture).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import torch

Representation = tuple[torch.Tensor, ...]
_EPS = 1e-12


def _flat(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    return features.reshape(b, c, h * w)


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix averaged over positions: (B, C, H, W) → (B, C, C).

    G[c, d] = (1 / HW) Σ_p F[c, p] F[d, p].  Departure from Gatys et al., who sum over positions:
    dividing by HW makes G a mean of outer products (the raw second moment of the feature
    vectors), so a texture and a larger crop of it have the same Gram matrix.
    """
    flat = _flat(features)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def mean(features: torch.Tensor) -> torch.Tensor:
    """Per-channel mean over positions: (B, C, H, W) → (B, C)."""
    return features.mean(dim=(2, 3))


def covariance(mu: torch.Tensor, second_moment: torch.Tensor) -> torch.Tensor:
    """Covariance from raw moments, Σ = E[f fᵀ] − μ μᵀ: (B, C), (B, C, C) → (B, C, C).

    Equal to the Gram matrix of (features − mean).  Derived from raw moments so that mixing
    (averaging raw moments) gives the covariance of the mixture, cross-mean term included.
    """
    return second_moment - mu[:, :, None] * mu[:, None, :]


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖value − target‖² / ‖target‖², a scalar; 0 at the target, about 1 far from it."""
    return (value - target).pow(2).sum() / target.pow(2).sum().clamp_min(_EPS)


def psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of symmetric positive semi-definite matrices (B, C, C), in float64.

    Used for the *target* covariance only, which needs no gradient.
    """
    vals, vecs = torch.linalg.eigh(matrix.double())
    root: torch.Tensor = (vecs * vals.clamp_min(0).sqrt()[:, None, :]) @ vecs.transpose(1, 2)
    return root


def trace_sqrt(matrix: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """tr(M^½) for symmetric PSD M (B, C, C) → (B,), differentiable, computed in float64.

    Through the eigenvalues only: the gradient V diag(1 / 2√λ) Vᵀ needs no eigenvector
    derivatives, so it stays finite when eigenvalues repeat (e.g. equal covariances) or vanish
    (fewer positions than channels), where a generic differentiable sqrtm breaks down.
    """
    vals = torch.linalg.eigvalsh(matrix.double())
    # Clamp relative to the largest eigenvalue, so the result does not depend on feature scale.
    floor = eps * vals.abs().amax(-1, keepdim=True).clamp_min(1e-300)
    return torch.maximum(vals, floor).sqrt().sum(-1)


# ---- the statistics ---------------------------------------------------------------------------


def gram_compute(features: torch.Tensor) -> Representation:
    return (gram(features),)


def gram_distance(rep: Representation, target: Representation) -> torch.Tensor:
    return relative_error(rep[0], target[0])


def mean_compute(features: torch.Tensor) -> Representation:
    return (mean(features),)


def mean_distance(rep: Representation, target: Representation) -> torch.Tensor:
    return relative_error(rep[0], target[0])


def moments_compute(features: torch.Tensor) -> Representation:
    """(mean, raw second moment): what meancov and w2 keep, and what mixing averages."""
    return (mean(features), gram(features))


def meancov_distance(rep: Representation, target: Representation) -> torch.Tensor:
    """Relative error of the means plus relative error of the covariances."""
    cov, cov_t = covariance(*rep), covariance(*target)
    return relative_error(rep[0], target[0]) + relative_error(cov, cov_t)


def w2_distance(rep: Representation, target: Representation) -> torch.Tensor:
    """Squared Wasserstein-2 distance between N(μ, Σ) and N(μₜ, Σₜ), relative to E‖fₜ‖².

    W₂² = ‖μ − μₜ‖² + tr Σ + tr Σₜ − 2 tr (Σₜ^½ Σ Σₜ^½)^½.  Divided by tr E[fₜ fₜᵀ] (the target's
    mean squared feature norm) so that, like the other distances, it is about 1 between unrelated
    images and its weight does not depend on the layer.
    """
    mu, second = rep
    mu_t, second_t = target
    cov, cov_t = covariance(mu, second).double(), covariance(mu_t, second_t).double()
    root_t = _target_sqrt(second_t, cov_t)
    cross = trace_sqrt(root_t @ cov @ root_t)
    w2 = ((mu - mu_t).double().pow(2).sum(-1) + _trace(cov) + _trace(cov_t) - 2 * cross)
    scale = _trace(second_t.double()).clamp_min(_EPS)
    return (w2.clamp_min(0) / scale).sum().to(mu.dtype)


_ROOT_CACHE: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}


def _target_sqrt(key: torch.Tensor, cov_t: torch.Tensor) -> torch.Tensor:
    """psd_sqrt(cov_t), remembered per target tensor: targets are fixed for a whole run, and a
    512x512 float64 eigendecomposition every iteration would dominate w2's cost."""
    hit = _ROOT_CACHE.get(id(key))
    if hit is not None and hit[0] is key and not key.requires_grad:
        return hit[1]
    root = psd_sqrt(cov_t)
    if not key.requires_grad:
        if len(_ROOT_CACHE) >= 32:
            _ROOT_CACHE.clear()
        _ROOT_CACHE[id(key)] = (key, root)
    return root


# Ridge added to both second moments before the KL, relative to the target's mean eigenvalue
# tr(Gₜ)/C: directions with less than the average energy count as the average.  Some ridge is
# needed: at relu5_1 of a 128 px image there are 64 positions for 512 channels, so both Gram
# matrices are singular and the exact KL is infinite.  This much was measured (brick, one level,
# equal layer weights, L-BFGS): with 1e-3 the KL pins the image's features to the style's
# 64-dimensional span at the deep layers, which the optimiser cannot reach (64 px, 300
# evaluations: loss stuck at 0.59, covariance gap 1.46); 1e-2 and 1e-1 still stall (0.68, 0.35
# at 64 px); 1 leaves 0.26 at 64 px and, at 128 px after 100 evaluations, a covariance gap of 0.51
# against gram's 0.82 (docs/statistics.md).
KL_RIDGE = 1.0


def gaussian_kl(second_t: torch.Tensor, second: torch.Tensor,
                ridge: float = KL_RIDGE) -> torch.Tensor:
    """KL(N(0, Gₜ) ‖ N(0, G)) for (B, C, C) second moments, per batch item (B,), in float64.

    = ½ [tr(G⁻¹Gₜ) − C + log det G − log det Gₜ], with ``ridge``·tr(Gₜ)/C added to both
    diagonals (see ``KL_RIDGE``).  It is the excess cross-entropy of the style's feature
    distribution under the zero-mean Gaussian fitted to the image (docs/theory.md §2): taking
    Q_X = N(0, G_X), KL(P_S ‖ Q_X) = const + KL(N(0, G_S) ‖ N(0, G_X)).  Computed by Cholesky
    factors, so the gradient through G⁻¹ and log det G is that of triangular solves (stable for
    the regularised, positive definite matrices), never through an explicit inverse.
    """
    gt, g = second_t.double(), second.double()
    c = g.shape[-1]
    eye = torch.eye(c, dtype=g.dtype, device=g.device)
    lam = (ridge * _trace(gt) / c).clamp_min(_EPS)[:, None, None]
    chol = torch.linalg.cholesky(g + lam * eye)
    chol_t = torch.linalg.cholesky(gt + lam * eye)
    # tr(G⁻¹ Gₜ) = ‖L⁻¹ Lₜ‖²_F with G = L Lᵀ, Gₜ = Lₜ Lₜᵀ.
    solved = torch.linalg.solve_triangular(chol, chol_t, upper=False)
    logdet = 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    logdet_t = 2 * chol_t.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    kl: torch.Tensor = 0.5 * (solved.pow(2).sum((-2, -1)) - c + logdet - logdet_t)
    return kl


def whitened_gram_error(second_t: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """¼‖Gₜ^{-½} (G − Gₜ) Gₜ^{-½}‖²_F per batch item (B,), float64, for positive definite Gₜ.

    The second-order expansion of ``gaussian_kl`` around G = Gₜ (docs/theory.md §2): near the
    target the KL is the Gram difference measured in the style's own whitened coordinates, not
    the plain Frobenius norm that ``gram_distance`` uses.  For checks and teaching; the loss is
    the KL itself.
    """
    vals, vecs = torch.linalg.eigh(second_t.double())
    inv_root = (vecs * vals.rsqrt()[:, None, :]) @ vecs.transpose(1, 2)
    white = inv_root @ (second.double() - second_t.double()) @ inv_root
    error: torch.Tensor = 0.25 * white.pow(2).sum((-2, -1))
    return error


def kl_distance(rep: Representation, target: Representation) -> torch.Tensor:
    """``gaussian_kl`` of the zero-mean Gaussians fitted to style and image, divided by C.

    Per channel so that, like the relative errors, layers of 64 and 512 channels weigh alike;
    summed over the batch.  Same representation as ``gram`` (the raw second moment), so mixing
    styles averages the second moments (the Gaussian of the mixture's second moment).
    """
    g, gt = rep[0], target[0]
    return (gaussian_kl(gt, g) / g.shape[-1]).sum().to(g.dtype)


def _trace(m: torch.Tensor) -> torch.Tensor:
    return m.diagonal(dim1=-2, dim2=-1).sum(-1)


def swd_compute(features: torch.Tensor) -> Representation:
    """The feature vectors themselves with equal weights: (B, C, N) values, (B, N) weights."""
    flat = _flat(features)
    weights = torch.full(flat.shape[::2], 1.0 / flat.shape[-1], dtype=flat.dtype,
                         device=flat.device)
    return (flat, weights)


def weighted_gram(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Gram matrix with position weights: (B, C, H, W), (B, H·W) summing to 1 → (B, C, C).

    G[c, d] = Σ_p w_p F[c, p] F[d, p]: the raw second moment of the feature vectors of one region
    (Gatys et al. 2017's guided Gram matrix), positions weighted by a soft mask; with equal
    weights 1/HW it is ``gram``.
    """
    flat = _flat(features)
    return (flat * weights[:, None, :]) @ flat.transpose(1, 2)


def weighted_mean(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-channel mean with position weights summing to 1: (B, C, H, W), (B, H·W) → (B, C)."""
    return (_flat(features) @ weights[:, :, None])[..., 0]


def swd_distance(rep: Representation, target: Representation, *,
                 generator: torch.Generator | None = None, projections: int | None = None
                 ) -> torch.Tensor:
    """Sliced Wasserstein-2 distance between the two clouds of feature vectors, relative.

    Each feature vector (one per position) is projected on random unit directions; along each
    direction the 1-D optimal transport is "sort both and compare in order", so the distance
    compares the whole 1-D marginal distributions (all moments, multi-modality, heavy tails),
    not only the first two moments.  Positions are sorted away, so no spatial information is
    left.  Directions (C of them by default) are drawn afresh on every call: over iterations
    they cover all directions, which is what makes the distance a metric between distributions
    (Heitz et al., 2021).  The target may be a weighted mixture; its quantile function is then
    evaluated at the image's quantile levels.  Normalised by the mean squared projected target.
    The image's vectors may be weighted too (one region of it, ``Statistic.weighted``); each then
    stands for its share of the 1-D distribution.
    """
    values, weights = rep
    if not bool((weights == weights[..., :1]).all()):
        return _weighted_swd(values, weights, target, generator, projections)
    values_t, weights_t = target
    b, c, n = values.shape
    k = projections or c
    directions = torch.randn(c, k, generator=generator, dtype=torch.float32).to(values)
    directions = directions / directions.norm(dim=0, keepdim=True)
    proj = torch.einsum("bcn,ck->bkn", values, directions).sort(dim=-1).values
    proj_t, order = torch.einsum("bcm,ck->bkm", values_t, directions).sort(dim=-1)
    cum = torch.gather(weights_t[:, None, :].expand_as(proj_t), -1, order).cumsum(-1)
    levels = (torch.arange(n, dtype=values.dtype, device=values.device) + 0.5) / n
    index = torch.searchsorted(cum.contiguous(), levels.expand(b, k, n).contiguous())
    quantiles_t = torch.gather(proj_t, -1, index.clamp_max(proj_t.shape[-1] - 1))
    scale = quantiles_t.pow(2).mean().clamp_min(_EPS)
    return (proj - quantiles_t).pow(2).mean() / scale


def _weighted_swd(values: torch.Tensor, weights: torch.Tensor, target: Representation,
                  generator: torch.Generator | None, projections: int | None) -> torch.Tensor:
    """``swd_distance`` for an image whose vectors carry weights (B, N) summing to 1.

    Along each direction the sorted image values sit at the midpoints of their cumulative
    weights, and each squared gap to the target's quantile there counts with its weight: the
    1-D Wasserstein-2 distance between two weighted samples.  Zero-weight positions drop out.
    """
    values_t, weights_t = target
    c = values.shape[1]
    k = projections or c
    directions = torch.randn(c, k, generator=generator, dtype=torch.float32).to(values)
    directions = directions / directions.norm(dim=0, keepdim=True)
    proj, order_i = torch.einsum("bcn,ck->bkn", values, directions).sort(dim=-1)
    w = torch.gather(weights[:, None, :].expand_as(proj), -1, order_i)
    levels = w.cumsum(-1) - w / 2
    proj_t, order = torch.einsum("bcm,ck->bkm", values_t, directions).sort(dim=-1)
    cum = torch.gather(weights_t[:, None, :].expand_as(proj_t), -1, order).cumsum(-1)
    index = torch.searchsorted(cum.contiguous(), levels.contiguous())
    quantiles_t = torch.gather(proj_t, -1, index.clamp_max(proj_t.shape[-1] - 1))
    scale = (w * quantiles_t.pow(2)).sum(-1).mean().clamp_min(_EPS)
    return (w * (proj - quantiles_t).pow(2)).sum(-1).mean() / scale


def gram_weighted(features: torch.Tensor, weights: torch.Tensor) -> Representation:
    return (weighted_gram(features, weights),)


def mean_weighted(features: torch.Tensor, weights: torch.Tensor) -> Representation:
    return (weighted_mean(features, weights),)


def moments_weighted(features: torch.Tensor, weights: torch.Tensor) -> Representation:
    return (weighted_mean(features, weights), weighted_gram(features, weights))


def swd_weighted(features: torch.Tensor, weights: torch.Tensor) -> Representation:
    return (_flat(features), weights)


def blend_weights(blend: Sequence[float] | None, count: int) -> list[float]:
    """Each style's share of a mix, summing to 1; equal shares when ``blend`` is None.

    The one place style blend weights are normalised: targets, feed-forward mixing, the
    adversarial loss's real samples and the palette start all take their shares from here.
    """
    raw = list(blend) if blend is not None else [1.0] * count
    return [w / sum(raw) for w in raw]


def average_mix(reps: Sequence[Representation], weights: Sequence[float]) -> Representation:
    """Weighted average of each tensor of the representations (weights sum to 1)."""
    return tuple(cast(torch.Tensor, sum(w * rep[i] for rep, w in zip(reps, weights)))
                 for i in range(len(reps[0])))


def mixture_mix(reps: Sequence[Representation], weights: Sequence[float]) -> Representation:
    """The weighted mixture of several feature clouds: all vectors, each style's weights scaled."""
    values = torch.cat([rep[0] for rep in reps], dim=-1)
    point_weights = torch.cat([rep[1] * w for rep, w in zip(reps, weights)], dim=-1)
    return (values, point_weights)


@dataclass(frozen=True)
class Statistic:
    """A style statistic: how to summarise features, how to compare, how to mix summaries."""

    name: str
    compute: Callable[[torch.Tensor], Representation]
    distance: Callable[..., torch.Tensor]
    mix: Callable[[Sequence[Representation], Sequence[float]], Representation] = average_mix
    stochastic: bool = False  # distance draws random numbers (takes a ``generator``)
    summary: str = ""
    # compute with position weights (B, H·W) summing to 1: one region's statistic (guides.py);
    # None: the statistic cannot be restricted to a region.
    weighted: Callable[[torch.Tensor, torch.Tensor], Representation] | None = None


STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic("gram", gram_compute, gram_distance,
                  summary="Gram matrix E[f fᵀ] (Gatys et al.)", weighted=gram_weighted),
        Statistic("kl", gram_compute, kl_distance,
                  summary="KL between the zero-mean Gaussians of the Gram matrices",
                  weighted=gram_weighted),
        Statistic("mean", mean_compute, mean_distance,
                  summary="per-channel mean: C numbers per layer", weighted=mean_weighted),
        Statistic("meancov", moments_compute, meancov_distance,
                  summary="mean and covariance", weighted=moments_weighted),
        Statistic("w2", moments_compute, w2_distance,
                  summary="Wasserstein-2 between Gaussians N(mean, cov)",
                  weighted=moments_weighted),
        Statistic("swd", swd_compute, swd_distance, mix=mixture_mix, stochastic=True,
                  summary="sliced Wasserstein between the feature distributions",
                  weighted=swd_weighted),
    )
}
