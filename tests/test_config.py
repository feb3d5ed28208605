"""Options are defined once: the settings dataclasses carry the CLI's flags, and the README's
option table lists exactly the flags the parser has."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from texstyle.api import _settings
from texstyle.cli.commands import _option_fields, _settings_from_args, build_parser
from texstyle.config import GanOptions, StylizeSettings, TextureSettings
from texstyle.errors import TexstyleError

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = {"texture": TextureSettings, "stylize": StylizeSettings}


def flags(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {o for a in sub._actions for o in a.option_strings if o.startswith("--")}


def test_every_setting_has_its_flag_help_and_default():
    for command, cls in COMMANDS.items():
        for f, _ in _option_fields(cls()):  # the nested GanOptions' fields in place of ``gan``
            meta = f.metadata
            assert meta["help"], f.name
            if command not in meta["commands"]:
                continue
            flag = meta["flag"] or "--" + f.name.replace("_", "-")
            assert flag in flags(command), (command, flag)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_parsed_defaults_are_the_settings_defaults(command):
    inputs = ["sample:brick"] if command == "texture" else ["sample:cat", "--style", "x"]
    args = build_parser().parse_args([command, *inputs, "-o", "o.png"])
    assert _settings_from_args(args, COMMANDS[command]) == COMMANDS[command]()


def test_a_flag_sets_its_field():
    args = build_parser().parse_args(["texture", "x", "-o", "o.png", "--r1", "0.5", "--tile",
                                      "--style-layers", "relu1_1,relu2_1", "--fine-iters", "7"])
    s = _settings_from_args(args, TextureSettings)
    assert (s.gan.r1_weight, s.tile, s.style_layers, s.fine_iters) == (0.5, True,
                                                                        ("relu1_1", "relu2_1"), 7)


def test_gan_flags_parse_into_the_nested_options():
    args = build_parser().parse_args(["stylize", "x", "--style", "y", "-o", "o.png", "--loss",
                                      "gan", "--disc", "mlp:8,4", "--disc-steps", "3",
                                      "--disc-every", "2", "--disc-lr", "0.5", "--r1", "1",
                                      "--instance-noise", "0.1", "--gan-weight", "2"])
    s = _settings_from_args(args, StylizeSettings)
    assert s.gan == GanOptions(disc="mlp:8,4", disc_steps=3, disc_every=2, disc_lr=0.5,
                               r1_weight=1.0, instance_noise=0.1, gan_weight=2.0)


def test_gan_flags_are_named_after_the_nested_fields():
    gan = {f.metadata["flag"] or "--" + f.name.replace("_", "-") for f in fields(GanOptions)}
    assert gan == {"--disc", "--disc-steps", "--disc-every", "--disc-lr", "--r1",
                   "--instance-noise", "--gan-weight"}
    assert gan <= flags("texture") and gan <= flags("stylize")
    assert "--gan" not in flags("texture")  # the nesting is not a flag of its own


@pytest.mark.parametrize("cls", list(COMMANDS.values()))
def test_option_names_are_flat_unique_and_round_trip_through_the_record(cls):
    names = cls.field_names()
    assert len(set(names)) == len(names) and "gan" not in names and "disc_steps" in names
    s = cls.from_options(disc="quadratic", disc_steps=5, loss="gan")
    record = s.to_dict()
    assert list(record) == list(names)  # one flat key per option, as before the nesting
    assert (record["disc"], record["disc_steps"]) == ("quadratic", 5)
    assert cls.from_options(**record) == s


def test_flat_gan_keywords_go_into_the_nested_field():
    nested = TextureSettings(loss="gan", gan=GanOptions(disc="quadratic", r1_weight=0.5))
    assert TextureSettings.from_options(loss="gan", disc="quadratic", r1_weight=0.5) == nested
    assert _settings(TextureSettings, None, {"loss": "gan", "disc": "quadratic",
                                             "r1_weight": 0.5}) == nested
    # A flat keyword changes the given gan=…, or the given settings' gan, one field only.
    assert nested.with_options(disc_steps=4).gan == replace(nested.gan, disc_steps=4)
    assert TextureSettings.from_options(gan=GanOptions(disc="quadratic"), r1_weight=0.5,
                                        loss="gan") == nested
    with pytest.raises(TypeError, match=r"unknown option.*dsic.*valid: .*disc_steps"):
        TextureSettings.from_options(dsic="quadratic")


def test_readme_option_table_lists_exactly_the_parsers_flags():
    rows = [line for line in README.splitlines() if line.startswith("| `-")]
    documented = {flag for row in rows for flag in re.findall(r"--[a-z0-9-]+", row.split(" | ")[0])}
    parser = (flags("texture") | flags("stylize")) - {"--help", "--output"}
    assert documented == parser


def test_layer_decay_weighs_each_layer_by_its_depth_whatever_the_order():
    weights = TextureSettings(layer_decay=4.0).normalized_layer_weights()
    assert list(weights.values()) == pytest.approx([w / 341 for w in (256, 64, 16, 4, 1)])
    shuffled = TextureSettings(style_layers=("relu3_1", "relu1_1", "relu5_1"), layer_decay=2.0)
    assert shuffled.normalized_layer_weights() == pytest.approx(
        {"relu3_1": 2 / 7, "relu1_1": 4 / 7, "relu5_1": 1 / 7})


def test_layer_decay_one_is_equal_weights_and_explicit_weights_win():
    assert set(StylizeSettings().normalized_layer_weights().values()) == {0.2}
    explicit = TextureSettings(layer_weights=(1, 1, 1, 1, 6), layer_decay=4.0)
    assert explicit.normalized_layer_weights()["relu5_1"] == pytest.approx(0.6)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_layer_decay_must_be_positive(bad):
    with pytest.raises(TexstyleError, match="layer_decay must be a positive number"):
        TextureSettings(layer_decay=bad)
