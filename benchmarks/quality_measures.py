"""Quality measures for stylisation and texture synthesis that use no VGG (the optimiser's network).

All images are float arrays in [0, 1], shape (H, W, 3) (RGB) unless said otherwise.  Every
measure is deterministic (fixed seeds for random projections).

=================  =========  ==================================================================
measure            better     what it is
=================  =========  ==================================================================
``ssim``           higher     photo kept: SSIM (skimage, grey, data range 1) between the output
                              and the photo resized to the output's size.  1 = the photo itself.
``edges``          higher     photo kept: Pearson correlation of Sobel gradient magnitudes
                              (grey, Gaussian pre-blur sigma 1 px) of output and photo.
``colour``         lower      colour distance to the painting / exemplar: sliced Wasserstein-1
                              distance between the two RGB pixel clouds (values in [0, 1]),
                              64 fixed random directions, 256 quantiles.  0 = same palette.
``style``          lower      style distance: Portilla-Simoncelli texture statistics (plenoptic,
                              3 scales (2 under 56 px), 4 orientations, 7x7 autocorrelations,
                              grey) of a common
                              square centre crop of output and style image (style image at the
                              output's scale); per statistic group g the relative error
                              ||s_out,g - s_ref,g|| / ||s_ref,g||, averaged over the 11 groups.
``speckle``        lower      high-frequency energy: mean of (img - gaussian_blur(img, 1 px))^2
                              over the pixels where the photo is smooth (its lowest 30 % of
                              blurred-gradient magnitude; textures: every pixel), divided by the
                              same measure of the style image in its own smooth 30 % (textures:
                              every pixel).  1 = the painting's own level of fine detail.
``grid``           lower      grid artefacts: power of the grey image's (Hann-windowed) spectrum at
                              the lattice of frequencies k/16 cycles/px (periods 16, 8, 4, 2 px of
                              VGG's pooling strides and their harmonics) over the median of a ring
                              of neighbouring bins (2-3 bins away); geometric mean over the
                              lattice, divided by the style image's own value.  1 = the
                              painting's own level of periodic structure.
=================  =========  ==================================================================

``ssim`` and ``edges`` are only defined for stylisation (there is no photo for a texture).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SMOOTH_FRACTION = 0.3
GRID_PERIOD = 16  # px: VGG-19's pooling stride at relu5_1; 8, 4, 2 are its harmonics
PS_GROUPS_NOTE = "mean over statistic groups of the relative L2 error"


def grey(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an (H, W, 3) image in [0, 1]; a 2-D image is returned as it is."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2:
        return img
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def resize_to(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Antialiased resize of an (H, W, 3) image in [0, 1] (skimage)."""
    from skimage.transform import resize

    if img.shape[:2] == (height, width):
        return np.asarray(img, dtype=np.float64)
    return np.clip(resize(img, (height, width), order=3, anti_aliasing=True), 0, 1)


