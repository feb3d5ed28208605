"""The adversarial style statistic: per-layer discriminators on VGG feature vectors.

Instead of matching a fixed summary (Gram matrix, mean and covariance), the image X is pushed
until a small classifier D_l can no longer tell its feature vectors at layer l from the style
image's.  Every spatial position of a layer is one sample (a C-dimensional vector), so D_l is a
*per-pixel* classifier: a stack of 1x1 convolutions, written here as ``nn.Linear`` on the
flattened positions (the same function, fewer reshapes).  What D_l can see bounds what is matched:

* ``logreg`` (one linear map + sigmoid) can only separate clouds whose *means* differ, so as a
  style loss it behaves like mean matching;
* ``quadratic`` (logistic regression on the features and their pairwise products, i.e. a linear
  term plus a quadratic form zᵀ A z) also sees covariance differences: like mean + covariance
  matching;
* ``mlp:H[,H]`` (1x1 convs with LeakyReLU) can see beyond the first two moments.

The loop (``optimize_adversarial``), per image iteration: every ``disc_every`` iterations, each
D_l takes ``disc_steps`` full-batch Adam steps on (style positions = real, X positions = fake);
then the non-saturating generator loss −log D_l(features of X) (Goodfellow et al., 2014) is
backpropagated to X and X takes one Adam step.  L-BFGS does not apply: the objective changes
every time D moves, and a line search cannot compare values of different functions.

Stability options: an R1 penalty (Mescheder et al., 2018) on D's gradient at the real samples,
and instance noise (Gaussian noise added to every sample D sees; Sønderby et al., 2017).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .config import DiscSpec, GanOptions, is_gan
from .errors import TexstyleError
from .losses import Objective
from .optimize import Loop, OptimResult, run_loop
from .progress import Progress
from .stats import blend_weights

log = logging.getLogger(__name__)

# ---- names -------------------------------------------------------------------------------------


def moment_statistic(loss: str) -> str | None:
    """The fixed statistic matched alongside (or instead of) the adversarial term, if any:
    "gan" → None, "gan+gram" → "gram", "gram" → "gram"."""
    if not is_gan(loss):
        return loss
    _, _, rest = loss.partition("+")
    return rest or None


# ---- discriminators ----------------------------------------------------------------------------


def positions(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) feature maps → (B·H·W, C): one row per spatial position (one D sample)."""
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])


class Discriminator(nn.Module):
    """D_l: a logit per feature vector, (N, C) → (N,).

    Inputs are first standardised with the style's per-channel mean and std (fixed buffers set
    when D is made).  That changes nothing a logreg or quadratic D can express (both are closed
    under affine maps) but puts every layer on the same scale, so one ``disc_lr`` fits all layers.
    """

    def __init__(self, spec: DiscSpec, shift: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        channels = shift.numel()
        self.spec = spec
        self.register_buffer("shift", shift.detach().clone())
        self.register_buffer("scale", scale.detach().clone())
        if spec.kind == "mlp":
            layers: list[nn.Module] = []
            width = channels
            for h in spec.hidden:
                layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
                width = h
            layers.append(nn.Linear(width, 1))
            self.body = nn.Sequential(*layers)
        else:
            self.linear = nn.Linear(channels, 1)
            nn.init.zeros_(self.linear.weight)  # start at chance: D must learn what differs
            nn.init.zeros_(self.linear.bias)
        if spec.kind == "quadratic":
            # Logistic regression on the features and all their pairwise products z_i z_j: the
            # product weights form a symmetric matrix A, so the extra term is zᵀ A z, computed as
            # one C x C matrix product per position instead of C² explicit product features.
            self.quad = nn.Parameter(torch.zeros(channels, channels))

    def standardise(self, samples: torch.Tensor) -> torch.Tensor:
        return (samples - self.shift) / self.scale

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of already standardised samples (N, C) → (N,)."""
        if self.spec.kind == "mlp":
            return self.body(z).squeeze(-1)
        out = self.linear(z).squeeze(-1)
        if self.spec.kind == "quadratic":
            # Divided by C: Adam moves each of the C² entries by about disc_lr per step, and
            # without the 1/C the quadratic term would move C times faster than the linear one.
            sym = (self.quad + self.quad.T) / 2
            out = out + ((z @ sym) * z).sum(-1) / z.shape[-1]
        return out

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        return self.logits(self.standardise(samples))


@dataclass
class LayerDisc:
    """One layer's discriminator with its own optimiser (carried over pyramid levels)."""

    net: Discriminator
    opt: torch.optim.Optimizer


@dataclass(frozen=True)
class RealSamples:
    """The style's feature vectors at one layer, with weights summing to 1 (several styles are
    pooled, each style's positions sharing its blend weight)."""

    values: torch.Tensor  # (N, C)
    weights: torch.Tensor  # (N,)


def real_samples(features: Sequence[Mapping[str, torch.Tensor]], layers: Sequence[str],
                 blend: Sequence[float] | None = None) -> dict[str, RealSamples]:
    """Per layer, all style positions pooled, weighted by ``blend`` (normalised; equal default)."""
    shares = blend_weights(blend, len(features))
    out = {}
    for name in layers:
        values, weights = [], []
        for feats, share in zip(features, shares, strict=True):
            v = positions(feats[name].detach())
            values.append(v)
            weights.append(torch.full((v.shape[0],), share / v.shape[0], dtype=v.dtype,
                                      device=v.device))
        out[name] = RealSamples(torch.cat(values), torch.cat(weights))
    return out


def make_discriminators(spec: DiscSpec, reals: Mapping[str, RealSamples], lr: float
                        ) -> dict[str, LayerDisc]:
    """A fresh D per layer, standardised with that layer's (weighted) style statistics.

    Parameters are drawn from torch's global generator, which the caller seeds.
    """
    discs = {}
    for name, real in reals.items():
        w = real.weights[:, None]
        mu = (w * real.values).sum(0)
        sd = ((w * (real.values - mu).pow(2)).sum(0)).sqrt()
        # Dead channels (all-zero ReLUs) have sd 0: divide by the layer's typical sd instead.
        sd = torch.where(sd > 1e-6 * sd.max().clamp_min(1e-12), sd, sd.mean().clamp_min(1e-6))
        net = Discriminator(spec, mu, sd).to(real.values.device)
        discs[name] = LayerDisc(net, torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999)))
    return discs


