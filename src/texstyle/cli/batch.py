"""``texstyle batch``: a folder or manifest of stylisations, resumable, locally or on Ray.

A manifest row's options are parsed by a parser built from the same option declarations as
``texstyle stylize``'s flags (config.option), with the batch command's own flags as defaults,
so a row accepts exactly what the command line does and overrides what was given for all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..batch.jobs import Job, check_names, default_name, folder_jobs, stem
from ..batch.local import run_local
from ..batch.manifest import MANIFEST_SUFFIXES, Row, read_manifest
from ..batch.work import DONE, FAILED, SKIPPED, Outcome
from ..config import StylizeSettings, check_positive_int
from ..errors import TexstyleError
from ..image import load_image, output_format, save_image, to_pil, write_text
from ..report.figures import contact_sheet
from .commands import _add_settings_flags, _settings_from_args
from .progress import BatchRenderer

SHEET, RECORD = "contact_sheet.png", "batch.json"
EXIT_FAILED_JOBS = 1


def add_batch_parser(sub: Any) -> None:
    p = sub.add_parser(
        "batch", help="stylise a folder or a manifest of jobs, resumably, locally or on Ray",
        description="Stylise every image of a folder in every --style, or every row of a CSV/JSON "
                    "manifest (columns content, style, output and any stylize option). Finished "
                    "jobs are skipped when the command is run again.")
    p.add_argument("jobs", type=Path, metavar="JOBS",
                   help="a folder of content images, or a .csv/.json manifest")
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the outputs")
    p.add_argument("--style", action="append", default=[],
                   help="with a folder: a style image (repeat: every image in every style)")
    p.add_argument("--workers", type=int, default=1,
                   help="local worker processes, each with its share of the threads (default 1)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="intra-op threads per job (default: the CPU cores / --workers, 1 with "
                        "--ray); the same job gives the same bits only with the same count")
    p.add_argument("--ray", action="store_true",
                   help="run each job as a Ray task (pip install 'texstyle[ray]')")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="a running Ray cluster (auto, ray://host:10001); default: start a local one")
    p.add_argument("--overwrite", action="store_true",
                   help="run every job again and replace its output")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_settings_flags(p, StylizeSettings, "stylize")


class _RowParser(argparse.ArgumentParser):
    """A manifest row's flags: a problem is a one-line ``TexstyleError`` naming the row."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise TexstyleError(message)


def _row_parser(args: argparse.Namespace) -> argparse.ArgumentParser:
    parser = _RowParser(prog="row", add_help=False)
    _add_settings_flags(parser, StylizeSettings, "stylize")
    names = [a.dest for a in parser._actions]
    parser.set_defaults(**{n: getattr(args, n) for n in names if hasattr(args, n)})
    return parser


def manifest_jobs(path: Path, args: argparse.Namespace) -> list[Job]:
    """One job per row, its options parsed like the command line's (row over command line)."""
    parser = _row_parser(args)
    jobs = []
    for row in read_manifest(path):
        where = f"manifest {path} row {row.number}"
        try:
            ns = parser.parse_args(_argv(row))
            options = _settings_from_args(ns, StylizeSettings).to_dict()
            name = row.output or default_name(row.content, row.styles)
            if Path(name).name != name:
                raise TexstyleError(f"output {name!r} must be a file name, not a path")
            output_format(Path(name))
        except TexstyleError as exc:
            raise TexstyleError(f"{where}: {exc}") from None
        jobs.append(Job(name, row.content, row.styles, options))
    return jobs


def _argv(row: Row) -> list[str]:
    return [part for flag, value in row.flags for part in ([flag, value] if value else [flag])]


def batch_jobs(args: argparse.Namespace) -> list[Job]:
    source: Path = args.jobs
    if source.is_dir():
        if not args.style:
            raise TexstyleError("give at least one --style for a folder of content images")
        options = _settings_from_args(args, StylizeSettings).to_dict()
        jobs = folder_jobs(source, [[s] for s in args.style], options)
    elif source.suffix.lower() in MANIFEST_SUFFIXES:
        if not source.is_file():
            raise TexstyleError(f"manifest not found: {source}")
        if args.style:
            raise TexstyleError("--style is for a folder; a manifest names each row's style")
        jobs = manifest_jobs(source, args)
    else:
        raise TexstyleError(f"JOBS must be a folder or a {'/'.join(MANIFEST_SUFFIXES)} manifest, "
                            f"got {source}")
    check_names(jobs, str(source))
    for job in jobs:
        if job.name in (SHEET, RECORD):
            raise TexstyleError(f"a job may not be named {job.name}: the batch writes that file")
    return jobs


