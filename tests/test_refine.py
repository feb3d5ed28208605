"""Print-size refinement in tiles: the plan, the blending weights, global statistics, and
equality with ordinary refinement when one tile covers the image."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import texstyle
from texstyle.errors import TexstyleError
from texstyle.features import VGGFeatures
from texstyle.losses import Objective, style_targets
from texstyle.optimize import LoopInterrupted, optimize
from texstyle.refine import _crop, core_reps, feather, plan_tiles, refine_tiled
from texstyle.stats import STATISTICS

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(40, 120), st.integers(0, 19))
def test_cores_partition_the_image_and_boxes_overlap(h, w, size, overlap):
    tiles = plan_tiles(h, w, size, overlap)
    owner = torch.zeros(h, w, dtype=torch.int64)
    covered = torch.zeros(h, w, dtype=torch.bool)
    for t in tiles:
        y0, y1, x0, x1 = t.box
        cy0, cy1, cx0, cx1 = t.core
        assert 0 <= y0 <= cy0 < cy1 <= y1 <= h and 0 <= x0 <= cx0 < cx1 <= x1 <= w
        assert y1 - y0 <= size and x1 - x0 <= size
        # The context a tile sees reaches at least half the overlap past its core, inside the image.
        for inner, outer, edge in ((cy0, y0, 0), (cx0, x0, 0)):
            assert inner == edge or inner - outer >= overlap // 2
        for inner, outer, edge in ((cy1, y1, h), (cx1, x1, w)):
            assert inner == edge or outer - inner >= overlap // 2
        owner[cy0:cy1, cx0:cx1] += 1
        covered[y0:y1, x0:x1] = True
    assert torch.all(owner == 1)
    assert covered.all()


def test_too_small_tile_is_refused():
    with pytest.raises(TexstyleError, match="twice the overlap"):
        plan_tiles(100, 100, 32, 16)


def test_feather_ramps_only_towards_neighbours():
    tiles = plan_tiles(100, 60, 64, 16)
    assert len(tiles) == 2  # two rows, one column
    top = feather(tiles[0], 100, 60, 16)[0, 0]
    assert torch.all(top[:48] == 1) and torch.all(top[:48, 0] == 1)
    assert top[-1, 0] < 0.1 and torch.all(top[48:, 5].diff() < 0)
    # Where two tiles overlap, the later tile's ramp and the earlier's cross once: weights in (0, 1).
    bottom = feather(tiles[1], 100, 60, 16)[0, 0]
    assert bottom[0, 0] < 0.1 and bottom[-1, 0] == 1


def problem(weights, image_hw, stat="gram", content=None):
    net = VGGFeatures(weights, [*LAYERS, "relu3_2"])
    style = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        targets = style_targets(net(style), LAYERS, stat)
    lw = {n: 1 / len(LAYERS) for n in LAYERS}
    # The whole image's objective; a tiled run takes the content term from the content image.
    return Objective(net, targets, lw, style_weight=1.0, statistic=STATISTICS[stat],
                     content_layer="relu3_2" if content is not None else None,
                     content_weight=0.5 if content is not None else 0.0, tv_weight=0.1)


@pytest.mark.parametrize("stat", ["gram", "meancov"])
def test_statistics_accumulated_over_tiles_match_the_whole_image(random_weights, stat):
    """Σ a_t R_t over the tile cores is the whole image's statistic, up to padding effects."""
    p = problem(random_weights, (96, 80), stat)
    g = torch.Generator().manual_seed(4)
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 24, 20, generator=g), size=(96, 80),
                                            mode="bilinear")
    tiles = plan_tiles(96, 80, 48, 16)
    assert len(tiles) == 6
    with torch.no_grad():
        whole = {n: p.statistic.compute(f) for n, f in p.extractor(image).items() if n in LAYERS}
        total = None
        for t in tiles:
            y0, y1, x0, x1 = t.box
            cy0, cy1, cx0, cx1 = t.core
            a = (cy1 - cy0) * (cx1 - cx0) / (96 * 80)
            reps = core_reps(p, p.extractor(image[..., y0:y1, x0:x1]), t)
            part = {n: tuple(a * v for v in r) for n, r in reps.items()}
            total = part if total is None else {
                n: tuple(u + v for u, v in zip(total[n], part[n])) for n in part}
    for n in LAYERS:
        for got, want in zip(total[n], whole[n]):
            assert ((got - want).norm() / want.norm()).item() < 0.03, n


