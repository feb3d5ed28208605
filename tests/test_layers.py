"""VGG-19 layer names and geometry."""

from __future__ import annotations

import pytest

from texstyle.layers import (
    BLOCK_DEPTHS,
    CONV_NAMES,
    LAYER_NAMES,
    layer_index,
    min_input_size,
    pools_before,
)

EXPECTED_NAMES = (
    "conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
    "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2",
    "conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3", "conv3_4", "relu3_4", "pool3",
    "conv4_1", "relu4_1", "conv4_2", "relu4_2", "conv4_3", "relu4_3", "conv4_4", "relu4_4", "pool4",
    "conv5_1", "relu5_1", "conv5_2", "relu5_2", "conv5_3", "relu5_3", "conv5_4", "relu5_4", "pool5",
)


def test_layer_names_are_vgg19_in_order():
    assert len(LAYER_NAMES) == 37
    assert LAYER_NAMES == EXPECTED_NAMES
    assert LAYER_NAMES[0] == "conv1_1"
    assert LAYER_NAMES[-1] == "pool5"
    assert len(set(LAYER_NAMES)) == 37


def test_conv_names_are_the_sixteen_convolutions():
    assert BLOCK_DEPTHS == (2, 2, 4, 4, 4)
    assert len(CONV_NAMES) == 16
    assert CONV_NAMES == tuple(n for n in EXPECTED_NAMES if n.startswith("conv"))


def test_every_conv_is_followed_by_its_relu():
    for conv in CONV_NAMES:
        assert LAYER_NAMES[layer_index(conv) + 1] == conv.replace("conv", "relu")


def test_layer_index():
    assert layer_index("conv1_1") == 0
    assert layer_index("pool1") == 4
    assert layer_index("relu4_2") == 22
    assert layer_index("pool5") == 36
    assert [layer_index(n) for n in LAYER_NAMES] == list(range(37))


@pytest.mark.parametrize(
    "name, pools",
    [
        ("conv1_1", 0),
        ("relu1_2", 0),
        ("pool1", 1),
        ("conv2_1", 1),
        ("relu3_1", 2),
        ("pool3", 3),
        ("relu4_2", 3),
        ("relu5_1", 4),
        ("relu5_4", 4),
        ("pool5", 5),
    ],
)
def test_pools_before(name, pools):
    assert pools_before(name) == pools


@pytest.mark.parametrize(
    "layers, size",
    [
        ([], 2),
        (["conv1_1"], 2),
        (["relu1_1"], 2),
        (["pool1"], 4),
        (["relu2_1"], 4),
        (["relu3_1"], 8),
        (["relu4_1"], 16),
        (["relu5_1"], 32),
        (["pool5"], 64),
        (["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"], 32),
        (("relu5_1", "relu1_1"), 32),  # order does not matter, tuples work
        (["relu4_2", "pool2"], 16),
    ],
)
def test_min_input_size(layers, size):
    assert min_input_size(layers) == size
