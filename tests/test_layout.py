"""Imports point one way: cli → studio → report → studies → api/plan → core
(docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "texstyle"
# everything else: core, 0
LAYERS = {"cli": 5, "studio": 4, "report": 3, "studies": 2, "batch": 2, "video": 2,
          "api": 1, "plan": 1, "records": 1}


def layer(module: str) -> int:
    """``module`` is dotted below texstyle (``report.build``, ``api``)."""
    return LAYERS.get(module.split(".")[0], 0)


def imports(path: Path) -> list[str]:
    """The texstyle modules ``path`` imports, dotted below texstyle."""
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(here[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.append(".".join([*base, node.module]))
            else:  # from . import x, y
                found += [".".join([*base, alias.name]) for alias in node.names]
    return [m for m in found if m and m != "__version__" and not m.endswith("__version__")]


def test_imports_point_down_only():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if name in ("__init__", "__main__"):
            continue  # the package's public face and the entry point sit on top
        for target in imports(path):
            if layer(target) > layer(name):
                upward.append(f"{name} imports {target}")
    assert upward == []
