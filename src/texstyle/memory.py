"""Memory: estimate a run's peak before it starts, refuse what cannot fit, survive CUDA OOM.

Being killed by the OS after twenty minutes is worse than a refusal up front, so the API
estimates the peak memory of the finest pyramid level (the largest) and stops with the estimate
and the largest size that fits when it exceeds ``max_memory`` or what the machine has free.

The model (bytes, for the finest level of H x W px):

    runtime + weights + inputs + max(optimisation pass, style analysis pass)

* optimisation pass: every convolution up to the deepest layer keeps a few tensors of its output's
  size for the backward pass (its padded input, the ReLU output, gradients while going back):
  ``ACTIVATION_FACTOR`` x Σ channels / 4^pools floats per pixel; plus the optimiser's vectors of
  the image's size (L-BFGS: 2 per remembered step, up to 50, and about 8 working vectors; Adam: 5).
* style analysis: a forward pass without gradients holds about two of the largest activations.
* runtime: Python, torch and texstyle imported, and the first pass's one-off buffers (CPU only).

``ACTIVATION_FACTOR``, ``RUNTIME_BYTES`` and ``FIRST_PASS_BYTES`` were measured on CPU (torch 2.13,
one thread) with ``benchmarks/memory.py``; tests/test_memory.py checks the estimate against the
measured peak RSS.  On CUDA the same activation model is used for device memory (uncalibrated).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import torch

from .errors import TexstyleError
from .layers import CONV_NAMES, layer_index, pools_before
from .weights import EXPECTED_SHAPES

log = logging.getLogger(__name__)

MB = 2**20
GB = 2**30
RUNTIME_BYTES = 280 * MB  # resident after `import torch, texstyle` (CPU build)
FIRST_PASS_BYTES = 75 * MB  # one-off buffers of the first forward/backward pass (oneDNN, autograd)
ACTIVATION_FACTOR = 3.2  # floats alive per conv-output float at the peak of forward + backward
LBFGS_HISTORY = 50  # optimize.py's history_size
# Tiled refinement: whole-image tensors alive at once (iterate, best, blend weights, the tile's
# write-back, the content) and the statistics stored per tile (2.4 MB per tile measured with
# the five default layers, benchmarks/tiled_memory.py).  Not yet checked against a 4096 px run.
WHOLE_IMAGE_COPIES = 8
TILE_STATS_BYTES = int(2.4 * MB)
ALL_WEIGHT_BYTES = 4 * sum(torch.Size(s).numel() for s in EXPECTED_SHAPES.values())


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of a run, with the parts it is made of (for the message)."""

    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def describe(self) -> str:
        parts = ", ".join(f"{k} {v / GB:.2f}" for k, v in self.parts.items() if v >= 0.005 * GB)
        return f"{self.total / GB:.2f} GB ({parts})"


def conv_floats_per_pixel(layers: Sequence[str]) -> float:
    """Σ over the convolutions up to the deepest layer of channels / 4^(pools before it)."""
    deepest = max(layer_index(n) for n in layers)
    return sum(EXPECTED_SHAPES[f"{c}.weight"][0] / 4 ** pools_before(c)
               for c in CONV_NAMES if layer_index(c) <= deepest)


def estimate_peak(out_hw: tuple[int, int], style_hws: Sequence[tuple[int, int]],
                  input_hws: Sequence[tuple[int, int]], layers: Sequence[str], *,
                  optimizer: str, iters: int, device: str = "cpu") -> MemoryEstimate:
    """Peak memory of a run whose finest level is ``out_hw``.

    ``style_hws``: the sizes at which the styles are analysed for that level; ``input_hws``: the
    sizes of the images as loaded (kept in memory for the whole run).
    """
    pixels = out_hw[0] * out_hw[1]
    activations = 4 * ACTIVATION_FACTOR * conv_floats_per_pixel(layers) * pixels
    vectors = 2 * min(LBFGS_HISTORY, iters) + 8 if optimizer == "lbfgs" else 5
    optimiser = 4 * 3 * vectors * pixels
    first_channels = EXPECTED_SHAPES[f"{CONV_NAMES[0]}.weight"][0]
    style_pass = max((4 * 2 * first_channels * h * w for h, w in style_hws), default=0)
    on_cpu = device == "cpu"
    parts = {
        "runtime": RUNTIME_BYTES + FIRST_PASS_BYTES if on_cpu else 0,
        # The loaded file plus the extractor's copy of the layers it uses.
        "weights": ALL_WEIGHT_BYTES + _weight_bytes(layers),
        "inputs": sum(4 * 3 * h * w for h, w in input_hws),
        "activations": max(int(activations), style_pass),
        "optimiser": optimiser,
    }
    return MemoryEstimate(parts)


