"""No lost work: Ctrl-C and SIGTERM save the best image so far; checkpoints resume exactly.

The signal tests start ``python -m texstyle`` in a subprocess, wait until a file written during
the run shows it is optimising, send the signal, and check the exit code, the message and the
saved image.  CPU runs are deterministic, so a resumed run must end with exactly the image of an
uninterrupted one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cli_helpers import assert_one_line_error, run_cli
from texstyle.api import RunInterrupted, run_texture
from texstyle.checkpoint import load_checkpoint, save_checkpoint
from texstyle.cli import main
from texstyle.errors import Interrupted, TexstyleError
from texstyle.image import to_pil
from texstyle.optimize import GradientStep

SIZE, ITERS, SEED = 48, 16, 1
RUN = ("texture", "sample:brick", "-o", "out.png", "--size", str(SIZE), "--iters", str(ITERS),
       "--seed", str(SEED), "--quiet")


def _as_in_a_terminal() -> None:
    # A test runner started in the background by a non-interactive shell (as CI may be) has
    # SIGINT ignored, and children inherit that: Python then never raises KeyboardInterrupt.
    # Ctrl-C in a terminal is what is being tested, so give the child the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "texstyle", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_in_a_terminal)


def signal_when_exists(proc: subprocess.Popen[str], marker: Path, sig: int) -> tuple[int, str]:
    """Wait until ``marker`` exists (the run is under way), then send ``sig``; (exit code, stderr)."""
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never wrote its first file"
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=240)
    return proc.returncode, err


def assert_saved_partial(cwd: Path, err: str) -> np.ndarray:
    partial = cwd / "out.partial.png"
    assert not (cwd / "out.png").exists()  # the output name is kept for finished results
    assert "Traceback" not in err, err
    assert re.search(r"interrupted at iteration \d+/16 .*saved the best image so far to "
                     r"out\.partial\.png", err), err
    with Image.open(partial) as img:
        arr = np.asarray(img.convert("RGB"))
    assert arr.shape == (SIZE, SIZE, 3)
    assert arr.std() > 5 and arr.mean() > 20  # a picture, not a black or flat frame
    assert (cwd / "out.partial.json").exists()
    return arr


@pytest.fixture(scope="module")
def reference(one_thread) -> np.ndarray:
    """The uninterrupted run, in-process (same code, one thread, as the CLI subprocesses)."""
    result = run_texture("sample:brick", size=SIZE, iters=ITERS, seed=SEED)
    return np.asarray(to_pil(result.image))


@pytest.mark.slow
def test_sigint_saves_best_image_and_resume_matches_uninterrupted_run(tmp_path, reference):
    proc = start_cli(*RUN, "--checkpoint", "run.ckpt", "--checkpoint-every", "2", cwd=tmp_path)
    code, err = signal_when_exists(proc, tmp_path / "run.ckpt", signal.SIGINT)
    assert code == 130, err
    assert_saved_partial(tmp_path, err)
    assert "continue with --resume run.ckpt" in err
    done = load_checkpoint(tmp_path / "run.ckpt").iteration
    assert 2 <= done < ITERS

    resumed = run_cli(*RUN, "--resume", "run.ckpt", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with Image.open(tmp_path / "out.png") as img:
        assert np.array_equal(np.asarray(img), reference)


@pytest.mark.slow
def test_sigterm_saves_best_image_and_exits_130(tmp_path):
    proc = start_cli(*RUN, "--save-every", "2", cwd=tmp_path)
    code, err = signal_when_exists(proc, tmp_path / "out.iter00002.png", signal.SIGTERM)
    assert code == 130, err
    assert_saved_partial(tmp_path, err)


def test_interrupted_api_call_carries_the_best_image(one_thread):
    def stop_at_third(progress):
        if progress.iteration == 3:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as info:
        run_texture("sample:brick", size=40, iters=10, callback=stop_at_third)
    partial = info.value.partial
    assert len(partial.history) == 3
    assert torch.isfinite(partial.image).all() and partial.image.std() > 0.01
    assert partial.settings["interrupted_at"] == {"level": 1, "iteration": 3}


def test_ctrl_c_before_the_first_evaluation_is_a_plain_keyboard_interrupt(tmp_path, monkeypatch,
                                                                         capsys):
    # The loop hands back an OptimResult with no history: nothing to save, and the loop's own
    # exception type must not escape the API (callers read RunInterrupted.partial as a RunResult).
    def stop(self, loop):
        raise KeyboardInterrupt

    monkeypatch.setattr(GradientStep, "advance", stop)
    with pytest.raises(KeyboardInterrupt) as info:
        run_texture("sample:brick", size=32, iters=4, device="cpu")
    assert not isinstance(info.value, Interrupted)
    monkeypatch.chdir(tmp_path)
    assert main(list(RUN)) == 130  # the CLI says "interrupted" and saves nothing
    assert capsys.readouterr().err.strip() == "texstyle: interrupted"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_resume_mid_level_matches_uninterrupted_run_across_levels(tmp_path, one_thread):
    # 256x64 px gives two pyramid levels (128x32, 256x64) at the cost of a 128 px square.
    # gram: its first L-BFGS iterations take few evaluations, so each level's first checkpoint
    # falls mid-level (w2's line search can spend the whole budget in one iteration).
    opts = {"width": 256, "height": 64, "iters": 5, "seed": 2, "loss": "gram", "layer_decay": 1.0}
    full = run_texture("sample:brick", **opts)
    paths: list[Path] = []

    def keep(c):
        paths.append(save_checkpoint(c, tmp_path / f"c{len(paths)}.ckpt"))

    checkpointed = run_texture("sample:brick", checkpoint=keep, checkpoint_every=1, **opts)
    assert torch.equal(checkpointed.image, full.image)  # chunked steps do not change the path
    checkpoints = [load_checkpoint(p) for p in paths]
    assert {c.level for c in checkpoints} == {1, 2}
    # Resume from the first checkpoint of each level: mid-level, the hard case.
    firsts = [next(p for p, c in zip(paths, checkpoints) if c.level == lv) for lv in (1, 2)]
    assert all(len(load_checkpoint(p).loop.history) < opts["iters"] for p in firsts)
    for path in firsts:
        resumed = run_texture("sample:brick", resume=load_checkpoint(path), **opts)
        assert torch.equal(resumed.image, full.image), path
        assert [h["total"] for h in resumed.history] == [h["total"] for h in full.history]


def test_resume_refuses_other_settings_or_inputs(tmp_path, one_thread):
    path = tmp_path / "c.ckpt"
    run_texture("sample:brick", size=40, iters=2, seed=1, checkpoint_every=1,
                checkpoint=lambda c: save_checkpoint(c, path))
    checkpoint = load_checkpoint(path)
    with pytest.raises(TexstyleError, match=r"other settings \(seed 1 → 2\)"):
        run_texture("sample:brick", size=40, iters=2, seed=2, resume=checkpoint)
    with pytest.raises(TexstyleError, match=r"input images differ"):
        run_texture("sample:gravel", size=40, iters=2, seed=1, resume=checkpoint)
    # What may differ: the device and resource limits are not part of the hash.
    run_texture("sample:brick", size=40, iters=2, seed=1, device="cpu", max_pixels=10**6,
                resume=checkpoint)


def test_cli_bad_checkpoint_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    assert_one_line_error(main([*RUN, "--resume", "junk.ckpt"]), capsys,
                          r"cannot read checkpoint junk\.ckpt")
    (tmp_path / "old.ckpt").write_bytes(b"")
    assert_one_line_error(main([*RUN, "--checkpoint", "old.ckpt"]), capsys,
                          r"output exists: old\.ckpt", r"--overwrite")
