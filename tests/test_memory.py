"""Memory: the estimate against measured peak RSS, the refusal up front, the CUDA OOM fallback."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest
import torch

from cli_helpers import assert_one_line_error
from texstyle import api, plan
from texstyle.cli import main
from texstyle.config import DEFAULT_STYLE_LAYERS, TextureSettings
from texstyle.errors import TexstyleError
from texstyle.image import fit_long_side
from texstyle.memory import estimate_peak, with_oom_fallback

CHILD = """
import sys, torch
torch.set_num_threads(1)
import texstyle
texstyle.run_texture("sample:brick", size=int(sys.argv[1]), iters=2, device="cpu")
from texstyle.memory import peak_rss_bytes
print(peak_rss_bytes())
"""
SIZES = (64, 160, 256)  # 256 px: two pyramid levels, the finest one decides the peak


def estimate(size: int) -> int:
    style = tuple(api.read_input("sample:brick", "style").shape[-2:])
    out = fit_long_side(*style, size)
    return estimate_peak(out, [plan.style_shape(style, out, None)], [style], DEFAULT_STYLE_LAYERS,
                         optimizer="lbfgs", iters=2).total


@pytest.mark.slow
def test_estimate_matches_measured_peak_rss_at_three_sizes():
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    procs = {s: subprocess.Popen([sys.executable, "-c", CHILD, str(s)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env) for s in SIZES}
    measured = {}
    for size, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        measured[size] = int(out.split()[-1])
    for size in SIZES:
        assert estimate(size) == pytest.approx(measured[size], rel=0.3), (size, measured)
    # The fixed part dominates at these sizes, so also check what grows with the image.
    grown = measured[SIZES[-1]] - measured[SIZES[0]]
    assert estimate(SIZES[-1]) - estimate(SIZES[0]) == pytest.approx(grown, rel=0.3), (grown, measured)


def test_run_that_does_not_fit_is_refused_with_the_largest_size_that_fits():
    settings = TextureSettings(size=3000, max_memory=1.0)
    with pytest.raises(TexstyleError) as info:
        api.run_texture("sample:brick", settings)
    message = str(info.value)
    assert re.search(r"needs about \d+\.\d\d GB .* at 3000x3000 px, more than the 1\.00 GB", message)
    fit = int(re.search(r"--size (\d+)", message).group(1))
    assert 100 < fit < 3000
    style = [api.read_input("sample:brick", "style")]
    layers = list(settings.style_layers)
    check = plan.check_memory
    check(TextureSettings(size=fit, max_memory=1.0), (fit, fit), style, None, layers,
          torch.device("cpu"))  # fits
    with pytest.raises(TexstyleError):
        check(TextureSettings(size=fit + 1, max_memory=1.0), (fit + 1, fit + 1), style, None,
              layers, torch.device("cpu"))


def test_cli_max_memory_refusal_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["texture", "sample:brick", "-o", "o.png", "--size", "4096", "--max-memory", "0.5"])
    assert_one_line_error(code, capsys, r"--max-memory", r"4096x4096", r"--size \d+")
    assert not (tmp_path / "o.png").exists()


def oom_until(device_ok: str, calls: list):
    def run(settings):
        calls.append((settings.device, settings.resolved_optimizer()))
        if settings.device != device_ok and (device_ok != "adam" or settings.optimizer != "adam"):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        return "done"
    return run


def test_cuda_oom_falls_back_to_cheaper_settings_then_cpu(caplog):
    calls: list = []
    with caplog.at_level(logging.WARNING, logger="texstyle.memory"):
        assert with_oom_fallback(oom_until("cpu", calls), TextureSettings(device="cuda"),
                                 on_cuda=True) == "done"
    assert calls == [("cuda", "lbfgs"), ("cuda", "adam"), ("cpu", "lbfgs")]
    messages = [r.message for r in caplog.records]
    assert "with Adam instead of L-BFGS" in messages[0] and "on the CPU" in messages[1]

    calls.clear()  # the cheaper settings suffice: no CPU run
    assert with_oom_fallback(oom_until("adam", calls), TextureSettings(device="cuda"),
                             on_cuda=True) == "done"
    assert calls == [("cuda", "lbfgs"), ("cuda", "adam")]


def test_api_runs_go_through_the_oom_fallback(monkeypatch):
    calls: list = []
    monkeypatch.setattr(api, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(api, "_run", lambda style, content, s, cb, **kw: oom_until("cpu", calls)(s))
    assert api.run_texture("sample:brick", size=32) == "done"
    assert calls[-1] == ("cpu", "lbfgs") and len(calls) == 3


def test_tiled_print_sizes_are_estimated_per_tile():
    """Above --refine-tile the run holds one tile at a time: 4096 px fits where untiled it cannot."""
    style = [api.read_input("sample:brick", "style")]
    layers = list(DEFAULT_STYLE_LAYERS)
    tiled = TextureSettings(size=4096, max_memory=8.0)
    plan.check_memory(tiled, (4096, 4096), style, None, layers, torch.device("cpu"))  # fits
    untiled = TextureSettings(size=4096, max_memory=8.0, refine_tile=8192)
    with pytest.raises(TexstyleError, match=r"at 4096x4096 px, more than the 8\.00 GB"):
        plan.check_memory(untiled, (4096, 4096), style, None, layers, torch.device("cpu"))
