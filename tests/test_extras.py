"""Optional dependencies: the base install never imports them, and a missing one is one line
that says which extra installs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from texstyle.errors import TexstyleError
from texstyle.extras import EXTRAS, optional


@pytest.mark.parametrize(("module", "extra"), [("ray", "ray"), ("av", "video"), ("cv2", "video")])
def test_a_missing_extra_says_how_to_install_it(monkeypatch, module, extra):
    assert EXTRAS[module][2] == extra
    monkeypatch.setitem(sys.modules, module, None)  # what an install without it looks like
    with pytest.raises(TexstyleError, match=rf"pip install 'texstyle\[{extra}\]'$"):
        optional(module)


def test_the_command_line_imports_no_optional_package_until_a_feature_needs_it():
    code = ("import sys; from texstyle.cli.commands import build_parser; build_parser(); "
            "import texstyle.batch.local, texstyle.video.frames, texstyle.video.io; "
            f"print(sorted(m for m in {sorted(EXTRAS)!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120)
    assert out.stdout.strip() == "[]"