# ---- losses ------------------------------------------------------------------------------------


def _noisy(z: torch.Tensor, std: float, generator: torch.Generator | None) -> torch.Tensor:
    if std <= 0:
        return z
    noise = torch.randn(z.shape, generator=generator, dtype=z.dtype)
    return z + std * noise.to(z.device)


def disc_loss(net: Discriminator, real: RealSamples, fake: torch.Tensor, *, r1_weight: float = 0.0,
              noise: float = 0.0, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, float]:
    """Binary cross-entropy of D (real → 1, fake → 0), balanced between the two sets, plus the R1
    penalty; returns (loss, accuracy).  2·log 2 ≈ 1.386 at chance, accuracy 0.5.

    ``fake`` is (N, C) raw features of X, detached by the caller.
    """
    z_real = _noisy(net.standardise(real.values), noise, generator)
    z_fake = _noisy(net.standardise(fake), noise, generator)
    if r1_weight > 0:
        z_real = z_real.detach().requires_grad_(True)
    l_real, l_fake = net.logits(z_real), net.logits(z_fake)
    loss = (real.weights * F.softplus(-l_real)).sum() + F.softplus(l_fake).mean()
    if r1_weight > 0:
        # R1 (Mescheder et al., 2018): penalise D's slope where the real data is, which keeps D
        # from growing a cliff the generator's gradient falls off.  Measured in standardised units.
        # Each logit depends on its own row only, so the gradient of the sum holds every ∇D(z_i).
        (grad,) = torch.autograd.grad(l_real.sum(), z_real, create_graph=True)
        loss = loss + 0.5 * r1_weight * (real.weights * grad.pow(2).sum(-1)).sum()
    with torch.no_grad():  # a logit of exactly 0 (a fresh D) counts as half right
        right_real = (real.weights * (1 + l_real.sign()) / 2).sum()
        right_fake = ((1 - l_fake.sign()) / 2).mean()
        accuracy = float(right_real + right_fake) / 2
    return loss, accuracy


