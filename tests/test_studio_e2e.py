"""``texstyle studio`` end to end: the real command in a subprocess, driven in headless Chromium
by Playwright, as a person would use it: pick two samples, start a small run, watch the preview
and the progress, stop, download, reload.  Then Ctrl-C ends the server cleanly.

The browser is Debian's ``chromium`` package (Playwright cannot fetch its own build here;
``.ci/run`` installs the package when it is missing).  The same test saves a screenshot; set
TEXSTYLE_STUDIO_SCREENSHOT=docs/images/studio.png to keep it (that is how the README's was made).
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
SIZE, ITERS = 64, 3000  # a run that is still going when the test presses Stop
WAIT_MS = 240_000  # a hang guard for a slow shared machine, not a timing requirement


def noise_png(width: int, height: int) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # see test_interrupt.py: Ctrl-C must reach it


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``texstyle studio --no-browser`` on a free port; its address from what it prints."""
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "texstyle", "studio", "--no-browser", "--work-dir",
         str(tmp_path / "work")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, preexec_fn=_as_in_a_terminal)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.match(r"texstyle studio: (http://127\.0\.0\.1:\d+/) \(work folder ", first)
    assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
    yield match.group(1), proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_watch_a_run_stop_it_download_it_and_reload(server, tmp_path):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package "
                    "(apt-get install -y chromium; .ci/run does this)")
    from playwright.sync_api import expect, sync_playwright

    url, proc = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 760}, accept_downloads=True)
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        page.goto(url)
        expect(page.locator("#connection")).to_have_text("connected")

        # A file that is no picture is refused on the page, with the command line's message.
        notes = tmp_path / "notes.txt"
        notes.write_text("not a picture")
        page.set_input_files("#content-file", str(notes))
        expect(page.locator("#error")).to_have_text(
            "content image is not an image Pillow can read: notes.txt")
        # A picture dropped on the style's zone is uploaded and chosen.
        page.evaluate("""(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const drop = new DataTransfer();
            drop.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
            document.getElementById('style-drop').dispatchEvent(
                new DragEvent('drop', {dataTransfer: drop, bubbles: true, cancelable: true})); }""",
                      base64.b64encode(noise_png(48, 40)).decode())
        expect(page.locator("#style")).to_have_value("upload:1")
        expect(page.locator("#style option:checked")).to_have_text("upload: dropped.png")
        page.select_option("#content", "sample:cat")
        page.select_option("#style", "sample:mosaic")
        page.fill("#opt-size", str(SIZE))
        page.fill("#opt-iters", str(ITERS))
        # Every picture the page shows, in order (a preview may last less than a poll).
        page.evaluate("""() => { window.shown = [];
            new MutationObserver(() => window.shown.push(
                [document.getElementById('frame-kind').textContent,
                 document.getElementById('frame').src]))
              .observe(document.getElementById('frame'), {attributeFilter: ['src']}); }""")
        page.click("#start")

        expect(page.locator("#frame-kind")).to_have_text("current image of the optimisation")
        first = page.locator("#progress").inner_text()
        assert re.match(rf"level 1/1 \({SIZE}x43\) · iteration \d+/{ITERS} · loss [\d.]+ · ", first)
        page.wait_for_function(
            "(first) => document.getElementById('progress').textContent !== first", arg=first)
        page.wait_for_function("() => new Set(window.shown.map(s => s[1])).size >= 3")
        shown = page.evaluate("window.shown")
        assert shown[0][0] == "feed-forward preview (AdaIN)"
        assert shown[-1][0] == "current image of the optimisation"
        assert len({src for _, src in shown}) >= 3  # the preview, then frames that change
        # Frames keep arriving: read the width of one that has finished loading (a src just
        # replaced reads naturalWidth 0 until its bytes are decoded; that raced on a loaded CPU).
        width = page.wait_for_function("""() => { const f = document.getElementById('frame');
            return f.complete && f.naturalWidth > 0 ? f.naturalWidth : null; }""").json_value()
        assert width == SIZE
        screenshot = tmp_path / "studio.png"
        page.screenshot(path=str(screenshot))

        page.click("#stop")
        expect(page.locator("#status")).to_have_text("run 1: stopped, best image so far kept")
        with page.expect_download() as download:
            page.click("#download-png")
        data = Path(download.value.path()).read_bytes()
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "PNG" and img.size == (SIZE, 43)
        assert download.value.suggested_filename == "texstyle-1.png"
        command = page.locator("#command").input_value()
        assert command == (f"texstyle stylize sample:cat --style sample:mosaic -o out.png "
                           f"--size {SIZE} --iters {ITERS}")

        # State lives on the server: a reload shows the same run and settings.
        page.reload()
        expect(page.locator("#connection")).to_have_text("connected")
        expect(page.locator("#gallery li")).to_have_count(1)
        expect(page.locator("#status")).to_have_text("run 1: stopped, best image so far kept")
        assert page.locator("#opt-size").input_value() == str(SIZE)
        browser.close()

    if keep := os.environ.get("TEXSTYLE_STUDIO_SCREENSHOT"):
        shutil.copyfile(screenshot, keep)
    # Ctrl-C: the server ends cleanly, with exit code 0 and no traceback.
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and out.strip().endswith("texstyle studio: stopped")
