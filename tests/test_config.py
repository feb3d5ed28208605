"""Options are defined once: the settings dataclasses carry the CLI's flags, and the README's
option table lists exactly the flags the parser has."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from texstyle.cli.commands import _settings_from_args, build_parser
from texstyle.config import StylizeSettings, TextureSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = {"texture": TextureSettings, "stylize": StylizeSettings}


def flags(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {o for a in sub._actions for o in a.option_strings if o.startswith("--")}


def test_every_setting_has_its_flag_help_and_default():
    for command, cls in COMMANDS.items():
        for f in fields(cls):
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
    assert (s.r1_weight, s.tile, s.style_layers, s.fine_iters) == (0.5, True,
                                                                    ("relu1_1", "relu2_1"), 7)


def test_readme_option_table_lists_exactly_the_parsers_flags():
    rows = [line for line in README.splitlines() if line.startswith("| `-")]
    documented = {flag for row in rows for flag in re.findall(r"--[a-z0-9-]+", row.split(" | ")[0])}
    parser = (flags("texture") | flags("stylize")) - {"--help", "--output"}
    assert documented == parser
