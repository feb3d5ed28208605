"""texstyle: neural texture synthesis and style transfer by matching VGG-19 feature statistics."""

from .api import RunInterrupted, RunResult, run_stylize, run_texture, stylize, synthesize_texture
from .config import StylizeSettings, TextureSettings
from .errors import TexstyleError
from .progress import Progress
from .studies.experiment import Experiment, ExperimentCell, run_cell, run_experiment
from .studies.moments import MomentGaps, feature_moment_gaps

__all__ = [
    "Experiment",
    "ExperimentCell",
    "MomentGaps",
    "Progress",
    "RunInterrupted",
    "RunResult",
    "StylizeSettings",
    "TexstyleError",
    "TextureSettings",
    "feature_moment_gaps",
    "run_cell",
    "run_experiment",
    "run_stylize",
    "run_texture",
    "stylize",
    "synthesize_texture",
]
__version__ = "0.1.0"
