"""The only module that touches PIL: load, orient, convert, resize, save.

Inside texstyle an image is a float32 tensor of shape (1, 3, H, W) holding sRGB in [0, 1].
"""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import TexstyleError

ImageInput = str | os.PathLike[str] | Image.Image | torch.Tensor | np.ndarray

# Formats we write: Pillow reads many more (PSD, FITS, …) than it can save as RGB.
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
                  ".tif": "TIFF", ".tiff": "TIFF", ".ppm": "PPM"}


def output_format(path: Path) -> str:
    """The Pillow format name for an output path, or a ``TexstyleError`` naming the choices."""
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise TexstyleError(f"cannot write {path}: use an image extension, one of "
                            f"{', '.join(OUTPUT_FORMATS)}")
    return fmt


# Pillow's decompression-bomb guard is a process-wide setting; we apply our own limit (which the
# user may raise with --max-pixels) and switch Pillow's off only while we open a file.
_PILLOW_LIMIT_LOCK = threading.Lock()


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite transparent images over white: transparent pixels often hide black RGB."""
    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """Any PIL mode → (1, 3, H, W) float32 in [0, 1], honouring EXIF orientation."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale: Pillow's convert("RGB") would clip at 255, so scale by hand.
        arr = np.asarray(img, dtype=np.float32) / 65535.0
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif img.mode == "F":
        arr = np.repeat(np.asarray(img, dtype=np.float32)[..., None], 3, axis=2)
        arr = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0)  # float TIFFs may hold NaN
    else:
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = _flatten_alpha(img)
        else:
            img = img.convert("RGB")
        arr = np.asarray(img, dtype=np.float32) / 255.0
    tensor = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None].contiguous()
    return tensor.clamp(0, 1)


def load_image(source: ImageInput, what: str = "image", *, max_pixels: int | None = None
               ) -> torch.Tensor:
    """A path, PIL image, array or tensor → (1, 3, H, W) float32 in [0, 1].

    Every file either loads as RGB or becomes a ``TexstyleError`` with the path in the message:
    alpha is composited over white (transparent pixels often hide black RGB, which would teach
    the style loss a black texture), CMYK/palette/16-bit are converted, an animated image gives its
    first frame, EXIF orientation is applied.  A file that declares more than ``max_pixels``
    pixels (default: Pillow's decompression-bomb limit, ~89 MP) is refused before decoding.
    """
    if isinstance(source, torch.Tensor):
        return _tensor_image(source, what)
    if isinstance(source, np.ndarray):
        arr = source.astype(np.float32) / (255.0 if source.dtype == np.uint8 else 1.0)
        if arr.ndim == 3 and arr.shape[2] == 4:
            # Same rule as for files: transparent pixels become white.
            alpha = arr[..., 3:]
            arr = arr[..., :3] * alpha + (1.0 - alpha)
        if arr.ndim == 3 and arr.shape[2] in (1, 3):
            return _tensor_image(torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1), what)
        return _tensor_image(torch.from_numpy(arr), what)
    if isinstance(source, Image.Image):
        return pil_to_tensor(source)
    path = Path(source)
    if not path.exists():
        raise TexstyleError(f"{what} file not found: {path}")
    if not path.is_file():
        raise TexstyleError(f"{what} is not a file: {path}")
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns about some damaged files it can still read ("Truncated File Read"); the
            # CLI's contract is one line of output, so the outcome (image or error) must say it all.
            warnings.simplefilter("ignore")
            return _load_file(path, what, limit)
    except TexstyleError:
        raise
    except UnidentifiedImageError:
        raise TexstyleError(f"{what} is not an image Pillow can read: {path}") from None
    except Exception as exc:  # noqa: BLE001
        # Pillow's decoders fail on damaged files in many ways (OSError, SyntaxError, struct.error,
        # IndexError, EOFError, …); all of them mean the same thing to the user.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TexstyleError(f"{what} is truncated or corrupt: {path} ({reason})") from None


def _load_file(path: Path, what: str, limit: int | None) -> torch.Tensor:
    with _PILLOW_LIMIT_LOCK:
        before, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            img = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = before
    with img:
        w, h = img.size
        if limit is not None and w * h > limit:
            raise TexstyleError(
                f"{what} is too large to load safely: {path} declares {w}x{h} = {w * h:,} px, "
                f"over the limit of {limit:,} px (raise it with --max-pixels / max_pixels)")
        img.load()
        return pil_to_tensor(img)


def _tensor_image(t: torch.Tensor, what: str) -> torch.Tensor:
    t = t.detach().float().cpu()
    if t.dim() == 2:
        t = t[None]
    if t.dim() == 3:
        t = t[None]
    if t.dim() != 4 or t.shape[0] != 1 or t.shape[1] not in (1, 3):
        raise TexstyleError(
            f"{what} tensor must have shape (3, H, W), (1, 3, H, W) or (H, W); got {tuple(t.shape)}"
        )
    if t.shape[1] == 1:
        t = t.expand(1, 3, *t.shape[2:])
    if not torch.isfinite(t).all() or t.min() < 0 or t.max() > 1:
        raise TexstyleError(f"{what} tensor values must be finite and within [0, 1]")
    return t.contiguous()


def to_pil(image: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) in [0, 1] → 8-bit RGB PIL image (rounded, not truncated)."""
    t = image.detach().float().cpu().clamp(0, 1)
    if t.dim() == 4:
        t = t[0]
    arr = (t.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def resize(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Antialiased bicubic resize, clamped back into [0, 1]."""
    if tuple(image.shape[-2:]) == (height, width):
        return image
    out = F.interpolate(image, size=(height, width), mode="bicubic", align_corners=False,
                        antialias=True)
    return out.clamp(0, 1)


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) scaled so the longer side is ``long_side``, keeping the aspect ratio."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _atomic_write(path: Path, write: Callable[[IO[Any]], object], *, mode: str,
                  overwrite: bool) -> Path:
    """Write through a temporary file in the same folder, then rename; refuse to clobber."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise TexstyleError(f"output exists: {path} (pass --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_image(image: torch.Tensor | Image.Image, path: Path, *, overwrite: bool = False) -> Path:
    """Save as the format the extension names, atomically; never replace a file silently.

    A tensor with non-finite pixels is refused: ``to_pil`` would turn NaN into black, and a black
    image written over a good result is the failure this guard exists for.
    """
    fmt = output_format(path)
    if isinstance(image, torch.Tensor) and not torch.isfinite(image).all():
        raise TexstyleError(f"refusing to write {path}: the image has non-finite pixels")
    pil = image if isinstance(image, Image.Image) else to_pil(image)
    if fmt == "JPEG" and pil.mode not in ("RGB", "L"):
        pil = pil.convert("RGB")
    return _atomic_write(path, lambda f: pil.save(f, format=fmt), mode="wb", overwrite=overwrite)


def write_text(text: str, path: Path, *, overwrite: bool = False) -> Path:
    """Same guarantees as ``save_image``, for the small JSON run record."""
    return _atomic_write(path, lambda f: f.write(text), mode="w", overwrite=overwrite)