def fit_long(img: np.ndarray, long_side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = long_side / max(h, w)
    return resize_to(img, max(1, round(h * s)), max(1, round(w * s)))


# -- photo kept ----------------------------------------------------------------------------------

def ssim(out: np.ndarray, photo: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    photo = resize_to(photo, *out.shape[:2])
    return float(structural_similarity(grey(out), grey(photo), data_range=1.0))


def gradient_magnitude(img: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    g = grey(img)
    if sigma > 0:
        g = ndimage.gaussian_filter(g, sigma, mode="reflect")
    gx = ndimage.sobel(g, axis=1, mode="reflect")
    gy = ndimage.sobel(g, axis=0, mode="reflect")
    return np.hypot(gx, gy)


def edge_agreement(out: np.ndarray, photo: np.ndarray) -> float:
    photo = resize_to(photo, *out.shape[:2])
    a = gradient_magnitude(out).ravel()
    b = gradient_magnitude(photo).ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


# -- colour --------------------------------------------------------------------------------------

def _directions(n: int = 64, dim: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, dim))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_dirs: int = 64, n_quantiles: int = 256,
                       seed: int = 0) -> float:
    """Sliced W1 distance between two point clouds (N, D) and (M, D), deterministic."""
    dirs = _directions(n_dirs, a.shape[1], seed)
    q = (np.arange(n_quantiles) + 0.5) / n_quantiles
    pa = np.quantile(a @ dirs.T, q, axis=0)
    pb = np.quantile(b @ dirs.T, q, axis=0)
    return float(np.abs(pa - pb).mean())


def colour_distance(out: np.ndarray, style: np.ndarray) -> float:
    return sliced_wasserstein(np.asarray(out, np.float64).reshape(-1, 3),
                              np.asarray(style, np.float64).reshape(-1, 3))


# -- style: Portilla-Simoncelli statistics -------------------------------------------------------

_PS_MODELS: dict = {}


def ps_scales(side: int) -> int:
    """3 scales, fewer when the crop is so small that the coarsest band is under 7 px."""
    return max(1, min(3, int(np.floor(np.log2(side / 7)))))


def _ps_model(side: int):
    if side not in _PS_MODELS:
        from plenoptic.models import PortillaSimoncelli

        _PS_MODELS[side] = PortillaSimoncelli((side, side), n_scales=ps_scales(side),
                                              n_orientations=4, spatial_corr_width=7)
    return _PS_MODELS[side]


def centre_crop(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    top, left = (h - side) // 2, (w - side) // 2
    return img[top:top + side, left:left + side]


def ps_side(*images: np.ndarray) -> int:
    """Largest square (a multiple of 8 px) that fits every image."""
    side = min(min(i.shape[:2]) for i in images) // 8 * 8
    if side < 24:
        raise ValueError(f"images too small for PS statistics ({side} px)")
    return side


def ps_statistics(img: np.ndarray, side: int) -> dict[str, np.ndarray]:
    import torch

    model = _ps_model(side)
    x = torch.from_numpy(centre_crop(grey(img), side).astype(np.float32))[None, None]
    with torch.no_grad():
        stats = model.convert_to_dict(model(x))
    out = {}
    for k, v in stats.items():
        out[k] = v.detach().double().numpy().ravel()
    return out


def style_distance(out: np.ndarray, style: np.ndarray) -> float:
    """Mean over PS statistic groups of ||s_out - s_ref|| / ||s_ref||.

    ``style`` must already be at the output's scale (the caller resizes it); both are cropped to
    the same centred square.
    """
    side = ps_side(out, style)
    a, b = ps_statistics(out, side), ps_statistics(style, side)
    errs = []
    for k in b:
        ok = np.isfinite(a[k]) & np.isfinite(b[k])  # redundant entries are NaN in plenoptic
        if not ok.any():
            continue
        ref = np.linalg.norm(b[k][ok])
        errs.append(np.linalg.norm(a[k][ok] - b[k][ok]) / max(ref, 1e-8))
    return float(np.mean(errs))


# -- artefacts -----------------------------------------------------------------------------------

def smooth_mask(img: np.ndarray, fraction: float = SMOOTH_FRACTION) -> np.ndarray:
    """Pixels in the lowest ``fraction`` of blurred-gradient magnitude."""
    g = gradient_magnitude(img, sigma=1.5)
    return g <= np.quantile(g, fraction)


def hf_energy(img: np.ndarray, mask: np.ndarray | None = None) -> float:
    img = np.asarray(img, np.float64)
    blurred = ndimage.gaussian_filter(img, sigma=(1.0, 1.0, 0.0), mode="reflect")
    e = ((img - blurred) ** 2).mean(axis=2)
    return float(e[mask].mean() if mask is not None else e.mean())


def speckle(out: np.ndarray, style: np.ndarray, photo: np.ndarray | None = None) -> float:
    """HF energy in the photo's smooth regions (whole image for textures), style's own = 1."""
    if photo is not None:
        own = hf_energy(out, smooth_mask(resize_to(photo, *out.shape[:2])))
    else:
        own = hf_energy(out)
    # The whole painting, not its own smooth regions: a flat-colour painting's smoothest 30 %
    # are nearly empty of detail and would make an unstable denominator.
    ref = hf_energy(style)
    return own / max(ref, 1e-12)


def grid_score(img: np.ndarray, period: int = GRID_PERIOD) -> float:
    """Geometric mean over the lattice k/period (k != 0) of spectral power over its ring median."""
    g = grey(img)
    h, w = (g.shape[0] // period) * period, (g.shape[1] // period) * period
    g = g[:h, :w]
    g = g - g.mean()
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(g * window)) ** 2
    power += 1e-20
    sy, sx = h // period, w // period
    yy, xx = np.mgrid[-3:4, -3:4]
    ring = (np.maximum(np.abs(yy), np.abs(xx)) >= 2)
    offsets = list(zip(yy[ring], xx[ring]))
    logs = []
    for i in range(period):
        for j in range(period):
            if i == 0 and j == 0:
                continue
            cy, cx = i * sy, j * sx
            neigh = [power[(cy + dy) % h, (cx + dx) % w] for dy, dx in offsets]
            logs.append(np.log(power[cy, cx] / np.median(neigh)))
    return float(np.exp(np.mean(logs)))


def grid(out: np.ndarray, style: np.ndarray) -> float:
    return grid_score(out) / max(grid_score(style), 1e-12)


# -- all at once ---------------------------------------------------------------------------------

MEASURES = ("ssim", "edges", "colour", "style", "speckle", "grid")
HIGHER_IS_BETTER = {"ssim": True, "edges": True, "colour": False, "style": False,
                    "speckle": False, "grid": False}


def measure_all(out: np.ndarray, style: np.ndarray, photo: np.ndarray | None = None,
                with_style: bool = True) -> dict[str, float]:
    """Every measure of ``out``; ``style`` is resized here to the output's long side."""
    style_s = fit_long(style, max(out.shape[:2]))
    result: dict[str, float] = {}
    if photo is not None:
        result["ssim"] = ssim(out, photo)
        result["edges"] = edge_agreement(out, photo)
    result["colour"] = colour_distance(out, style_s)
    if with_style:
        result["style"] = style_distance(out, style_s)
    result["speckle"] = speckle(out, style_s, photo)
    result["grid"] = grid(out, style_s)
    return result
