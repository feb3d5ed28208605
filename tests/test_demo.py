"""``texstyle demo`` (the README's first command), in-process at 48 px with 2 iterations."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from texstyle.cli import commands as cli
from texstyle.cli import main

TINY = ["--size", "48", "--iters", "2", "--device", "cpu", "--quiet"]


def test_demo_writes_both_results_their_records_and_a_contact_sheet(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out-dir", str(out), *TINY]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "contact_sheet.png", "stylized.json", "stylized.png", "texture.json", "texture.png"]
    with Image.open(out / "texture.png") as img:
        assert img.size == (48, 48)
    assert json.loads((out / "stylized.json").read_text())["settings"]["size"] == 48
    assert "contact_sheet.png" in capsys.readouterr().out


def test_demo_refuses_to_replace_earlier_results(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "texture.png").write_bytes(b"last night's texture")
    assert main(["demo", "--out-dir", str(out), *TINY]) == 2
    assert (out / "texture.png").read_bytes() == b"last night's texture"
    assert "--overwrite" in capsys.readouterr().err


def test_demo_ctrl_c_keeps_the_texture_and_saves_the_stylisation_so_far(tmp_path, monkeypatch,
                                                                        capsys):
    real = cli.run_stylize

    def interrupted(*args, callback=None, **kwargs):
        def press_ctrl_c(progress):
            if progress.iteration == 2:
                raise KeyboardInterrupt
        return real(*args, callback=press_ctrl_c, **kwargs)

    monkeypatch.setattr(cli, "run_stylize", interrupted)
    out = tmp_path / "demo"
    assert main(["demo", "--out-dir", str(out), *TINY]) == 130
    assert sorted(p.name for p in out.iterdir()) == [
        "stylized.partial.json", "stylized.partial.png", "texture.json", "texture.png"]
    assert "saved the best image so far to" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--size", "--iters"])
def test_demo_refuses_non_positive_numbers(tmp_path, flag, capsys):
    assert main(["demo", "--out-dir", str(tmp_path / "d"), flag, "0"]) == 2
    assert flag in capsys.readouterr().err