def generator_loss(net: Discriminator, fake: torch.Tensor, *, noise: float = 0.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Non-saturating generator loss, mean over positions of −log D(f) = softplus(−logit).

    The swapped-label form (Goodfellow et al., 2014) rather than log(1 − D): its gradient is
    large exactly when D confidently rejects X, i.e. at the start.  log 2 ≈ 0.693 at chance.
    """
    return F.softplus(-net.logits(_noisy(net.standardise(fake), noise, generator))).mean()


def train_discriminator(disc: LayerDisc, real: RealSamples, fake: torch.Tensor, steps: int, *,
                        r1_weight: float = 0.0, noise: float = 0.0,
                        generator: torch.Generator | None = None) -> tuple[float, float]:
    """``steps`` full-batch Adam steps on one layer's D; returns (loss, accuracy) before the last
    step (what D achieved on the data it was trained on)."""
    fake = fake.detach()
    loss_value, accuracy = math.nan, math.nan
    for _ in range(steps):
        disc.opt.zero_grad(set_to_none=True)
        loss, accuracy = disc_loss(disc.net, real, fake, r1_weight=r1_weight, noise=noise,
                                   generator=generator)
        loss.backward()
        disc.opt.step()
        loss_value = float(loss.detach())
    return loss_value, accuracy


# ---- the loop ----------------------------------------------------------------------------------


class Diverged(TexstyleError):
    """The adversarial run produced a non-finite value before any finite iterate existed."""


def optimize_adversarial(
    init: torch.Tensor,
    objective: Objective,
    discs: Mapping[str, LayerDisc],
    reals: Mapping[str, RealSamples],
    options: GanOptions,
    *,
    iters: int,
    lr: float | None = None,
    callback: Callable[[Progress], None] | None = None,
    generator: torch.Generator | None = None,
) -> OptimResult:
    """Adam on the pixels of ``init`` against discriminators trained in the loop.

    ``objective`` supplies the non-adversarial terms (a fixed statistic for gan+gram/gan+meancov,
    content, TV) from the same forward pass through ``Objective.evaluate``; its ``layer_weights``
    weight the adversarial term of each layer too.  Progress and history follow ``optimize``; the
    history also holds, per layer, ``d_loss/L``, ``d_acc/L`` and ``g_loss/L``.

    Unlike ``optimize`` there is no "best" iterate: the loss is measured against a D that keeps
    changing, so values at different iterations are not comparable.  The *last finite* iterate
    is returned; a non-finite loss, gradient or D loss stops the run with a warning (and before
    any step succeeded, raises ``Diverged``), so a NaN image is never returned.
    """
    loop = Loop(iters, callback)
    step = AdversarialStep(init, objective, discs, reals, options, lr=lr, generator=generator)
    run_loop(step, loop)
    return step.result(loop)


class AdversarialStep:
    """One round of the game: train each D on the current image's features (every
    ``disc_every`` iterations), then one Adam step on the pixels against them and the fixed
    terms, from the same forward pass.  The loop (``optimize.run_loop``) keeps the budget,
    history and progress; this keeps the last finite iterate."""

    def __init__(self, init: torch.Tensor, objective: Objective, discs: Mapping[str, LayerDisc],
                 reals: Mapping[str, RealSamples], options: GanOptions, *, lr: float | None,
                 generator: torch.Generator | None) -> None:
        self.x = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
        self.opt = torch.optim.Adam([self.x], lr=lr or 0.02)
        self.objective, self.discs, self.reals, self.options = objective, discs, reals, options
        self.generator = generator
        self.last = self.x.detach().clamp(0, 1).clone()
        self.d_stats = dict.fromkeys(discs, (math.nan, math.nan))

    def advance(self, loop: Loop) -> bool:
        x, opt, objective, discs, options = self.x, self.opt, self.objective, self.discs, self.options
        history, generator = loop.history, self.generator
        it = len(history)  # every iteration that is not the last one records
        feats = objective.extractor(x)
        fakes = {name: positions(feats[name]) for name in discs}
        if it % options.disc_every == 0:
            for name, disc in discs.items():
                self.d_stats[name] = train_discriminator(
                    disc, self.reals[name], fakes[name], options.disc_steps,
                    r1_weight=options.r1_weight, noise=options.instance_noise, generator=generator)
        g = {name: generator_loss(disc.net, fakes[name], noise=options.instance_noise,
                                  generator=generator) for name, disc in discs.items()}
        _, terms = objective.evaluate(feats, x)
        terms = {"gan": options.gan_weight * sum(objective.layer_weights[n] * g[n] for n in g)} | terms
        total = sum(terms.values())
        record = {k: float(v.detach()) for k, v in terms.items()}
        record["total"] = float(total.detach())
        for name in discs:
            record[f"d_loss/{name}"], record[f"d_acc/{name}"] = self.d_stats[name]
            record[f"g_loss/{name}"] = float(g[name].detach())
        for disc in discs.values():
            disc.net.requires_grad_(False)  # the generator step must not leave grads on D
        try:
            opt.zero_grad(set_to_none=True)
            if math.isfinite(record["total"]):
                total.backward()
        finally:
            for disc in discs.values():
                disc.net.requires_grad_(True)
        bad = _non_finite(record, x.grad)
        if bad is not None:
            if not history:
                raise Diverged(f"the adversarial loss is not finite at the first iteration ({bad}); "
                               "check the inputs, or lower --disc-lr / --lr")
            log.warning("adversarial run diverged at iteration %d (%s is not finite); keeping the "
                        "last finite image (iteration %d); try a lower --lr or --disc-lr, or "
                        "--r1 / --instance-noise", it + 1, bad, len(history))
            return False
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        if not torch.isfinite(x).all():  # pragma: no cover - Adam with a finite gradient
            return False
        self.last = x.detach().clone()
        history.append(record)
        # Reported after the step: the image shown is the one this iteration produced.
        loop.emit(record, lambda: x.detach().clamp(0, 1))
        return True

    def result(self, loop: Loop) -> OptimResult:
        return loop.result(self.last)


def _non_finite(record: Mapping[str, float], grad: torch.Tensor | None) -> str | None:
    """The first non-finite quantity of an iteration (a loss name, or "the image gradient")."""
    for key, value in record.items():
        if key.startswith("d_acc/"):
            continue
        if not math.isfinite(value):
            return key
    if grad is not None and not torch.isfinite(grad).all():
        return "the image gradient"
    return None
