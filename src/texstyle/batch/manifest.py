"""Read a CSV or JSON manifest: one job per row, each with its own options.

A row names ``content``, ``style`` (several styles separated by ``;`` in a CSV cell, or a JSON
list) and optionally ``output``; every other column is a command-line option of ``texstyle
stylize`` under its flag's name (``style-weight``, ``style_weight`` and ``--style-weight`` all
work).  The values stay text here: the CLI parses them with the very parser that reads its own
flags, so a manifest accepts exactly what the command line does.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TexstyleError

MANIFEST_SUFFIXES = (".csv", ".json")
RESERVED = ("content", "style", "output")


@dataclass(frozen=True)
class Row:
    """One manifest row, its options still as the flags and values a user would type."""

    number: int  # 1-based, for messages
    content: str
    styles: tuple[str, ...]
    output: str | None
    flags: tuple[tuple[str, str], ...]  # (--flag, value); value "" for a switch


def read_manifest(path: Path) -> list[Row]:
    """The rows of a ``.csv`` (with a header line) or ``.json`` (a list of objects) manifest."""
    suffix = path.suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        raise TexstyleError(f"manifest {path} must be .csv or .json")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TexstyleError(f"cannot read manifest {path}: {exc}") from None
    records = _csv_records(text) if suffix == ".csv" else _json_records(text, path)
    if not records:
        raise TexstyleError(f"manifest {path} has no rows")
    return [_row(n, record, path) for n, record in enumerate(records, start=1)]


def _csv_records(text: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(text.splitlines()))
    for record in rows:
        record.pop(None, None)  # cells beyond the header: reported as unknown below if non-empty
        if record.get("style"):
            record["style"] = [s.strip() for s in record["style"].split(";") if s.strip()]
    return [r for r in rows if any((v or "").strip() if isinstance(v, str) else v
                                   for v in r.values())]


def _json_records(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TexstyleError(f"manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TexstyleError(f"manifest {path} must hold a list of objects, one per job")
    return data


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value).strip()


def _row(number: int, record: dict[str, Any], path: Path) -> Row:
    where = f"manifest {path} row {number}"
    content = _text(record.get("content"))
    styles = record.get("style") or []
    styles = [styles] if isinstance(styles, str) else styles
    if not content or not styles:
        raise TexstyleError(f"{where}: needs a content and a style")
    flags = []
    for key, value in record.items():
        name = str(key).strip().lstrip("-").replace("_", "-")
        if name in RESERVED:
            continue
        text = _text(value)
        if value is True or (text and value is not False):
            flags.append((f"--{name}", "" if value is True else text))
    output = _text(record.get("output")) or None
    return Row(number, content, tuple(str(s).strip() for s in styles), output, tuple(flags))
