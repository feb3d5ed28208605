"""The VGG-19 feature extractor, with random weights (fast) and the real file (32 px only)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from texstyle.errors import TexstyleError
from texstyle.features import VGGFeatures, check_layers
from texstyle.layers import LAYER_NAMES, layer_index, min_input_size, pools_before
from texstyle.weights import IMAGENET_MEAN, IMAGENET_STD, rename_state

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def _image(h: int, w: int | None = None, seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 3, h, w or h, generator=torch.Generator().manual_seed(seed))


def _expected_geometry(name: str, side: int) -> tuple[int, int]:
    """(channels, spatial side) of a layer for a square input of ``side`` (a power of two)."""
    block = int(name[4])  # "conv3_1", "relu3_1" and "pool3" all belong to block 3
    channels = min(64 * 2 ** (block - 1), 512)
    return channels, side // 2 ** pools_before(name)


@pytest.fixture(scope="module")
def all_layer_features(random_weights):
    ext = VGGFeatures(random_weights, LAYER_NAMES)
    with torch.no_grad():
        return ext(_image(64))


def test_all_layers_have_expected_geometry_at_64px(all_layer_features):
    feats = all_layer_features
    assert list(feats) == list(LAYER_NAMES)
    for name in LAYER_NAMES:
        c, s = _expected_geometry(name, 64)
        assert feats[name].shape == (1, c, s, s), name


@pytest.mark.parametrize(
    "name, shape",
    [
        ("relu1_1", (1, 64, 64, 64)),
        ("relu2_1", (1, 128, 32, 32)),
        ("relu3_1", (1, 256, 16, 16)),
        ("relu4_1", (1, 512, 8, 8)),
        ("relu5_1", (1, 512, 4, 4)),
        ("pool5", (1, 512, 2, 2)),
    ],
)
def test_style_layer_shapes_at_64px(all_layer_features, name, shape):
    assert all_layer_features[name].shape == shape


def test_relu_outputs_are_nonnegative_and_finite(all_layer_features):
    for name, f in all_layer_features.items():
        assert torch.isfinite(f).all(), name
        if name.startswith("relu"):
            assert (f >= 0).all(), name
            assert (f > 0).any(), name  # random weights must not kill every unit


def test_returns_exactly_the_requested_layers(random_weights):
    ext = VGGFeatures(random_weights, ["relu2_1", "conv1_1", "relu2_1"])
    with torch.no_grad():
        out = ext(_image(8))
    assert set(out) == {"relu2_1", "conv1_1"}
    assert ext.layers == ("relu2_1", "conv1_1")


def test_batch_dimension_is_kept(random_weights):
    ext = VGGFeatures(random_weights, ["relu2_1"])
    x = torch.cat([_image(8, seed=1), _image(8, seed=2)])
    with torch.no_grad():
        both = ext(x)["relu2_1"]
        first = ext(x[:1])["relu2_1"]
    assert both.shape == (2, 128, 4, 4)
    torch.testing.assert_close(both[:1], first, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "layers, deepest",
    [
        (["conv1_1"], "conv1_1"),
        (["relu2_1", "conv1_1"], "relu2_1"),
        (["relu1_1", "relu3_1"], "relu3_1"),
        (["pool4"], "pool4"),
    ],
)
def test_truncated_after_deepest_requested_layer(random_weights, layers, deepest):
    ext = VGGFeatures(random_weights, layers)
    n = layer_index(deepest) + 1
    assert len(ext.body) == n
    assert ext.names == LAYER_NAMES[:n]
    convs = [m for m in ext.body if isinstance(m, nn.Conv2d)]
    assert len(convs) == sum(1 for name in LAYER_NAMES[:n] if name.startswith("conv"))
    # Only the convolutions it needs are copied: nothing past the deepest layer.
    n_params = sum(p.numel() for p in ext.parameters())
    expected = sum(
        random_weights.tensors[f"{name}.{part}"].numel()
        for name in LAYER_NAMES[:n]
        if name.startswith("conv")
        for part in ("weight", "bias")
    )
    assert n_params == expected


def test_conv_weights_are_copies_of_the_weight_set(random_weights):
    ext = VGGFeatures(random_weights, ["relu2_2"])
    convs = [m for m in ext.body if isinstance(m, nn.Conv2d)]
    for conv, name in zip(convs, ["conv1_1", "conv1_2", "conv2_1", "conv2_2"]):
        torch.testing.assert_close(conv.weight, random_weights.tensors[f"{name}.weight"])
        torch.testing.assert_close(conv.bias, random_weights.tensors[f"{name}.bias"])
        assert conv.weight.data_ptr() != random_weights.tensors[f"{name}.weight"].data_ptr()


def test_parameters_are_frozen(random_weights):
    ext = VGGFeatures(random_weights, ["relu3_1"])
    params = list(ext.parameters())
    assert params
    assert all(not p.requires_grad for p in params)


def test_stays_in_eval_mode_after_train(random_weights):
    ext = VGGFeatures(random_weights, ["relu2_1"])
    assert not ext.training
    returned = ext.train()
    assert returned is ext
    assert not ext.training
    assert all(not m.training for m in ext.modules())
    ext.train(True)
    assert not any(m.training for m in ext.modules())
    assert all(not p.requires_grad for p in ext.parameters())


def test_unknown_layer_names_raise_with_valid_names(random_weights):
    with pytest.raises(TexstyleError) as info:
        VGGFeatures(random_weights, ["relu1_1", "relu9_9", "fc7"])
    msg = str(info.value)
    assert "relu9_9" in msg and "fc7" in msg
    for name in ("conv1_1", "relu4_2", "pool5"):
        assert name in msg
    assert "relu1_1, relu9_9" not in msg  # only the unknown ones are quoted as unknown


def test_check_layers_accepts_every_valid_name():
    check_layers(LAYER_NAMES)  # must not raise
    with pytest.raises(TexstyleError, match="RELU1_1"):
        check_layers(["RELU1_1"])


def test_unknown_pooling_raises(random_weights):
    with pytest.raises(TexstyleError, match="median"):
        VGGFeatures(random_weights, ["relu1_1"], pooling="median")


def test_max_and_avg_pooling_differ(random_weights):
    x = _image(16, seed=3)
    avg = VGGFeatures(random_weights, ["pool1", "relu2_1"], pooling="avg")
    mx = VGGFeatures(random_weights, ["pool1", "relu2_1"], pooling="max")
    assert any(isinstance(m, nn.AvgPool2d) for m in avg.body)
    assert any(isinstance(m, nn.MaxPool2d) for m in mx.body)
    with torch.no_grad():
        a, m = avg(x), mx(x)
    assert a["pool1"].shape == m["pool1"].shape
    assert not torch.allclose(a["pool1"], m["pool1"])
    # Max of a window is never below its mean.
    assert (m["pool1"] >= a["pool1"] - 1e-5).all()


def test_pooling_matches_manual_windows(random_weights):
    x = _image(8, seed=4)
    ext_a = VGGFeatures(random_weights, ["relu1_2", "pool1"], pooling="avg")
    ext_m = VGGFeatures(random_weights, ["relu1_2", "pool1"], pooling="max")
    with torch.no_grad():
        a, m = ext_a(x), ext_m(x)
    torch.testing.assert_close(a["pool1"], F.avg_pool2d(a["relu1_2"], 2))
    torch.testing.assert_close(m["pool1"], F.max_pool2d(m["relu1_2"], 2))


def test_gradient_flows_to_input(random_weights):
    x = _image(16, seed=5).requires_grad_()
    ext = VGGFeatures(random_weights, ["relu1_1", "relu3_1"])
    out = ext(x)
    (out["relu1_1"].mean() + out["relu3_1"].mean()).backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is None for p in ext.parameters())


def test_forward_rejects_wrong_shapes(random_weights):
    ext = VGGFeatures(random_weights, ["relu1_1"])
    with pytest.raises(ValueError):
        ext(torch.rand(3, 8, 8))
    with pytest.raises(ValueError):
        ext(torch.rand(1, 4, 8, 8))


def test_normalized_layout_uses_colour_conv_and_reflect_padding(random_weights):
    x = _image(6, 7, seed=6)
    ext = VGGFeatures(random_weights, ["conv1_1"])
    t = random_weights.tensors
    pre = F.conv2d(x, t["color.weight"], t["color.bias"])
    torch.testing.assert_close(pre, random_weights.preprocess(x))
    expected = F.conv2d(F.pad(pre, (1, 1, 1, 1), mode="reflect"), t["conv1_1.weight"], t["conv1_1.bias"])
    with torch.no_grad():
        torch.testing.assert_close(ext(x)["conv1_1"], expected, rtol=1e-5, atol=1e-5)


def test_torchvision_layout_uses_mean_std_and_zero_padding(random_tv_weights):
    x = _image(6, 7, seed=7)
    ext = VGGFeatures(random_tv_weights, ["conv1_1"])
    t = random_tv_weights.tensors
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
    std = torch.tensor(IMAGENET_STD)[:, None, None]
    pre = (x - mean) / std
    torch.testing.assert_close(random_tv_weights.preprocess(x), pre)
    expected = F.conv2d(pre, t["conv1_1.weight"], t["conv1_1.bias"], padding=1)
    with torch.no_grad():
        torch.testing.assert_close(ext(x)["conv1_1"], expected, rtol=1e-5, atol=1e-5)


def test_torchvision_preprocess_maps_mean_to_zero(random_tv_weights):
    x = torch.tensor(IMAGENET_MEAN)[None, :, None, None].expand(1, 3, 2, 2)
    torch.testing.assert_close(random_tv_weights.preprocess(x), torch.zeros(1, 3, 2, 2))


def test_pooling_rounds_up_for_normalized_and_down_for_torchvision(random_weights, random_tv_weights):
    # Caffe (normalized weights) rounds pooled sizes up, torchvision down.
    x = _image(9, seed=8)
    with torch.no_grad():
        up = VGGFeatures(random_weights, ["pool1"])(x)["pool1"]
        down = VGGFeatures(random_tv_weights, ["pool1"])(x)["pool1"]
    assert up.shape[-2:] == (5, 5)
    assert down.shape[-2:] == (4, 4)


def test_min_input_size_is_the_smallest_side_with_2x2_positions(random_tv_weights):
    # With floor pooling (torchvision), min_input_size is exact: at that side every layer has
    # at least 2x2 positions, one pixel less leaves the deepest layer with a single row.
    for pools in range(6):
        names = [n for n in LAYER_NAMES if pools_before(n) == pools]
        side = min_input_size(names)
        assert side == 2 ** (pools + 1)
        ext = VGGFeatures(random_tv_weights, names)
        with torch.no_grad():
            ok = ext(_image(side))
            assert all(min(f.shape[-2:]) >= 2 for f in ok.values())
            if side > 2:
                small = ext(_image(side - 1))
                assert all(min(f.shape[-2:]) == 1 for f in small.values())


# --- real weights, 32 px ------------------------------------------------------------------


def test_real_normalized_features_are_finite(real_weights):
    ext = VGGFeatures(real_weights, STYLE_LAYERS)
    x = _image(32, seed=9)
    with torch.no_grad():
        feats = ext(x)
    assert list(feats) == STYLE_LAYERS
    for name, f in feats.items():
        c, s = _expected_geometry(name, 32)
        assert f.shape == (1, c, s, s)
        assert torch.isfinite(f).all(), name
        assert (f >= 0).all() and f.abs().sum() > 0, name
        # The normalized network keeps mean activations O(1); reject blow-ups by orders of magnitude.
        assert f.mean().item() < 100, name


def test_real_weights_in_torchvision_layout_run(real_weights):
    # The same trained filters re-keyed as a torchvision file: zero padding, floor pooling.
    tv_indices = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
    conv_names = [n for n in LAYER_NAMES if n.startswith("conv")]
    state = {}
    for name, idx in zip(conv_names, tv_indices):
        state[f"features.{idx}.weight"] = real_weights.tensors[f"{name}.weight"]
        state[f"features.{idx}.bias"] = real_weights.tensors[f"{name}.bias"]
    tv = rename_state(state, "torchvision", "re-keyed")
    assert tv.padding == "zeros" and not tv.ceil_mode
    x = _image(32, seed=10)
    with torch.no_grad():
        a = VGGFeatures(real_weights, STYLE_LAYERS)(x)
        b = VGGFeatures(tv, STYLE_LAYERS)(x)
    for name in STYLE_LAYERS:
        assert a[name].shape == b[name].shape
        assert torch.isfinite(b[name]).all()
        assert b[name].abs().sum() > 0
    # Different preprocessing and padding must give different activations.
    assert not torch.allclose(a["relu1_1"], b["relu1_1"])


def test_real_features_gradient_reaches_input(real_weights):
    x = _image(32, seed=11).requires_grad_()
    out = VGGFeatures(real_weights, ["relu5_1"])(x)
    out["relu5_1"].pow(2).mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_channels_last_layout_gives_the_same_features_and_gradients(random_weights):
    layers = ["relu1_1", "relu3_1", "relu5_1"]
    plain = VGGFeatures(random_weights, layers)
    nhwc = VGGFeatures(random_weights, layers, channels_last=True)
    x = torch.rand(1, 3, 40, 48, requires_grad=True)
    y = x.detach().clone().requires_grad_(True)
    a, b = plain(x), nhwc(y)
    for name in layers:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    sum(f.square().mean() for f in a.values()).backward()
    sum(f.square().mean() for f in b.values()).backward()
    torch.testing.assert_close(x.grad, y.grad, rtol=1e-4, atol=1e-6)
