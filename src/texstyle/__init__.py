"""texstyle: neural texture synthesis and style transfer by matching VGG-19 feature statistics."""

from .api import RunResult, run_stylize, run_texture, stylize, synthesize_texture
from .config import StylizeSettings, TextureSettings
from .errors import TexstyleError
from .optimize import Progress

__all__ = [
    "Progress",
    "RunResult",
    "StylizeSettings",
    "TexstyleError",
    "TextureSettings",
    "run_stylize",
    "run_texture",
    "stylize",
    "synthesize_texture",
]
__version__ = "0.1.0"
