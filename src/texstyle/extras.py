"""Optional dependencies: imported only where a feature needs them, and when one is missing a
single line says how to install it.  The base install (``pip install -e .``, then ``texstyle
demo``) needs none of them; ``pyproject.toml`` names the extras.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import TexstyleError

# module → (what needs it, the package, the extra that installs it)
EXTRAS = {
    "ray": ("--ray", "Ray", "ray"),
    "av": ("texstyle video", "PyAV", "video"),
    "cv2": ("texstyle video", "OpenCV (opencv-python-headless)", "video"),
}


def optional(module: str) -> ModuleType:
    """``module`` imported, or a one-line ``TexstyleError`` that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        needs, package, extra = EXTRAS[module]
        raise TexstyleError(f"{needs} needs {package}: pip install 'texstyle[{extra}]'") from None
