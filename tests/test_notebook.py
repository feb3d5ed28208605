"""notebooks/homework.ipynb: valid nbformat 4, calls the library instead of copying it, and runs.

CI executes the notebook the standard way, with nbclient and an ipykernel (what ``jupyter
execute`` does), in quick mode (``TEXSTYLE_QUICK=1``: 48 px, a few evaluations); a failing cell
fails the test with nbclient's report of the cell and its traceback.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

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
    for info in pkgutil.walk_packages(texstyle.__path__, "texstyle."):
        if info.name == "texstyle.__main__":  # importing it would run the CLI
            continue
        module = importlib.import_module(info.name)
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
def test_notebook_runs_in_quick_mode(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # The kernel inherits the environment: the tiny version, one thread on a small machine.
    monkeypatch.setenv("TEXSTYLE_QUICK", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})  # cells write there
    client.execute()

    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    pictures = [out for out in outputs if out.output_type in ("display_data", "execute_result")
                and "image/png" in out.get("data", {})]
    assert "QUICK (tiny, for CI) mode" in printed  # the kernel saw TEXSTYLE_QUICK
    # first texture, texture sheet, stylisation, mixing, loss curves and the adversarial grid,
    # then the scatter, the cross-entropy curves and the two clouds (matplotlib figures)
    assert len(pictures) >= 9, f"only {len(pictures)} pictures shown"
    # The adversarial section: its grid, and the gap table with both discriminators.
    assert "mean gap" in printed and "cov gap" in printed
    for method in ("gan logreg", "gan quadratic", "meancov"):
        assert method in printed
    assert "discriminator left the smaller covariance gap" in printed


def test_the_by_hand_section_retraces_the_package_gram_run(nb):
    """§9 writes the method out (VGG forward pass, Gram, loss, L-BFGS); run that cell as it is and
    check that its loss trajectory is the package's `gram` run's, evaluation by evaluation."""
    from texstyle import run_texture

    cells = [source(c) for c in nb["cells"] if "by-hand" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged by-hand"
    lines = [line for line in cells[0].splitlines() if line.strip()]
    assert len(lines) <= 70, f"the by-hand cell should stay about 60 lines, has {len(lines)}"
    namespace: dict = {}
    exec(compile(cells[0], "<by-hand cell>", "exec"), namespace)
    image, losses = namespace["synthesise_by_hand"]("sample:brick", 64, 10, seed=0)
    package = run_texture("sample:brick", size=64, coarsest=64, iters=10, loss="gram",
                          tv_weight=0.0, layer_decay=1.0, optimizer="lbfgs", seed=0, device="cpu")
    expected = [h["style"] for h in package.history]
    assert len(losses) == len(expected) == 10
    assert losses[-1] < 0.5 * losses[0], "the synthesis should make progress"
    for k, (ours, theirs) in enumerate(zip(losses, expected)):
        assert abs(ours - theirs) <= 1e-4 * theirs, (k, ours, theirs)
    assert float((image - package.image).abs().max()) < 1e-3
