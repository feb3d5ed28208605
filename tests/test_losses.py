"""losses: total variation in closed form, blended targets, and the objective's terms."""

from __future__ import annotations

import pytest
import torch

from texstyle.losses import Objective, style_targets, total_variation
from texstyle.stats import STATISTICS, gram


def checkerboard(n: int) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    return ((x + y) % 2).float().expand(1, 3, n, n).clone()


def test_total_variation_of_a_checkerboard_is_two_and_of_a_constant_zero():
    # Every neighbour differs by 1: mean squared difference 1 along each axis.
    assert total_variation(checkerboard(6)).item() == pytest.approx(2.0)
    assert total_variation(checkerboard(6), wrap=True).item() == pytest.approx(2.0)
    assert total_variation(torch.full((1, 3, 5, 5), 0.3)).item() == 0.0


def test_wrap_counts_the_seam_between_last_and_first_column():
    ramp = torch.linspace(0, 1, 5).expand(1, 3, 5, 5).clone()  # rises along x, jumps back at the seam
    assert total_variation(ramp, wrap=True) > total_variation(ramp)


def test_blended_targets_are_the_weighted_average_of_the_styles_statistics():
    a, b = torch.rand(1, 4, 3, 3), torch.rand(1, 4, 3, 3)
    mixed = style_targets([{"l": a}, {"l": b}], ["l"], "gram", blend=[3.0, 1.0])["l"][0]
    assert torch.allclose(mixed, 0.75 * gram(a) + 0.25 * gram(b))


def test_terms_are_weighted_and_sum_to_the_total():
    feats = {"s": torch.rand(1, 4, 3, 3), "c": torch.rand(1, 4, 3, 3)}
    target = {"s": STATISTICS["gram"].compute(torch.rand(1, 4, 3, 3))}
    objective = Objective(lambda image: feats, target, {"s": 1.0}, style_weight=2.0,
                          content_target=torch.rand(1, 4, 3, 3), content_layer="c",
                          content_weight=0.5, tv_weight=0.1)
    image = torch.rand(1, 3, 6, 6)
    total, terms = objective(image)
    assert set(terms) == {"style", "content", "tv"}
    assert total.item() == pytest.approx(sum(t.item() for t in terms.values()))
    assert terms["tv"].item() == pytest.approx(0.1 * total_variation(image).item())
    # Without style targets there is no style term.
    _, terms = Objective(lambda image: feats, {}, {}, tv_weight=0.1)(image)
    assert set(terms) == {"tv"}
