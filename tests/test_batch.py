"""``texstyle batch``: jobs from a folder or a manifest, resuming, failures that do not stop the
others, and the same bits from a serial run, local worker processes and Ray tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cli_helpers import assert_usage_error, run_main
from texstyle.batch.jobs import Job
from texstyle.batch.local import run_local
from texstyle.batch.work import DONE, FAILED, SKIPPED
from texstyle.image import load_image, resize, save_image
from texstyle.plan import read_input
from texstyle.progress import Progress

# Tiny jobs: 40 px, one pyramid level, a handful of evaluations (about a second each).
TINY = {"size": 40, "coarsest": 40, "iters": 4, "fine_iters": 2, "device": "cpu"}
TINY_FLAGS = ["--size", "40", "--coarsest", "40", "--iters", "4", "--fine-iters", "2",
              "--device", "cpu"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A folder with two small content photos (and a text file the batch must ignore)."""
    folder = tmp_path_factory.mktemp("photos")
    for name in ("cat", "coffee"):
        save_image(resize(read_input(f"sample:{name}", name), 40, 48), folder / f"{name}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def tiny_jobs(photos: Path) -> list[Job]:
    return [Job("cat_mosaic.png", str(photos / "cat.png"), ("sample:mosaic",), dict(TINY)),
            Job("coffee_stars.png", str(photos / "coffee.png"), ("sample:stars",),
                dict(TINY, seed=3)),
            Job("missing.png", str(photos / "missing.png"), ("sample:mosaic",), dict(TINY))]


def pixels(path: Path) -> torch.Tensor:
    return load_image(path, "output")


# --------------------------------------------------------------------------------------------
# Manifests: parsed by the command line's own option declarations
# --------------------------------------------------------------------------------------------


def test_a_manifest_row_takes_any_stylize_option_and_overrides_the_command_line(tmp_path):
    from texstyle.cli.batch import batch_jobs
    from texstyle.cli.commands import build_parser

    (tmp_path / "jobs.csv").write_text(
        "content,style,output,style-weight,--tv-weight,loss\n"
        "sample:cat,sample:mosaic,,3,,\n"
        "sample:cat,sample:mosaic;sample:stars,mix.jpg,,0.2,swd\n")
    args = build_parser().parse_args(["batch", str(tmp_path / "jobs.csv"), "--out-dir", "o",
                                      "--size", "96", "--style-weight", "7"])
    first, second = batch_jobs(args)
    assert (first.name, first.styles) == ("cat_mosaic.png", ("sample:mosaic",))
    assert (first.settings().size, first.settings().style_weight) == (96, 3.0)
    assert (second.name, second.styles) == ("mix.jpg", ("sample:mosaic", "sample:stars"))
    s = second.settings()
    assert (s.size, s.style_weight, s.tv_weight, s.loss) == (96, 7.0, 0.2, "swd")


def test_a_json_manifest_reads_like_the_csv(tmp_path):
    from texstyle.cli.batch import batch_jobs
    from texstyle.cli.commands import build_parser

    rows = [{"content": "sample:cat", "style": ["sample:mosaic", "sample:stars"],
             "style_blend": [0.7, 0.3], "iters": 9}]
    (tmp_path / "jobs.json").write_text(json.dumps(rows))
    args = build_parser().parse_args(["batch", str(tmp_path / "jobs.json"), "--out-dir", "o"])
    (job,) = batch_jobs(args)
    assert job.name == "cat_mosaic+stars.png"
    assert (job.settings().style_blend, job.settings().iters) == ((0.7, 0.3), 9)


@pytest.mark.parametrize(("manifest", "patterns"), [
    ("content,style,stlye-weight\nsample:cat,sample:mosaic,3\n",
     [r"row 1", r"unrecognized arguments: --stlye-weight"]),
    ("content,style\nsample:cat,sample:mosaic\nsample:cat,\n", [r"row 2", r"content and a style"]),
    ("content,style,size\nsample:cat,sample:mosaic,-4\n", [r"row 1", r"size must be"]),
    ("content,style,loss\nsample:cat,sample:mosaic,grm\n", [r"row 1", r"invalid choice: 'grm'"]),
    ("content,style\nsample:cat,sample:mosaic\nsample:cat,sample:mosaic\n",
     [r"jobs 1 and 2 would both write cat_mosaic.png"]),
    ("content,style,output\nsample:cat,sample:mosaic,sub/x.png\n", [r"row 1", r"file name"]),
    ("content,style,output\nsample:cat,sample:mosaic,contact_sheet.png\n", [r"may not be named"]),
])
def test_a_bad_manifest_is_one_line_before_any_work(tmp_path, manifest, patterns):
    (tmp_path / "jobs.csv").write_text(manifest)
    proc = run_main("batch", "jobs.csv", "--out-dir", "out", cwd=tmp_path)
    assert_usage_error(proc, *patterns)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("extra", "patterns"), [
    ([], [r"--style"]),  # a folder needs styles
    (["--style", "sample:mosaic", "--workers", "0"], [r"--workers must be a positive"]),
    (["--style", "sample:mosaic", "--ray-address", "auto"], [r"--ray-address needs --ray"]),
])
def test_bad_batch_flags_are_one_line(tmp_path, photos, extra, patterns):
    proc = run_main("batch", photos, "--out-dir", "out", *extra, cwd=tmp_path)
    assert_usage_error(proc, *patterns)


