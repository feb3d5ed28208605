"""The contract of a refactoring: the same inputs and settings give the same output, to the bit.

``golden/cases.py`` has small fixed-seed CPU runs through the public API, one per code path
(each statistic, stylize, gan, seamless, a tiled level, a pyramid and a resume from a mid-level
checkpoint, feed-forward AdaIN and WCT); ``golden/golden.npz`` holds their outputs and
``golden/golden.json`` the sha256 of each array and the machine they were recorded on.

On the recording machine (same CPU capability and torch version) every array must be equal bit
for bit.  Elsewhere other SIMD kernels round differently, so the arrays must be close instead
(``record.TOLERANCE``): the test never skips.  A deliberate change of output is recorded again
with ``python tests/golden/regenerate.py`` (it prints what changed) in a commit that says why.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from golden import record
from golden.cases import CASES, GAN, SPATIAL, STYLIZE, TEXTURE, run_case
from texstyle.config import GanOptions, SpatialOptions, StylizeSettings, TextureSettings

RECORDED, META = record.load()
SAME_MACHINE = all(META[k] == v for k, v in record.machine().items())
REGEN = "if the change is deliberate, run python tests/golden/regenerate.py and say why"


def test_cases_pass_every_option_explicitly():
    # A default changed elsewhere must not change a golden output: every field is named.
    assert set(TEXTURE) == {f.name for f in fields(TextureSettings)}
    assert set(STYLIZE) == {f.name for f in fields(StylizeSettings)}
    assert set(GAN) == {f.name for f in fields(GanOptions)}
    assert set(SPATIAL) == {f.name for f in fields(SpatialOptions)}


def test_record_is_complete_and_intact():
    expected = {f"{name}/{part}" for name in CASES for part in ("image", "loss")}
    assert set(RECORDED) == expected == set(META["arrays"])
    for key, array in RECORDED.items():
        assert record.sha256(array) == META["arrays"][key]["sha256"], key
    # Resuming from a mid-level checkpoint ends where the uninterrupted run ends.
    for part in ("image", "loss"):
        assert np.array_equal(RECORDED[f"texture-resumed/{part}"],
                              RECORDED[f"texture-pyramid/{part}"])


@pytest.mark.parametrize("name", list(CASES))
def test_output_matches_the_record(name):
    for key, array in run_case(name).items():
        old = RECORDED[key]
        assert array.shape == old.shape and array.dtype == old.dtype, key
        if SAME_MACHINE:
            assert record.sha256(array) == META["arrays"][key]["sha256"], \
                f"{key}: {record.difference(array, old)}; {REGEN}"
        else:
            # Another CPU or torch: closeness, with the loss totals relative to their size.
            scale = 1.0 if key.endswith("/image") else max(1.0, float(np.max(np.abs(old))))
            diff = float(np.max(np.abs(array.astype(np.float64) - old))) if array.size else 0.0
            assert diff < record.TOLERANCE * scale, f"{key}: max abs diff {diff:.3g}; {REGEN}"
