"""Loading VGG-19 weight sets: named sets, local files of both layouts, and bad files."""

from __future__ import annotations

import dataclasses
import fractions
import pickle
import socket
import time
from pathlib import Path

import pytest
import torch

from texstyle import weights as weights_mod
from texstyle.errors import TexstyleError
from texstyle.layers import CONV_NAMES
from texstyle.weights import (
    EXPECTED_SHAPES,
    TORCHVISION_URL,
    WEIGHT_SETS,
    detect_layout,
    load_weights,
    normalized_weights_path,
    rename_state,
)

HUB_FILE = "vgg19-dcbb9e9d.pth"
# Positions of the 3x3 convs in the published files (as in tests/conftest.py's make_vgg_state).
NORMALIZED_INDICES = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
TORCHVISION_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
CONV_KEYS = set(EXPECTED_SHAPES)


@pytest.fixture(scope="module")
def tv_state(make_state):
    return make_state("torchvision", seed=11)


@pytest.fixture(scope="module")
def norm_state(make_state):
    return make_state("normalized", seed=12)


@pytest.fixture(scope="module")
def tv_file(tmp_path_factory, tv_state) -> Path:
    path = tmp_path_factory.mktemp("tv") / "my_vgg19.pth"
    torch.save(tv_state, path)
    return path


@pytest.fixture(scope="module")
def norm_file(tmp_path_factory, norm_state) -> Path:
    path = tmp_path_factory.mktemp("norm") / "vgg_normalised_copy.pth"
    torch.save(norm_state, path)
    return path


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty TORCH_HOME; asserts torch.hub really looks under it."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert Path(torch.hub.get_dir()) == tmp_path / "hub"
    return tmp_path


