"""The one exception type users see, and the one Ctrl-C becomes.

Anything the user can fix (a missing file, a bad option, an image too small) is raised as
``TexstyleError`` with a message that quotes what was received; the CLI prints it on one line and
exits 2.  Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Partial = TypeVar("Partial")


class TexstyleError(ValueError):
    """A problem with the user's input or settings, with a one-line explanation."""


class Interrupted(KeyboardInterrupt, Generic[Partial]):
    """Ctrl-C (or SIGTERM, which the CLI turns into the same thing) during a run.

    ``partial`` holds the best result reached so far, so the caller can save it.  Its type is the
    parameter: each layer raises its own subclass next to its result type (this module is a leaf
    and imports none of them), so a caller catches the one it can handle and reads a typed
    ``partial`` without guessing: ``optimize.LoopInterrupted`` (an ``OptimResult``, inside a
    loop), ``api.RunInterrupted`` (a ``RunResult``, from ``run_texture`` / ``run_stylize``),
    ``studies.compare.ComparisonInterrupted`` (the ``Comparison`` so far).  Each layer turns the
    one from below into its own, so a loop's never escapes a run.  It is a ``KeyboardInterrupt``,
    so code that does not know about it still stops as before.
    """

    def __init__(self, partial: Partial) -> None:
        super().__init__()
        self.partial: Partial = partial
