"""The coarse-to-fine schedule: level sizes and how the evaluation budget is spread over them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from texstyle.pyramid import level_iterations, level_shapes


@given(levels=st.integers(1, 6), coarse=st.integers(1, 500), fine=st.integers(1, 500))
def test_budget_runs_from_coarse_to_fine_monotonically(levels, coarse, fine):
    its = level_iterations(levels, coarse, fine)
    assert len(its) == levels and all(n >= 1 for n in its)
    assert its[0] == coarse
    if levels > 1:
        assert its[-1] == min(fine, coarse)  # the finest level never gets more than the coarsest
        assert all(a >= b for a, b in itertools.pairwise(its))


def test_geometric_middle_and_no_fine_budget_means_equal_levels():
    assert level_iterations(3, 100, 25) == [100, 50, 25]
    assert level_iterations(3, 100, None) == [100, 100, 100]
    assert level_iterations(1, 100, 10) == [100]  # one level: it is the coarsest


def test_coarsest_size_sets_the_number_of_levels():
    assert level_shapes((512, 512), 16, coarsest=128) == [(128, 128), (256, 256), (512, 512)]
    assert level_shapes((512, 512), 16, coarsest=64)[0] == (64, 64)
    assert level_shapes((512, 512), 16, coarsest=512) == [(512, 512)]
    assert level_shapes((300, 600), 32, coarsest=128) == [(75, 150), (150, 300), (300, 600)]


def test_tiled_levels_get_the_print_budget_and_the_schedule_ends_below_them():
    from texstyle.pyramid import level_budgets, level_iterations

    shapes = [(128, 128), (256, 256), (512, 512), (1024, 1024), (2048, 2048), (4096, 4096)]
    tiled = [False, False, False, False, True, True]
    budgets = level_budgets(shapes, 100, 40, tiled, 8)
    assert budgets[:4] == level_iterations(4, 100, 40) and budgets[3] == 40
    assert budgets[4:] == [8, 8]
    assert level_budgets(shapes[:4], 100, 40, tiled[:4], 8) == level_iterations(4, 100, 40)
    assert level_budgets(shapes[:1], 100, 40, [True], 3) == [3]
    with pytest.raises(ValueError):
        level_budgets(shapes[:2], 100, 40, [True, False], 3)
