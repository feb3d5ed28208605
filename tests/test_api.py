"""The Python API in-process, on the real VGG-19 weights (loaded once and cached by texstyle)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import texstyle
from texstyle import Progress, TexstyleError


def _exemplar() -> np.ndarray:
    """A 60x40 (W x H) RGB exemplar with some structure: stripes plus noise."""
    rng = np.random.default_rng(0)
    x = np.arange(60)[None, :, None]
    stripes = 127 + 100 * np.sin(x / 3.0 + np.array([0.0, 1.0, 2.0]))
    arr = stripes + rng.normal(0, 20, (40, 60, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


def _open(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return img.copy()


@pytest.fixture(scope="module")
def exemplar(tmp_path_factory) -> tuple[np.ndarray, Path]:
    arr = _exemplar()
    path = tmp_path_factory.mktemp("api") / "exemplar.png"
    Image.fromarray(arr).save(path)
    return arr, path


# One small run per input kind; all describe the same pixels, so all must give the same texture.
INPUT_KINDS = {
    "str": lambda arr, path: str(path),
    "path": lambda arr, path: path,
    "pil": lambda arr, path: _open(path),
    "numpy_uint8": lambda arr, path: arr.copy(),
    "tensor_chw": lambda arr, path: torch.from_numpy(arr.astype(np.float32) / 255.0).permute(2, 0, 1),
}
RUN = dict(size=48, iters=2, seed=5)


@pytest.fixture(scope="module")
def reference_texture(exemplar) -> Image.Image:
    _arr, path = exemplar
    return texstyle.synthesize_texture(str(path), **RUN)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(INPUT_KINDS))
def test_synthesize_texture_accepts_input_kind(kind, exemplar, reference_texture):
    arr, path = exemplar
    source = INPUT_KINDS[kind](arr, path)
    if kind == "tensor_chw":
        assert source.shape == (3, 40, 60) and source.dtype == torch.float32
        assert 0.0 <= float(source.min()) and float(source.max()) <= 1.0
    out = texstyle.synthesize_texture(source, **RUN)
    assert isinstance(out, Image.Image)
    assert out.mode == "RGB"
    assert out.size == (48, 32)  # long side 48, the exemplar's 3:2 aspect ratio
    # Same pixels in, same seed: the same texture, whatever the container.
    assert np.array_equal(np.asarray(out), np.asarray(reference_texture))


def test_synthesize_texture_accepts_sample():
    out = texstyle.synthesize_texture("sample:brick", size=40, iters=2)
    assert isinstance(out, Image.Image)
    assert out.mode == "RGB"
    assert out.size == (40, 40)  # the brick sample is square


def test_synthesize_texture_width_height():
    out = texstyle.synthesize_texture("sample:brick", width=56, height=36, iters=2)
    assert out.mode == "RGB" and out.size == (56, 36)


def test_stylize_keeps_content_aspect_ratio():
    out = texstyle.stylize("sample:cat", "sample:mosaic", size=48, iters=2)
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    # The cat sample is 451x300 px: long side 48 gives 48 x round(300 * 48 / 451) = 48x32.
    assert out.size == (48, 32)


def test_stylize_content_of_other_shape():
    content = Image.fromarray(_exemplar()).transpose(Image.Transpose.ROTATE_90)  # 40x60, portrait
    out = texstyle.stylize(content, "sample:mosaic", size=54, iters=2)
    assert out.size == (36, 54)


def test_stylize_width_height_exact():
    out = texstyle.stylize("sample:cat", "sample:mosaic", width=40, height=56, iters=2)
    assert out.mode == "RGB" and out.size == (40, 56)


CONVERGENCE_ITERS = 30  # 10x is reached after 15-22 iterations (seeds 0-7); see the report


@pytest.mark.slow
def test_texture_converges_on_real_weights():
    result = texstyle.run_texture("sample:brick", size=64, iters=CONVERGENCE_ITERS, seed=0)
    history = result.history
    assert len(history) == CONVERGENCE_ITERS  # one pyramid level at 64 px, nothing stopped early
    assert all("style" in h and "total" in h for h in history)
    first, last = history[0]["style"], history[-1]["style"]
    assert math.isfinite(first) and math.isfinite(last)
    assert last * 10 <= first, f"style loss went from {first:.4g} to {last:.4g}"
    assert result.image.shape == (1, 3, 64, 64)
    assert result.settings["output_size"] == [64, 64]


@pytest.mark.slow
def test_same_seed_same_image_other_seed_other_image():
    a = texstyle.run_texture("sample:brick", size=32, iters=4, seed=3)
    b = texstyle.run_texture("sample:brick", size=32, iters=4, seed=3)
    c = texstyle.run_texture("sample:brick", size=32, iters=4, seed=4)
    assert torch.equal(a.image, b.image)
    assert a.history == b.history
    assert not torch.equal(a.image, c.image)


@pytest.mark.slow
def test_callback_receives_progress():
    reports: list[Progress] = []
    sizes: list[tuple[int, int]] = []

    def callback(p: Progress) -> None:
        reports.append(p)
        sizes.append(p.image().size)  # the image must be taken while the run is at that level

    # 256x64 px runs a two-level pyramid (128x32, then 256x64): two iterations per level.
    result = texstyle.run_texture("sample:brick", width=256, height=64, iters=2, callback=callback)
    assert [p.iteration for p in reports] == [1, 2, 3, 4]
    assert all(isinstance(p, texstyle.Progress) for p in reports)
    assert all(p.total == 4 for p in reports)
    assert all("style" in p.losses and math.isfinite(p.losses["style"]) for p in reports)
    elapsed = [p.elapsed for p in reports]
    assert all(e >= 0 for e in elapsed)
    assert elapsed == sorted(elapsed)
    assert [p.size for p in reports] == [(128, 32), (128, 32), (256, 64), (256, 64)]
    assert sizes == [p.size for p in reports]
    assert [p.level for p in reports] == [1, 1, 2, 2]
    assert all(p.levels == 2 for p in reports)
    image = reports[-1].image()
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    assert result.to_pil().size == (256, 64)


@pytest.mark.parametrize("options", [
    dict(iters=0),
    dict(iters=-3),
    dict(pooling="median"),
    dict(layer_weights=(1.0, 2.0)),  # five default style layers
    dict(size=0),
    dict(style_weight=0.0),
    dict(style_layers=("relu1_1", "relu9_9")),
    dict(optimizer="sgd"),
], ids=lambda o: next(iter(o)))
def test_bad_options_raise_texstyle_error(options):
    with pytest.raises(TexstyleError):
        texstyle.synthesize_texture("sample:brick", **{"size": 32, **options})


def test_bad_stylize_option_raises_texstyle_error():
    with pytest.raises(TexstyleError, match="content_weight"):
        texstyle.stylize("sample:cat", "sample:mosaic", size=32, iters=1, content_weight=-1.0)


def test_unknown_option_names_raise_type_error():
    with pytest.raises(TypeError, match="sizee"):
        texstyle.synthesize_texture("sample:brick", sizee=32, iters=1)
    with pytest.raises(TypeError, match="content_weight"):
        texstyle.run_texture("sample:brick", size=32, iters=1, content_weight=1.0)
    with pytest.raises(TypeError, match="colour"):
        texstyle.stylize("sample:cat", "sample:mosaic", size=32, iters=1, colour="red")


@pytest.mark.slow
def test_init_image_path_for_textures(tmp_path):
    init = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    path = tmp_path / "init.png"
    Image.fromarray(init).save(path)
    # One iteration evaluates the starting image only, and the best iterate is returned:
    # the result is the init image itself.
    one = texstyle.run_texture("sample:brick", size=48, iters=1, init=str(path))
    assert np.array_equal(np.asarray(one.to_pil()), init)
    # A few more iterations move away from it and lower the loss.
    more = texstyle.run_texture("sample:brick", size=48, iters=5, init=str(path))
    assert more.history[-1]["style"] < more.history[0]["style"]
    assert not np.array_equal(np.asarray(more.to_pil()), init)
    # An init of another size is resized to the output.
    Image.fromarray(init[:30, :40]).save(tmp_path / "small.png")
    resized = texstyle.synthesize_texture("sample:brick", size=48, iters=1,
                                          init=str(tmp_path / "small.png"))
    assert resized.size == (48, 48)


@pytest.mark.slow
def test_adam_runs_and_lowers_the_loss():
    result = texstyle.run_texture("sample:brick", size=64, iters=10, optimizer="adam")
    assert result.settings["optimizer"] == "adam"
    assert len(result.history) == 10
    first, last = result.history[0]["style"], result.history[-1]["style"]
    assert last < 0.7 * first, f"style loss went from {first:.4g} to {last:.4g}"


@pytest.mark.slow
def test_max_pooling_differs_from_avg():
    avg = texstyle.run_texture("sample:brick", size=32, iters=3, seed=2)
    mx = texstyle.run_texture("sample:brick", size=32, iters=3, seed=2, pooling="max")
    assert avg.settings["pooling"] == "avg" and mx.settings["pooling"] == "max"
    assert not torch.equal(avg.image, mx.image)
    assert avg.history != mx.history


@pytest.mark.slow
def test_wide_style_survives_coarse_pyramid_levels():
    # A 256x32 strip passes the size check at full size; the 128 px level must not shrink it
    # below the 32 px that relu5_1 needs.
    strip = np.random.default_rng(0).integers(0, 256, (32, 256, 3), dtype=np.uint8)
    result = texstyle.run_texture(strip, width=256, height=64, iters=1)
    assert result.image.shape == (1, 3, 64, 256)
    assert [tuple(level) for level in result.settings["levels"]] == [(128, 32), (256, 64)]


def test_settings_object_of_the_wrong_kind_is_refused():
    with pytest.raises(TypeError, match="StylizeSettings"):
        texstyle.run_stylize("sample:cat", "sample:mosaic", texstyle.TextureSettings())


def _colour_moments(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.double().reshape(3, -1)
    return pixels.mean(1), torch.cov(pixels, correction=0)


def test_palette_start_has_the_styles_colours_and_the_photos_layout():
    from texstyle.api import _in_style_colours, read_input
    from texstyle.image import resize

    photo = resize(read_input("sample:astronaut", "content"), 48, 48)
    style = read_input("sample:mosaic", "style")
    start = _in_style_colours(photo, [style], None)
    assert start.shape == photo.shape and 0 <= start.min() and start.max() <= 1
    mu, cov = _colour_moments(start)
    mu_s, cov_s = _colour_moments(style)
    mu_p, cov_p = _colour_moments(photo)
    # Much closer to the painting's colours than the photo was ...
    assert (mu - mu_s).norm() < 0.2 * (mu_p - mu_s).norm()
    assert (cov - cov_s).norm() < 0.2 * (cov_p - cov_s).norm()
    # ... with the photo's layout: the brightness pattern is kept (up to a colour map).
    grey, grey_p = start.mean(1).flatten(), photo.mean(1).flatten()
    assert torch.corrcoef(torch.stack([grey, grey_p]))[0, 1] > 0.8


def test_palette_start_blends_styles_by_weight():
    from texstyle.api import _in_style_colours

    photo = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 0.8
    blue = torch.zeros(1, 3, 8, 8)
    blue[:, 2] = 0.8
    mostly_red = _in_style_colours(photo, [red, blue], (3.0, 1.0)).mean(dim=(0, 2, 3))
    assert mostly_red[0] == pytest.approx(0.6, abs=0.03)
    assert mostly_red[2] == pytest.approx(0.2, abs=0.03)


def test_palette_start_of_a_texture_is_noise_in_the_exemplars_colours():
    from texstyle.api import _in_style_colours, _initial_image

    style = torch.zeros(1, 3, 16, 16)
    style[:, 0, :, :8] = 0.9  # half red, half green: two colours, no greys
    style[:, 1, :, 8:] = 0.7
    start = _initial_image("palette", (24, 24), colour=style.mean(dim=(2, 3), keepdim=True),
                           content=None, generator=torch.Generator().manual_seed(0),
                           feedforward=lambda c: c,
                           palette=lambda c: _in_style_colours(c, [style], None))
    pixels = start.reshape(3, -1)
    red = (pixels[0] > 0.8) & (pixels[1] < 0.1)
    green = (pixels[1] > 0.6) & (pixels[0] < 0.1)
    assert (red | green).float().mean() > 0.9
    assert 0.4 < red.float().mean() < 0.6
