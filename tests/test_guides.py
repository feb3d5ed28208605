"""Guided statistics (guides.py) and the weighted statistics under them (stats.py), on tiny
tensors: a region's statistic is the statistic of its own positions, masks reach every layer
with their mass, and the style term sees nothing outside a region."""

from __future__ import annotations

import pytest
import torch

from texstyle.guides import (
    Guide,
    Region,
    guided_targets,
    layer_mask,
    position_weights,
    region_statistic,
)
from texstyle.stats import STATISTICS

MOMENTS = ["gram", "mean", "meancov", "w2"]


def features(seed: int = 0, c: int = 4, h: int = 6, w: int = 8) -> torch.Tensor:
    return torch.randn(1, c, h, w, generator=torch.Generator().manual_seed(seed)).relu()


def half_mask(h: int = 6, w: int = 8) -> torch.Tensor:
    mask = torch.zeros(1, 1, h, w)
    mask[..., : w // 2] = 1
    return mask


@pytest.mark.parametrize("name", MOMENTS)
def test_a_hard_mask_gives_the_statistic_of_the_positions_inside(name):
    stat, f = STATISTICS[name], features()
    inside = f[..., :4]  # the left half, the mask's white
    rep = region_statistic(stat, f, half_mask())
    for got, want in zip(rep, stat.compute(inside), strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("name", [*MOMENTS, "swd"])
def test_a_full_mask_gives_the_plain_statistic(name):
    stat, f = STATISTICS[name], features()
    rep = region_statistic(stat, f, torch.ones(1, 1, 6, 8))
    for got, want in zip(rep, stat.compute(f), strict=True):
        torch.testing.assert_close(got, want)


def test_grey_weights_count_positions_partly():
    # A position at weight 0.5 counts half as much as one at 1: the mean of a soft region.
    f = torch.tensor([[[[1.0, 3.0]]]])  # one channel, two positions
    mask = torch.tensor([[[[1.0, 0.5]]]])
    (mean,) = region_statistic(STATISTICS["mean"], f, mask)
    assert float(mean) == pytest.approx((1 * 1 + 0.5 * 3) / 1.5)


def test_weighted_swd_equals_swd_of_the_subset():
    # The same random directions: a 0/1-weighted cloud is the cloud of the positions inside.
    stat, f, target = STATISTICS["swd"], features(1), stat_target()
    weighted = region_statistic(stat, f, half_mask())
    a = stat.distance(weighted, target, generator=torch.Generator().manual_seed(3))
    b = stat.distance(stat.compute(f[..., :4].contiguous()), target,
                      generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


def stat_target() -> tuple[torch.Tensor, ...]:
    return STATISTICS["swd"].compute(features(7, h=5, w=5))


def test_layer_masks_keep_their_share_and_erosion_drops_the_border():
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., :, :16] = 1  # left half
    small = layer_mask(mask, (8, 8))
    assert float(small.mean()) == pytest.approx(0.5)  # area average keeps the region's mass
    eroded = layer_mask(mask, (8, 8), erosion=1)
    assert float(eroded[..., :, 3].max()) == 0  # the column next to the boundary is out
    assert float(eroded[..., :, :3].min()) == 1
    # A region thinner than the erosion at this layer keeps its plain mask instead of vanishing.
    thin = torch.zeros(1, 1, 32, 32)
    thin[..., :, 14:18] = 1
    torch.testing.assert_close(layer_mask(thin, (8, 8), erosion=2), layer_mask(thin, (8, 8)))


def test_position_weights_sum_to_one():
    assert float(position_weights(torch.rand(1, 1, 5, 7)).sum()) == pytest.approx(1.0)


@pytest.mark.parametrize("name", [*MOMENTS, "swd"])
def test_style_term_is_zero_at_the_targets_and_blind_outside_the_regions(name):
    stat = STATISTICS[name]
    left, right = features(0), features(1)
    image = torch.cat([left[..., :4], right[..., 4:]], dim=-1).requires_grad_(True)
    mask = half_mask()
    targets_left = guided_targets(stat, [{"x": left[..., :4]}], [None], ["x"], [1.0])
    region = Region(mask, 0.5, targets_left)
    guide = Guide((region,))
    extra = {"generator": torch.Generator().manual_seed(0)} if stat.stochastic else {}
    loss = guide.style_term({"x": image}, stat, {"x": 1.0}, **extra)
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-6)
    # Change the right half only: the left region's term does not move and gets no gradient.
    other = torch.cat([left[..., :4], features(5)[..., 4:]], dim=-1)
    other.requires_grad_(True)
    moved = guide.style_term({"x": other}, stat, {"x": 1.0}, **extra)
    assert float(moved.detach()) == pytest.approx(0.0, abs=1e-6)
    wrong = torch.cat([features(9)[..., :4], right[..., 4:]], dim=-1).requires_grad_(True)
    far = guide.style_term({"x": wrong}, stat, {"x": 1.0}, **extra)
    far.backward()
    assert float(far.detach()) > 1e-3
    assert float(wrong.grad[..., 4:].abs().max()) == 0.0
    assert float(wrong.grad[..., :4].abs().max()) > 0.0


def test_regions_weigh_by_area():
    stat = STATISTICS["gram"]
    f = features(0)
    far_target = {"x": stat.compute(features(4))}
    small, large = Region(half_mask(), 0.1, far_target), Region(half_mask(), 0.4, far_target)
    one = Guide((small,)).style_term({"x": f}, stat, {"x": 1.0})
    four = Guide((large,)).style_term({"x": f}, stat, {"x": 1.0})
    assert float(four) == pytest.approx(4 * float(one))
