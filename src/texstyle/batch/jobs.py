"""A batch's unit of work: one stylisation with its own options, and the name it is written under.

Names are predictable (``CONTENT_STYLE.png`` from the inputs' file names), so a re-run finds
what an earlier run finished and a user finds an output without reading a log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import StylizeSettings
from ..errors import TexstyleError
from ..image import OUTPUT_FORMATS
from ..samples import PREFIX, is_sample

# Content images a folder job takes: what Pillow reads and we also write, lower case.
IMAGE_SUFFIXES = tuple(OUTPUT_FORMATS)


@dataclass(frozen=True)
class Job:
    """One output of a batch: content, style(s), flat options (``StylizeSettings`` keywords) and
    the output's file name inside the batch folder."""

    name: str
    content: str
    styles: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> StylizeSettings:
        return StylizeSettings.from_options(**self.options)

    def inputs(self) -> dict[str, Any]:
        """What the record says the inputs were (as the stylize command writes it)."""
        return {"styles": list(self.styles), "content": self.content}


def stem(source: str) -> str:
    """The part of an input's name that goes into an output name: ``sample:cat`` → ``cat``,
    ``photos/beach.jpg`` → ``beach``."""
    return source[len(PREFIX):] if is_sample(source) else Path(source).stem


def default_name(content: str, styles: Sequence[str], suffix: str = ".png") -> str:
    """``CONTENT_STYLE.png``; several mixed styles are joined with ``+``."""
    return f"{stem(content)}_{'+'.join(stem(s) for s in styles)}{suffix}"


def folder_jobs(folder: Path, styles: Sequence[Sequence[str]], options: dict[str, Any]
                ) -> list[Job]:
    """Every image in ``folder`` (not its subfolders) times every style (or style mix), in name
    order, all with the same options."""
    contents = sorted(p for p in folder.iterdir()
                      if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not contents:
        raise TexstyleError(f"no images in {folder} (looked for {', '.join(IMAGE_SUFFIXES)})")
    return [Job(default_name(str(c), mix), str(c), tuple(mix), dict(options))
            for c in contents for mix in styles]


def check_names(jobs: Sequence[Job], where: str) -> None:
    """Two jobs must not write the same file: refuse before any work, naming both."""
    seen: dict[str, int] = {}
    for i, job in enumerate(jobs, start=1):
        if job.name in seen:
            raise TexstyleError(f"{where}: jobs {seen[job.name]} and {i} would both write "
                                f"{job.name}; give each an output name")
        seen[job.name] = i
