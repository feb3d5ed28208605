"""VGG-19 layer names and geometry, shared by the extractor, the weight loader and validation.

Layers are addressed by their standard names (``conv1_1`` … ``relu5_4``, ``pool1`` … ``pool5``),
mapped to positions once here so nobody else counts indices.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import TexstyleError

POOLINGS = ("avg", "max")  # inside the network: avg for synthesis (Gatys et al.), max as trained
# Number of 3x3 convolutions in each of VGG-19's five blocks.
BLOCK_DEPTHS = (2, 2, 4, 4, 4)


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for block, depth in enumerate(BLOCK_DEPTHS, start=1):
        for i in range(1, depth + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))


def layer_index(name: str) -> int:
    """Position of a layer in ``LAYER_NAMES``; raises ``ValueError`` for unknown names."""
    return LAYER_NAMES.index(name)


def pools_before(name: str) -> int:
    """How many 2x poolings an input goes through before reaching ``name`` (pool_k counts)."""
    return sum(1 for n in LAYER_NAMES[: layer_index(name) + 1] if n.startswith("pool"))


def min_input_size(layers: list[str] | tuple[str, ...]) -> int:
    """Smallest image side (px) for which every requested layer has at least 2x2 positions.

    One position would make a style statistic of a single sample and break reflection padding,
    so we ask for two along each axis at the deepest layer.
    """
    deepest = max((pools_before(n) for n in layers), default=0)
    return int(2 ** (deepest + 1))


def check_layers(layers: Sequence[str]) -> None:
    """Reject unknown layer names, listing the valid ones."""
    unknown = [n for n in layers if n not in LAYER_NAMES]
    if unknown:
        raise TexstyleError(
            f"unknown layer name(s) {', '.join(unknown)}; valid names: {', '.join(LAYER_NAMES)}"
        )
