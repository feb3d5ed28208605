"""The one exception type users see.

Anything the user can fix (a missing file, a bad option, an image too small) is raised as
``TexstyleError`` with a message that quotes what was received; the CLI prints it on one line and
exits 2.  Everything else is a bug and keeps its traceback.
"""


class TexstyleError(ValueError):
    """A problem with the user's input or settings, with a one-line explanation."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, which the CLI turns into the same thing) during a run.

    ``partial`` holds the best result reached so far (an ``OptimResult`` from ``optimize``, a
    ``RunResult`` from the API) so the caller can save it.  It is a ``KeyboardInterrupt``, so code
    that does not know about it still stops as before.
    """

    def __init__(self, partial: object) -> None:
        super().__init__()
        self.partial = partial
