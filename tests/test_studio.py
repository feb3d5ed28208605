"""``texstyle studio`` through its HTTP API, in-process (Starlette's test client), with real runs
at 32 px: start, progress, stop, queue, download, refusals, and that the page offers exactly
the command line's options.  The browser's view is tests/test_studio_e2e.py."""

from __future__ import annotations

import io
import json
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from starlette.testclient import TestClient

from cli_helpers import run_main
from texstyle.cli.commands import _settings_from_args, build_parser
from texstyle.config import StylizeSettings, TextureSettings
from texstyle.progress import Progress
from texstyle.studio.app import create_app
from texstyle.studio.controls import command_line, controls, settings_for
from texstyle.studio.runs import LiveView, Run, Studio
from texstyle.studio.server import no_authentication_warning

HANG_GUARD_S = 240  # only so that a broken run fails the test instead of hanging it


@pytest.fixture
def studio(tmp_path: Path, one_thread) -> Iterator[Studio]:
    studio = Studio(tmp_path / "work", max_upload_bytes=64 * 1024, max_pixels=200_000)
    yield studio
    studio.close()


@pytest.fixture
def client(studio: Studio) -> TestClient:
    return TestClient(create_app(studio))


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def wait_for(client: TestClient, run_id: int, done: Callable[[dict[str, Any]], bool]
             ) -> dict[str, Any]:
    """Poll the state (what the event stream sends) until ``done(run)``; that run's state."""
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        run = client.get("/api/state").json()["runs"][run_id - 1]
        if done(run):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.05)


def finished(run: dict[str, Any]) -> bool:
    return run["status"] not in ("queued", "running")


def start(client: TestClient, **request: Any) -> int:
    response = client.post("/api/runs", json=request)
    assert response.status_code == 200, response.json()
    return int(response.json()["id"])


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        img.load()
        return img.size


# ------------------------------------------------------------------------------------------------
# The page offers the command line's options
# ------------------------------------------------------------------------------------------------


def test_every_control_has_the_command_lines_flag_default_and_choices():
    parser = build_parser()
    for mode in ("texture", "stylize"):
        sub = parser._subparsers._group_actions[0].choices[mode]  # type: ignore[union-attr]
        actions = {flag: a for a in sub._actions for flag in a.option_strings}
        for control in controls():
            if mode not in control.defaults:
                assert control.flag not in actions, (mode, control.flag)
                continue
            action = actions[control.flag]
            assert action.dest == control.name
            assert action.default == control.defaults[mode]
            assert action.help == control.help[mode]
            assert tuple(action.choices or ()) == tuple(control.choices or ())


def test_the_command_line_shown_makes_the_same_settings():
    values = {"size": 48, "style_weight": 12.5, "preserve_color": "luminance", "seed": 3,
              "loss": "swd", "iters": 20}
    settings = settings_for("stylize", values)
    words = shlex.split(command_line("stylize", "my photo.jpg", "sample:mosaic", settings))
    assert words[:2] == ["texstyle", "stylize"] and "my photo.jpg" in words
    args = build_parser().parse_args(words[1:])
    assert _settings_from_args(args, StylizeSettings) == settings
    texture = settings_for("texture", {"tile": True, "size": 40})
    words = shlex.split(command_line("texture", None, "sample:brick", texture))
    assert "--tile" in words and "--style" not in words
    assert _settings_from_args(build_parser().parse_args(words[1:]), TextureSettings) == texture


def test_options_endpoint_lists_controls_samples_and_limits(client):
    options = client.get("/api/options").json()
    assert options["modes"] == ["texture", "stylize"]
    assert "cat" in options["samples"] and "mosaic" in options["samples"]
    assert [c["flag"] for c in options["controls"]] == [c.flag for c in controls()]
    assert options["max_upload_bytes"] == 64 * 1024
    page = client.get("/").text
    assert "texstyle studio" in page and "/static/studio.js" in page
    assert "EventSource" in client.get("/static/studio.js").text


# ------------------------------------------------------------------------------------------------
# Runs: progress, result, stop, queue
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow  # the feed-forward decoder's first load
def test_a_stylisation_shows_a_preview_then_frames_then_its_result(client, studio):
    studio.frame_interval = 0.0  # a frame on every evaluation: this run is shorter than a second
    run_id = start(client, mode="stylize", content="sample:cat", style="sample:mosaic",
                   settings={"size": 48, "iters": 6})
    run = wait_for(client, run_id, finished)
    assert run["status"] == "done", run["error"]
    # The feed-forward preview came first, then the optimisation's frames, then the result.
    assert 0 < run["first_preview_s"] < run["first_frame_s"]
    assert run["progress"]["iteration"] == run["progress"]["total"] == 6
    assert run["progress"]["loss"] > 0 and run["frame_kind"] == "result"
    assert run["command"] == ("texstyle stylize sample:cat --style sample:mosaic -o out.png "
                              "--size 48 --iters 6")
    picture = client.get(f"/api/runs/{run_id}/result.png")
    assert picture.headers["content-disposition"] == 'attachment; filename="texstyle-1.png"'
    assert image_size(picture.content) == tuple(run["result_size"]) == (48, 32)
    frame = client.get(f"/api/runs/{run_id}/frame.jpg")
    assert frame.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(frame.content)).size == (48, 32)
    record = client.get(f"/api/runs/{run_id}/result.json").json()
    assert record["settings"]["output_size"] == [48, 32] and len(record["history"]) == 6
    assert record["command"] == run["command"] and "interrupted_at" not in record["settings"]


def test_stop_keeps_the_best_image_and_the_queue_shows_positions(client):
    long = start(client, mode="texture", style="sample:brick",
                 settings={"size": 32, "iters": 100000})
    quick = start(client, mode="texture", style="sample:cells", settings={"size": 32, "iters": 3})
    dropped = start(client, mode="texture", style="sample:grass", settings={"size": 32})
    wait_for(client, long, lambda r: (r["progress"] or {}).get("iteration", 0) >= 2)
    runs = client.get("/api/state").json()["runs"]
    assert [r["status"] for r in runs] == ["running", "queued", "queued"]
    assert [r["queue_position"] for r in runs] == [None, 1, 2]

    assert client.post(f"/api/runs/{dropped}/stop").status_code == 200
    assert wait_for(client, dropped, finished)["status"] == "cancelled"
    assert client.get("/api/state").json()["runs"][quick - 1]["queue_position"] == 1
    client.post(f"/api/runs/{long}/stop")
    stopped = wait_for(client, long, finished)
    assert stopped["status"] == "stopped" and stopped["has_result"]
    record = client.get(f"/api/runs/{long}/result.json").json()
    assert record["settings"]["interrupted_at"]["iteration"] == len(record["history"]) >= 2
    assert image_size(client.get(f"/api/runs/{long}/result.png").content) == (32, 32)
    # The queue moves on: the next run starts and finishes; the cancelled one never ran.
    assert wait_for(client, quick, finished)["status"] == "done"
    final = client.get("/api/state").json()["runs"]
    assert final[dropped - 1]["progress"] is None and not final[dropped - 1]["has_result"]


def events(count: int) -> list[Progress]:
    image = torch.full((1, 3, 8, 8), 0.5)
    return [Progress(i, count, {"total": 1.0 / i}, 0.01 * i, lambda: image)
            for i in range(1, count + 1)]


def test_the_live_view_makes_a_frame_only_when_one_is_due():
    def frames(**options: Any) -> tuple[int, dict[str, Any] | None]:
        run = Run(1, "texture", {}, TextureSettings(), {}, "")
        view = LiveView(run, lambda: None, **options)
        for p in events(50):
            view(p)
        return run.frame_version, run.progress

    # Numbers on every event; a picture on the first and then at most once an interval ...
    count, progress = frames(interval=3600.0)
    assert count == 1 and progress is not None and progress["iteration"] == 50
    assert progress["loss"] == 1.0 / 50 and progress["eta"] == 0.0
    # ... counted from the preview, when there was one ...
    assert frames(interval=3600.0, last_frame=time.monotonic())[0] == 0
    # ... and on every event with no interval.
    assert frames(interval=0.0)[0] == 50


def test_the_live_view_is_the_stop_button():
    run = Run(1, "texture", {}, TextureSettings(), {}, "")
    view = LiveView(run, lambda: None)
    view(events(1)[0])
    run.stop.set()
    with pytest.raises(KeyboardInterrupt):
        view(events(2)[1])
    assert run.progress is not None and run.progress["iteration"] == 1


def test_a_failing_run_shows_its_error_and_the_server_goes_on(client):
    tiny = client.post("/api/uploads?role=style&name=tiny.png", content=png(6, 6)).json()
    failed = start(client, mode="texture", style=tiny["ref"], settings={"size": 32, "iters": 2})
    run = wait_for(client, failed, finished)
    assert run["status"] == "failed"
    assert run["error"].startswith("style image (after scaling) is 6x6 px, too small for layer")
    assert "\n" not in run["error"]
    ok = start(client, mode="texture", style="sample:brick", settings={"size": 32, "iters": 2})
    assert wait_for(client, ok, finished)["status"] == "done"


def test_the_event_stream_sends_the_whole_state(client):
    with client.stream("GET", "/api/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        line = next(line for line in response.iter_lines() if line)
    assert line.startswith("data: ")
    state = json.loads(line[len("data: "):])
    assert state["runs"] == [] and any(i["ref"] == "sample:cat" for i in state["inputs"])


# ------------------------------------------------------------------------------------------------
# Bad input and safety
# ------------------------------------------------------------------------------------------------


def cli_error(tmp_path: Path, *args: str) -> str:
    """The one line the command line prints for ``texstyle ARGS``, without its prefix."""
    proc = run_main(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.strip().removeprefix("texstyle: error: ")


def test_uploads_are_refused_with_the_command_lines_messages(client, studio, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    refused = client.post("/api/uploads?role=content&name=notes.txt", content=notes.read_bytes())
    assert refused.status_code == 400
    expected = cli_error(tmp_path, "stylize", str(notes), "--style", "sample:mosaic", "-o", "o.png")
    assert refused.json()["error"] == expected.replace(str(notes), "notes.txt")

    big = tmp_path / "big.png"
    big.write_bytes(png(500, 500))  # 250,000 px, over the studio's 200,000
    refused = client.post("/api/uploads?role=style&name=big.png", content=big.read_bytes())
    expected = cli_error(tmp_path, "texture", str(big), "-o", "o.png", "--max-pixels", "200000")
    assert refused.json()["error"] == expected.replace(str(big), "big.png")
    assert "too large to load safely" in expected

    heavy = client.post("/api/uploads?role=style&name=heavy.bmp", content=b"x" * (64 * 1024 + 1))
    assert heavy.status_code == 413
    assert heavy.json()["error"] == ("heavy.bmp is too large to upload: 65,537 bytes, over the "
                                     "limit of 65,536 bytes")
    odd = client.post("/api/uploads", params={"role": "style", "name": "a\nb.txt"}, content=b"x")
    assert odd.json()["error"] == "style image is not an image Pillow can read: ab.txt"
    # Nothing refused is kept, and the page offers no upload.
    assert [p for p in studio.work_dir.rglob("*") if p.is_file()] == []
    assert all(i["kind"] == "sample" for i in client.get("/api/state").json()["inputs"])


def test_the_server_never_opens_a_path_the_page_names(client, studio, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(64, 64))
    for ref in (str(secret), "../secret.png", "upload:99", "sample:nope", "sample:../../etc"):
        response = client.post("/api/runs", json={"mode": "texture", "style": ref})
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"unknown input {ref!r}")
        assert client.get("/api/thumbnail", params={"ref": ref}).status_code == 404
    added = client.post("/api/uploads?role=style&name=../../evil name.png", content=png(40, 40))
    assert added.json() == {"ref": "upload:1", "name": "../../evil name.png", "size": [40, 40]}
    kept = [p for p in studio.work_dir.rglob("*") if p.is_file()]
    assert [p.name for p in kept] == ["evil_name.png"]
    assert not (tmp_path / "evil name.png").exists() and not list(tmp_path.glob("*evil*"))
    assert image_size(client.get("/api/thumbnail", params={"ref": "upload:1"}).content) == (40, 40)


def test_other_sites_can_neither_post_nor_read(studio):
    client = TestClient(create_app(studio))
    refused = client.post("/api/runs/1/stop", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "requests from other sites are refused"
    # The page's own requests name its own origin.
    assert client.post("/api/runs/1/stop", headers={"Origin": "http://testserver"}
                       ).status_code == 404  # no such run, but heard
    loopback = TestClient(create_app(studio, allowed_hosts=["127.0.0.1", "localhost"]),
                          base_url="http://127.0.0.1:8000")
    assert loopback.get("/api/state").status_code == 200
    # A name made to point at 127.0.0.1 (DNS rebinding) is not one the server answers to.
    assert loopback.get("/api/state", headers={"Host": "evil.example:8000"}).status_code == 400


@pytest.mark.parametrize(("request_", "message"), [
    ({"mode": "paint", "style": "sample:brick"}, "unknown mode 'paint'; choose one of texture, "
                                                 "stylize"),
    ({"mode": "texture", "style": "sample:brick", "settings": {"size": -1}},
     "size must be a positive integer between 1 and 32768, got -1"),
    ({"mode": "texture", "style": "sample:brick", "settings": {"size": "big"}},
     "size (px) (--size) must be a number, got 'big'"),
    ({"mode": "texture", "style": "sample:brick", "settings": {"loss": "l1"}},
     "unknown loss 'l1'; choose one of gram"),
    ({"mode": "texture", "style": "sample:brick", "settings": {"device": "cuda"}},
     "unknown option 'device'; the page offers loss, size, iters"),
    ({"mode": "stylize", "style": "sample:mosaic"}, "unknown input None"),
])
def test_bad_run_requests_get_one_line_errors(client, request_, message):
    response = client.post("/api/runs", json=request_)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert client.get("/api/state").json()["runs"] == []


# ------------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------------


def test_studio_flags_are_checked_before_serving(tmp_path):
    assert "--port must be between 0 and 65535, got 70000" in cli_error(
        tmp_path, "studio", "--no-browser", "--port", "70000")
    (tmp_path / "file").write_text("")
    assert cli_error(tmp_path, "studio", "--no-browser", "--work-dir", "file") == (
        "--work-dir file is a file, not a folder")
    assert cli_error(tmp_path, "studio", "--no-browser", "--max-upload-mb", "inf") == (
        "--max-upload-mb must be a positive number, got inf")
    assert cli_error(tmp_path, "studio", "--no-browser", "--work-dir", "file/sub").startswith(
        "cannot write in the work folder file/sub: ")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = cli_error(tmp_path, "studio", "--no-browser", "--port", str(port))
    assert message.startswith(f"cannot listen on 127.0.0.1:{port}: ")


@pytest.mark.slow  # a fresh interpreter imports torch
def test_the_command_line_loads_without_the_web_stack():
    """`pip install -e .` then `texstyle demo` (the README's first command) needs no web extra."""
    code = ("import sys, texstyle.cli.commands; "
            "print(sorted({'starlette', 'uvicorn'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_without_the_web_extra_the_command_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert cli_error(tmp_path, "studio", "--no-browser") == (
        "texstyle studio needs the web extra (uvicorn is missing); install it with: "
        "pip install 'texstyle[studio]'")


def test_only_a_loopback_address_goes_without_a_warning():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert no_authentication_warning(host) is None
    for host in ("0.0.0.0", "192.168.1.5", "::", "myhost"):
        assert "no authentication" in (no_authentication_warning(host) or "")
