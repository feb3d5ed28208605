"""The run plan: decided before any work, the same as what the run then does and records."""

from __future__ import annotations

import pytest

from texstyle import api
from texstyle.cli import main
from texstyle.config import StylizeSettings, TextureSettings
from texstyle.plan import LevelPlan, plan_run

SMALL = dict(size=64, iters=3, fine_iters=None, coarsest=32, device="cpu")


def test_plan_is_what_the_run_records(one_thread):
    settings = TextureSettings(**SMALL)
    plan = plan_run("sample:brick", None, settings)
    assert [lv.shape for lv in plan.levels] == [(32, 32), (64, 64)]
    assert plan.total_evaluations == 6
    result = api.run_texture("sample:brick", settings)
    assert result.settings == plan.record()
    assert len(result.history) == plan.total_evaluations


def test_tiled_levels_count_evaluations_per_tile():
    settings = TextureSettings(**SMALL, refine_tile=48, refine_overlap=8, print_iters=2)
    plan = plan_run("sample:brick", None, settings)
    assert plan.levels == [LevelPlan((32, 32), 3, 0), LevelPlan((64, 64), 2, 4)]
    assert plan.total_evaluations == 3 + 2 * 4
    assert plan.offset(2) == 3
    # A tile's pass costs its own pixels, not the level's.
    assert plan.estimated_seconds(1.0) == 3 * 32 * 32 + 8 * 48 * 48


def test_feedforward_plan_has_no_levels():
    plan = plan_run("sample:mosaic", "sample:cat", StylizeSettings(size=48, method="adain"))
    assert plan.feedforward and plan.levels == [] and plan.total_evaluations == 0
    assert "one feed-forward pass" in plan.describe()


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, monkeypatch, capsys, one_thread):
    monkeypatch.chdir(tmp_path)
    code = main(["texture", "sample:brick", "-o", "out.png", "--size", "64", "--iters", "3",
                 "--fine-iters", "2", "--coarsest", "32", "--device", "cpu", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "level 1/2: 32x32 px, 3 evaluations" in out
    assert "level 2/2: 64x64 px, 2 evaluations" in out
    assert "total: 5 evaluations" in out and "peak memory: about" in out
    assert "on this machine" in out
    assert list(tmp_path.iterdir()) == []


def test_dry_run_reports_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["texture", "sample:brick", "-o", "out.png", "--size", "8", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "too small" in err


@pytest.mark.parametrize("seconds", [5.0, 125.0, 7300.0])
def test_describe_gives_a_readable_duration(seconds):
    plan = plan_run("sample:brick", None, TextureSettings(**SMALL))
    per_px = seconds / plan.estimated_seconds(1.0)
    line = plan.describe(per_px).splitlines()[-1]
    assert line.startswith("time: about ")
    assert {5.0: "5 s", 125.0: "2 min 5 s", 7300.0: "2 h 1 min"}[seconds] in line


@pytest.mark.parametrize("settings", [TextureSettings(device="cpu"), StylizeSettings(device="cpu")])
def test_default_pyramid_starts_at_128_px(settings):
    # No 64 px level by default: there the deep layers see a few dozen positions and textures
    # copied the exemplar's layout (docs/quality.md, session 8).  A 256 px run has two levels.
    content = "sample:cat" if isinstance(settings, StylizeSettings) else None
    plan = plan_run("sample:brick", content, settings)
    assert [max(lv.shape) for lv in plan.levels] == [128, 256]
