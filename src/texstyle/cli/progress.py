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
