"""The adversarial statistic: what each discriminator can see, the generator step, determinism,
divergence handling, configuration and the command line."""

from __future__ import annotations

import json
import logging
import math

import pytest
import torch

import texstyle
from cli_helpers import run_cli
from texstyle.adversarial import (
    Diverged,
    disc_loss,
    make_discriminators,
    optimize_adversarial,
    positions,
    real_samples,
    train_discriminator,
)
from texstyle.cli import main
from texstyle.config import DiscSpec, GanOptions, StylizeSettings, TextureSettings, parse_disc
from texstyle.errors import TexstyleError
from texstyle.losses import Objective
from texstyle.optimize import LoopInterrupted

C = 4  # channels of the synthetic feature clouds
N = 600  # samples per cloud


def cloud(mean: float, std: float, seed: int) -> torch.Tensor:
    """N Gaussian feature vectors as a (1, C, N, 1) feature map: positions are the samples."""
    g = torch.Generator().manual_seed(seed)
    return (mean + std * torch.randn(1, C, N, 1, generator=g))


def held_out_accuracy(disc: str, real_map: torch.Tensor, fake_map: torch.Tensor,
                      fresh: tuple[torch.Tensor, torch.Tensor]) -> float:
    """Train one D on (real, fake) then measure its accuracy on fresh samples of both clouds."""
    torch.manual_seed(0)
    reals = real_samples([{"l": real_map}], ["l"])
    d = make_discriminators(parse_disc(disc), reals, lr=0.05)["l"]
    train_discriminator(d, reals["l"], positions(fake_map), steps=300)
    fresh_real = real_samples([{"l": fresh[0]}], ["l"])["l"]
    with torch.no_grad():
        _, accuracy = disc_loss(d.net, fresh_real, positions(fresh[1]))
    return accuracy


@pytest.mark.slow
def test_logreg_sees_a_mean_difference(one_thread):
    acc = held_out_accuracy("logreg", cloud(0, 1, 1), cloud(1.5, 1, 2), (cloud(0, 1, 3), cloud(1.5, 1, 4)))
    assert acc > 0.85  # Bayes accuracy for a 1.5σ shift on every axis of 4 is ≈ 0.93


def test_logreg_is_blind_to_a_covariance_difference(one_thread):
    acc = held_out_accuracy("logreg", cloud(0, 1, 1), cloud(0, 2.5, 2), (cloud(0, 1, 3), cloud(0, 2.5, 4)))
    assert acc < 0.6  # chance is 0.5: no hyperplane separates two centred clouds


@pytest.mark.parametrize("mean,std", [(1.5, 1.0), (0.0, 2.5)])
def test_quadratic_sees_means_and_covariances(one_thread, mean, std):
    acc = held_out_accuracy("quadratic", cloud(0, 1, 1), cloud(mean, std, 2),
                            (cloud(0, 1, 3), cloud(mean, std, 4)))
    assert acc > 0.8


def test_mlp_sees_a_covariance_difference(one_thread):
    acc = held_out_accuracy("mlp:32", cloud(0, 1, 1), cloud(0, 2.5, 2), (cloud(0, 1, 3), cloud(0, 2.5, 4)))
    assert acc > 0.75


def test_r1_of_logistic_regression_is_half_gamma_w_squared():
    """∇_z (wᵀz + b) = w at every sample, so R1 = γ/2 ‖w‖² exactly (in standardised units)."""
    torch.manual_seed(0)
    reals = real_samples([{"l": cloud(0, 1, 1)}], ["l"])
    net = make_discriminators(DiscSpec("logreg"), reals, lr=0.1)["l"].net
    with torch.no_grad():
        net.linear.weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 3.0]]))
    fake = positions(cloud(1, 1, 2))
    plain, _ = disc_loss(net, reals["l"], fake)
    penalised, _ = disc_loss(net, reals["l"], fake, r1_weight=0.4)
    assert float((penalised - plain).detach()) == pytest.approx(0.2 * (1 + 4 + 0.25 + 9), rel=1e-5)


def test_several_styles_are_pooled_with_their_blend_weights():
    a, b = cloud(0, 1, 1), cloud(0, 1, 2)[:, :, :200]
    pooled = real_samples([{"l": a}, {"l": b}], ["l"], blend=[3.0, 1.0])["l"]
    assert pooled.values.shape == (N + 200, C)
    assert float(pooled.weights[:N].sum()) == pytest.approx(0.75)
    assert float(pooled.weights[N:].sum()) == pytest.approx(0.25)


