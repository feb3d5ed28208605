"""Method x size → wall seconds from a cold start, evaluations, full-resolution losses, peak RSS.

Every row runs the real command line (`python -m texstyle ...`) in a fresh process, so the time
includes start-up, weight loading and the style analysis, and the peak RSS is that process's own
(``/proc/self/status`` VmHWM).  The losses of the written image are then measured at full resolution with
``api.full_resolution_losses`` — the same yardstick for a pyramid and a single-scale run.

The naive method (one level at full size, L-BFGS from the content photo / from noise, 500
evaluations) is too slow to run in full on a CPU at 512 px and above; its rows run
``--naive-iters`` evaluations and the table extrapolates to 500 from the per-evaluation cost of
the same run (marked "est.").

    python benchmarks/bench_speed.py                      # the default table
    python benchmarks/bench_speed.py --rows stylize-512 --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from texstyle.api import full_resolution_losses, read_input
from texstyle.config import StylizeSettings, TextureSettings

CONTENT, STYLE, EXEMPLAR = "sample:astronaut", "sample:mosaic", "sample:cells"
NAIVE_EVALUATIONS = 500
# The command line, then its own peak RSS on stderr (a child's ru_maxrss can be its parent's).
CLI_WITH_PEAK = """
import sys
from texstyle.cli import main
from texstyle.memory import peak_rss_bytes
code = main(sys.argv[1:])
print(f"peak_rss={peak_rss_bytes()}", file=sys.stderr)
sys.exit(code)
"""


@dataclass
class Row:
    name: str  # the group, e.g. "stylize-512"
    method: str
    args: list[str]
    naive: bool = False
    extra: dict = field(default_factory=dict)


def rows(naive_iters: int) -> list[Row]:
    out = []
    for size in (512, 1024):
        group = f"stylize-{size}"
        base = ["stylize", CONTENT, "--style", STYLE, "--size", str(size)]
        out += [
            Row(group, "adain (feed-forward)", base + ["--method", "adain"]),
            Row(group, "wct (feed-forward)", base + ["--method", "wct"]),
            Row(group, "gatys, defaults", base),
            Row(group, "gatys, defaults, --init adain", base + ["--init", "adain"]),
            Row(group, "gatys, before (100 per level)", base + ["--fine-iters", "100"]),
            Row(group, "naive (content init)",
                base + ["--coarsest", str(size), "--iters", str(naive_iters)], naive=True),
        ]
    for size in (256, 1024):
        group = f"texture-{size}"
        base = ["texture", EXEMPLAR, "--size", str(size)]
        out += [
            Row(group, "gatys, defaults", base),
            Row(group, "gatys, before (150 per level from 128 px)",
                base + ["--coarsest", "128", "--fine-iters", "150"]),
            Row(group, "naive (noise init)",
                base + ["--coarsest", str(size), "--iters", str(naive_iters)], naive=True),
        ]
    return out


def run_row(row: Row, device: str, workdir: Path) -> dict:
    out = workdir / f"{row.name}-{abs(hash(row.method))}.png"
    cmd = [sys.executable, "-c", CLI_WITH_PEAK, *row.args, "--device", device, "-o", str(out),
           "--quiet", "--overwrite"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr}")
    record = json.loads(out.with_suffix(".json").read_text())
    s = record["settings"]
    cls = StylizeSettings if s["mode"] == "stylize" else TextureSettings
    settings = cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in s.items()
                      if k in cls.field_names()})
    content = s["inputs"]["content"] if s["mode"] == "stylize" else None
    losses = full_resolution_losses(read_input(out, "output"), s["inputs"]["styles"], content,
                                    settings)
    evaluations = len(record["history"])
    result = {"group": row.name, "method": row.method, "wall_s": wall,
              "run_s": record["elapsed_s"], "evaluations": evaluations,
              "peak_rss_gb": int(stderr.split("peak_rss=")[-1]) / 2**30, "estimated": False} | losses
    if row.naive:
        per_eval = record["elapsed_s"] / max(evaluations, 1)
        result |= {"wall_s": wall - record["elapsed_s"] + per_eval * NAIVE_EVALUATIONS,
                   "evaluations": NAIVE_EVALUATIONS, "estimated": True,
                   "per_eval_s": per_eval, "losses_after": evaluations}
    return result


def print_table(results: list[dict]) -> None:
    print(f"{'group':<13} {'method':<52} {'wall s':>9} {'evals':>6} {'style':>7} "
          f"{'content':>8} {'RSS GB':>7} {'vs naive':>9}")
    naive = {r["group"]: r["wall_s"] for r in results if r["estimated"]}
    for r in results:
        wall = f"{r['wall_s']:.1f}" + ("*" if r["estimated"] else "")
        ratio = f"{naive[r['group']] / r['wall_s']:.1f}x" if r["group"] in naive else "-"
        content = f"{r['content']:.3f}" if "content" in r else "-"
        style = "-" if r["estimated"] else f"{r['style']:.3f}"
        content = "-" if r["estimated"] else content
        print(f"{r['group']:<13} {r['method']:<52} {wall:>9} {r['evaluations']:>6} {style:>7} "
              f"{content:>8} {r['peak_rss_gb']:>7.2f} {ratio:>9}")
    if naive:
        print("* estimated: start-up + per-evaluation cost x 500 from a shortened naive run; "
              "its losses are not those of a full run and are not shown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", help="groups to run, e.g. stylize-512 texture-256 "
                        "(default: all)")
    parser.add_argument("--only", help="run only methods whose name contains this text")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--naive-iters", type=int, default=3,
                        help="evaluations actually run for the naive rows (default 3)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    selected = [r for r in rows(args.naive_iters) if not args.rows or r.name in args.rows]
    selected = [r for r in selected if not args.only or args.only in r.method]
    print(f"device {args.device}, {os.cpu_count()} CPUs, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in selected:
            results.append(run_row(row, args.device, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
