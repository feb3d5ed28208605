"""``texstyle compare``: the experiment in-process, the pictures, and the command in a subprocess.

Everything runs at 48 px with 2 iterations and two statistics (one exemplar, one pair: 4 cells),
so the file stays well under a minute; the one successful subprocess run is shared.
"""

from __future__ import annotations

import itertools
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from cli_helpers import run_cli, run_main
from texstyle import TexstyleError
from texstyle.cli import commands as cli
from texstyle.cli import main
from texstyle.image import to_pil
from texstyle.report import grid, loss_plot
from texstyle.studies.compare import ComparisonInterrupted, convergence, parse_pair, run_compare

SIZE, ITERS, SEED, LOSSES = 48, 2, 3, ("gram", "mean")
TINY = ["--losses", ",".join(LOSSES), "--size", str(SIZE), "--iters", str(ITERS), "--quiet"]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0], proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def grid_size(columns: int, rows: int, cell: int, title: bool = True) -> tuple[int, int]:
    """What ``report.grid`` promises: pad 12, labels 28, title 36."""
    return 12 + columns * (cell + 12), (36 if title else 0) + 28 + rows * (cell + 40) + 12


@pytest.fixture(scope="module")
def comparison():
    seen = []
    result = run_compare(["sample:brick"], [("sample:cat", "sample:mosaic")], losses=LOSSES,
                         size=SIZE, iters=ITERS, seed=SEED, device="cpu", callback=seen.append)
    return result, seen


def test_one_image_per_cell_with_the_same_settings(comparison):
    result, _ = comparison
    assert [g.name for g in result.grids] == ["textures", "stylized"]
    shapes = {"textures": (48, 48), "stylized": (32, 48)}  # the cat photo is 3:2
    for g in result.grids:
        assert len(g.rows) == 1
        assert list(g.rows[0].results) == list(LOSSES)
        for loss, r in g.rows[0].results.items():
            assert tuple(r.image.shape) == (1, 3, *shapes[g.name])
            assert (r.settings["size"], r.settings["iters"], r.settings["seed"]) == (SIZE, ITERS, SEED)
            assert r.settings["loss"] == loss
            assert len(r.history) == ITERS
    record = json.loads(json.dumps(result.record(), default=str))
    assert record["settings"]["losses"] == list(LOSSES)
    assert len(record["grids"]["stylized"]["rows"][0]["cells"]["mean"]["history"]) == ITERS


def test_progress_counts_over_the_whole_sheet(comparison):
    _, seen = comparison
    total = 4 * ITERS  # 2 rows x 2 statistics
    assert [s.iteration for s in seen] == list(range(1, total + 1))
    assert {s.total for s in seen} == {total} and {s.cell.count for s in seen} == {4}
    assert [(s.cell.index, s.cell.grid, s.cell.loss) for s in seen[::ITERS]] == [
        (1, "textures", "gram"), (2, "textures", "mean"), (3, "stylized", "gram"),
        (4, "stylized", "mean")]
    assert seen[-1].cell.row == "cat + mosaic"
    assert all(a.elapsed <= b.elapsed for a, b in itertools.pairwise(seen))  # time over the sheet


def test_grid_size_follows_rows_and_columns_and_inputs_come_first(comparison):
    result, _ = comparison
    pairs = result.grids[1]
    columns, rows = result.table(pairs)
    assert columns == ["content", "style", *LOSSES]
    sheet = grid(columns, rows, cell=64, title="t")
    assert sheet.size == grid_size(4, 1, 64)
    # First column: the cat, fitted into a 64 px box (64x43, centred vertically).
    cat = np.asarray(to_pil(pairs.rows[0].inputs[0]).resize((64, 43), Image.Resampling.LANCZOS),
                     dtype=float)
    top = 36 + 28 + 12 + 28 + (64 - 43) // 2
    region = np.asarray(sheet, dtype=float)[top:top + 43, 12:12 + 64]
    assert np.abs(region - cat).mean() < 3
    assert grid(columns, rows + rows, cell=64).size == grid_size(4, 2, 64, title=False)