def run_batch(args: argparse.Namespace) -> int:
    check_positive_int("--workers", args.workers)
    if args.threads is not None:
        check_positive_int("--threads", args.threads)
    if args.ray_address and not args.ray:
        raise TexstyleError("--ray-address needs --ray")
    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        raise TexstyleError(f"--out-dir {out} is a file, not a folder")
    jobs = batch_jobs(args)
    # The sheet and the summary are the batch's own: replaced on a re-run of a batch, but a
    # file of that name in a folder that holds no batch is the user's.
    if (out / SHEET).exists() and not (out / RECORD).exists() and not args.overwrite:
        raise TexstyleError(f"output exists: {out / SHEET} (pass --overwrite to replace it)")
    cores = os.cpu_count() or 1
    # A Ray task asks for one CPU per thread: one thread lets the cluster run a task per CPU.
    threads = args.threads or (1 if args.ray else max(1, cores // args.workers))
    render = BatchRenderer(quiet=args.quiet, count=len(jobs))
    start = time.perf_counter()
    try:
        if args.ray:
            from ..batch.ray_tasks import run_ray

            outcomes = run_ray(jobs, out, address=args.ray_address, threads=threads,
                               overwrite=args.overwrite, on_outcome=render.outcome)
        else:
            outcomes = run_local(jobs, out, workers=args.workers, threads=threads,
                                 overwrite=args.overwrite, callback=render,
                                 on_outcome=render.outcome)
    except KeyboardInterrupt:
        render.close()
        print(f"texstyle: interrupted; {render.written} job(s) written this time are kept in "
              f"{out}; run the same command again to go on", file=sys.stderr)
        return 130
    finally:
        render.close()
    wall = time.perf_counter() - start
    print(summary_table(jobs, outcomes))
    sheet = _write_sheet(jobs, outcomes, out)
    _write_record(jobs, outcomes, out, wall, threads, args)
    counts = {s: sum(o.status == s for o in outcomes) for s in (DONE, SKIPPED, FAILED)}
    print(f"texstyle: {counts[DONE]} done, {counts[SKIPPED]} skipped, {counts[FAILED]} failed "
          f"in {wall:.1f} s; {sheet or 'no contact sheet (nothing finished)'}")
    return EXIT_FAILED_JOBS if counts[FAILED] else 0


def summary_table(jobs: list[Job], outcomes: list[Outcome]) -> str:
    """One line per job: name, status, seconds and, for a failed job, its one-line error."""
    width = max(len("job"), *(len(j.name) for j in jobs))
    lines = [f"{'job':<{width}}  {'status':<7}  {'seconds':>7}  error",
             f"{'-' * width}  -------  -------  -----"]
    for o in outcomes:
        seconds = f"{o.seconds:7.1f}" if o.status != SKIPPED else f"{'-':>7}"
        lines.append(f"{o.name:<{width}}  {o.status:<7}  {seconds}  {o.error or ''}".rstrip())
    return "\n".join(lines)


def _write_sheet(jobs: list[Job], outcomes: list[Outcome], out: Path) -> Path | None:
    """Every finished output, labelled, six to a row (the batch's contact sheet)."""
    cells = []
    for job, o in zip(jobs, outcomes):
        if o.status in (DONE, SKIPPED):
            image = load_image(out / job.name, "batch output")
            cells.append((f"{stem(job.content)} / {'+'.join(stem(s) for s in job.styles)}",
                          to_pil(image)))
    if not cells:
        return None
    rows = [cells[i:i + 6] for i in range(0, len(cells), 6)]
    sheet = contact_sheet(rows, height=160, width=160, title=f"texstyle batch: {len(cells)} "
                          f"of {len(jobs)} jobs finished")
    return save_image(sheet, out / SHEET, overwrite=True)


def _write_record(jobs: list[Job], outcomes: list[Outcome], out: Path, wall: float,
                  threads: int, args: argparse.Namespace) -> None:
    record = {"texstyle": __version__, "jobs": str(args.jobs), "wall_s": round(wall, 3),
              "runner": "ray" if args.ray else f"local, {args.workers} worker(s)",
              "threads_per_job": threads,
              "outcomes": [{"name": o.name, "status": o.status, "seconds": round(o.seconds, 3),
                            "cpu_seconds": round(o.cpu_seconds, 3), "error": o.error,
                            "content": j.content, "styles": list(j.styles)}
                           for j, o in zip(jobs, outcomes)]}
    write_text(json.dumps(record, indent=1) + "\n", out / RECORD, overwrite=True)
