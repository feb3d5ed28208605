"""checkpoint: a file round trip, the settings hash and what it leaves out, the refusal message."""

from __future__ import annotations

import pytest
import torch

from texstyle.checkpoint import (
    Checkpoint,
    check_compatible,
    load_checkpoint,
    save_checkpoint,
    settings_hash,
)
from texstyle.config import TextureSettings
from texstyle.errors import TexstyleError
from texstyle.optimize import LoopState

IMAGE = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def checkpoint(settings: dict) -> Checkpoint:
    loop = LoopState(IMAGE.clone(), "lbfgs", None, {"state": {}, "param_groups": []},
                     [{"total": 1.0}], 1.0, IMAGE.clone(), 0, 0.5)
    return Checkpoint(settings_hash(settings, [IMAGE]), settings, 2, loop, [{"total": 2.0}], 1.5,
                      torch.Generator().manual_seed(1).get_state(), torch.get_rng_state())


def test_a_saved_checkpoint_loads_back_equal(tmp_path):
    settings = TextureSettings().to_dict()
    original = checkpoint(settings)
    loaded = load_checkpoint(save_checkpoint(original, tmp_path / "run.ckpt"))
    assert loaded.settings_hash == original.settings_hash and loaded.level == 2
    assert torch.equal(loaded.loop.iterate, IMAGE) and loaded.iteration == 2


def test_the_hash_leaves_out_device_and_resource_limits_but_not_results():
    base = TextureSettings().to_dict()
    digest = settings_hash(base, [IMAGE])
    assert settings_hash(base | {"device": "cuda", "max_memory": 2.0}, [IMAGE]) == digest
    assert settings_hash(base | {"seed": 1}, [IMAGE]) != digest
    assert settings_hash(base, [IMAGE + 1e-3]) != digest


def test_resuming_other_settings_names_what_differs():
    settings = TextureSettings().to_dict()
    saved = checkpoint(settings)
    other = settings | {"seed": 7}
    with pytest.raises(TexstyleError, match=r"seed 0 → 7"):
        check_compatible(saved, settings_hash(other, [IMAGE]), other)
    check_compatible(saved, saved.settings_hash, settings)  # the same run: no complaint


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "x.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(TexstyleError, match="cannot read checkpoint"):
        load_checkpoint(path)
    with pytest.raises(TexstyleError, match="not found"):
        load_checkpoint(tmp_path / "missing.ckpt")