def test_grid_puts_each_image_in_its_column():
    red, blue = Image.new("RGB", (30, 20), "red"), Image.new("RGB", (20, 30), "blue")
    sheet = grid(["input", "a", "b"], [[("r", red), ("b", blue), ("b", blue)]] * 2, cell=50)
    assert sheet.size == grid_size(3, 2, 50, title=False)
    for row in range(2):
        y = 28 + 12 + row * 90 + 28 + 25  # centre of the row's boxes
        assert sheet.getpixel((12 + 25, y)) == (255, 0, 0)
        assert sheet.getpixel((12 + 62 + 25, y)) == (0, 0, 255)


@pytest.mark.parametrize("n_stats", [2, 3, 5])
def test_loss_plot_is_a_png(tmp_path, n_stats):
    curves = {f"stat{i}": {"brick": [1.0, 0.5, 0.2, 0.1], "cat + mosaic": [2.0, 1.0, 0.9, 0.8]}
              for i in range(n_stats)}
    path = tmp_path / "losses.png"
    loss_plot(curves, dashed=["cat + mosaic"], title="t", level_starts=[3]).save(path)
    with Image.open(path) as img:
        img.load()
        assert img.format == "PNG" and img.width > 300 and img.height > 200


@pytest.mark.parametrize("text, expected", [
    ("sample:cat:sample:mosaic", ("sample:cat", "sample:mosaic")),
    ("a.jpg:b.jpg", ("a.jpg", "b.jpg")),
    ("sample:cat:dir/b.png", ("sample:cat", "dir/b.png")),
    ("a.jpg:sample:stars", ("a.jpg", "sample:stars")),
])
def test_parse_pair(text, expected):
    assert parse_pair(text) == expected


@pytest.mark.parametrize("text", ["sample:cat", "a.jpg", "a:b:c", "a.jpg:", ":b.jpg", "sample:"])
def test_parse_pair_refuses(text):
    with pytest.raises(TexstyleError, match="CONTENT:STYLE"):
        parse_pair(text)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("compare")
    proc = run_cli("compare", "--textures", "sample:brick", "--pairs", "sample:cat:sample:mosaic",
                   *TINY, "--out-dir", "out", cwd=cwd)
    return cwd / "out", proc


@pytest.mark.slow
def test_cli_writes_grids_plot_and_record(cli_run):
    out, proc = cli_run
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.json", "losses.png", "stylized.png", "textures.png"]
    for name, rows_cols in [("textures.png", (1, 3)), ("stylized.png", (1, 4))]:
        with Image.open(out / name) as img:
            img.load()
            assert img.format == "PNG"
            assert img.size == grid_size(rows_cols[1], rows_cols[0], 128)
    with Image.open(out / "losses.png") as img:
        img.load()
        assert img.format == "PNG"
    record = json.loads((out / "compare.json").read_text())
    settings = record["settings"]
    assert (settings["size"], settings["iters"], settings["losses"]) == (SIZE, ITERS, list(LOSSES))
    cells = record["grids"]["textures"]["rows"][0]["cells"]
    assert list(cells) == list(LOSSES) and len(cells["gram"]["history"]) == ITERS
    assert "out/compare.json" in proc.stdout


