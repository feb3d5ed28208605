"""The benchmark's measures (benchmarks/quality_measures.py) on synthetic images: fast, no VGG."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import quality_measures as qm


def smooth_image(h=96, w=128, seed=0):
    """A smooth colour gradient with a couple of soft blobs: no fine detail, no periodicity."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.3 + 0.4 * xx, 0.2 + 0.5 * yy, 0.6 - 0.3 * xx * yy], axis=2)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        cy, cx = rng.uniform(0.2, 0.8, 2)
        img += 0.15 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.02)[..., None]
    return np.clip(img, 0, 1)


def with_grid(img, period=8, amp=0.08):
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    pattern = ((yy % period == 0) | (xx % period == 0)).astype(float) * amp
    return np.clip(img + pattern[..., None], 0, 1)


def with_speckle(img, amp=0.1, seed=1):
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, amp, img.shape), 0, 1)


def test_identical_images_give_ssim_one_and_colour_zero():
    img = smooth_image()
    assert qm.ssim(img, img) == pytest.approx(1.0)
    assert qm.edge_agreement(img, img) == pytest.approx(1.0)
    assert qm.colour_distance(img, img) == pytest.approx(0.0, abs=1e-12)


def test_photo_measures_fall_when_the_photo_is_lost():
    img = smooth_image()
    other = smooth_image(seed=5)[:, ::-1]
    assert qm.ssim(with_speckle(img), img) < 0.9
    assert qm.edge_agreement(other, img) < qm.edge_agreement(with_speckle(img, 0.02), img)


def test_ssim_resizes_the_photo_to_the_output():
    img = smooth_image(96, 128)
    big = qm.resize_to(img, 192, 256)
    assert qm.ssim(img, big) > 0.95


def test_colour_distance_grows_with_a_colour_shift_and_is_deterministic():
    img = smooth_image()
    near = np.clip(img + 0.05, 0, 1)
    far = np.clip(img + 0.2, 0, 1)
    d_near, d_far = qm.colour_distance(near, img), qm.colour_distance(far, img)
    assert 0 < d_near < d_far
    assert qm.colour_distance(far, img) == d_far
    # A permutation of the pixels has the same colour cloud: distance 0.
    flat = img.reshape(-1, 3)
    perm = flat[np.random.default_rng(0).permutation(len(flat))].reshape(img.shape)
    assert qm.colour_distance(perm, img) == pytest.approx(0.0, abs=1e-12)


def test_grid_measure_rises_when_a_grid_is_added():
    img = smooth_image()
    assert qm.grid(with_grid(img), img) > 2 * qm.grid(img, img)
    assert qm.grid(img, img) == pytest.approx(1.0)
    # Random (non-periodic) speckle does not look like a grid.
    assert qm.grid(with_speckle(img, 0.05), img) < qm.grid(with_grid(img), img)


@pytest.mark.parametrize("period", [2, 4, 16])
def test_grid_measure_sees_each_pooling_period(period):
    img = smooth_image()
    assert qm.grid_score(with_grid(img, period)) > 2 * qm.grid_score(img)


def test_speckle_is_one_for_the_style_itself_and_rises_with_noise():
    style = with_speckle(smooth_image(), 0.02)
    assert qm.speckle(style, style) == pytest.approx(1.0)
    photo = smooth_image(seed=3)
    clean = qm.speckle(photo, style, photo)
    noisy = qm.speckle(with_speckle(photo, 0.1), style, photo)
    assert noisy > 10 * clean
    assert noisy > 1.0


def test_measure_all_keys():
    img = smooth_image()
    m = qm.measure_all(img, img, img, with_style=False)
    assert set(m) == {"ssim", "edges", "colour", "speckle", "grid"}
    t = qm.measure_all(img, img, None, with_style=False)
    assert set(t) == {"colour", "speckle", "grid"}


def test_style_distance_zero_for_itself_and_larger_for_another_texture():
    rng = np.random.default_rng(0)
    stripes = np.tile((np.sin(np.arange(96) / 2.0)[None, :, None] + 1) / 2, (96, 1, 3))
    noise = np.repeat(rng.uniform(size=(96, 96, 1)), 3, axis=2)
    assert qm.style_distance(stripes, stripes) == pytest.approx(0.0, abs=1e-6)
    assert qm.style_distance(noise, stripes) > 0.1
