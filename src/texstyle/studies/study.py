"""The seeded adversarial study (docs/adversarial.md, issue 18): many cells, each cached as it ends.

One cell is one texture: an exemplar, a method (``experiment.METHODS``), a seed, the budgets and
any extra options, plus optionally the method whose output (same exemplar and seed) is its
starting image.  At 128 px on one CPU thread a GAN cell costs minutes, and the study has hundreds,
so it cannot run in one sitting: every finished cell is written to a cache folder (a PNG and a
JSON with its gaps, times and loss/D curves) under a file name derived from *all* of its settings.
Any number of processes, on any number of days, can then work through a plan in priority order
and skip what is done; the tables are assembled from whatever the cache holds, with the number
of seeds behind every entry, so an unfinished study is never mistaken for a finished one.

The pure parts (``CellSpec``, ``plan``, ``summarise``, ``paired``) touch no files; ``run_spec``
and ``load_cells`` read and write the cache.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..features import VGGFeatures
from ..image import load_image, save_image
from .experiment import exemplar_at, run_cell
from .moments import MomentGaps

CACHE_VERSION = 1
EXEMPLARS: tuple[str, ...] = ("cells", "brick", "mosaic", "gravel", "grass")
SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
# The methods that decide the note's main claim (logreg emulates mean, quadratic meancov) come
# first; then the other fixed statistics and the MLP discriminator.
CORE: tuple[str, ...] = ("mean", "meancov", "gan logreg", "gan quadratic")
MORE: tuple[str, ...] = ("gram", "kl", "gan mlp:128")
# The separating experiment: both discriminators (and gram, which has no mean of its own to fix)
# start from the `mean` texture of the same seed, whose feature means already match.
SEPARATING: tuple[str, ...] = ("gan logreg", "gan quadratic")
# The stabilisers the note describes, each alone, on the logreg game (the one that plateaus).
STABILISERS: dict[str, dict[str, Any]] = {
    "r1": {"r1_weight": 1.0},
    "noise": {"instance_noise": 0.5},
    "every5": {"disc_every": 5},
    # For logreg R1 is weight decay (γ/2)‖w‖²; γ = 1 held w so small the image was hardly pulled
    # (docs/adversarial.md), so a tenth of it too.
    "r1 0.1": {"r1_weight": 0.1},
    # D trained every iteration at a fifth of the rate: as much D movement per image step as
    # every5 without its staleness, which tells "slower D" from "stale D".
    "slow5": {"disc_lr": 0.002},
}


@dataclass(frozen=True)
class CellSpec:
    """Everything that determines one cell's texture; its ``key`` names its cache files."""

    exemplar: str  # a built-in sample's name: "cells"
    method: str  # an ``experiment.METHODS`` label
    seed: int
    size: int = 128
    iters: int = 600  # Adam iterations of a GAN run
    moment_iters: int = 150  # L-BFGS evaluations of a fixed statistic
    extra: tuple[tuple[str, Any], ...] = ()  # sorted extra options (GAN methods only)
    init_from: str | None = None  # start from this method's output (same exemplar, seed, budgets)
    variant: str = "plain"  # a short label for tables: "plain", "from mean", "r1", …

    @property
    def source(self) -> str:
        return f"sample:{self.exemplar}"

    def key(self) -> str:
        """A file stem readable by eye and unique to the settings (their hash)."""
        blob = json.dumps([CACHE_VERSION, asdict(self)], sort_keys=True, default=str)
        digest = hashlib.sha1(blob.encode()).hexdigest()[:10]
        method = self.method.replace("gan ", "gan-").replace(":", "")
        return f"{self.exemplar}-{method}-s{self.seed}-{self.variant.replace(' ', '')}-{digest}"

    def start(self) -> CellSpec | None:
        """The cell whose output this one starts from, if any."""
        if self.init_from is None:
            return None
        return CellSpec(self.exemplar, self.init_from, self.seed, self.size, self.iters,
                        self.moment_iters)