def test_cli_textures_alone_makes_only_that_grid(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["compare", "--textures", "sample:brick", *TINY, "--losses", "gram",
                 "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "losses.png", "textures.png"]


@pytest.mark.parametrize("args, words", [
    (["--pairs", "sample:cat"], ["--pairs", "CONTENT:STYLE"]),
    (["--losses", "gram,nope"], ["unknown loss", "nope"]),
])
def test_cli_bad_arguments_exit_2(tmp_path, args, words):
    proc = run_main("compare", *TINY, *args, "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "out").exists()


def test_cli_refuses_existing_output_without_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "losses.png").write_bytes(b"mine")
    proc = run_main("compare", "--textures", "sample:brick", *TINY, "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(proc, "exists", "losses.png", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == ["losses.png"]
    assert (out / "losses.png").read_bytes() == b"mine"


def interrupt_in_cell(cell: int):
    """A sheet callback that presses Ctrl-C at the first iteration of ``cell``."""
    def callback(s):
        if s.cell.index == cell:
            raise KeyboardInterrupt
    return callback


def test_ctrl_c_keeps_the_finished_cells_and_the_running_ones_best_image():
    with pytest.raises(ComparisonInterrupted) as caught:
        run_compare(["sample:brick"], [("sample:cat", "sample:mosaic")], losses=LOSSES,
                    size=SIZE, iters=ITERS, seed=SEED, device="cpu", callback=interrupt_in_cell(3))
    partial = caught.value.partial
    assert partial.interrupted == ("stylized", "cat + mosaic", "gram")
    textures, stylized = partial.grids
    assert list(textures.rows[0].results) == list(LOSSES)
    assert list(stylized.rows[0].results) == ["gram"]  # interrupted at its first iteration
    columns, rows = partial.table(stylized)
    labels = [label for label, _ in rows[0]]
    assert labels[2].startswith("interrupted, ") and labels[3] == "not run"
    assert grid(columns, rows, cell=64).size == grid_size(4, 1, 64, title=False)
    assert json.loads(json.dumps(partial.record(), default=str))["interrupted"] == {
        "grid": "stylized", "row": "cat + mosaic", "loss": "gram"}


def test_cli_ctrl_c_writes_the_sheet_so_far_under_partial_names(tmp_path, monkeypatch, capsys):
    real = cli.run_compare
    monkeypatch.setattr(cli, "run_compare",
                        lambda *a, **k: real(*a, **k | {"callback": interrupt_in_cell(2)}))
    out = tmp_path / "sheet"
    out.mkdir()
    (out / "textures.partial.png").write_bytes(b"an earlier partial sheet")
    args = ["compare", "--textures", "sample:brick", "--pairs", "sample:cat:sample:mosaic",
            *TINY, "--out-dir", str(out)]
    assert main(args) == 130
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.partial.json", "losses.partial.png", "stylized.partial.png",
        "textures.partial-2.png", "textures.partial.png"]
    assert (out / "textures.partial.png").read_bytes() == b"an earlier partial sheet"
    with Image.open(out / "textures.partial-2.png") as img:
        assert img.size == grid_size(3, 1, 128)
    record = json.loads((out / "compare.partial.json").read_text())
    assert record["interrupted"] == {"grid": "textures", "row": "brick", "loss": "mean"}
    assert list(record["grids"]["stylized"]["rows"][0]["cells"]) == []
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "interrupted in textures: brick / mean; saved 2 of 4 cells" in message


def test_cli_regions_adds_a_grid_of_the_pairs_with_automatic_regions(tmp_path):
    out = tmp_path / "r"
    proc = run_main("compare", "--pairs", "sample:coffee:sample:stars", *TINY, "--losses", "gram",
                    "--regions", "auto:2", "--out-dir", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "losses.png", "regions.png",
                                                     "stylized.png"]
    record = json.loads((out / "compare.json").read_text())
    (row,) = record["grids"]["regions"]["rows"]
    assert row["label"] == "coffee + stars, auto:2"
    cell = row["cells"]["gram"]["settings"]
    assert cell["regions"] == "auto:2" and len(cell["region_plan"]) == 2
    # The plain grid's cell has no regions: the two grids differ by the regions alone.
    plain = record["grids"]["stylized"]["rows"][0]["cells"]["gram"]["settings"]
    assert plain["regions"] is None and "region_plan" not in plain


def test_cli_regions_must_be_auto_k(tmp_path):
    proc = run_main("compare", *TINY, "--regions", "auto:9", "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(proc, "auto:K")


@pytest.mark.slow
def test_each_cell_says_whether_it_converged_or_hit_the_cap():
    # tolerance 0.5 over 10 evaluations: met soon after the first 10; tolerance 0: never.
    loose = run_compare(["sample:brick"], [], losses=("mean",), size=SIZE, iters=40,
                        tolerance=0.5, seed=SEED, device="cpu")
    fixed = run_compare(["sample:brick"], [], losses=("mean",), size=SIZE, iters=12,
                        tolerance=0.0, seed=SEED, device="cpu")
    converged, evaluations = convergence(loose.grids[0].rows[0].results["mean"])
    assert converged and 10 < evaluations < 40
    assert convergence(fixed.grids[0].rows[0].results["mean"]) == (False, 12)
    _, rows = loose.table(loose.grids[0])
    assert rows[0][1][0].endswith(f", conv. {evaluations}")
    _, rows = fixed.table(fixed.grids[0])
    assert rows[0][1][0].endswith(", cap 12")
    cell = fixed.record()["grids"]["textures"]["rows"][0]["cells"]["mean"]
    assert (cell["converged"], cell["last_level_evaluations"]) == (False, 12)
