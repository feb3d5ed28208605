"""``texstyle report``: the quick report end to end in a subprocess, its refusals, and the plans.

The one real run is ``--quick`` (48 px, a few iterations per level: about a minute on two cores)
and is shared by the checks on its files; everything else fails before any work or runs nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import run_cli
from texstyle import TexstyleError
from texstyle.cli import main
from texstyle.report.build import FILES, default_plan, plan_from_folder, stage_names
from texstyle.stats import STATISTICS


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("report")
    proc = run_cli("report", "out", "--quick", "--device", "cpu", "--quiet", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd / "out", proc


@pytest.mark.slow
def test_quick_report_writes_every_file_and_the_index_links_them(quick_report):
    out, proc = quick_report
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    assert "index.html" in proc.stdout
    page = (out / FILES["index"]).read_text(encoding="utf-8")
    linked = set(re.findall(r'(?:src|href)="([^"#]+)"', page))
    assert linked == set(FILES.values()) - {FILES["index"]}
    shown = set(re.findall(r'<img src="([^"]+)"', page))
    assert shown == {FILES[k] for k in ("texture_sheet", "stylized_sheet", "colour",
                                        "compare_textures", "compare_stylized", "compare_regions",
                                        "compare_losses",
                                        "mixing", "losses", "adversarial", "adversarial_curves")}
    for section in ("favourites", "colour", "comparison", "mixing", "losses", "adversarial",
                    "formulas", "timings"):
        assert f'id="{section}"' in page
    assert "E_P[f fᵀ]" in page  # the theory note's formulas


@pytest.mark.slow
def test_quick_report_pictures_have_the_planned_sizes(quick_report):
    out, _ = quick_report
    with Image.open(out / FILES["texture"]) as img:
        assert img.size == (48, 48)  # the mosaic sample is square
    with Image.open(out / FILES["stylized"]) as img:
        assert img.size == (48, 32)  # the cat photo is 3:2
    # Comparison grids: inputs then one column per statistic, one row per exemplar or pair.
    cell = 128
    for name, inputs, rows in (("compare_textures", 1, 3), ("compare_stylized", 2, 3),
                               ("compare_regions", 2, 1)):  # regions: the first pair only
        with Image.open(out / FILES[name]) as img:
            assert img.size == (12 + (inputs + len(STATISTICS)) * (cell + 12),
                                36 + 28 + rows * (cell + 40) + 12)
    plan = default_plan(quick=True)
    with Image.open(out / FILES["mixing"]) as img:  # the two styles, then one column per blend
        assert img.size == (12 + (2 + len(plan.blends)) * (cell + 12),
                            36 + 28 + len(plan.mix_losses) * (cell + 40) + 12)
    # The adversarial grid: the exemplar, then one column per method, one row per exemplar.
    with Image.open(out / FILES["adversarial"]) as img:
        assert img.size == (12 + (1 + len(plan.adv_methods)) * (cell + 12),
                            36 + 28 + len(plan.adv_exemplars) * (cell + 40) + 12)
    # The colour figure: content, style, plain, luminance, histogram, all 256 px tall.
    with Image.open(out / FILES["colour"]) as img:
        assert img.height == 28 + 256 + 2 * 12 and img.width > 5 * 256
    for name in ("texture_sheet", "stylized_sheet", "compare_losses", "losses", "colour",
                 "adversarial", "adversarial_curves"):
        with Image.open(out / FILES[name]) as img:
            img.load()
            assert np.asarray(img.convert("L")).std() > 1  # not blank


@pytest.mark.slow
def test_quick_report_record_has_settings_histories_and_timings(quick_report):
    out, _ = quick_report
    record = json.loads((out / FILES["record"]).read_text())
    plan = default_plan(quick=True, device="cpu")
    assert record["plan"]["quick"] is True
    assert list(record["wall_s"]) == stage_names(plan)
    assert all(seconds > 0 for seconds in record["wall_s"].values())
    assert len(record["texture"]["history"]) == plan.iters  # one pyramid level at 48 px
    assert record["texture"]["settings"]["loss"] == plan.texture_loss
    assert record["comparison"]["settings"]["losses"] == list(STATISTICS)
    blends = [cell["blend"] for cell in record["mixing"]]
    assert blends == [[w, 1 - w] for _ in plan.mix_losses for w in plan.blends]
    assert [cell["loss"] for cell in record["mixing"]] == [
        loss for loss in plan.mix_losses for _ in plan.blends]
    assert [cell["settings"]["style_blend"] for cell in record["mixing"]] == blends


@pytest.mark.slow
def test_quick_report_adversarial_section_has_the_table_and_this_runs_numbers(quick_report):
    out, _ = quick_report
    plan = default_plan(quick=True)
    assert set(plan.adv_methods) == {"gan logreg", "gan quadratic", "gan mlp:128", "mean",
                                     "meancov", "gram"}
    record = json.loads((out / FILES["record"]).read_text())
    cells = record["adversarial"]
    assert [(c["exemplar"], c["method"]) for c in cells] == [
        (ex, m) for ex in plan.adv_exemplars for m in ("uniform noise", *plan.adv_methods)]
    for c in cells:
        gaps = [c["mean_gap"], c["cov_gap"]] + [v for g in c["per_layer"].values()
                                                for v in g.values()]
        assert all(np.isfinite(gaps)) and min(gaps) >= 0, c["method"]
        assert len(c["per_layer"]) == 5
    runs = {c["method"]: c for c in cells if c["method"] != "uniform noise"}
    assert all(runs[m]["settings"]["optimizer"] == "adam" for m in runs if m.startswith("gan"))
    assert len(runs["gan logreg"]["history"]) == plan.adv_iters
    # Every cell is one level at the experiment's size: the gaps measure statistics, not schedules.
    assert all(runs[m]["settings"]["levels"] == [[plan.adv_size, plan.adv_size]] for m in runs)
    assert runs["gram"]["settings"]["loss"] == "gram"
    # The colour controls ran with the plain stylisation's seed and budget.
    for mode in ("luminance", "histogram"):
        settings = record["colour"][mode]["settings"]
        assert settings["preserve_color"] == mode
        assert {k: settings[k] for k in ("seed", "iters", "loss", "output_size")} == {
            k: record["stylized"]["settings"][k] for k in ("seed", "iters", "loss", "output_size")}

    page = (out / FILES["index"]).read_text(encoding="utf-8")
    section = re.search(r'<section id="adversarial">(.*?)</section>', page, re.DOTALL).group(1)
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", section)
    assert len(plan.adv_exemplars) == 1  # so the averages are the one exemplar's gaps
    averages = {r[0]: (float(r[1]), float(r[2])) for r in rows if r[0] in runs}
    assert set(averages) == set(plan.adv_methods)  # one average row per method
    for method, (mean_gap, cov_gap) in averages.items():
        assert mean_gap == pytest.approx(runs[method]["mean_gap"], abs=5e-4)
        assert cov_gap == pytest.approx(runs[method]["cov_gap"], abs=5e-4)
    # The analysis names the discriminator that left the smaller covariance gap in this run.
    lin, quad = runs["gan logreg"]["cov_gap"], runs["gan quadratic"]["cov_gap"]
    winner = "quadratic" if quad < lin else "logreg"
    assert f"the <code>{winner}</code> discriminator left the smaller covariance gap" in section
    assert f"{min(lin, quad):.3f}" in section


def one_line_error(capsys, argv: list[str], *patterns: str) -> None:
    """``main(argv)`` in-process: exit 2 and one stderr line matching every pattern."""
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0], lines
    for pattern in patterns:
        assert re.search(pattern, lines[0]), (pattern, lines[0])


@pytest.mark.slow
def test_report_refuses_to_overwrite_before_any_work(quick_report, capsys):
    out, _ = quick_report
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    one_line_error(capsys, ["report", str(out), "--quick", "--device", "cpu", "--quiet"],
                   "exists", "--overwrite")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def write_images(folder: Path, names: list[str]) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(folder / name)


def test_images_folder_without_a_photo_is_a_one_line_error(tmp_path, capsys):
    write_images(tmp_path / "imgs", ["a.png", "b.png"])
    one_line_error(capsys, ["report", str(tmp_path / "out"), "--images", str(tmp_path / "imgs"),
                            "--quick"], "--images", "photo", "found 0 photo")
    assert not (tmp_path / "out").exists()


def test_unreadable_input_fails_before_any_work(tmp_path, capsys):
    write_images(tmp_path / "imgs", ["photo.png", "a.png"])
    (tmp_path / "imgs" / "b.png").write_bytes(b"not a picture")
    one_line_error(capsys, ["report", str(tmp_path / "out"), "--images", str(tmp_path / "imgs"),
                            "--quick", "--quiet"], "b.png", "not an image")
    assert not (tmp_path / "out").exists()


def test_outdir_that_is_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "out").write_text("not a folder")
    one_line_error(capsys, ["report", str(tmp_path / "out"), "--quick"], "OUTDIR", "not a folder")


def test_plan_from_folder_assigns_photos_and_styles(tmp_path):
    write_images(tmp_path / "imgs", ["photo_b.jpg", "content_a.png", "z.png", "m.png"])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    plan = plan_from_folder(tmp_path / "imgs", quick=True)

    def names(paths):
        return [Path(p).name for p in paths]

    assert Path(plan.photo).name == "content_a.png" and Path(plan.texture).name == "m.png"
    assert names(plan.textures) == ["m.png", "z.png"]
    assert names(plan.mix) == ["m.png", "z.png"]
    assert [names(p) for p in plan.pairs] == [["content_a.png", "m.png"], ["photo_b.jpg", "z.png"]]
    assert names(plan.adv_exemplars) == ["m.png"]  # quick: one exemplar, the folder's first
    assert plan.size == default_plan(quick=True).size


def test_plan_from_missing_folder_raises(tmp_path):
    with pytest.raises(TexstyleError, match="not a folder"):
        plan_from_folder(tmp_path / "nope")