def test_one_tile_refinement_equals_untiled(random_weights, one_thread):
    g = torch.Generator().manual_seed(5)
    content = torch.rand(1, 3, 32, 40, generator=g)
    init = content.clone()
    p = problem(random_weights, (32, 40), content=content)
    tiled = refine_tiled(init, p, tile=64, overlap=8, iters=8, content=content)
    with torch.no_grad():
        content_target = p.extractor(content)["relu3_2"]
    objective = Objective(p.extractor, p.style_targets, dict(p.layer_weights), style_weight=1.0,
                          content_target=content_target, content_layer="relu3_2",
                          content_weight=0.5, tv_weight=0.1, statistic=p.statistic)
    plain = optimize(init, objective, iters=8)
    assert len(tiled.history) == len(plain.history) == 8
    for a, b in zip(tiled.history, plain.history):
        assert a["total"] == pytest.approx(b["total"], rel=1e-4)
    assert (tiled.image - plain.image).abs().max().item() < 1e-3
    assert (plain.image - init).abs().max().item() > 0.01  # it did move


def test_tiled_refinement_lowers_the_whole_images_loss(random_weights, one_thread):
    """Several tiles, each optimised for the whole image's objective: the global loss falls."""
    p = problem(random_weights, (64, 64))
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(6))
    objective = Objective(p.extractor, p.style_targets, dict(p.layer_weights), tv_weight=0.1,
                          statistic=p.statistic)
    before = objective(image)[0].item()
    seen = []
    result = refine_tiled(image, p, tile=40, overlap=12, iters=6, callback=seen.append)
    assert {r["tile"] for r in result.history} == {1.0, 2.0, 3.0, 4.0}
    assert [s.iteration for s in seen] == list(range(1, 25)) and seen[-1].total == 24
    assert seen[-1].image().size == (64, 64)  # progress shows the whole image, not one tile
    assert objective(result.image)[0].item() < 0.8 * before


def test_swd_is_refused(random_weights):
    p = problem(random_weights, (64, 64), stat="swd")
    with pytest.raises(TexstyleError, match=r"swd.*tiles"):
        refine_tiled(torch.rand(1, 3, 64, 64), p, tile=40, overlap=12, iters=1)


def test_crop_maps_core_to_feature_positions():
    tile = plan_tiles(64, 64, 40, 12)[3]  # bottom right
    f = torch.zeros(1, 1, 10, 10)  # a stride-4 layer over the 40 px box
    y0, _, x0, _ = tile.box
    cy0, cy1, cx0, cx1 = tile.core
    assert _crop(f, tile, "relu3_1").shape[-2:] == (round((cy1 - y0) / 4) - round((cy0 - y0) / 4),
                                                     round((cx1 - x0) / 4) - round((cx0 - x0) / 4))


def test_api_refines_large_levels_in_tiles(one_thread):
    result = texstyle.run_texture("sample:brick", size=64, iters=2, print_iters=3,
                                  refine_tile=40, refine_overlap=8,
                                  style_layers=("relu1_1", "relu2_1"))
    assert result.image.shape == (1, 3, 64, 64)
    assert result.settings["tiles_per_level"] == [4]
    assert result.settings["level_iters"] == [3]  # a tiled level's budget is print_iters
    assert len(result.history) == 12
    with pytest.raises(TexstyleError, match="--tile works up to"):
        texstyle.run_texture("sample:brick", size=64, iters=1, refine_tile=40, refine_overlap=8,
                             tile=True)
    with pytest.raises(TexstyleError, match="refine_tile"):
        texstyle.TextureSettings(refine_tile=64, refine_overlap=32)


def test_cli_flags_reach_the_settings():
    from texstyle.cli.commands import _settings_from_args, build_parser

    args = build_parser().parse_args(["texture", "sample:brick", "-o", "o.png", "--tile",
                                      "--refine-tile", "512", "--refine-overlap", "64",
                                      "--print-iters", "5"])
    s = _settings_from_args(args, texstyle.TextureSettings)
    assert (s.tile, s.refine_tile, s.refine_overlap, s.print_iters) == (True, 512, 64, 5)
    with pytest.raises(TexstyleError, match="print_iters"):
        texstyle.TextureSettings(print_iters=0)


