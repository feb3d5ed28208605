"""The README's promises that a file can check: the two commands first, every picture present."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_demo_and_the_test_commands():
    block = README.split("```")[1].splitlines()
    commands = [line for line in block[1:] if line.strip()]
    assert block[0] == "sh" and len(commands) == 2
    assert commands[0].endswith("texstyle demo")
    assert commands[1].endswith("-m pytest -q")
    # CI runs the README's command (quiet pip aside): linters first, then every test.
    ci = (ROOT / ".ci" / "run").read_text().splitlines()[-1]
    assert ci.replace("pip install -q ", "pip install ") == commands[1]
    assert commands[1].index("ruff check") < commands[1].index("mypy") < commands[1].index("pytest")


def test_every_local_picture_the_readme_shows_exists():
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(links) >= 7  # the demo sheet and the gallery
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []
