"""The pictures a run may use: the built-in samples and what the page uploaded.

The page names an input by a reference, ``sample:NAME`` or ``upload:N``, never by a path: the
server opens only files it wrote itself, under its work folder.  An upload is checked as the
command line checks an input file (``plan.read_input``: not an image, damaged, over the pixel
limit), so the page shows the command line's one-line message, with the file's own name in place
of the server's copy.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import TexstyleError
from ..image import to_pil
from ..plan import read_input
from ..samples import PREFIX, SAMPLE_NAMES

ROLES = ("content", "style")
UPLOAD = "upload:"
THUMB_SIDE = 160  # px: what the page shows of an input


@dataclass(frozen=True)
class Upload:
    """An uploaded picture, kept under the work folder, known to the page by ``ref``."""

    ref: str  # upload:N
    name: str  # the file's name on the user's machine (for messages and the command line)
    path: Path  # our copy
    size: tuple[int, int]  # (width, height)


def safe_name(name: str) -> str:
    """A file name that stays inside its folder: the last part of ``name``, harmless characters
    only.  Only used to name our copy; the user's name is kept apart for messages."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return cleaned[:80] or "upload"


class Inputs:
    """Samples and uploads by reference; thumbnails for the page."""

    def __init__(self, folder: Path, *, max_bytes: int, max_pixels: int | None) -> None:
        self.folder, self.max_bytes, self.max_pixels = folder, max_bytes, max_pixels
        self.uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()
        self._thumbs: dict[str, bytes] = {}

    def too_large(self, name: str, size: int) -> TexstyleError:
        """The refusal of an upload over the size limit (also said before the body is read)."""
        return TexstyleError(f"{name} is too large to upload: {size:,} bytes, over the limit of "
                             f"{self.max_bytes:,} bytes")

    def add(self, name: str, role: str, data: bytes) -> Upload:
        """Keep ``data`` as an upload if it is a picture the command line would accept as the
        ``role`` image; the command line's message (naming ``name``) otherwise."""
        name = re.sub(r"[\x00-\x1f\x7f]", "", name)[:200] or "upload"  # messages stay one line
        if role not in ROLES:
            raise TexstyleError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        if len(data) > self.max_bytes:
            raise self.too_large(name, len(data))
        with self._lock:
            ref = f"{UPLOAD}{len(self.uploads) + 1}"
            folder = self.folder / f"upload-{len(self.uploads) + 1}"
            folder.mkdir(parents=True)
            path = folder / safe_name(name)
            path.write_bytes(data)
            try:
                image = read_input(path, f"{role} image", self.max_pixels)
            except TexstyleError as exc:
                path.unlink()
                folder.rmdir()
                raise TexstyleError(str(exc).replace(str(path), name)) from None
            upload = Upload(ref, name, path, (image.shape[-1], image.shape[-2]))
            self.uploads[ref] = upload
        return upload

    def source(self, ref: object) -> tuple[str, str]:
        """(what the API reads, what the command line names) for a reference from the page."""
        if not isinstance(ref, str):
            raise TexstyleError(f"unknown input {ref!r}")
        if ref.startswith(PREFIX) and ref[len(PREFIX):] in SAMPLE_NAMES:
            return ref, ref
        upload = self.uploads.get(ref)
        if upload is None:
            raise TexstyleError(f"unknown input {ref!r}: choose a sample or upload a picture")
        return str(upload.path), upload.name

    def thumbnail(self, ref: str) -> bytes:
        """A small PNG of an input, made once."""
        if ref not in self._thumbs:
            source, _ = self.source(ref)
            image = to_pil(read_input(source, "image", self.max_pixels))
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            self._thumbs[ref] = buffer.getvalue()
        return self._thumbs[ref]

    def listing(self) -> list[dict[str, object]]:
        """What the page offers: every sample, then every upload."""
        samples: list[dict[str, object]] = [{"ref": f"{PREFIX}{n}", "name": n, "kind": "sample"}
                                             for n in SAMPLE_NAMES]
        return samples + [{"ref": u.ref, "name": u.name, "kind": "upload", "size": u.size}
                          for u in self.uploads.values()]
