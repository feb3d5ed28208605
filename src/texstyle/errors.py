"""The one exception type users see.

Anything the user can fix (a missing file, a bad option, an image too small) is raised as
``TexstyleError`` with a message that quotes what was received; the CLI prints it on one line and
exits 2.  Everything else is a bug and keeps its traceback.
"""


class TexstyleError(ValueError):
    """A problem with the user's input or settings, with a one-line explanation."""