def plan(exemplars: Sequence[str] = EXEMPLARS, seeds: Sequence[int] = SEEDS,
         phases: Sequence[str] = ("core", "separating", "stabilisers", "more"), *,
         size: int = 128, iters: int = 600, moment_iters: int = 150) -> list[CellSpec]:
    """The study's cells in the order they should run: seed by seed, so that whatever finishes
    first is a complete set of exemplars for the claims that matter most (phase order)."""
    def spec(ex: str, method: str, seed: int, **kw: Any) -> CellSpec:
        return CellSpec(ex, method, seed, size, iters, moment_iters, **kw)

    cells: list[CellSpec] = []
    for seed in seeds:
        for phase in phases:
            for ex in exemplars:
                if phase == "core":
                    cells += [spec(ex, m, seed) for m in CORE]
                elif phase == "separating":
                    cells += [spec(ex, m, seed, init_from="mean", variant="from mean")
                              for m in SEPARATING]
                elif phase == "stabilisers":
                    cells += [spec(ex, "gan logreg", seed, extra=tuple(sorted(o.items())),
                                   variant=name) for name, o in STABILISERS.items()]
                elif phase == "more":
                    cells += [spec(ex, m, seed) for m in MORE]
                else:
                    raise ValueError(f"unknown phase {phase!r}; core, separating, stabilisers, "
                                     "more")
    return list(dict.fromkeys(cells))  # a cell listed twice (e.g. a start) runs once


def study_plan(exemplars: Sequence[str] = EXEMPLARS, seeds: Sequence[int] = SEEDS, *,
               size: int = 128, iters: int = 600, moment_iters: int = 150) -> list[CellSpec]:
    """The whole study in priority order, for one CPU thread that may stop at any time, so that
    each stop leaves the most decisive evidence:

    1. seed 0: the core methods on every exemplar (the main claim, paired over exemplars);
    2. seed 0: the stabilisers on the first exemplar (the D curves of the Dirac-GAN question);
    3. seed 0: the separating experiment on the first three exemplars;
    4. seeds 1, 2: the core methods on the first exemplar (how large seed-to-seed noise is);
    5. seed 0: the separating experiment on the other exemplars, and `gram` and `kl`;
    6. seeds 1-4: the core methods on every exemplar (the main claim with five seeds);
    7. seed 0: the stabilisers on the next two exemplars;
    8. seeds 1-4: the separating experiment on every exemplar;
    9. seed 0: the stabilisers on the last two exemplars; seeds 1-4: `gram` and `kl` (cheap);
    10. seeds 0-4: the MLP discriminator (the first experiment's last method at five seeds);
    11. seeds 1-4: the stabilisers.
    """
    budgets = {"size": size, "iters": iters, "moment_iters": moment_iters}
    first, rest = list(seeds[:1]), list(seeds[1:])
    tiers = [plan(exemplars, first, ("core",), **budgets),
             plan(exemplars[:1], first, ("stabilisers",), **budgets),
             plan(exemplars[:3], first, ("separating",), **budgets),
             plan(exemplars[:1], rest[:2], ("core",), **budgets),
             plan(exemplars[3:], first, ("separating",), **budgets),
             [s for s in plan(exemplars, first, ("more",), **budgets) if s.method != "gan mlp:128"],
             plan(exemplars, rest, ("core",), **budgets),
             plan(exemplars[1:3], first, ("stabilisers",), **budgets),
             plan(exemplars, rest, ("separating",), **budgets),
             plan(exemplars[3:], first, ("stabilisers",), **budgets),
             [s for s in plan(exemplars, rest, ("more",), **budgets) if s.method != "gan mlp:128"],
             plan(exemplars, seeds, ("more",), **budgets),
             plan(exemplars, seeds, ("stabilisers",), **budgets)]
    return list(dict.fromkeys(spec for tier in tiers for spec in tier))


@dataclass(frozen=True)
class StudyCell:
    """A finished cell: its spec, the gaps of its 8-bit image, times and curves."""

    spec: CellSpec
    gaps: MomentGaps
    seconds: float  # wall-clock
    cpu_seconds: float  # process CPU time (comparable across machine load)
    history: tuple[dict[str, float], ...] = field(default=(), repr=False)


def run_spec(spec: CellSpec, cache: Path, *, extractor: VGGFeatures,
             style: torch.Tensor | None = None, device: str = "auto") -> StudyCell:
    """The cell from the cache, or run now and cached (its start cell first, if it has one)."""
    found = read_cell(spec, cache)
    if found is not None:
        return found
    style = style if style is not None else exemplar_at(spec.source, spec.size)
    init = None
    start = spec.start()
    if start is not None:
        run_spec(start, cache, extractor=extractor, style=style, device=device)
        init = str(cache / f"{start.key()}.png")
    wall, cpu = time.perf_counter(), time.process_time()
    cell = run_cell(spec.source, spec.method, size=spec.size, iters=spec.iters,
                    moment_iters=spec.moment_iters, seed=spec.seed, device=device,
                    extra=dict(spec.extra), extractor=extractor, style=style, init=init)
    result = StudyCell(spec, cell.gaps, time.perf_counter() - wall, time.process_time() - cpu,
                       tuple(cell.result.history) if cell.result is not None else ())
    cache.mkdir(parents=True, exist_ok=True)
    save_image(cell.image, cache / f"{spec.key()}.png", overwrite=True)
    record = {"version": CACHE_VERSION, "spec": asdict(spec), "gaps": result.gaps.per_layer,
              "seconds": result.seconds, "cpu_seconds": result.cpu_seconds,
              "history": [_rounded(h) for h in result.history]}
    tmp = cache / f"{spec.key()}.json.tmp"
    tmp.write_text(json.dumps(record))
    tmp.replace(cache / f"{spec.key()}.json")  # the JSON last, atomically: it marks "done"
    return result


