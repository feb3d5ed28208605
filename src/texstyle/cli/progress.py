"""The command line's one progress renderer: a tqdm bar per run or report stage, and the
``--save-every`` snapshots.  The library reports progress events; only this module draws them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..image import save_image
from ..progress import Progress


def snapshot_path(output: Path, iteration: int) -> Path:
    return output.with_name(f"{output.stem}.iter{iteration:05d}{output.suffix}")


@dataclass(frozen=True)
class _Snapshots:
    """--save-every: the current image every N iterations, next to the output."""

    output: Path
    every: int | None
    overwrite: bool

    def __call__(self, p: Progress) -> None:
        if self.every and p.iteration % self.every == 0:
            save_image(p.image(), snapshot_path(self.output, p.iteration), overwrite=self.overwrite)


class _Renderer:
    """The library reports, the CLI renders: one tqdm bar per run or report stage.

    The bar's description says where the event stands (report stage, sheet cell, or the job's
    label), its postfix the level size and loss terms.
    """

    def __init__(self, *, quiet: bool, label: str | None = None,
                 snapshots: _Snapshots | None = None) -> None:
        self.quiet, self.label, self.snapshots = quiet, label, snapshots
        self.bar: Any = None
        self.stage: str | None = None

    def __call__(self, p: Progress) -> None:
        if not self.quiet:
            stage = p.stage.name if p.stage is not None else None
            if self.bar is None or stage != self.stage:
                self.close()
                from tqdm import tqdm

                self.stage = stage
                self.bar = tqdm(total=p.total, desc=self.label, unit="it", dynamic_ncols=True,
                                file=sys.stderr)
            self.bar.set_description_str(_where(p) or self.label or "", refresh=False)
            self.bar.set_postfix_str(_postfix(p), refresh=False)
            self.bar.update(p.iteration - self.bar.n)
        if self.snapshots is not None:
            self.snapshots(p)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _where(p: Progress) -> str | None:
    if p.stage is not None:
        return f"[{p.stage.index}/{p.stage.count}] {p.stage.name}"
    if p.cell is not None:
        return f"[{p.cell.index}/{p.cell.count}] {p.cell.grid}: {p.cell.row} / {p.cell.loss}"
    return None


def _postfix(p: Progress) -> str:
    # Per-layer discriminator records (d_acc/relu1_1, …) are for the record and --plot only.
    terms = " ".join(f"{k}={v:.3g}" for k, v in p.losses.items() if k != "total" and "/" not in k)
    tile = f" tile {p.tile}/{p.tiles}" if p.tiles else ""
    return (f"{p.size[0]}x{p.size[1]}{tile} {terms} "
            f"total={p.losses.get('total', float('nan')):.3g}")


class BatchRenderer:
    """``texstyle batch``: one bar over the jobs and, under it, the current job's iterations.

    With several workers the lower bar follows whichever job sent the latest event (its name is
    the bar's label); Ray tasks send none, so there only the jobs' bar moves.
    """

    def __init__(self, *, quiet: bool, count: int, unit: str = "job") -> None:
        self.quiet, self.count, self.unit = quiet, count, unit
        self.jobs: Any = None
        self.current: Any = None
        self.current_index = 0
        self.written = 0  # jobs written by this run (for the message after Ctrl-C)

    def _open(self) -> None:
        if self.jobs is None and not self.quiet:
            from tqdm import tqdm

            self.jobs = tqdm(total=self.count or None, desc=f"{self.unit}s", unit=self.unit,
                             position=0,
                             dynamic_ncols=True, file=sys.stderr)

    def __call__(self, p: Progress) -> None:
        if self.quiet or p.job is None:
            return
        self._open()
        from tqdm import tqdm

        if self.current is None or p.job.index != self.current_index:
            if self.current is not None:
                self.current.close()
            self.current_index = p.job.index
            self.current = tqdm(total=p.total, unit="it", position=1, leave=False,
                                dynamic_ncols=True, file=sys.stderr)
        self.current.set_description_str(f"[{p.job.index}/{p.job.count}] {p.job.name}",
                                         refresh=False)
        self.current.set_postfix_str(_postfix(p), refresh=False)
        self.current.update(p.iteration - self.current.n)

    def outcome(self, index: int, outcome: Any) -> None:
        """A job ended (written, skipped or failed): the jobs' bar moves on."""
        self.advance(outcome.name, outcome.status)

    def advance(self, name: str, status: str) -> None:
        """One more job (or video frame) is over."""
        if status == "done":
            self.written += 1
        if self.quiet:
            return
        self._open()
        self.jobs.set_postfix_str(f"{name}: {status}", refresh=False)
        self.jobs.update(1)

    def close(self) -> None:
        for bar in (self.current, self.jobs):
            if bar is not None:
                bar.close()
        self.current = self.jobs = None
