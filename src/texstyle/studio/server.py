"""``texstyle studio``: serve the page with uvicorn until Ctrl-C, then stop the run cleanly.

The socket is bound here, before uvicorn starts, so that a busy port is a one-line error and
``--port 0`` (a free port, the default) can be printed as the address to open.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from ..errors import TexstyleError
from .runs import Studio

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` ("localhost" counts)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def no_authentication_warning(host: str) -> str | None:
    """What to say when the studio listens beyond this machine: anyone who reaches the port can
    start runs and see every picture."""
    if is_loopback(host):
        return None
    return (f"texstyle studio: warning: listening on {host}, beyond this machine, with no "
            "authentication: anyone who can reach this port can use the studio and see its "
            "pictures")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port); a one-line error if it is taken."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        raise TexstyleError(f"cannot listen on {host}:{port}: "
                            f"{getattr(exc, 'strerror', None) or exc}") from None
    sock.listen(64)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _server(config: Any, studio: Studio) -> Any:
    """A uvicorn server that, on Ctrl-C, first ends the studio's event streams and stops its run,
    so that the graceful shutdown has no open stream to wait for."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            studio.begin_close()
            super().handle_exit(sig, frame)

    return Server(config)


def serve(*, host: str = LOOPBACK, port: int = 0, open_browser: bool = True,
          work_dir: Path | None = None, max_upload_bytes: int = 20 * 2**20,
          max_pixels: int | None = None, say: Callable[[str], None],
          warn: Callable[[str], None]) -> None:
    """Serve the studio until Ctrl-C (or SIGTERM); what runs then is stopped, its best image
    kept.  Writes only under ``work_dir`` (a new temporary folder when None).  ``say`` gets the
    address line and ``warn`` the warning, for the command line to print."""
    import uvicorn

    from .app import create_app

    sock = bind(host, port)
    with tempfile.TemporaryDirectory(prefix="texstyle-studio-") as scratch:
        folder = Path(work_dir) if work_dir is not None else Path(scratch)
        try:
            studio = Studio(folder, max_upload_bytes=max_upload_bytes, max_pixels=max_pixels)
        except OSError as exc:
            sock.close()
            raise TexstyleError(f"cannot write in the work folder {folder}: "
                                f"{exc.strerror or exc}") from None
        hosts = ([host, f"[{host}]", "127.0.0.1", "localhost", "[::1]"] if is_loopback(host)
                 else None)
        config = uvicorn.Config(create_app(studio, allowed_hosts=hosts), log_level="warning",
                                lifespan="off", timeout_graceful_shutdown=2)
        server = _server(config, studio)
        url = url_of(sock)
        warning = no_authentication_warning(host)
        if warning:
            warn(warning)
        say(f"texstyle studio: {url} (work folder {folder}; Ctrl-C stops)")
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        try:
            server.run(sockets=[sock])
        finally:
            studio.close()
            sock.close()