def identity_objective() -> Objective:
    """The 'features' are the pixels themselves: a problem where the mean is visible directly."""
    return Objective(lambda x: {"l": x}, {}, {"l": 1.0})


def test_one_generator_step_moves_the_feature_mean_toward_the_style(one_thread):
    g = torch.Generator().manual_seed(0)
    style = 0.7 + 0.05 * torch.randn(1, 3, 16, 16, generator=g)
    x0 = 0.3 + 0.05 * torch.randn(1, 3, 16, 16, generator=g)
    torch.manual_seed(0)
    reals = real_samples([{"l": style}], ["l"])
    discs = make_discriminators(DiscSpec("logreg"), reals, lr=0.05)
    result = optimize_adversarial(x0, identity_objective(), discs, reals,
                                  GanOptions(disc_steps=20), iters=1, lr=0.05)
    target = style.mean((0, 2, 3))
    before = (x0.mean((0, 2, 3)) - target).norm()
    after = (result.image.mean((0, 2, 3)) - target).norm()
    assert len(result.history) == 1
    assert after < before - 0.05  # Adam's first step moves every pixel by about lr


def run_gan(seed: int) -> texstyle.api.RunResult:
    return texstyle.run_texture("sample:brick", size=32, iters=3, seed=seed, loss="gan",
                                disc="mlp:8", instance_noise=0.1)


def test_runs_are_deterministic_with_a_seed(one_thread):
    a, b, c = run_gan(0), run_gan(0), run_gan(1)
    assert torch.equal(a.image, b.image)
    assert a.history == b.history
    assert not torch.equal(a.image, c.image)
    assert a.settings["optimizer"] == "adam"
    assert set(a.history[0]) >= {"gan", "total", "d_acc/relu1_1", "d_loss/relu5_1", "g_loss/relu3_1"}


def test_stylize_with_gan_keeps_the_content_term(one_thread):
    result = texstyle.run_stylize("sample:cat", "sample:mosaic", size=48, iters=2, loss="gan+meancov",
                                  disc="logreg")
    assert {"gan", "style", "content"} <= set(result.history[-1])
    assert torch.isfinite(result.image).all()


def poisoned(objective: Objective, at: int) -> Objective:
    """The same objective whose features turn NaN from evaluation ``at`` (1-based) on."""
    calls = {"n": 0}

    def extractor(x):
        calls["n"] += 1
        feats = objective.extractor(x)
        return {k: v * math.nan for k, v in feats.items()} if calls["n"] >= at else feats

    return Objective(extractor, objective.style_targets, objective.layer_weights)


def tiny_problem():
    g = torch.Generator().manual_seed(0)
    style = torch.rand(1, 3, 8, 8, generator=g)
    torch.manual_seed(0)
    reals = real_samples([{"l": style}], ["l"])
    return torch.rand(1, 3, 8, 8, generator=g), reals, make_discriminators(DiscSpec("logreg"), reals, 0.05)


def test_divergence_stops_and_keeps_the_last_finite_image(caplog):
    x0, reals, discs = tiny_problem()
    seen = []

    def keep(progress):
        seen.append(progress.image())

    with caplog.at_level(logging.WARNING, logger="texstyle.adversarial"):
        result = optimize_adversarial(x0, poisoned(identity_objective(), at=4), discs, reals,
                                      GanOptions(), iters=10, callback=keep)
    assert len(result.history) == 3
    assert torch.isfinite(result.image).all()
    assert texstyle.image.to_pil(result.image).tobytes() == seen[-1].tobytes()
    assert any("diverged at iteration 4" in r.getMessage() for r in caplog.records)


def test_divergence_at_the_first_iteration_is_an_error():
    x0, reals, discs = tiny_problem()
    with pytest.raises(Diverged, match="not finite at the first iteration"):
        optimize_adversarial(x0, poisoned(identity_objective(), at=1), discs, reals,
                             GanOptions(), iters=5)


def test_optimizer_auto_resolves_per_loss():
    assert TextureSettings().resolved_optimizer() == "lbfgs"
    assert TextureSettings(loss="gan").resolved_optimizer() == "adam"
    assert StylizeSettings(loss="gan+meancov").resolved_optimizer() == "adam"
    assert TextureSettings(loss="gan+gram", optimizer="adam").resolved_optimizer() == "adam"


