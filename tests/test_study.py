"""The seeded adversarial study: cache keys, plan order, tables; one tiny cell end to end."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from texstyle.studies.moments import MomentGaps, moment_extractor
from texstyle.studies.study import (
    STABILISERS,
    CellSpec,
    StudyCell,
    load_cells,
    markdown_summary,
    paired,
    plan,
    read_cell,
    run_spec,
    study_plan,
    summarise,
)


def test_key_changes_with_every_setting_and_is_stable():
    base = CellSpec("cells", "gan logreg", 0)
    variants = [CellSpec("brick", "gan logreg", 0), CellSpec("cells", "mean", 0),
                CellSpec("cells", "gan logreg", 1), CellSpec("cells", "gan logreg", 0, iters=300),
                CellSpec("cells", "gan logreg", 0, extra=(("r1_weight", 1.0),), variant="r1"),
                CellSpec("cells", "gan logreg", 0, init_from="mean", variant="from mean")]
    keys = {v.key() for v in variants}
    assert len(keys) == len(variants) and base.key() not in keys
    assert base.key() == CellSpec("cells", "gan logreg", 0).key()
    assert base.key().startswith("cells-gan-logreg-s0-plain-")


def test_plan_runs_seed_by_seed_and_starts_from_the_mean_cell():
    specs = plan(["cells", "brick"], [0, 1], ("core", "separating"))
    assert [s.seed for s in specs] == [0] * 12 + [1] * 12
    separating = [s for s in specs if s.variant == "from mean"]
    assert all(s.start() == CellSpec(s.exemplar, "mean", s.seed) for s in separating)
    assert all(s.start() in specs[:specs.index(s)] for s in separating)
    with pytest.raises(ValueError, match="unknown phase"):
        plan(["cells"], [0], ("nonsense",))


def test_study_plan_puts_the_deciding_cells_first_without_repeats():
    specs = study_plan()
    assert len(specs) == len(set(specs))
    first = specs[:20]  # seed 0: the core methods on five exemplars
    assert {s.seed for s in first} == {0}
    assert {s.method for s in first} == {"mean", "meancov", "gan logreg", "gan quadratic"}
    assert {s.variant for s in specs[20:25]} == set(STABILISERS)
    assert specs[-1].variant in STABILISERS and specs[-1].seed == 4
    # Five seeds of the core methods on every exemplar come before any later stabiliser run.
    core = [i for i, s in enumerate(specs) if s.variant == "plain" and s.method in
            ("mean", "meancov", "gan logreg", "gan quadratic")]
    assert len(core) == 100
    later = [i for i, s in enumerate(specs[25:], 25) if s.variant in STABILISERS]
    assert max(core) < min(later)
    # Then the separating experiment at five seeds, before the stabilisers' and the MLP's seeds.
    separating = [i for i, s in enumerate(specs) if s.variant == "from mean"]
    assert len(separating) == 50
    seeds_later = [i for i, s in enumerate(specs) if s.seed > 0 and
                   (s.variant in STABILISERS or s.method == "gan mlp:128")]
    assert max(separating) < min(seeds_later)
    mlp = [i for i, s in enumerate(specs) if s.method == "gan mlp:128"]
    stabilised_later = [i for i, s in enumerate(specs) if s.seed > 0 and s.variant in STABILISERS]
    assert len(mlp) == 25 and max(mlp) < min(stabilised_later)
    stabilised_seed0 = [i for i, s in enumerate(specs) if s.seed == 0 and
                        s.variant in STABILISERS]
    assert len(stabilised_seed0) == 25 and max(stabilised_seed0) < min(seeds_later)


def _cell(exemplar, method, seed, mean, cov, variant="plain"):
    gaps = MomentGaps({"relu1_1": (mean, cov)})
    return StudyCell(CellSpec(exemplar, method, seed, variant=variant), gaps, 1.0, 1.0)


def test_summaries_and_paired_differences():
    s = summarise([1.0, 2.0, 3.0])
    assert (s.mean, s.n) == (2.0, 3) and math.isclose(s.sd, 1.0)
    assert math.isnan(summarise([4.0]).sd) and summarise([]).n == 0
    cells = [_cell("cells", "gan logreg", 0, 0.2, 0.5), _cell("cells", "gan logreg", 1, 0.1, 0.4),
             _cell("cells", "gan quadratic", 0, 0.1, 0.3), _cell("brick", "gan quadratic", 0, 0, 0)]
    # Only (cells, 0) has both methods.
    diff = paired(cells, ("gan quadratic", "plain"), ("gan logreg", "plain"), "cov")
    assert diff == [pytest.approx(-0.2)]
    table = markdown_summary(cells, [("gan logreg", "plain"), ("mean", "plain")],
                             exemplars=("cells", "brick"))
    assert "0.150±0.071 / 0.450±0.071 (n=2)" in table
    assert table.splitlines()[-1].count("not run") == 3


@pytest.mark.slow
def test_one_tiny_cell_is_cached_and_read_back(tmp_path):
    spec = CellSpec("brick", "gan logreg", 0, size=32, iters=3, moment_iters=3,
                    init_from="mean", variant="from mean")
    cell = run_spec(spec, tmp_path, extractor=moment_extractor(), device="cpu")
    start = spec.start()
    assert start is not None and read_cell(start, tmp_path) is not None  # its start ran first
    again = read_cell(spec, tmp_path)
    assert again is not None and again.gaps == cell.gaps and again.spec == spec
    assert len(again.history) == 3 and any(k.startswith("d_acc/") for k in again.history[0])
    record = json.loads((tmp_path / f"{spec.key()}.json").read_text())
    assert record["spec"]["init_from"] == "mean"
    assert {c.spec for c in load_cells(tmp_path)} == {spec, start}


def test_report_reads_its_adversarial_cells_from_the_study_cache(tmp_path):
    from dataclasses import replace

    from texstyle.report.build import _adversarial_cell, default_plan
    from texstyle.studies.experiment import exemplar_at

    plan = replace(default_plan(quick=True, device="cpu"), adv_cache=str(tmp_path),
                   adv_iters=3, adv_moment_iters=3, adv_size=32)
    extractor = moment_extractor()
    style = exemplar_at("sample:cells", 32)
    first = _adversarial_cell(plan, "sample:cells", "mean", None, extractor, style)
    spec = CellSpec("cells", "mean", plan.seed, 32, 3, 3)
    cached = read_cell(spec, tmp_path)
    assert cached is not None and cached.gaps == first.gaps  # the report wrote the study's cell
    # A cell already in the cache is read, not run: a doctored record comes back as it is.
    path = tmp_path / f"{spec.key()}.json"
    record = json.loads(path.read_text())
    record["seconds"] = 12345.0
    path.write_text(json.dumps(record))
    again = _adversarial_cell(plan, "sample:cells", "mean", None, extractor, style)
    assert again.seconds == 12345.0 and again.gaps == first.gaps
    assert tuple(again.image.shape) == (1, 3, 32, 32)
    # The report draws D curves and writes its record from the cell's history: it comes along.
    assert again.result is not None and len(again.result.history) == 3
    assert again.result.settings["study_key"] == spec.key()


def test_report_with_a_study_cache_renders_its_adversarial_section(tmp_path):
    """A GAN cell read from the cache carries its D curves, so the report can draw them."""
    from dataclasses import replace
    from types import SimpleNamespace

    from texstyle.report.build import _adversarial_cell, default_plan
    from texstyle.report.render import adversarial_figures
    from texstyle.studies.experiment import Experiment, exemplar_at

    plan = replace(default_plan(quick=True, device="cpu"), adv_cache=str(tmp_path),
                   adv_iters=3, adv_moment_iters=3, adv_size=32)
    extractor = moment_extractor()
    style = exemplar_at("sample:cells", 32)
    _adversarial_cell(plan, "sample:cells", "gan logreg", None, extractor, style)  # cached now
    cached = _adversarial_cell(plan, "sample:cells", "gan logreg", None, extractor, style)
    exp = Experiment(("sample:cells",), ("gan logreg",), 32, 3, 3, 0, [cached])
    figures = adversarial_figures(SimpleNamespace(adversarial=exp))  # all it reads of a Report
    assert len(figures) == 2 and all(im.width > 100 for im in figures.values())


def test_late_accuracy_is_the_mean_and_swing_of_each_layers_tail():
    from texstyle.studies.study import late_accuracy

    # relu1_1 alternates 0.6 / 0.8 (mean 0.7, a swing), relu2_1 sits at 0.5 (chance, no swing).
    history = tuple({"d_acc/relu1_1": 0.6 + 0.2 * (i % 2), "d_acc/relu2_1": 0.5, "total": 1.0}
                    for i in range(300))
    cell = StudyCell(CellSpec("cells", "gan logreg", 0), MomentGaps({}), 1.0, 1.0, history)
    mean, swing = late_accuracy(cell, last=200)
    assert mean == pytest.approx(0.6)
    assert swing == pytest.approx(0.5 * statistics.stdev([0.6, 0.8] * 100))
    empty = StudyCell(CellSpec("cells", "mean", 0), MomentGaps({}), 1.0, 1.0, ())
    assert all(math.isnan(x) for x in late_accuracy(empty))
    assert late_accuracy(cell, last=200, layer="relu2_1") == (0.5, 0.0)


def test_ripple_finds_the_period_of_a_swinging_d_and_none_in_a_drift():
    from texstyle.studies.study import ripple

    def cell(values):
        history = tuple({"d_acc/relu1_1": v} for v in values)
        return StudyCell(CellSpec("cells", "gan logreg", 0), MomentGaps({}), 1.0, 1.0, history)

    swinging = [0.7 + 0.05 * math.sin(2 * math.pi * i / 24) for i in range(600)]
    peak, lag = ripple(cell(swinging))
    assert lag == 24 and peak > 0.9
    drifting = [0.9 - 0.0005 * i for i in range(600)]  # falls steadily: no zero crossing soon
    assert math.isnan(ripple(cell(drifting))[0])
    rng = random.Random(0)
    noise = [0.7 + 0.05 * rng.gauss(0, 1) for _ in range(600)]
    assert ripple(cell(noise))[0] < 0.3  # jitter has no clear second peak
    assert math.isnan(ripple(cell(swinging[:100]))[0])  # too short to tell