def read_cell(spec: CellSpec, cache: Path) -> StudyCell | None:
    """The cached cell of ``spec``, or None when it has not finished."""
    path = cache / f"{spec.key()}.json"
    if not path.exists():
        return None
    return _from_record(json.loads(path.read_text()))


def load_cells(cache: Path) -> list[StudyCell]:
    """Every finished cell in ``cache`` (any settings)."""
    cells = []
    for path in sorted(cache.glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("version") == CACHE_VERSION:
            cells.append(_from_record(record))
    return cells


def cell_image(spec: CellSpec, cache: Path) -> torch.Tensor:
    """The cached 8-bit texture of a finished cell."""
    return load_image(Image.open(cache / f"{spec.key()}.png"), "result")


def _from_record(record: Mapping[str, Any]) -> StudyCell:
    raw = dict(record["spec"])
    raw["extra"] = tuple(tuple(pair) for pair in raw["extra"])
    gaps = MomentGaps({k: (float(v[0]), float(v[1])) for k, v in record["gaps"].items()})
    return StudyCell(CellSpec(**raw), gaps, float(record["seconds"]),
                     float(record["cpu_seconds"]), tuple(record.get("history", ())))


def _rounded(entry: Mapping[str, float]) -> dict[str, float]:
    return {k: float(f"{v:.5g}") for k, v in entry.items() if isinstance(v, (int, float))}


# ---- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Mean ± sample standard deviation of a number over ``n`` seeds (sd is nan for n = 1)."""

    mean: float
    sd: float
    n: int

    def __str__(self) -> str:
        if self.n == 0:
            return "not run"
        sd = "" if math.isnan(self.sd) else f" ± {self.sd:.3f}"
        return f"{self.mean:.3f}{sd} (n={self.n})"


def summarise(values: Iterable[float]) -> Summary:
    """Mean, sample standard deviation and count."""
    v = list(values)
    if not v:
        return Summary(math.nan, math.nan, 0)
    return Summary(statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else math.nan, len(v))


def metric(cell: StudyCell, name: str, layer: str | None = None) -> float:
    """``mean`` or ``cov`` gap of a cell, averaged over layers or at one ``layer``."""
    index = {"mean": 0, "cov": 1}[name]
    if layer is not None:
        return cell.gaps.per_layer[layer][index]
    return cell.gaps.mean_gap if index == 0 else cell.gaps.cov_gap


def select(cells: Iterable[StudyCell], *, method: str, variant: str = "plain",
           exemplar: str | None = None, size: int = 128, iters: int = 600,
           moment_iters: int = 150) -> list[StudyCell]:
    """The cells of one table entry (every seed found)."""
    return sorted((c for c in cells if c.spec.method == method and c.spec.variant == variant
                   and (exemplar is None or c.spec.exemplar == exemplar)
                   and (c.spec.size, c.spec.iters, c.spec.moment_iters)
                   == (size, iters, moment_iters)),
                  key=lambda c: (c.spec.exemplar, c.spec.seed))


def paired(cells: Sequence[StudyCell], a: tuple[str, str], b: tuple[str, str], name: str,
           layer: str | None = None) -> list[float]:
    """metric(a) − metric(b) over every (exemplar, seed) where both (method, variant) finished:
    a paired difference, so the exemplar's and seed's own difficulty cancels."""
    first = {(c.spec.exemplar, c.spec.seed): c for c in select(cells, method=a[0], variant=a[1])}
    second = {(c.spec.exemplar, c.spec.seed): c
              for c in select(cells, method=b[0], variant=b[1])}
    return [metric(first[k], name, layer) - metric(second[k], name, layer)
            for k in sorted(first.keys() & second.keys())]


def late_accuracy(cell: StudyCell, last: int = 200,
                  layer: str | None = None) -> tuple[float, float]:
    """A GAN cell's discriminators at the end of its game, over its last ``last`` iterations:
    (mean D accuracy, its standard deviation over those iterations), each per layer, averaged
    over the layers (or at one ``layer``).  0.5 is chance; a game that circles its equilibrium
    (docs/adversarial.md, "Dirac-GAN") keeps the mean above 0.5 and the swing (the sd) up."""
    tail = cell.history[-last:]
    layers = sorted({k for h in tail for k in h if k.startswith("d_acc/")
                     and (layer is None or k == f"d_acc/{layer}")})
    series = [[h[k] for h in tail if k in h] for k in layers]
    series = [v for v in series if len(v) > 1]
    if not series:
        return math.nan, math.nan
    return (statistics.fmean(statistics.fmean(v) for v in series),
            statistics.fmean(statistics.stdev(v) for v in series))


def autocorrelation(values: Sequence[float], max_lag: int) -> list[float]:
    """The sample autocorrelation at lags 0..max_lag of the series less its least-squares line
    (a slow drift would otherwise hide a swing on top of it); empty for a straight line."""
    n = len(values)
    t_mean, mu = (n - 1) / 2, statistics.fmean(values)
    slope = (sum((t - t_mean) * (v - mu) for t, v in enumerate(values))
             / max(sum((t - t_mean) ** 2 for t in range(n)), 1e-12))
    x = [v - mu - slope * (t - t_mean) for t, v in enumerate(values)]
    var = sum(a * a for a in x)
    if var < 1e-12:
        return []
    return [sum(x[i] * x[i + lag] for i in range(len(x) - lag)) / var
            for lag in range(max_lag + 1)]


def ripple(cell: StudyCell, layer: str = "relu1_1", start: int = 300,
           max_lag: int = 100) -> tuple[float, int]:
    """How periodic one layer's D accuracy is after iteration ``start``: the highest peak of its
    autocorrelation past the first zero crossing, and the lag (iterations) where it is.

    A game that rotates around its equilibrium (the Dirac-GAN) swings with a period, which shows
    as a clear second peak; a D that only jitters has none.  (nan, 0) when the autocorrelation
    never crosses zero within ``max_lag`` (a drift, not a swing) or the series is too short."""
    v = [h[f"d_acc/{layer}"] for h in cell.history[start:] if f"d_acc/{layer}" in h]
    if len(v) < 2 * max_lag:
        return math.nan, 0
    acf = autocorrelation(v, max_lag)
    if not acf:
        return math.nan, 0
    crossed = next((lag for lag, a in enumerate(acf) if a < 0), None)
    if crossed is None:
        return math.nan, 0
    lag = max(range(crossed, max_lag + 1), key=lambda k: acf[k])
    return acf[lag], lag


def shallow_ripple(cell: StudyCell, layers: Sequence[str] = ("relu1_1", "relu2_1")
                   ) -> tuple[float, int]:
    """The clearer ``ripple`` of the shallow layers, where the linear game's swing shows (many
    positions per dimension); (nan, 0) when neither has one."""
    peaks = [ripple(cell, layer) for layer in layers]
    return max(peaks, key=lambda p: -math.inf if math.isnan(p[0]) else p[0])


def markdown_summary(cells: Sequence[StudyCell], rows: Sequence[tuple[str, str]],
                     exemplars: Sequence[str] = EXEMPLARS) -> str:
    """Per exemplar and over all: mean gap / covariance gap, mean ± sd over seeds (n seeds)."""
    lines = ["| method | variant | " + " | ".join(exemplars) + " | all (exemplar × seed) |",
             "|---|---|" + "---|" * (len(exemplars) + 1)]
    for method, variant in rows:
        entries = []
        for ex in (*exemplars, None):
            chosen = select(cells, method=method, variant=variant, exemplar=ex)
            if ex is None:
                chosen = [c for c in chosen if c.spec.exemplar in exemplars]
            m, c = summarise(metric(x, "mean") for x in chosen), summarise(
                metric(x, "cov") for x in chosen)
            entries.append("not run" if m.n == 0 else
                           f"{_pm(m)} / {_pm(c)} (n={m.n})")
        lines.append(f"| {method} | {variant} | " + " | ".join(entries) + " |")
    return "\n".join(lines) + "\n"


def _pm(s: Summary) -> str:
    return f"{s.mean:.3f}" if math.isnan(s.sd) else f"{s.mean:.3f}±{s.sd:.3f}"
