"""texstyle.studies.moments (the adversarial experiment's yardstick) and the experiment's small pieces.

The gaps are checked in closed form on made-up feature tensors: a copy has gap 0, a copy scaled
by a has mean gap |a − 1| and covariance gap |a² − 1|, a copy shifted by a constant vector c has
mean gap ‖c‖ / ‖μ‖ and covariance gap 0.  The network path runs on random weights at 32 px.
"""

from __future__ import annotations

import math

import pytest
import torch

import texstyle
from texstyle.features import VGGFeatures
from texstyle.image import to_pil
from texstyle.studies.experiment import (
    METHODS,
    NOISE,
    Experiment,
    ExperimentCell,
    markdown_table,
    method_options,
    run_cell,
    run_experiment,
)
from texstyle.studies.moments import MomentGaps, feature_moment_gaps, relative_moment_gaps

LAYERS = ("relu1_1", "relu2_1")


def features(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # Positive offset so that the means are far from zero, as ReLU features are.
    return {"a": torch.rand(1, 4, 6, 5, generator=g) + 1.0,
            "b": torch.randn(1, 3, 4, 4, generator=g) * 2.0 + 0.5}


def test_identical_features_have_zero_gaps():
    f = features()
    gaps = relative_moment_gaps(f, {k: v.clone() for k, v in f.items()})
    assert list(gaps.per_layer) == ["a", "b"]
    for mean_gap, cov_gap in gaps.per_layer.values():
        assert mean_gap == pytest.approx(0, abs=1e-12) and cov_gap == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("scale", [0.5, 1.5, 3.0])
def test_scaled_copy_has_mean_gap_a_minus_1_and_cov_gap_a_squared_minus_1(scale):
    f = features(1)
    gaps = relative_moment_gaps({k: scale * v for k, v in f.items()}, f)
    for mean_gap, cov_gap in gaps.per_layer.values():
        assert mean_gap == pytest.approx(abs(scale - 1), rel=1e-6)
        assert cov_gap == pytest.approx(abs(scale ** 2 - 1), rel=1e-6)
    assert gaps.mean_gap == pytest.approx(abs(scale - 1), rel=1e-6)
    assert gaps.cov_gap == pytest.approx(abs(scale ** 2 - 1), rel=1e-6)


def test_shifted_copy_moves_only_the_mean():
    f = features(2)
    shift = {k: torch.linspace(-1, 2, v.shape[1]).reshape(1, -1, 1, 1) for k, v in f.items()}
    gaps = relative_moment_gaps({k: v + shift[k] for k, v in f.items()}, f)
    for name, (mean_gap, cov_gap) in gaps.per_layer.items():
        mu = f[name].double().mean(dim=(2, 3))
        assert mean_gap == pytest.approx(float(shift[name].norm() / mu.norm()), rel=1e-6)
        assert cov_gap == pytest.approx(0, abs=1e-6)  # float32 rounding of the shifted copy


def test_gaps_ignore_positions_and_the_number_of_positions():
    f = features(3)["a"]
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(0))
    shuffled = f.flatten(2)[:, :, perm].reshape(f.shape)
    tiled = torch.cat([f, f], dim=-1)  # every vector twice: the same distribution
    gaps = relative_moment_gaps({"a": shuffled, "t": tiled}, {"a": f, "t": f})
    assert all(g == pytest.approx((0, 0), abs=1e-9) for g in gaps.per_layer.values())


def test_moment_gaps_average_each_layer_once():
    gaps = MomentGaps({"x": (0.1, 0.5), "y": (0.3, 1.5)})
    assert gaps.mean_gap == pytest.approx(0.2) and gaps.cov_gap == pytest.approx(1.0)


@pytest.fixture(scope="module")
def extractor(random_weights):
    return VGGFeatures(random_weights, LAYERS)


def test_feature_moment_gaps_of_an_image_against_itself_is_zero_whatever_its_form(extractor):
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for other in (image, to_pil(image)):
        gaps = texstyle.feature_moment_gaps(image, other, extractor=extractor)
        assert list(gaps.per_layer) == list(LAYERS)
        # A PIL copy is the 8-bit rounding of the tensor: within a quantisation step's effect.
        assert gaps.mean_gap < 1e-2 and gaps.cov_gap < 1e-2


def test_feature_moment_gaps_scales_the_exemplar_to_the_image(extractor):
    g = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 32, 32, generator=g)
    other = torch.rand(1, 3, 64, 48, generator=g)
    gaps = feature_moment_gaps(image, other, extractor=extractor)
    assert all(math.isfinite(m) and math.isfinite(v) and m > 0 and v > 0
               for m, v in gaps.per_layer.values())
    # Default: the exemplar's long side becomes the image's (32); stated explicitly, the same.
    assert feature_moment_gaps(image, other, extractor=extractor, exemplar_size=32) == gaps
    assert feature_moment_gaps(image, other, extractor=extractor, exemplar_size=64) != gaps


def test_method_options_add_extra_options_to_gan_methods_only():
    assert method_options("gan quadratic", {"disc_steps": 5}) == {
        "loss": "gan", "disc": "quadratic", "disc_steps": 5}
    assert method_options("gram", {"disc_steps": 5}) == {"loss": "gram"}
    with pytest.raises(ValueError, match="unknown method 'gan svm'"):
        method_options("gan svm")


def test_run_experiment_refuses_an_unknown_method_before_any_work():
    with pytest.raises(ValueError, match="unknown method"):
        run_experiment(["sample:cells"], ["gram", "nope"])


def test_experiment_averages_and_table():
    def cell(ex, method, m, v):
        return ExperimentCell(ex, method, torch.zeros(1, 3, 8, 8),
                              MomentGaps({"relu1_1": (m, v), "relu2_1": (m, 3 * v)}), 2.4)

    exp = Experiment(("sample:a", "sample:b"), ("gram",), 8, 1, 1, 0, [
        cell("sample:a", NOISE, 1, 1), cell("sample:a", "gram", 0.2, 0.1),
        cell("sample:b", NOISE, 1, 1), cell("sample:b", "gram", 0.4, 0.3)])
    assert exp.average("gram") == pytest.approx((0.3, 0.4))
    table = markdown_table(exp.cells, ("relu1_1", "relu2_1")).splitlines()
    assert len(table) == 2 + 4
    assert table[3] == "| a | gram | 0.200 | 0.200 | 0.20 / 0.10 | 0.20 / 0.30 | 2 |"
    assert set(METHODS) >= {"gan logreg", "gan quadratic", "gan mlp:128", "meancov", "gram"}


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gan logreg", "gram"])
def test_run_cell_optimises_at_one_level_with_its_own_budget(method):
    # At 128 px a default texture run has two levels (64 and 128 px).
    cell = run_cell("sample:cells", method, size=128, iters=3, moment_iters=2, device="cpu")
    settings = cell.result.settings
    assert settings["levels"] == [[128, 128]]
    assert settings["level_iters"] == [3 if method.startswith("gan") else 2]
    assert cell.image.shape[-2:] == (128, 128)


@pytest.mark.slow
def test_run_cell_extra_options_can_ask_gan_runs_for_the_pyramid():
    cell = run_cell("sample:cells", "gan logreg", size=128, iters=2, device="cpu",
                    extra={"coarsest": 64, "fine_iters": 1})
    assert cell.result.settings["levels"] == [[64, 64], [128, 128]]
    assert cell.result.settings["level_iters"] == [2, 1]
