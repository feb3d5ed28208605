"""The studio's runs: a queue worked off one at a time by one thread, each run's live state.

A run is an ordinary ``api.run_texture`` / ``run_stylize`` call; its progress events are the
page's view of it (``LiveView``).  Stop is the library's Ctrl-C: the progress callback raises
``KeyboardInterrupt`` once the page asked to stop, and the run ends with ``RunInterrupted``
carrying the best image so far, which is kept as the run's result.  Everything the page shows
lives here, so a reload loses nothing.
"""

from __future__ import annotations

import io
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..api import RunInterrupted, RunResult, run_stylize, run_texture
from ..config import StylizeSettings, TextureSettings
from ..errors import TexstyleError
from ..image import fit_long_side, resize, to_pil
from ..progress import Progress
from ..records import write_result
from .controls import command_line, settings_for
from .inputs import Inputs

log = logging.getLogger(__name__)

FRAME_INTERVAL_S = 1.0  # the page sees the current image at most this often
# What a run can be: waiting, under way, or one of the ends.
QUEUED, RUNNING, DONE, STOPPED, FAILED, CANCELLED = (
    "queued", "running", "done", "stopped", "failed", "cancelled")


FRAME_SIDE = 512  # px: the long side of a frame at most (the page shows it at 384 px)


def frame_bytes(image: torch.Tensor, side: int = FRAME_SIDE) -> bytes:
    """A picture for the page: at most ``side`` px, as JPEG.  Reduced before it is converted and
    encoded, so a print-size run pays for a 512 px frame; JPEG encodes about ten times faster than
    PNG (benchmarks/studio.py).  The download is the full-size PNG."""
    h, w = image.shape[-2:]
    if max(h, w) > side:
        image = resize(image, *fit_long_side(h, w, side))
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Run:
    """One request from the page and everything that has happened to it since."""

    id: int
    mode: str
    request: dict[str, Any]  # as the page sent it: restoring a gallery entry sends it back
    settings: TextureSettings
    sources: dict[str, str]  # role → what the API reads (a sample or our copy of an upload)
    command: str
    status: str = QUEUED
    error: str | None = None
    progress: dict[str, Any] | None = None
    frame: bytes | None = None  # the latest picture (frame_bytes)
    frame_kind: str | None = None  # "preview" (feed-forward), "current" or "result"
    frame_version: int = 0
    submitted: float = field(default_factory=time.monotonic)
    first_preview_s: float | None = None  # from submission to the feed-forward preview
    first_frame_s: float | None = None  # from submission to the optimisation's first frame
    elapsed_s: float | None = None
    result: Path | None = None  # the PNG; its JSON record sits next to it
    result_size: tuple[int, int] | None = None  # (width, height)
    stop: threading.Event = field(default_factory=threading.Event)

    def show(self, frame: bytes, kind: str) -> None:
        self.frame, self.frame_kind = frame, kind
        self.frame_version += 1

    def as_json(self, position: int | None) -> dict[str, Any]:
        """What the page reads (no image bytes: those have their own URL, with the version)."""
        return {"id": self.id, "mode": self.mode, "request": self.request, "status": self.status,
                "error": self.error, "progress": self.progress, "frame_kind": self.frame_kind,
                "frame_version": self.frame_version, "command": self.command,
                "queue_position": position, "first_preview_s": self.first_preview_s,
                "first_frame_s": self.first_frame_s, "elapsed_s": self.elapsed_s,
                "has_result": self.result is not None, "result_size": self.result_size}


class LiveView:
    """The progress callback of one run: numbers on every event, a picture at most once per
    ``interval`` (the image is copied and encoded only when one is due), and the stop button."""

    def __init__(self, run: Run, changed: Callable[[], None], *,
                 interval: float = FRAME_INTERVAL_S, last_frame: float | None = None) -> None:
        """``last_frame``: when the page got its last picture (the feed-forward preview), so
        that the first frame of the optimisation does not replace it before it has been seen."""
        self.run, self.changed, self.interval = run, changed, interval
        self.last_frame = last_frame

    def __call__(self, p: Progress) -> None:
        run = self.run
        if run.stop.is_set():
            raise KeyboardInterrupt  # the library's Ctrl-C: the run hands back its best so far
        run.progress = {"iteration": p.iteration, "total": p.total, "level": p.level,
                        "levels": p.levels, "size": list(p.size), "elapsed": p.elapsed,
                        "eta": p.eta, "loss": p.losses.get("total")}
        now = time.monotonic()
        if self.last_frame is None or now - self.last_frame >= self.interval:
            self.last_frame = now
            if p.current is not None:
                run.show(frame_bytes(p.current()), "current")
            if run.first_frame_s is None:
                run.first_frame_s = now - run.submitted
        self.changed()


