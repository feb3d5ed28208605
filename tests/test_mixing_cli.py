"""Style statistics (``loss``) and style mixing (several styles, ``style_blend``) end to end.

In-process through the API on the real VGG-19 weights (small sizes, few iterations), plus a few
``python -m texstyle`` subprocesses for what only the command line does: parsing --loss,
repeated --style, --style-blend, and one-line usage errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

import texstyle
from cli_helpers import assert_usage_error, run_cli, run_main
from texstyle import TexstyleError
from texstyle.stats import STATISTICS

NAMES = list(STATISTICS)
pytestmark = pytest.mark.usefixtures("one_thread")


# ---- helpers (the conventions of test_cli.py) ----------------------------------------------


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        img.load()
        return img.size


def record(cwd: Path, name: str) -> dict:
    return json.loads((cwd / name).with_suffix(".json").read_text())


def finite_history(history: list[dict[str, float]]) -> bool:
    return all(math.isfinite(h["style"]) and math.isfinite(h["total"]) for h in history)


# ---- every statistic, through the API, on the real weights ----------------------------------

# Measured on sample:brick at 48 px, 20 iterations, seeds 0-7 (first / last style loss):
# gram 6.4-23x, mean 11.7-28.6x, meancov 6.6-26.8x, w2 7.9-17.1x, swd 9.7-17.5x.
# 3x leaves a wide margin for other BLAS builds and torch versions.
CONVERGENCE = dict(size=48, iters=20, seed=0)
MIN_FACTOR = 3.0


@pytest.fixture(scope="module")
def loss_runs() -> dict[str, texstyle.RunResult]:
    """One texture per statistic; computed lazily so a single test id runs only what it needs."""
    return {}


def _loss_run(loss_runs: dict, name: str) -> texstyle.RunResult:
    if name not in loss_runs:
        loss_runs[name] = texstyle.run_texture("sample:brick", loss=name, **CONVERGENCE)
    return loss_runs[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_statistic_lowers_its_own_style_loss(loss_runs, name):
    result = _loss_run(loss_runs, name)
    history = result.history
    assert result.settings["loss"] == name
    assert len(history) == CONVERGENCE["iters"]  # one pyramid level at 48 px, no early stop
    assert finite_history(history)
    first, last = history[0]["style"], history[-1]["style"]
    assert first > 0 and last > 0
    assert last * MIN_FACTOR <= first, f"{name}: style loss went from {first:.4g} to {last:.4g}"
    assert result.image.shape == (1, 3, 48, 48)
    assert float(result.image.min()) >= 0.0 and float(result.image.max()) <= 1.0


@pytest.mark.slow
def test_statistics_measure_different_things(loss_runs):
    # Same image at the first evaluation (same seed, same start), five different losses: the
    # setting really selects the statistic.
    firsts = {name: _loss_run(loss_runs, name).history[0]["style"] for name in NAMES}
    assert len({round(v, 6) for v in firsts.values()}) == len(NAMES), firsts
    images = [_loss_run(loss_runs, name).image for name in NAMES]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert not torch.equal(images[i], images[j]), (NAMES[i], NAMES[j])


def test_unknown_loss_raises_texstyle_error():
    with pytest.raises(TexstyleError, match="loss"):
        texstyle.run_texture("sample:brick", size=40, iters=1, loss="fancy")


# ---- determinism of the random projections ---------------------------------------------------


def test_swd_same_seed_same_texture_other_seed_other_texture():
    a = texstyle.run_texture("sample:brick", size=32, iters=4, seed=3, loss="swd")
    b = texstyle.run_texture("sample:brick", size=32, iters=4, seed=3, loss="swd")
    c = texstyle.run_texture("sample:brick", size=32, iters=4, seed=4, loss="swd")
    assert torch.equal(a.image, b.image)
    assert a.history == b.history
    assert not torch.equal(a.image, c.image)


# ---- mixing styles through the API -----------------------------------------------------------

MIX = dict(size=40, iters=3, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gram", "swd"])  # averaged representations; a mixture
def test_blend_one_zero_is_the_first_style_alone(name):
    styles = ["sample:brick", "sample:grass"]
    alone = texstyle.run_texture("sample:brick", loss=name, **MIX)
    blended = texstyle.run_texture(styles, style_blend=(1.0, 0.0), loss=name, **MIX)
    if name == "gram":  # 1·G₁ + 0·G₂ is G₁ to the last bit
        assert torch.equal(alone.image, blended.image)
        assert alone.history == blended.history
    else:  # zero-weight points are never a quantile; projections of a longer cloud may round
        assert float((alone.image - blended.image).abs().max()) <= 1e-5
        assert [h["style"] for h in blended.history] == pytest.approx(
            [h["style"] for h in alone.history], rel=1e-5)
        even = texstyle.run_texture(styles, style_blend=(0.5, 0.5), loss=name, **MIX)
        assert float((alone.image - even.image).abs().max()) > 1e-3


@pytest.mark.slow
def test_blend_weights_change_the_texture():
    styles = ["sample:brick", "sample:mosaic"]
    a = texstyle.run_texture(styles, style_blend=(0.7, 0.3), **MIX)
    b = texstyle.run_texture(styles, style_blend=(0.3, 0.7), **MIX)
    scaled = texstyle.run_texture(styles, style_blend=[7, 3], **MIX)  # normalised: same as 0.7/0.3
    assert a.settings["style_blend"] == (0.7, 0.3)
    assert finite_history(a.history) and finite_history(b.history)
    assert not torch.equal(a.image, b.image)
    assert float((scaled.image - a.image).abs().max()) <= 1e-5


@pytest.mark.parametrize("name", ["meancov", "swd"])
def test_blend_of_styles_with_other_shapes(name):
    # cat is 451x300 and mosaic square: the two clouds have different numbers of positions.
    result = texstyle.run_texture(["sample:cat", "sample:mosaic"], style_blend=(0.7, 0.3),
                                  loss=name, **(MIX | {"size": 56}))
    assert result.image.shape == (1, 3, 37, 56)  # the first style's aspect ratio
    assert finite_history(result.history) and len(result.history) == MIX["iters"]


def test_stylize_with_two_styles_and_a_blend():
    result = texstyle.run_stylize("sample:cat", ["sample:mosaic", "sample:brick"],
                                  style_blend=(0.7, 0.3), loss="mean", **(MIX | {"size": 56}))
    assert result.image.shape == (1, 3, 37, 56)  # the content's aspect ratio
    assert result.settings["mode"] == "stylize" and result.settings["style_blend"] == (0.7, 0.3)
    assert finite_history(result.history)
    assert all("content" in h for h in result.history)


@pytest.mark.parametrize(
    "styles, blend",
    [
        (["sample:brick", "sample:grass"], (1.0,)),
        (["sample:brick", "sample:grass"], (0.5, 0.3, 0.2)),
        ("sample:brick", (0.5, 0.5)),
    ],
)
def test_style_blend_of_wrong_length_raises(styles, blend):
    with pytest.raises(TexstyleError, match="blend"):
        texstyle.run_texture(styles, size=40, iters=1, style_blend=blend)


def test_style_blend_of_wrong_length_raises_for_stylize():
    with pytest.raises(TexstyleError, match="blend"):
        texstyle.stylize("sample:cat", ["sample:mosaic", "sample:brick"], size=40, iters=1,
                         style_blend=(1.0, 2.0, 3.0))


@pytest.mark.parametrize("blend", [(-0.5, 1.5), (0.0, 0.0), (), (float("nan"), 1.0)])
def test_bad_style_blend_values_raise(blend):
    with pytest.raises(TexstyleError, match="blend"):
        texstyle.run_texture(["sample:brick", "sample:grass"], size=40, iters=1, style_blend=blend)


# ---- the command line -----------------------------------------------------------------------


@pytest.mark.slow
def test_cli_texture_with_loss_swd(tmp_path):
    proc = run_cli("texture", "sample:brick", "-o", "swd.png", "--size", "40", "--iters", "2",
                   "--loss", "swd", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert image_size(tmp_path / "swd.png") == (40, 40)
    rec = record(tmp_path, "swd.png")
    assert rec["settings"]["loss"] == "swd"
    assert len(rec["history"]) == 2 and finite_history(rec["history"])


@pytest.mark.slow
def test_cli_texture_mixes_positional_exemplar_and_style(tmp_path):
    proc = run_cli("texture", "sample:brick", "--style", "sample:grass", "--style-blend", "0.7,0.3",
                   "-o", "mix.png", "--size", "40", "--iters", "2", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert image_size(tmp_path / "mix.png") == (40, 40)
    rec = record(tmp_path, "mix.png")
    assert rec["settings"]["style_blend"] == [0.7, 0.3]
    assert rec["settings"]["inputs"]["styles"] == ["sample:brick", "sample:grass"]
    assert finite_history(rec["history"])


@pytest.mark.slow
def test_cli_stylize_mixes_two_styles(tmp_path):
    proc = run_cli("stylize", "sample:cat", "--style", "sample:mosaic", "--style", "sample:brick",
                   "--style-blend", "0.7,0.3", "-o", "s.png", "--size", "56", "--iters", "2",
                   "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert image_size(tmp_path / "s.png") == (56, 37)  # the content's aspect ratio
    rec = record(tmp_path, "s.png")
    assert rec["settings"]["mode"] == "stylize"
    assert rec["settings"]["style_blend"] == [0.7, 0.3]
    assert rec["settings"]["inputs"]["styles"] == ["sample:mosaic", "sample:brick"]
    assert rec["settings"]["inputs"]["content"] == "sample:cat"


TWO_STYLES = ("texture", "sample:brick", "--style", "sample:grass", "-o", "o.png", "--size", "40",
              "--iters", "2", "--quiet")


@pytest.mark.parametrize(
    "extra, patterns",
    [
        (("--style-blend=-0.5,1.5",), ("blend", r"-0\.5")),
        (("--style-blend", "1,2,3"), ("blend", "3", "2")),
        (("--style-blend", "0,0"), ("blend", "zero")),
        (("--loss", "fancy"), ("--loss", "fancy")),
    ],
    ids=["negative-weight", "wrong-count", "all-zero", "unknown-loss"],
)
def test_cli_bad_blend_or_loss_is_a_one_line_usage_error(tmp_path, extra, patterns):
    proc = run_main(*TWO_STYLES, *extra, cwd=tmp_path)
    assert_usage_error(proc, *patterns)
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.json").exists()
