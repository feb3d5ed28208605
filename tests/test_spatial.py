"""Spatial control end to end (docs/spatial.md): two regions each end nearer their own style,
a region kept as the photo stays the photo, label maps, automatic regions and scale mixing run
on the real weights at 48-64 px; the command line's one-line errors for bad masks and labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cli_helpers import assert_usage_error, run_cli, run_main
from texstyle import TexstyleError
from texstyle.api import _cached_weights, run_stylize, run_texture
from texstyle.config import SpatialOptions, StylizeSettings, TextureSettings, parse_region
from texstyle.features import VGGFeatures
from texstyle.guides import region_statistic
from texstyle.image import resize
from texstyle.plan import read_input
from texstyle.stats import STATISTICS, relative_error

pytestmark = pytest.mark.usefixtures("one_thread")
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def save_mask(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array.astype(np.uint8)).save(path)
    return path


def halves(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    left = np.zeros((h, w), np.uint8)
    left[:, : w // 2] = 255
    return left, 255 - left


def left_mask(h: int, w: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, h, w)
    mask[..., : w // 2] = 1
    return mask


# ---- the two required checks ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["gram", "w2"])
def test_two_regions_each_end_closer_to_their_own_style(tmp_path, loss):
    # A label map split down the middle: brick on the left, the mosaic on the right.  Measured
    # (64 px, 20 evaluations, gram): left vs brick 0.003-0.31 against 0.71-0.99 vs the mosaic on
    # relu1_1-relu3_1, right vs mosaic 0.10-0.41 against 12-573 vs brick.
    label_map = save_mask(tmp_path / "map.png", halves(64, 64)[1])
    result = run_texture(None, size=64, coarsest=64, iters=20, fine_iters=None, loss=loss,
                         style_layers=LAYERS, label_map=str(label_map), device="cpu",
                         exemplar=("0:sample:brick", "255:sample:mosaic"))
    net = VGGFeatures(_cached_weights("normalized"), LAYERS)
    out = net(result.image)
    styles = [net(resize(read_input(f"sample:{n}", "style"), 64, 64)) for n in ("brick", "mosaic")]
    gram = STATISTICS["gram"]
    left = left_mask(64, 64)
    for name in LAYERS[:3]:
        for mask, own, other in ((left, 0, 1), (1 - left, 1, 0)):
            (region,) = region_statistic(gram, out[name], mask)
            to_own = relative_error(region, gram.compute(styles[own][name])[0])
            to_other = relative_error(region, gram.compute(styles[other][name])[0])
            assert float(to_own) < float(to_other), (name, own, float(to_own), float(to_other))


def test_a_region_mapped_to_content_stays_near_the_photo(tmp_path):
    # The cat's left half in the mosaic's style, the right half kept (--rest content).  Measured
    # at 48 px, 20 evaluations: right half 0.02-0.04 mean absolute difference from the photo, the
    # styled left half 0.19.
    photo = read_input("sample:cat", "photo")
    h, w = photo.shape[-2:]
    mask = save_mask(tmp_path / "left.png", halves(h, w)[0])
    result = run_stylize("sample:cat", None, size=48, coarsest=48, iters=20, fine_iters=None,
                         region=(f"{mask}:sample:mosaic",), device="cpu")
    out = result.image
    oh, ow = out.shape[-2:]
    diff = (out - resize(photo, oh, ow)).abs()
    kept, styled = float(diff[..., ow // 2 + 4:].mean()), float(diff[..., : ow // 2].mean())
    assert kept < 0.06, kept
    assert styled > 2 * kept, (styled, kept)
    assert "keep" in result.history[-1]
    assert any("kept as the photo" in line for line in result.settings["region_plan"])


# ---- the other ways in -------------------------------------------------------------------------


@pytest.mark.slow
def test_label_map_texture_grows_each_exemplar_in_its_region(tmp_path):
    # The mosaic is colourful, gravel grey: the label map's 255 half must come out more saturated.
    label_map = save_mask(tmp_path / "map.png", halves(48, 48)[1])
    result = run_texture(None, size=48, coarsest=48, iters=10, fine_iters=None, device="cpu",
                         label_map=str(label_map), exemplar=("0:sample:gravel", "255:sample:mosaic"))
    img = result.image[0]
    saturation = img.amax(0) - img.amin(0)
    assert float(saturation[:, 28:].mean()) > float(saturation[:, :20].mean()) + 0.1
    assert len(result.settings["region_plan"]) == 2


def test_automatic_regions_pair_and_run(tmp_path):
    result = run_stylize("sample:astronaut", "sample:stars", size=48, coarsest=48, iters=5,
                         fine_iters=None, regions="auto:3", device="cpu")
    assert len(result.settings["region_plan"]) == 3
    assert torch.isfinite(result.image).all()


def test_scale_mixing_takes_coarse_layers_from_one_style_and_fine_from_the_other():
    result = run_texture(None, size=48, coarsest=48, iters=10, fine_iters=None, device="cpu",
                         style_coarse="sample:brick", style_fine="sample:mosaic")
    img = result.image[0]
    # Fine layers (colour) from the mosaic: far more saturated than grey brick.
    assert float((img.amax(0) - img.amin(0)).mean()) > 0.2


@pytest.mark.parametrize("loss", ["meancov", "swd", "mean"])
def test_regions_work_with_every_fixed_statistic(tmp_path, loss):
    left, right = halves(32, 32)
    a, b = save_mask(tmp_path / "a.png", left), save_mask(tmp_path / "b.png", right)
    result = run_stylize("sample:coffee", None, size=32, coarsest=32, iters=3, fine_iters=None,
                         loss=loss, style_layers=LAYERS, device="cpu",
                         region=(f"{a}:sample:mosaic", f"{b}:sample:stars"))
    first, last = result.history[0]["style"], result.history[-1]["style"]
    assert last < first


def test_regions_with_luminance_colour_preservation(tmp_path):
    left, _ = halves(32, 32)
    a = save_mask(tmp_path / "a.png", left)
    result = run_stylize("sample:coffee", None, size=32, coarsest=32, iters=3, fine_iters=None,
                         style_layers=LAYERS, device="cpu", preserve_color="luminance",
                         region=(f"{a}:sample:mosaic",))
    assert tuple(result.image.shape[-2:]) == tuple(result.settings["output_size"][::-1])


# ---- settings and one-line errors ------------------------------------------------------------


def test_region_specs_parse_with_samples_and_content():
    assert parse_region("m.png:sample:cat").style == "sample:cat"
    spec = parse_region("m.png:sample:cat:sm.png")
    assert (spec.mask, spec.style, spec.style_mask) == ("m.png", "sample:cat", "sm.png")
    assert parse_region("m.png:content").style is None


@pytest.mark.parametrize(("options", "message"), [
    (dict(region=("m.png",)), "has no style"),
    (dict(regions="auto:1"), "auto:K with K from 2"),
    (dict(region=("a.png:s.png",), regions="auto:2"), "not both"),
    (dict(style_coarse="a.png"), "both --style-coarse and --style-fine"),
    (dict(label_map="m.png"), "needs an --exemplar"),
    (dict(exemplar=("7:a.png",)), "needs a --label-map"),
    (dict(label_map="m.png", exemplar=("300:a.png",)), "grey level from 0 to 255"),
    (dict(mask_erosion=-1), "mask_erosion"),
])
def test_spatial_options_are_checked(options, message):
    with pytest.raises(TexstyleError, match=message):
        TextureSettings.from_options(**options)


def test_regions_refuse_a_gan_loss_and_feed_forward():
    with pytest.raises(TexstyleError, match="fixed statistic"):
        TextureSettings.from_options(loss="gan", label_map="m.png", exemplar=("1:a.png",))
    with pytest.raises(TexstyleError, match="method gatys"):
        StylizeSettings.from_options(method="adain", region=("m.png:a.png",))
    assert SpatialOptions().active is False


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    save_mask(tmp_path / "left.png", halves(32, 32)[0])
    save_mask(tmp_path / "black.png", np.zeros((32, 32)))
    (tmp_path / "notes.png").write_text("not a picture")
    label = np.zeros((32, 32), np.uint8)
    label[:, 10:20] = 128
    label[:, 20:] = 255
    save_mask(tmp_path / "map.png", label)
    return tmp_path


@pytest.mark.parametrize(("args", "patterns"), [
    (["stylize", "sample:cat", "--region", "left.png"], ["has no style"]),
    (["stylize", "sample:cat", "--region", "black.png:sample:mosaic"], ["black.png is empty"]),
    (["stylize", "sample:cat", "--region", "notes.png:sample:mosaic"], ["notes.png"]),
    (["stylize", "sample:cat", "--region", "missing.png:sample:mosaic"], ["missing.png"]),
    (["stylize", "sample:cat", "--region", "left.png:sample:mosaic", "--rest", "style"],
     ["--rest style needs a --style"]),
    (["stylize", "sample:cat"], ["give a style image"]),
    (["texture", "--label-map", "map.png", "--exemplar", "0:sample:brick",
      "--exemplar", "255:sample:grass"], ["value 128", "no --exemplar"]),
    (["texture", "--label-map", "map.png", "--exemplar", "0:sample:brick", "--exemplar",
      "128:sample:cells", "--exemplar", "255:sample:grass", "--exemplar", "#ff0000:sample:cat"],
     ["#ff0000", "covers nothing"]),
])
def test_bad_spatial_input_is_one_line(inputs, args, patterns):
    proc = run_main(*args, "-o", "out.png", "--size", "32", "--iters", "1", "--device", "cpu",
                    cwd=inputs)
    assert_usage_error(proc, *patterns)
    assert not (inputs / "out.png").exists()


@pytest.mark.slow
def test_cli_label_map_texture_writes_the_output_and_its_regions(inputs):
    proc = run_cli("texture", "--label-map", "map.png", "--exemplar", "0:sample:brick",
                   "--exemplar", "128:sample:cells", "--exemplar", "255:sample:grass",
                   "-o", "out.png", "--size", "32", "--coarsest", "32", "--iters", "2",
                   "--style-layers", ",".join(LAYERS), "--quiet", cwd=inputs)
    assert proc.returncode == 0, proc.stderr
    with Image.open(inputs / "out.png") as img:
        assert img.size == (32, 32)
    record = json.loads((inputs / "out.json").read_text())["settings"]
    assert record["label_map"] == "map.png" and len(record["region_plan"]) == 3


@pytest.mark.slow
def test_cli_resizes_a_mask_of_another_size_with_a_note(inputs):
    proc = run_cli("stylize", "sample:coffee", "--region", "left.png:sample:mosaic",
                   "-o", "out.png", "--size", "32", "--coarsest", "32", "--iters", "2",
                   "--style-layers", ",".join(LAYERS), "--quiet", cwd=inputs)
    assert proc.returncode == 0, proc.stderr
    assert "note: mask left.png is 32x32 px; resized to the photo's" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_never_writes_over_a_mask(inputs):
    proc = run_main("stylize", "sample:cat", "--region", "left.png:sample:mosaic", "-o",
                    "left.png", "--overwrite", "--size", "32", cwd=inputs)
    assert_usage_error(proc, "one of the inputs")


@pytest.mark.slow
def test_regions_at_print_size_are_refined_in_tiles(tmp_path):
    # 96 px in tiles of 64: the regions' statistics stay global (refine.py), the kept half stays.
    photo = read_input("sample:coffee", "photo")
    h, w = photo.shape[-2:]
    mask = save_mask(tmp_path / "left.png", halves(h, w)[0])
    result = run_stylize("sample:coffee", None, size=96, coarsest=48, iters=4, fine_iters=None,
                         print_iters=3, refine_tile=64, refine_overlap=16, style_layers=LAYERS,
                         region=(f"{mask}:sample:mosaic",), device="cpu")
    assert result.settings["tiles_per_level"][-1] > 1
    out = result.image
    oh, ow = out.shape[-2:]
    diff = (out - resize(photo, oh, ow)).abs()
    assert float(diff[..., ow // 2 + 8:].mean()) < 0.5 * float(diff[..., : ow // 2].mean())


def test_automatic_regions_find_a_texture_that_colour_cannot_see():
    # A disc of grass inside brick: both grey, so colour and position alone split it no better
    # than chance (0.51 in benchmarks/spatial_clusters.py); the VGG texture points find it (0.97).
    from texstyle.regions import colour_points, kmeans, texture_points

    side = 128
    brick = resize(read_input("sample:brick", "brick"), side, side)
    grass = resize(read_input("sample:grass", "grass"), side, side)
    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    truth = (x - side / 2) ** 2 + (y - side / 2) ** 2 < (side * 0.3) ** 2
    image = torch.where(truth, grass, brick)
    net = VGGFeatures(_cached_weights("normalized"), ["relu3_1"])

    def accuracy(points_hw) -> float:
        points, (h, w) = points_hw
        labels = kmeans(points, 2).reshape(1, 1, h, w).float()
        full = torch.nn.functional.interpolate(labels, size=(side, side))[0, 0].bool()
        hit = float((full == truth).float().mean())
        return max(hit, 1 - hit)

    assert accuracy(texture_points(image, net)) > 0.9
    assert accuracy(colour_points(image)) < 0.7


def test_clusters_pair_by_brightness_and_height():
    from texstyle.regions import pair_clusters

    photo = torch.tensor([[0.9, 0.1], [0.2, 0.9], [0.5, 0.5]], dtype=torch.float64)  # sky, ground, middle
    style = torch.tensor([[0.5, 0.6], [0.1, 0.8], [0.8, 0.2]], dtype=torch.float64)
    assert pair_clusters(photo, style) == [2, 1, 0]


def test_the_plan_names_the_regions_and_the_scale_split(tmp_path):
    from texstyle.plan import plan_run

    label_map = save_mask(tmp_path / "map.png", halves(32, 32)[1])
    plan = plan_run(None, None, TextureSettings.from_options(
        size=32, device="cpu", label_map=str(label_map), exemplar=("0:sample:brick",
                                                                   "255:sample:grass")))
    text = plan.describe()
    assert "region label 0 → sample:brick: 50% of the picture" in text
    mixing = plan_run(None, None, TextureSettings.from_options(
        size=32, device="cpu", style_coarse="sample:brick", style_fine="sample:grass"))
    assert "relu2_1 from the fine style, relu3_1 from the coarse style" in mixing.describe()