class Studio:
    """The server's state: inputs, runs (in submission order) and the worker that runs them."""

    def __init__(self, work_dir: Path, *, max_upload_bytes: int = 20 * 2**20,
                 max_pixels: int | None = None, frame_interval: float = FRAME_INTERVAL_S) -> None:
        # A folder of this server's own: a --work-dir used before keeps its files.
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir = Path(tempfile.mkdtemp(prefix="session-", dir=work_dir))
        self.inputs = Inputs(self.work_dir / "uploads", max_bytes=max_upload_bytes,
                             max_pixels=max_pixels)
        self.max_pixels, self.frame_interval = max_pixels, frame_interval
        self.runs: list[Run] = []
        self.version = 0  # bumped on every change; the event stream sends a state per version
        self._wake = threading.Condition()
        self.closing = False
        self._worker = threading.Thread(target=self._work, name="texstyle-studio", daemon=True)
        self._worker.start()

    # -- what the page asks -------------------------------------------------------------------

    def submit(self, request: dict[str, Any]) -> Run:
        """Queue a run; a one-line ``TexstyleError`` if the request cannot be run as asked."""
        if not isinstance(request, dict):
            raise TexstyleError("a run request is a JSON object")
        mode = request.get("mode")
        values = request.get("settings") or {}
        if not isinstance(values, dict):
            raise TexstyleError("settings must be a JSON object")
        settings = settings_for(str(mode), values)
        if self.max_pixels is not None:
            settings = settings.with_options(max_pixels=self.max_pixels)
        style, style_name = self.inputs.source(request.get("style"))
        sources = {"style": style}
        content_name = None
        if mode == "stylize":
            sources["content"], content_name = self.inputs.source(request.get("content"))
        command = command_line(str(mode), content_name, style_name, settings)
        with self._wake:
            run = Run(len(self.runs) + 1, str(mode), request, settings, sources, command)
            self.runs.append(run)
            self._changed_locked()
        return run

    def stop(self, run_id: int) -> Run:
        """Stop a run: one under way keeps its best image so far; a waiting one is dropped."""
        run = self.get(run_id)
        with self._wake:
            run.stop.set()
            if run.status == QUEUED:
                run.status = CANCELLED
            self._changed_locked()
        return run

    def get(self, run_id: int) -> Run:
        if not 1 <= run_id <= len(self.runs):
            raise KeyError(run_id)
        return self.runs[run_id - 1]

    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON."""
        with self._wake:
            queued = [r.id for r in self.runs if r.status == QUEUED]
            return {"version": self.version, "inputs": self.inputs.listing(),
                    "runs": [r.as_json(queued.index(r.id) + 1 if r.id in queued else None)
                             for r in self.runs]}

    def changed(self) -> None:
        with self._wake:
            self._changed_locked()

    def _changed_locked(self) -> None:
        self.version += 1
        self._wake.notify_all()

    def begin_close(self) -> None:
        """Ask what runs to stop (its best image is kept), drop the queue and end the event
        streams; returns at once (a signal handler calls it)."""
        with self._wake:
            self.closing = True
            for run in self.runs:
                run.stop.set()
                if run.status == QUEUED:
                    run.status = CANCELLED
            self._changed_locked()

    def close(self, timeout: float = 10.0) -> None:
        """``begin_close``, then wait for the worker to finish the run it was on."""
        self.begin_close()
        self._worker.join(timeout)

    # -- the worker ---------------------------------------------------------------------------

    def _next(self) -> Run | None:
        with self._wake:
            while not self.closing:
                run = next((r for r in self.runs if r.status == QUEUED), None)
                if run is not None:
                    run.status = RUNNING
                    self._changed_locked()
                    return run
                self._wake.wait()
            return None

    def _work(self) -> None:
        while (run := self._next()) is not None:
            try:
                self._execute(run)
            except TexstyleError as exc:
                run.status, run.error = FAILED, str(exc)
            except Exception as exc:
                # A bug, not the user's input: the page says so in one line and the server goes
                # on; the traceback goes to the server's log.
                log.exception("run %d failed", run.id)
                reason = str(exc).splitlines()[0] if str(exc) else ""
                run.status, run.error = FAILED, f"internal error: {type(exc).__name__}: {reason}"
            finally:
                self.changed()

    def _execute(self, run: Run) -> None:
        start = time.monotonic()
        settings, sources = run.settings, run.sources
        shown = None
        if isinstance(settings, StylizeSettings) and settings.method == "gatys":
            # A picture within seconds: one feed-forward pass, while the optimisation starts.
            quick = run_stylize(sources["content"], sources["style"],
                                settings.with_options(method="adain"))
            run.show(frame_bytes(quick.image), "preview")
            shown = time.monotonic()
            run.first_preview_s = shown - run.submitted
            self.changed()
        view = LiveView(run, self.changed, interval=self.frame_interval, last_frame=shown)
        try:
            if run.stop.is_set():
                raise KeyboardInterrupt
            if isinstance(settings, StylizeSettings):
                result = run_stylize(sources["content"], sources["style"], settings, view)
            else:
                result = run_texture(sources["style"], settings, view)
            status = DONE
        except RunInterrupted as exc:
            result, status = exc.partial, STOPPED
        except KeyboardInterrupt:
            run.status, run.elapsed_s = STOPPED, time.monotonic() - start
            return  # stopped before the first evaluation: nothing to keep
        self._keep(run, result)
        run.status = status  # only now: a finished run's files are there to download

    def _keep(self, run: Run, result: RunResult) -> None:
        """Write the result and its record (as the command line does) under the work folder."""
        path = self.work_dir / "runs" / f"texstyle-{run.id}.png"
        write_result(result, path, overwrite=False, shown_as=path.name,
                     extra={"command": run.command})
        run.result, run.elapsed_s = path, result.elapsed
        run.result_size = (result.image.shape[-1], result.image.shape[-2])
        run.show(frame_bytes(result.image), "result")
