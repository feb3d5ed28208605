"""Where a finished run is written: the image and, next to it, its record (OUT.png → OUT.json).

One place for both, because the record is also the mark of a finished job: ``texstyle batch``
skips a job whose image and record exist, and the record is written last, after the image, so a
run cut off between the two is redone rather than taken as finished.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .api import RunResult
from .image import save_image, write_text


def record_path(output: Path) -> Path:
    """The run record sits next to the image: OUT.png → OUT.json."""
    return output.with_suffix(".json")


def write_result(result: RunResult, output: Path, *, overwrite: bool, shown_as: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
    """The image, then its record (settings and loss history), each written atomically.

    ``shown_as`` is what the record names the output (the studio gives the file name only, not
    its server-side path); ``extra`` adds keys (the studio's equivalent command line).
    """
    save_image(result.image, output, overwrite=overwrite)
    record = {"texstyle": __version__, "output": shown_as or str(output),
              "elapsed_s": round(result.elapsed, 3), **(extra or {}),
              "settings": result.settings, "history": result.history}
    write_text(json.dumps(record, indent=1, default=str) + "\n", record_path(output),
               overwrite=overwrite)


def is_finished(output: Path) -> bool:
    """Whether a run already wrote ``output`` and its record (a batch job to skip)."""
    return output.is_file() and record_path(output).is_file()