def _weight_bytes(layers: Sequence[str]) -> int:
    deepest = max(layer_index(n) for n in layers)
    return 4 * sum(torch.Size(EXPECTED_SHAPES[f"{c}.{p}"]).numel()
                   for c in CONV_NAMES if layer_index(c) <= deepest for p in ("weight", "bias"))


def available_bytes(device: torch.device) -> int | None:
    """What this run may use: free device memory on CUDA; on the CPU, free RAM (and the cgroup's
    limit, in a container) plus what this process already holds.  None when unknown."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device)
    free = _meminfo_available()
    if free is None:
        return None
    limit = _cgroup_room()
    if limit is not None:
        free = min(free, limit)
    return free + _own_rss()


def _meminfo_available() -> int | None:
    return _proc_bytes("/proc/meminfo", "MemAvailable")


def _proc_bytes(path: str, key: str) -> int | None:
    """A ``Key:  N kB`` line of a /proc file, in bytes; None where there is no such file or key."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cgroup_room() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            raw = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            current = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return None if raw == "max" else max(0, int(raw) - current)


def _own_rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def check_fits(estimate_at: Callable[[int], tuple[tuple[int, int], MemoryEstimate]],
               long_side: int, limit: int, limit_name: str) -> MemoryEstimate:
    """Raise a ``TexstyleError`` with the estimate and the largest long side that fits, if any.

    ``estimate_at(L)`` gives the output shape and estimate for an output whose long side is L.
    """
    out_hw, estimate = estimate_at(long_side)
    if estimate.total <= limit:
        return estimate
    lo, hi = 16, long_side  # invariant: hi does not fit; lo fits if anything does
    if estimate_at(lo)[1].total > limit:
        fit = "no size fits"
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if estimate_at(mid)[1].total <= limit else (lo, mid)
        fit = f"the largest size that fits is about --size {lo}"
    raise TexstyleError(
        f"this run needs about {estimate.describe()} of memory at {out_hw[1]}x{out_hw[0]} px, "
        f"more than the {limit / GB:.2f} GB {limit_name}; {fit}")


R = TypeVar("R")


def with_oom_fallback(run: Callable[[object], R], settings, *, on_cuda: bool) -> R:
    """Run; on CUDA out-of-memory retry with cheaper settings, then on the CPU, with warnings.

    The cheaper setting is Adam instead of L-BFGS: L-BFGS keeps up to 100 image-sized vectors of
    curvature history, Adam keeps 2 (as texturize falls back to lighter settings before the CPU).
    """
    attempts = [settings]
    if on_cuda:
        if settings.resolved_optimizer() == "lbfgs":
            attempts.append(replace(settings, optimizer="adam", lr=None))
        attempts.append(replace(settings, device="cpu"))
    for attempt, nxt in zip(attempts, [*attempts[1:], None]):
        try:
            return run(attempt)
        except torch.cuda.OutOfMemoryError:
            if nxt is None:
                raise
            how = ("with Adam instead of L-BFGS (less memory)" if nxt.device != "cpu"
                   else "on the CPU (slower)")
            log.warning("CUDA ran out of memory; starting again %s", how)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    raise AssertionError("unreachable")


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    ``/proc/self/status`` VmHWM belongs to the process's own address space.  ``ru_maxrss`` is
    not reliable for a child: Linux carries the parent's RSS at fork over the exec, so every
    child of a 1.2 GB test runner reported 1.2 GB whatever it did.
    """
    peak = _proc_bytes("/proc/self/status", "VmHWM")
    if peak is not None:
        return peak
    import resource  # not on Windows; macOS reports bytes, Linux KiB

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
