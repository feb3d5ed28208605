"""Execute notebooks/homework.ipynb in place and store its outputs, without Jupyter.

The same executor as tests/test_notebook.py: the code cells run in order in one namespace, with
matplotlib's Agg backend; ``display(obj)`` and ``plt.show()`` are replaced by recorders, and what a
cell prints, displays or shows becomes its outputs (stream, and display_data with image/png for
PIL images and matplotlib figures).  Only the standard library, matplotlib and PIL: no nbformat,
nbclient or kernel.  A failing cell stops the run and nothing is written.

    PYTHONPATH=src python notebooks/execute.py                  # full mode (TEXSTYLE_QUICK=0)
    PYTHONPATH=src python notebooks/execute.py --quick          # the tiny CI version
    PYTHONPATH=src python notebooks/execute.py --quick --cells cell-27   # keep the other outputs

Full mode takes tens of minutes on two CPU cores (a GPU helps: the cells use ``DEVICE="auto"``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

NOTEBOOK = Path(__file__).resolve().parent / "homework.ipynb"


def _png(obj: Any) -> str | None:
    """Base64 PNG of a PIL image or a matplotlib figure; None for anything else."""
    buffer = io.BytesIO()
    if hasattr(obj, "savefig"):
        obj.savefig(buffer, format="png", bbox_inches="tight")
    elif hasattr(obj, "save") and hasattr(obj, "mode"):
        obj.save(buffer, format="PNG")
    else:
        return None
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _text(obj: Any) -> str:
    """The plain-text form, without the memory address PIL puts in its repr (stable diffs)."""
    if hasattr(obj, "mode") and hasattr(obj, "size") and hasattr(obj, "save"):
        return f"<PIL.Image.Image image mode={obj.mode} size={obj.size[0]}x{obj.size[1]}>"
    return repr(obj)


def _display_data(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"text/plain": [_text(obj)]}
    png = _png(obj)
    if png is not None:
        data["image/png"] = png
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


class _Outputs:
    """Everything one cell prints, displays and shows, in order."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.stdout = io.StringIO()

    def flush_stream(self) -> None:
        text = self.stdout.getvalue()
        if text:
            self.items.append({"name": "stdout", "output_type": "stream", "text": _lines(text)})
            self.stdout.seek(0)
            self.stdout.truncate()

    def add(self, item: dict[str, Any]) -> None:
        self.flush_stream()
        self.items.append(item)


def execute(nb: dict[str, Any], *, quick: bool) -> list[list[dict[str, Any]]]:
    """Run every code cell of ``nb``; the outputs of each code cell, in order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.environ["TEXSTYLE_QUICK"] = "1" if quick else "0"
    current = _Outputs()

    def show(*args: Any, **kwargs: Any) -> None:
        for number in plt.get_fignums():
            current.add(_display_data(plt.figure(number)))
        plt.close("all")

    def display(*objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            current.add(_display_data(obj))

    plt.show = show
    namespace: dict[str, Any] = {"__name__": "__main__", "display": display}
    results = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        current = _Outputs()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(current.stdout):
                exec(compile(text, f"<notebook cell {i}>", "exec"), namespace)  # noqa: S102
        except Exception:  # noqa: BLE001 (report the failing cell, write nothing)
            sys.exit(f"notebook cell {i} failed; nothing written:\n{traceback.format_exc()}")
        show()  # figures a cell left open, as Jupyter's inline backend would
        current.flush_stream()
        print(f"cell {i} ({cell.get('id', '')}): {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)
        results.append(current.items)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK)
    parser.add_argument("--quick", action="store_true", help="TEXSTYLE_QUICK=1: the tiny version")
    parser.add_argument("--cells", nargs="+", metavar="ID",
                        help="store outputs of these cell ids only (all cells still run)")
    args = parser.parse_args()
    nb = json.loads(args.notebook.read_text(encoding="utf-8"))
    outputs = iter(execute(nb, quick=args.quick))
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        count += 1
        items = next(outputs)
        if args.cells is None or cell.get("id") in args.cells:
            cell["outputs"] = items
            cell["execution_count"] = count
    tmp = args.notebook.with_name(args.notebook.name + ".tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.notebook)
    print(f"wrote {args.notebook}", file=sys.stderr)


if __name__ == "__main__":
    main()