@pytest.mark.parametrize("n", [1025, 1500, 2048, 3000, 4096, 8192])
def test_tiles_shrink_to_cover_the_side_without_extra_overlap(n):
    """As many tiles as tiles of the full size would need, each no larger than needed: every
    overlap at least the requested one, and far less than the 512 px of 1024 px tiles at 2048."""
    from texstyle.refine import _axis

    axis = _axis(n, 1024, 128)
    count = -(-(n - 128) // (1024 - 128))
    assert len(axis) == count
    sizes = {b - a for a, b, _, _ in axis}
    assert len(sizes) == 1 and max(sizes) <= 1024 and max(sizes) % 16 == 0
    overlaps = [axis[i][1] - axis[i + 1][0] for i in range(count - 1)]
    assert min(overlaps) >= 128
    assert max(overlaps) < 128 + 2 * 16  # only the rounding to 16 px adds overlap


def test_running_statistics_follow_every_write_back(random_weights, monkeypatch):
    """The whole-image total that a tile is optimised against must be the sum over the cores as
    they are *now*: a neighbour's feathered write-back reaches into this tile's core.  With a
    stand-in optimiser (x ↦ 0.8x + 0.1) the image before the last tile can be recovered from the
    final one, and the total handed to the last tile compared with a fresh sum."""
    from texstyle import refine as tiled

    p = problem(random_weights, (64, 64))
    seen = []
    real_objective = tiled._tile_objective

    def spy(problem_, tile, area, total, own, content_target, masses=None):
        seen.append({n: tuple(v.clone() for v in r) for n, r in total.items()})
        return real_objective(problem_, tile, area, total, own, content_target, masses)

    def fake_optimize(init, objective, **_):
        return tiled.OptimResult(0.8 * init + 0.1, [{"total": 0.0}], elapsed=0.0)

    monkeypatch.setattr(tiled, "_tile_objective", spy)
    monkeypatch.setattr(tiled, "optimize", fake_optimize)
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(7))
    final = refine_tiled(image, p, tile=40, overlap=12, iters=1).image
    tiles = plan_tiles(64, 64, 40, 12)
    last = tiles[-1]
    w = feather(last, 64, 64, 12)
    y0, y1, x0, x1 = last.box
    before = final.clone()
    before[..., y0:y1, x0:x1] = (final[..., y0:y1, x0:x1] - 0.1 * w) / (1 - 0.2 * w)
    with torch.no_grad():
        fresh = None
        for t in tiles:
            cy0, cy1, cx0, cx1 = t.core
            a = (cy1 - cy0) * (cx1 - cx0) / (64 * 64)
            by0, by1, bx0, bx1 = t.box
            reps = core_reps(p, p.extractor(before[..., by0:by1, bx0:bx1]), t)
            part = {n: tuple(a * v for v in r) for n, r in reps.items()}
            fresh = part if fresh is None else {
                n: tuple(u + v for u, v in zip(fresh[n], part[n])) for n in part}
    for n in LAYERS:
        for got, want in zip(seen[-1][n], fresh[n]):
            assert torch.allclose(got, want, rtol=1e-4, atol=1e-6), n


def test_ctrl_c_in_a_tile_hands_back_the_whole_image(random_weights, one_thread):
    p = problem(random_weights, (64, 64))
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(6))

    def press_ctrl_c(progress):
        if progress.iteration == 5:  # in the second tile
            raise KeyboardInterrupt

    with pytest.raises(LoopInterrupted) as info:
        refine_tiled(image, p, tile=40, overlap=12, iters=3, callback=press_ctrl_c)
    partial = info.value.partial
    assert partial.image.shape == image.shape  # the whole level, not the tile
    assert [r["tile"] for r in partial.history] == [1.0, 1.0, 1.0]  # the finished tile's records
    assert not torch.equal(partial.image, image)  # with the first tile refined


def guided_problem(weights, stat="gram"):
    """Two regions of a 96x80 image (left / right with a soft band), each with its own style."""
    from texstyle.guides import Guide, Region

    net = VGGFeatures(weights, LAYERS)
    g = torch.Generator().manual_seed(8)
    left = torch.zeros(1, 1, 96, 80)
    left[..., :36] = 1
    left[..., 36:44] = 0.5
    regions = []
    for mask, seed in ((left, 1), (1 - left, 2)):
        style = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            targets = style_targets(net(style), LAYERS, stat)
        regions.append(Region(mask, float(mask.mean()), targets))
    lw = {n: 1 / len(LAYERS) for n in LAYERS}
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 24, 20, generator=g), size=(96, 80),
                                            mode="bilinear")
    return Objective(net, {}, lw, statistic=STATISTICS[stat], guide=Guide(tuple(regions))), image


@pytest.mark.parametrize("stat", ["gram", "w2"])
def test_region_statistics_accumulated_over_tiles_match_the_whole_image(random_weights, stat):
    """With regions, Σ over cores is each region's weighted statistic over the whole image."""
    from texstyle.guides import region_statistic
    from texstyle.refine import TileSweep

    p, image = guided_problem(random_weights, stat)
    sweep = TileSweep(image, p, tile=48, overlap=16, iters=1, content=None, optimizer="lbfgs",
                      lr=None)
    assert len(sweep.tiles) == 6
    with torch.no_grad():
        feats = p.extractor(image)
    for i, region in enumerate(p.guide.regions):
        for n in LAYERS:
            whole = region_statistic(p.statistic, feats[n], region.mask)
            for got, want in zip(sweep.total[f"{i}:{n}"], whole, strict=True):
                assert ((got - want).norm() / want.norm()).item() < 0.01, (i, n)  # measured 6e-4


def test_a_tiled_guided_level_lowers_its_regions_loss(random_weights, one_thread):
    p, image = guided_problem(random_weights)
    before = float(p(image)[0])
    result = refine_tiled(image, p, tile=48, overlap=16, iters=3)
    assert float(p(result.image)[0]) < before
