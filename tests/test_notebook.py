"""notebooks/homework.ipynb: valid nbformat 4, calls the library instead of copying it, and runs.

CI executes the notebook here, without Jupyter: the code cells run in order in one namespace, in
quick mode (``TEXSTYLE_QUICK=1``: 48 px, a few evaluations), with matplotlib's Agg backend and
``display`` / ``plt.show`` replaced by recorders.  A failing cell fails the test with its number
and source.  The JSON is read with the standard library, so the test needs no nbformat.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import traceback
from pathlib import Path

import pytest
from PIL import Image

import texstyle

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "homework.ipynb"


@pytest.fixture(scope="module")
def nb() -> dict:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def code_cells(nb: dict) -> list[tuple[int, str]]:
    """(cell number, source) of every code cell; numbers count all cells from 0, as Jupyter shows."""
    return [(i, source(c)) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def test_notebook_is_valid_nbformat_4(nb):
    assert nb["nbformat"] == 4
    assert isinstance(nb["nbformat_minor"], int)
    assert isinstance(nb["metadata"], dict)
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    assert nb["cells"], "an empty notebook"
    ids = []
    for i, cell in enumerate(nb["cells"]):
        assert cell["cell_type"] in ("markdown", "code", "raw"), f"cell {i}: {cell['cell_type']!r}"
        assert isinstance(cell["metadata"], dict), f"cell {i}: metadata"
        text = cell["source"]
        assert isinstance(text, str) or all(isinstance(line, str) for line in text), f"cell {i}"
        if cell["cell_type"] == "code":
            assert isinstance(cell.get("outputs"), list), f"cell {i}: no outputs list"
            assert "execution_count" in cell, f"cell {i}: no execution_count"
            count = cell["execution_count"]
            assert count is None or isinstance(count, int), f"cell {i}: execution_count"
            for out in cell["outputs"]:
                assert out["output_type"] != "error", f"cell {i} was committed with an error"
        else:
            assert "outputs" not in cell and "execution_count" not in cell, f"cell {i}"
        if nb["nbformat_minor"] >= 5:  # 4.5 made cell ids required
            ids.append(cell["id"])
    assert len(set(ids)) == len(ids), "cell ids must be unique"


def test_notebook_code_is_plain_python_and_copies_no_library_function(nb):
    library = set()
    for info in pkgutil.iter_modules(texstyle.__path__):
        if info.name == "__main__":  # importing it would run the CLI
            continue
        module = importlib.import_module(f"texstyle.{info.name}")
        library |= {name for name, obj in vars(module).items()
                    if inspect.isfunction(obj) and obj.__module__ == module.__name__}
    assert {"gram", "swd_distance", "run_texture"} <= library  # the scan sees the library
    for i, text in code_cells(nb):
        tree = ast.parse(text, filename=f"<cell {i}>")  # no IPython magics: CI runs plain Python
        defined = {node.name for node in ast.walk(tree)
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        copied = defined & library
        assert not copied, f"cell {i} redefines library function(s) {sorted(copied)}"


@pytest.mark.slow
def test_notebook_runs_in_quick_mode(nb, tmp_path, monkeypatch, capsys, one_thread):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("TEXSTYLE_QUICK", "1")
    monkeypatch.chdir(tmp_path)  # whatever a cell might write lands here
    shown_figures = []

    def show(*args, **kwargs):
        shown_figures.extend(plt.get_fignums())
        plt.close("all")

    monkeypatch.setattr(plt, "show", show)
    displayed = []
    namespace = {"__name__": "__main__", "display": lambda *objs, **kw: displayed.extend(objs)}
    for i, text in code_cells(nb):
        try:
            exec(compile(text, f"<notebook cell {i}>", "exec"), namespace)  # exec: the point of the executor
        except Exception:  # noqa: BLE001 (any failure of a cell fails the test, with its source)
            pytest.fail(f"notebook cell {i} failed:\n{traceback.format_exc()}\n"
                        f"--- cell {i} source ---\n{text}", pytrace=False)
    plt.close("all")

    printed = capsys.readouterr().out
    assert namespace["QUICK"] is True and "QUICK" in printed
    images = [obj for obj in displayed if isinstance(obj, Image.Image)]
    # first texture, texture sheet, stylisation, mixing, loss curves and the adversarial grid
    assert len(images) >= 6, f"only {len(images)} pictures displayed"
    assert all(img.width > 0 and img.height > 0 for img in images)
    assert len(shown_figures) >= 3  # the scatter, the cross-entropy curves, the two clouds
    # The adversarial section: its grid, and the gap table with both discriminators.
    assert "mean gap" in printed and "cov gap" in printed
    for method in ("gan logreg", "gan quadratic", "meancov"):
        assert method in printed
    assert "discriminator left the smaller covariance gap" in printed
