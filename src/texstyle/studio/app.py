"""The studio's HTTP face: a Starlette app over one ``runs.Studio``.

JSON for state and requests, PNG for pictures, and one server-sent event stream that sends the
whole state whenever it changes (the page needs nothing else to stay current, and a reload
just reads it again).  Uploads are the request body itself (no multipart parsing), read only up
to the size limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import TexstyleError
from ..samples import SAMPLE_NAMES
from .controls import MODES, controls
from .runs import Studio

STATIC = Path(__file__).parent / "static"
NO_CACHE = {"Cache-Control": "no-store"}
# A run reports every evaluation (tens a second on a small picture); the page needs a few.
STATE_INTERVAL_S = 0.25
POLL_S = 0.05


def _error(exc: Exception, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status)


def _same_origin_only(app: ASGIApp) -> ASGIApp:
    """Refuse a POST sent by another site's page (its browser names that site in ``Origin``): a
    page elsewhere must not start, stop or feed runs on this machine's studio."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != headers.get("host"):
                response = _error(TexstyleError("requests from other sites are refused"), 403)
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def create_app(studio: Studio, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The app; ``studio`` holds every piece of state, so the app itself is stateless.

    ``allowed_hosts``: the names the page may be reached by (``Host``); a loopback server lists
    only its own, so that a site whose name is made to point at 127.0.0.1 (DNS rebinding)
    cannot read it.  None: any.
    """

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=NO_CACHE)

    async def options(request: Request) -> Response:
        return JSONResponse({"modes": MODES, "samples": SAMPLE_NAMES,
                             "controls": [c.as_json() for c in controls()],
                             "max_upload_bytes": studio.inputs.max_bytes})

    async def state(request: Request) -> Response:
        return JSONResponse(studio.state(), headers=NO_CACHE)

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            version = -1
            while not studio.closing and not await request.is_disconnected():
                if studio.version != version:
                    snapshot = studio.state()
                    version = snapshot["version"]
                    yield f"data: {json.dumps(snapshot)}\n\n"
                    await asyncio.sleep(STATE_INTERVAL_S)
                else:
                    # Reading an integer is all a look costs; no thread is held per page.
                    await asyncio.sleep(POLL_S)
        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers=NO_CACHE | {"X-Accel-Buffering": "no"})

    async def upload(request: Request) -> Response:
        name = request.query_params.get("name") or "upload"
        role = request.query_params.get("role") or "style"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > studio.inputs.max_bytes:
            return _error(studio.inputs.too_large(name, int(declared)), 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > studio.inputs.max_bytes:
                return _error(studio.inputs.too_large(name, len(body)), 413)
        try:
            added = await asyncio.to_thread(studio.inputs.add, name, role, bytes(body))
        except TexstyleError as exc:
            return _error(exc)
        studio.changed()
        return JSONResponse({"ref": added.ref, "name": added.name, "size": added.size})

    async def thumbnail(request: Request) -> Response:
        try:
            data = await asyncio.to_thread(studio.inputs.thumbnail,
                                           request.query_params.get("ref", ""))
        except TexstyleError as exc:
            return _error(exc, 404)
        return Response(data, media_type="image/png")

    async def start(request: Request) -> Response:
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(TexstyleError("a run request is a JSON object"))
        try:
            run = studio.submit(body)
        except (TexstyleError, TypeError) as exc:
            return _error(exc)
        return JSONResponse({"id": run.id})

    def _run(request: Request) -> Any:
        try:
            return studio.get(int(request.path_params["run"]))
        except KeyError:
            return None

    async def stop(request: Request) -> Response:
        run = _run(request)
        if run is None:
            return _error(TexstyleError("no such run"), 404)
        studio.stop(run.id)
        return JSONResponse({"id": run.id})

    async def frame(request: Request) -> Response:
        run = _run(request)
        if run is None or run.frame is None:
            return _error(TexstyleError("no picture yet"), 404)
        return Response(run.frame, media_type="image/jpeg", headers=NO_CACHE)

    async def result(request: Request) -> Response:
        run, kind = _run(request), request.path_params["kind"]
        if run is None or run.result is None or kind not in ("png", "json"):
            return _error(TexstyleError("this run has no such result"), 404)
        path = run.result.with_suffix("." + kind)
        return FileResponse(path, filename=path.name,
                            media_type="image/png" if path.suffix == ".png" else "application/json")

    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["*"]),
                  Middleware(_same_origin_only)]
    return Starlette(middleware=middleware, routes=[
        Route("/", index),
        Route("/api/options", options),
        Route("/api/state", state),
        Route("/api/events", events),
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/thumbnail", thumbnail),
        Route("/api/runs", start, methods=["POST"]),
        Route("/api/runs/{run:int}/stop", stop, methods=["POST"]),
        Route("/api/runs/{run:int}/frame.jpg", frame),
        Route("/api/runs/{run:int}/result.{kind:str}", result),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
