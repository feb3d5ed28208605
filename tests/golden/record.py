"""Reading, writing and comparing the golden record (``golden.npz`` + ``golden.json``).

The arrays themselves are stored, not only their hashes, so that on another CPU (other SIMD
kernels, other rounding) the test can still say how far the outputs are from the recorded ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ARRAYS = HERE / "golden.npz"
META = HERE / "golden.json"
# Off the recording machine: kernels for another instruction set round differently, so the
# outputs are compared with a tolerance instead of bit for bit (see docs in test_golden.py).
TOLERANCE = 1e-3


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def machine() -> dict[str, str]:
    """What decides whether bit-for-bit equality can be expected."""
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__}


def load() -> tuple[dict[str, np.ndarray], dict]:
    with np.load(ARRAYS) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(META.read_text())


def save(arrays: dict[str, np.ndarray]) -> None:
    np.savez_compressed(ARRAYS, **arrays)
    meta = machine() | {
        "threads": 1,  # golden.cases.THREADS
        "arrays": {k: {"sha256": sha256(v), "shape": list(v.shape), "dtype": str(v.dtype)}
                   for k, v in sorted(arrays.items())},
    }
    META.write_text(json.dumps(meta, indent=1) + "\n")


def difference(new: np.ndarray, old: np.ndarray) -> str | None:
    """None when equal to the bit; otherwise how they differ, in a few words."""
    if new.shape != old.shape or new.dtype != old.dtype:
        return f"shape/dtype {old.shape} {old.dtype} -> {new.shape} {new.dtype}"
    if sha256(new) == sha256(old):
        return None
    return f"max abs diff {float(np.max(np.abs(new.astype(np.float64) - old))):.3g}"