# --------------------------------------------------------------------------------------------
# Running: failures, resuming, an interrupted batch
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serial(photos, tmp_path_factory, one_thread):
    """The three tiny jobs run one after another in this process, one thread each."""
    out = tmp_path_factory.mktemp("serial")
    events: list[Progress] = []
    outcomes = run_local(tiny_jobs(photos), out, threads=1, callback=events.append)
    return out, outcomes, events


def test_a_failed_job_is_listed_with_its_error_and_the_others_go_on(serial):
    out, outcomes, _ = serial
    assert [o.status for o in outcomes] == [DONE, DONE, FAILED]
    assert "missing.png" in outcomes[2].error and "\n" not in outcomes[2].error
    for name in ("cat_mosaic", "coffee_stars"):
        record = json.loads((out / f"{name}.json").read_text())
        assert record["settings"]["size"] == 40 and record["settings"]["threads"] == 1
        assert pixels(out / f"{name}.png").shape[-1] == 40
    assert record["settings"]["inputs"]["styles"] == ["sample:stars"]
    assert not (out / "missing.png").exists()


def test_progress_events_say_which_job_they_come_from(serial):
    _, _, events = serial
    places = {(p.job.index, p.job.count, p.job.name) for p in events}
    assert places == {(1, 3, "cat_mosaic.png"), (2, 3, "coffee_stars.png")}
    assert next(p.job.finished for p in events if p.job.index == 2) == 1


def test_an_interrupted_batch_resumes_without_redoing_finished_jobs(photos, tmp_path, one_thread):
    jobs = tiny_jobs(photos)[:2]

    def stop_in_the_second_job(p: Progress) -> None:
        if p.job is not None and p.job.index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_local(jobs, tmp_path, threads=1, callback=stop_in_the_second_job)
    first = (tmp_path / "cat_mosaic.png").stat().st_mtime_ns
    assert not (tmp_path / "coffee_stars.png").exists()

    outcomes = run_local(jobs, tmp_path, threads=1)
    assert [o.status for o in outcomes] == [SKIPPED, DONE]
    assert (tmp_path / "cat_mosaic.png").stat().st_mtime_ns == first  # not written again


def test_an_image_without_its_record_is_never_replaced(photos, tmp_path):
    (tmp_path / "cat_mosaic.png").write_bytes(b"the user's own file")
    (outcome,) = run_local(tiny_jobs(photos)[:1], tmp_path, threads=1)
    assert outcome.status == FAILED and "--overwrite" in outcome.error
    assert (tmp_path / "cat_mosaic.png").read_bytes() == b"the user's own file"


def test_the_command_writes_a_summary_a_contact_sheet_and_resumes(photos, tmp_path):
    args = ["batch", photos, "--out-dir", "out", "--style", "sample:mosaic", "--threads", "1",
            "--quiet", *TINY_FLAGS]
    first = run_main(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "cat_mosaic.png" in first.stdout and "2 done, 0 skipped, 0 failed" in first.stdout
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {
        "cat_mosaic.png", "cat_mosaic.json", "coffee_mosaic.png", "coffee_mosaic.json",
        "contact_sheet.png", "batch.json"}
    again = run_main(*args, cwd=tmp_path)
    assert again.returncode == 0 and "0 done, 2 skipped, 0 failed" in again.stdout
    record = json.loads((out / "batch.json").read_text())
    assert [o["status"] for o in record["outcomes"]] == ["skipped", "skipped"]


# --------------------------------------------------------------------------------------------
# The same bits however the jobs ran
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_worker_processes_write_the_same_files_as_a_serial_run(serial, photos, tmp_path):
    serial_out, _, _ = serial
    events: list[Progress] = []
    outcomes = run_local(tiny_jobs(photos), tmp_path, workers=2, threads=1,
                         callback=events.append)
    assert [o.status for o in outcomes] == [DONE, DONE, FAILED]
    for name in ("cat_mosaic.png", "coffee_stars.png"):
        assert torch.equal(pixels(tmp_path / name), pixels(serial_out / name)), name
    assert {p.job.name for p in events} == {"cat_mosaic.png", "coffee_stars.png"}


@pytest.mark.slow
def test_ray_tasks_write_the_same_files_as_a_serial_run(serial, photos, tmp_path):
    import ray

    from texstyle.batch.ray_tasks import run_ray

    serial_out, _, _ = serial
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcomes = run_ray(tiny_jobs(photos), tmp_path, threads=1)
    finally:
        ray.shutdown()
    assert [o.status for o in outcomes] == [DONE, DONE, FAILED]
    assert "missing.png" in outcomes[2].error
    for name in ("cat_mosaic.png", "coffee_stars.png"):
        assert torch.equal(pixels(tmp_path / name), pixels(serial_out / name)), name