@pytest.fixture
def short_socket_timeout():
    """Bound any network attempt so a blackholed connection cannot hang the suite."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(5)
    yield
    socket.setdefaulttimeout(old)


# --- the real normalized set --------------------------------------------------------------


def test_load_normalized(real_weights):
    assert real_weights.layout == "normalized"
    assert real_weights.padding == "reflect"
    assert real_weights.ceil_mode is True
    assert set(real_weights.tensors) == CONV_KEYS | {"color.weight", "color.bias"}
    for key, shape in EXPECTED_SHAPES.items():
        assert tuple(real_weights.tensors[key].shape) == shape, key
        assert real_weights.tensors[key].dtype == torch.float32
    assert tuple(real_weights.tensors["color.weight"].shape) == (3, 3, 1, 1)
    assert tuple(real_weights.tensors["color.bias"].shape) == (3,)
    assert all(torch.isfinite(t).all() for t in real_weights.tensors.values())


def test_normalized_path_is_shipped_file():
    path = normalized_weights_path()
    assert path.is_file()
    assert path.name == "vgg_normalised.pth"


def test_real_normalized_colour_conv_maps_rgb_to_mean_subtracted_bgr(real_weights):
    # RGB in [0, 1] → BGR in [0, 255] minus the Caffe mean: pure red excites the last channel.
    red = torch.zeros(1, 3, 1, 1)
    red[:, 0] = 1.0
    black = torch.zeros(1, 3, 1, 1)
    diff = (real_weights.preprocess(red) - real_weights.preprocess(black)).flatten()
    torch.testing.assert_close(diff, torch.tensor([0.0, 0.0, 255.0]), atol=1e-3, rtol=1e-4)


# --- local files --------------------------------------------------------------------------


def test_load_torchvision_layout_file(tv_file, tv_state):
    w = load_weights(tv_file)
    assert w.layout == "torchvision"
    assert w.padding == "zeros"
    assert w.ceil_mode is False
    assert set(w.tensors) == CONV_KEYS  # classifier ignored, no colour conv
    for name, idx in zip(CONV_NAMES, TORCHVISION_INDICES):
        assert torch.equal(w.tensors[f"{name}.weight"], tv_state[f"features.{idx}.weight"])
        assert torch.equal(w.tensors[f"{name}.bias"], tv_state[f"features.{idx}.bias"])


def test_load_torchvision_layout_file_given_as_str(tv_file):
    assert load_weights(str(tv_file)).layout == "torchvision"


def test_load_normalized_layout_file(norm_file, norm_state):
    w = load_weights(norm_file)
    assert w.layout == "normalized"
    assert w.padding == "reflect"
    assert w.ceil_mode is True
    assert torch.equal(w.tensors["color.weight"], norm_state["0.weight"])
    assert torch.equal(w.tensors["color.bias"], norm_state["0.bias"])
    for name, idx in zip(CONV_NAMES, NORMALIZED_INDICES):
        assert torch.equal(w.tensors[f"{name}.weight"], norm_state[f"{idx}.weight"])


def test_load_file_wrapped_in_state_dict_key(tmp_path, norm_state):
    path = tmp_path / "wrapped.pth"
    torch.save({"state_dict": norm_state, "epoch": torch.tensor(3)}, path)
    assert load_weights(path).layout == "normalized"


def test_torchvision_layout_without_prefix_or_classifier(make_state):
    state = make_state("torchvision", seed=13, prefix=False, classifier=False)
    assert detect_layout(state) == "torchvision"
    w = rename_state(state, "torchvision", "bare")
    assert torch.equal(w.tensors["conv5_4.weight"], state["34.weight"])


def test_half_precision_file_is_loaded_as_float32(tmp_path, make_state):
    state = {k: v.half() for k, v in make_state("torchvision", seed=14, classifier=False).items()}
    path = tmp_path / "half.pth"
    torch.save(state, path)
    w = load_weights(path)
    assert all(t.dtype == torch.float32 for t in w.tensors.values())


def test_detect_layout(norm_state, tv_state):
    assert detect_layout(norm_state) == "normalized"
    assert detect_layout(tv_state) == "torchvision"
    with pytest.raises(TexstyleError, match="neither layout"):
        detect_layout({"conv.weight": torch.zeros(1)})


# --- torchvision named set: hub cache, no network -----------------------------------------


def test_torchvision_named_set_uses_hub_cache_without_download(torch_home, tv_file, tv_state, monkeypatch):
    target = torch_home / "hub" / "checkpoints" / HUB_FILE
    target.parent.mkdir(parents=True)
    target.symlink_to(tv_file)
    calls = []
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: calls.append(a))
    assert weights_mod.torchvision_weights_path() == target
    w = load_weights("torchvision")
    assert calls == []
    assert w.layout == "torchvision" and w.padding == "zeros"
    assert torch.equal(w.tensors["conv3_2.weight"], tv_state["features.12.weight"])


def test_torchvision_named_set_downloads_url_with_hash_prefix(torch_home, monkeypatch):
    calls = []

    def fake_download(url, dst, hash_prefix=None, **kwargs):
        calls.append((url, dst, hash_prefix))
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    with pytest.raises(TexstyleError) as info:
        load_weights("torchvision")
    target = torch_home / "hub" / "checkpoints" / HUB_FILE
    assert calls == [(TORCHVISION_URL, str(target), "dcbb9e9d")]
    msg = str(info.value)
    assert TORCHVISION_URL in msg
    assert "--weights normalized" in msg
    assert str(target) in msg
    assert "network is unreachable" in msg


def test_torchvision_named_set_failed_download_raises(torch_home, monkeypatch, short_socket_timeout):
    # A real download attempt, against a local port where nothing listens: no network needed,
    # and it must fail fast with a TexstyleError and leave no (partial) file in the cache.
    url = "http://127.0.0.1:9/" + HUB_FILE
    monkeypatch.setitem(WEIGHT_SETS, "torchvision", dataclasses.replace(WEIGHT_SETS["torchvision"], source=url))
    start = time.monotonic()
    with pytest.raises(TexstyleError) as info:
        load_weights("torchvision")
    assert time.monotonic() - start < 10
    assert url in str(info.value)
    assert "--weights normalized" in str(info.value)
    checkpoints = torch_home / "hub" / "checkpoints"
    assert not (checkpoints / HUB_FILE).exists()
    assert list(checkpoints.iterdir()) == []


# --- bad state dicts ----------------------------------------------------------------------


def test_missing_key_is_named(tv_state):
    state = dict(tv_state)
    del state["features.21.bias"]
    with pytest.raises(TexstyleError) as info:
        rename_state(state, "torchvision", "somewhere.pth")
    msg = str(info.value)
    assert "features.21.bias" in msg
    assert "somewhere.pth" in msg
    assert "features.21.weight" not in msg


def test_missing_colour_conv_is_named(norm_state):
    state = {k: v for k, v in norm_state.items() if k != "0.bias"}
    with pytest.raises(TexstyleError, match=r"0\.bias"):
        rename_state(state, "normalized", "x")


def test_missing_key_in_file_names_key_and_path(tmp_path, make_state):
    state = make_state("normalized", seed=15)
    del state["51.weight"]
    path = tmp_path / "short.pth"
    torch.save(state, path)
    with pytest.raises(TexstyleError) as info:
        load_weights(path)
    assert "51.weight" in str(info.value)
    assert str(path) in str(info.value)


def test_unexpected_keys_are_named(norm_state):
    state = dict(norm_state)
    state["54.weight"] = torch.zeros(1)
    state["extra.running_mean"] = torch.zeros(1)
    with pytest.raises(TexstyleError) as info:
        rename_state(state, "normalized", "x")
    msg = str(info.value)
    assert "unexpected" in msg
    assert "54.weight" in msg and "extra.running_mean" in msg


def test_classifier_keys_are_not_unexpected(tv_state):
    assert any(k.startswith("classifier.") for k in tv_state)
    w = rename_state(tv_state, "torchvision", "x")
    assert not any("classifier" in k for k in w.tensors)


def test_wrong_shape_is_named(tv_state):
    state = dict(tv_state)
    state["features.28.weight"] = torch.zeros(512, 256, 3, 3)  # conv5_1 expects (512, 512, 3, 3)
    with pytest.raises(TexstyleError) as info:
        rename_state(state, "torchvision", "x")
    msg = str(info.value)
    assert "conv5_1.weight" in msg
    assert "(512, 256, 3, 3)" in msg and "(512, 512, 3, 3)" in msg


def test_non_tensor_pickle_is_rejected(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(TexstyleError, match="state dict"):
        load_weights(path)


def test_dict_of_non_tensors_is_rejected(tmp_path):
    path = tmp_path / "numbers.pth"
    torch.save({"0.weight": 1.5}, path)
    with pytest.raises(TexstyleError, match="state dict"):
        load_weights(path)


def test_plain_pickle_of_object_is_rejected(tmp_path):
    path = tmp_path / "object.pth"
    path.write_bytes(pickle.dumps({"0.weight": fractions.Fraction(1, 3)}, protocol=2))
    with pytest.raises(TexstyleError, match="cannot read weights file"):
        load_weights(path)


def test_garbage_bytes_are_rejected(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"\x00\x01not a torch file at all" * 10)
    with pytest.raises(TexstyleError) as info:
        load_weights(path)
    assert str(path) in str(info.value)


def test_truncated_file_is_rejected(tmp_path, norm_file):
    path = tmp_path / "cut.pth"
    path.write_bytes(norm_file.read_bytes()[: 1 << 16])
    with pytest.raises(TexstyleError):
        load_weights(path)


def test_empty_state_dict_is_rejected(tmp_path):
    path = tmp_path / "empty.pth"
    torch.save({}, path)
    with pytest.raises(TexstyleError):
        load_weights(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.pth"
    with pytest.raises(TexstyleError, match="not found") as info:
        load_weights(path)
    assert str(path) in str(info.value)


def test_directory_is_not_a_weights_file(tmp_path):
    with pytest.raises(TexstyleError):
        load_weights(tmp_path)


def test_unknown_name_is_treated_as_missing_path():
    with pytest.raises(TexstyleError, match="not found"):
        load_weights("imagenet-vgg-19-that-does-not-exist")