@pytest.mark.parametrize("options,pattern", [
    ({"loss": "gan", "optimizer": "lbfgs"}, "lbfgs.*gan"),
    ({"loss": "gan", "disc": "svm"}, "discriminator 'svm'"),
    ({"loss": "gan", "disc": "mlp:0"}, "discriminator 'mlp:0'"),
    ({"loss": "gan", "disc": "mlp:a"}, "discriminator 'mlp:a'"),
    ({"disc_steps": 0}, "disc_steps"),
    ({"disc_every": -1}, "disc_every"),
    ({"disc_lr": 0.0}, "disc_lr"),
    ({"r1_weight": -1.0}, "r1_weight"),
    ({"instance_noise": math.nan}, "instance_noise"),
    ({"loss": "gan+swd"}, "loss 'gan\\+swd'"),
])
def test_bad_gan_settings_are_one_line_errors(options, pattern):
    # The flat keywords of the API (run_texture(..., disc_steps=0)) ...
    with pytest.raises(TexstyleError, match=pattern) as flat:
        TextureSettings.from_options(**options)
    assert "\n" not in str(flat.value)
    # ... and the nested field give the same one-line error.
    gan = {k: v for k, v in options.items() if k in GanOptions.__dataclass_fields__}
    rest = {k: v for k, v in options.items() if k not in gan}
    with pytest.raises(TexstyleError) as nested:
        TextureSettings(**rest, gan=GanOptions(**gan))
    assert str(nested.value) == str(flat.value)


def test_bad_gan_keyword_is_refused_by_the_api_before_any_work():
    with pytest.raises(TexstyleError, match=r"^disc_steps must be a positive integer, got 0$"):
        texstyle.run_texture("no-such-file.png", loss="gan", disc_steps=0)


def test_parse_disc():
    assert parse_disc("logreg") == DiscSpec("logreg")
    assert parse_disc("mlp:64,32") == DiscSpec("mlp", (64, 32))


def cli_error(capsys, *args) -> str:
    """Run the CLI in-process (no interpreter start-up); exit 2 with one stderr line, returned."""
    assert main([str(a) for a in args]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def test_cli_refuses_lbfgs_with_a_gan_loss(tmp_path, capsys):
    line = cli_error(capsys, "texture", "sample:brick", "--loss", "gan", "--optimizer", "lbfgs",
                     "-o", tmp_path / "out.png")
    assert "error" in line and "lbfgs" in line and "'gan'" in line
    assert not (tmp_path / "out.png").exists()


def test_cli_refuses_plot_without_a_gan_loss(tmp_path, capsys):
    line = cli_error(capsys, "texture", "sample:brick", "--plot", tmp_path / "p.png",
                     "-o", tmp_path / "out.png")
    assert "--plot" in line and "gan" in line


def test_cli_refuses_plot_onto_the_output(tmp_path, capsys):
    line = cli_error(capsys, "texture", "sample:brick", "--loss", "gan", "--plot",
                     tmp_path / "out.png", "-o", tmp_path / "out.png")
    assert "--plot" in line


@pytest.mark.slow
def test_cli_gan_run_writes_image_record_and_plot(tmp_path):
    proc = run_cli("texture", "sample:brick", "--loss", "gan+gram", "--disc", "quadratic",
                   "--size", "32", "--iters", "3", "--quiet", "-o", tmp_path / "out.png",
                   "--plot", tmp_path / "curves.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["settings"]["optimizer"] == "adam"
    assert record["settings"]["disc"] == "quadratic"
    assert len(record["history"]) == 3
    from PIL import Image

    with Image.open(tmp_path / "out.png") as img:
        assert img.size == (32, 32)
    with Image.open(tmp_path / "curves.png") as img:
        assert img.width > 600


def test_several_styles_run_through_the_api(one_thread):
    result = texstyle.run_texture(["sample:brick", "sample:mosaic"], size=32, iters=2, loss="gan",
                                  style_blend=(2.0, 1.0))
    assert torch.isfinite(result.image).all()
    assert len(result.history) == 2


def test_ctrl_c_hands_back_the_last_finite_image_and_the_history_so_far():
    x0, reals, discs = tiny_problem()

    def press_ctrl_c(progress):
        if progress.iteration == 3:
            raise KeyboardInterrupt

    with pytest.raises(LoopInterrupted) as info:
        optimize_adversarial(x0, identity_objective(), discs, reals, GanOptions(), iters=10,
                             callback=press_ctrl_c)
    partial = info.value.partial
    assert len(partial.history) == 3 and partial.image.shape == x0.shape
    assert torch.isfinite(partial.image).all()
