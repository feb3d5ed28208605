"""The regions of a run, from what the user gave: photo masks (``--region``), automatic regions
(``--regions auto:K``) or a label map with its exemplars (``--label-map``, ``--exemplar``); and
scale mixing's choice of style per layer.  Everything is read and checked here, before any work,
with one-line errors; ``guides.py`` does the maths at every layer.

Masks live on the grid of the photo (or label map) at its own resolution, in [0, 1]; ``api``
resizes them to every pyramid level.  A mask of another size than its image is resized to it
(with a note), a grey mask weights positions, and one with nothing white in it is an error.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .colour import rgb_to_yiq
from .config import (
    SpatialOptions,
    parse_auto,
    parse_exemplar,
    parse_region,
)
from .errors import TexstyleError
from .image import fit_long_side, resize
from .layers import layer_index

log = logging.getLogger(__name__)

Reader = Callable[[str, str], torch.Tensor]  # (source, what) → (1, 3, H, W) in [0, 1]
Extractor = Callable[[torch.Tensor], dict[str, torch.Tensor]]  # a VGG forward pass
MIN_MASK_PIXELS = 1.0  # a mask whose white adds up to less than one pixel covers nothing
# Soft boundaries: masks made here (automatic regions, label maps) are blurred with a Gaussian
# of this fraction of the long side (3 px at 128 px, 5 px at 256 px), so positions near a
# boundary count partly for both regions and the two textures blend instead of meeting at a line.
SOFT_EDGE = 0.02
LABEL_TOLERANCE = 48  # 0-255: antialiased label-map pixels go to the nearest label within this
# Automatic regions are found on a copy this small (layout, not detail), from these features.
CLUSTER_SIDE = 128  # px
DESCRIPTOR_LAYER = "relu3_1"
# How much where a point is counts against what it looks like (descriptors spread 0.3).
POSITION_WEIGHT = 0.45


@dataclass(frozen=True)
class RegionPlan:
    """One region: its mask on the photo, its style(s) and where in the style image to look."""

    label: str  # for records and figures
    mask: torch.Tensor  # (1, 1, H, W) in [0, 1] on the photo's (label map's) grid
    styles: tuple[int, ...]  # indices into the run's style images, mixed by blend; () keeps the photo
    style_mask: torch.Tensor | None = None  # (1, 1, h, w) on its (single) style image; None: all
    style_mask_name: str = ""  # the style mask's file, for messages


@dataclass(frozen=True)
class SpatialPlan:
    """What spatial control decided: regions (styled or kept), or scale mixing's layer styles."""

    regions: tuple[RegionPlan, ...] = ()
    layer_styles: dict[str, int] | None = None  # scale mixing: layer → style image index

    @property
    def styled(self) -> tuple[RegionPlan, ...]:
        return tuple(r for r in self.regions if r.styles)

    def keep_mask(self) -> torch.Tensor | None:
        """Where the photo is kept (regions with no style), or None if nowhere."""
        kept = [r.mask for r in self.regions if not r.styles]
        return torch.stack(kept).sum(0).clamp(0, 1) if kept else None

    def describe(self) -> list[str]:
        """One line per region for the record: label, share of the picture, styles."""
        return [f"{r.label}: {float(r.mask.mean()):.0%} of the picture, "
                + (f"style {', '.join(map(str, r.styles))}" if r.styles else "kept as the photo")
                for r in self.regions]


def as_mask(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) picture → (1, 1, H, W) mask: its grey level (white 1, black 0)."""
    return image.mean(dim=1, keepdim=True).clamp(0, 1)


def fit_mask(mask: torch.Tensor, hw: tuple[int, int], name: str, onto: str) -> torch.Tensor:
    """``mask`` on an (H, W) grid: resized (area / bilinear, stays in [0, 1]) with a note when it
    has another size; an error when nothing in it is white."""
    if tuple(mask.shape[-2:]) != hw:
        h, w = mask.shape[-2:]
        log.warning("note: mask %s is %dx%d px; resized to %s's %dx%d px", name, w, h, onto,
                    hw[1], hw[0])
        mask = F.interpolate(mask, size=hw, mode="bilinear", align_corners=False,
                             antialias=True).clamp(0, 1)
    if float(mask.sum()) < MIN_MASK_PIXELS:
        raise TexstyleError(f"mask {name} is empty: nothing in it is white (a region's mask is "
                            "white inside)")
    return mask


def soften(mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of (N, 1, H, W) masks (reflecting at the borders): soft boundaries."""
    if sigma <= 0:
        return mask
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=mask.dtype)
    kernel = torch.exp(-x.pow(2) / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    padded = F.pad(mask, (radius, radius, 0, 0), mode="reflect" if mask.shape[-1] > radius
                   else "replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    padded = F.pad(out, (0, 0, radius, radius), mode="reflect" if mask.shape[-2] > radius
                   else "replicate")
    return F.conv2d(padded, kernel.view(1, 1, -1, 1))


def soft_partition(labels: torch.Tensor, count: int) -> torch.Tensor:
    """(H, W) integer labels → (count, 1, H, W) soft masks summing to 1 at every pixel."""
    one_hot = F.one_hot(labels.long(), count).permute(2, 0, 1)[:, None].float()
    soft = soften(one_hot, SOFT_EDGE * max(labels.shape))
    return soft / soft.sum(0, keepdim=True).clamp_min(1e-8)


# ---- --region MASK:STYLE[:STYLE_MASK] -------------------------------------------------------


def _index(sources: list[str], source: str) -> int:
    if source not in sources:
        sources.append(source)
    return sources.index(source)


def mask_regions(sp: SpatialOptions, main: int, content: torch.Tensor, read: Reader,
                 sources: list[str]) -> list[RegionPlan]:
    """Regions from ``--region`` specs, and the rest.  A region's style is the run's style image
    ``main + i`` where ``sources[i]`` is its name (``sources`` grows with each new style; the
    ``main`` --style images come first).  Style masks are still at their own size here."""
    hw = (int(content.shape[-2]), int(content.shape[-1]))
    regions: list[RegionPlan] = []
    for text in sp.region:
        spec = parse_region(text)
        mask = fit_mask(as_mask(read(spec.mask, f"mask {spec.mask}")), hw, spec.mask, "the photo")
        if spec.style is None:
            regions.append(RegionPlan(f"{spec.mask} (photo)", mask, ()))
            continue
        index = main + _index(sources, spec.style)
        style_mask = (as_mask(read(spec.style_mask, f"style mask {spec.style_mask}"))
                      if spec.style_mask else None)
        label = f"{spec.mask} → {spec.style}" + (f" [{spec.style_mask}]" if spec.style_mask else "")
        regions.append(RegionPlan(label, mask, (index,), style_mask, spec.style_mask or ""))
    covered = torch.stack([r.mask for r in regions]).sum(0).clamp(0, 1)
    rest = (1 - covered).clamp(0, 1)
    if sp.rest == "style" and main == 0:
        raise TexstyleError("--rest style needs a --style for the pixels in no region")
    if sp.rest == "content" and main > 0:
        raise TexstyleError("--style is unused: with --rest content the pixels in no region keep "
                            "the photo; pass --rest style to paint them in it")
    if float(rest.sum()) >= MIN_MASK_PIXELS:
        regions.append(RegionPlan("rest (photo)", rest, ()) if sp.rest == "content"
                       else RegionPlan("rest", rest, tuple(range(main))))
    return regions


# ---- --regions auto:K ------------------------------------------------------------------------


def _grid(h: int, w: int) -> torch.Tensor:
    """(h·w, 2) positions (x, y) in [0, 1], weighted against the descriptors."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64),
                            torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1) * POSITION_WEIGHT


def colour_points(image: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """(N, 5) per-pixel points of a 64 px copy: YIQ colour and position.  The alternative to
    ``texture_points`` that benchmarks/spatial_clusters.py measures (0.79 against 0.93)."""
    h, w = fit_long_side(int(image.shape[-2]), int(image.shape[-1]), 64)
    yiq = rgb_to_yiq(resize(image, h, w))[0].reshape(3, -1).T.double()
    return torch.cat([yiq, _grid(h, w)], 1), (h, w)


def texture_points(image: torch.Tensor, net: Extractor) -> tuple[torch.Tensor, tuple[int, int]]:
    """(N, 10) points on an 8 px grid of a 128 px copy: VGG relu3_1 averaged over 2x2 positions
    (a local texture descriptor that also sees colour), reduced to 8 dimensions by PCA and
    scaled to a spread of 0.3, with the position."""
    h, w = fit_long_side(int(image.shape[-2]), int(image.shape[-1]), CLUSTER_SIDE)
    with torch.no_grad():
        features = F.avg_pool2d(net(resize(image, h, w))[DESCRIPTOR_LAYER], 2)
    gh, gw = int(features.shape[-2]), int(features.shape[-1])
    flat = features[0].reshape(features.shape[1], -1).T.double().cpu()
    flat = flat - flat.mean(0)
    _, _, v = torch.linalg.svd(flat, full_matrices=False)
    reduced = flat @ v[:8].T
    reduced = reduced / reduced.std().clamp_min(1e-12) * 0.3
    return torch.cat([reduced, _grid(gh, gw)], 1), (gh, gw)


def kmeans(points: torch.Tensor, k: int, seed: int = 0, rounds: int = 30) -> torch.Tensor:
    """Labels (N,) of ``points`` (N, D) in ``k`` clusters: k-means++ seeding, Lloyd rounds."""
    generator = torch.Generator().manual_seed(seed)
    centres = points[torch.randint(len(points), (1,), generator=generator)]
    for _ in range(k - 1):
        d = torch.cdist(points, centres).min(1).values.pow(2)
        pick = torch.multinomial(d / d.sum() if float(d.sum()) > 0 else torch.ones_like(d), 1,
                                 generator=generator)
        centres = torch.cat([centres, points[pick]])
    labels = torch.zeros(len(points), dtype=torch.long)
    for _ in range(rounds):
        labels = torch.cdist(points, centres).argmin(1)
        moved = torch.stack([points[labels == j].mean(0) if bool((labels == j).any())
                             else centres[j] for j in range(k)])
        if torch.allclose(moved, centres):
            break
        centres = moved
    return labels


def _cluster(image: torch.Tensor, k: int, seed: int, net: Extractor
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """K soft masks (K, 1, H, W) of ``image`` at its own size, and each cluster's summary
    (K, 2): mean brightness and mean height, what pairing compares."""
    points, (h, w) = texture_points(image, net)
    labels = kmeans(points, k, seed).reshape(h, w)
    soft = soft_partition(labels, k)
    full = F.interpolate(soft, size=tuple(image.shape[-2:]), mode="bilinear",
                         align_corners=False).clamp(0, 1)
    brightness = rgb_to_yiq(resize(image, h, w))[0, 0].reshape(-1).double()
    height = _grid(h, w)[:, 1] / POSITION_WEIGHT
    flat = labels.reshape(-1)
    summary = torch.stack([torch.stack([brightness[flat == j].mean(), height[flat == j].mean()])
                           if bool((flat == j).any()) else torch.full((2,), 9.0,
                                                                    dtype=torch.float64)
                           for j in range(k)])
    return full, summary


def pair_clusters(photo: torch.Tensor, style: torch.Tensor) -> list[int]:
    """For each photo cluster, the style cluster it takes (a one-to-one matching).

    Clusters are compared by brightness and height, not hue: a painting's sky is rarely the
    photo's blue, but it is bright and on top.  Exhaustive over the K! matchings (K ≤ 8).
    """
    k = len(photo)
    cost = torch.cdist(photo, style)
    best = min(itertools.permutations(range(k)),
               key=lambda perm: float(sum(cost[i, j] for i, j in enumerate(perm))))
    return list(best)


def auto_regions(k: int, content: torch.Tensor, style: torch.Tensor, seed: int,
                 net: Extractor) -> list[RegionPlan]:
    """``--regions auto:K``: K regions of the photo, each painted from its partner region of
    the style image (clustered by local VGG texture and position, paired by brightness and
    height)."""
    photo_masks, photo_summary = _cluster(content, k, seed, net)
    style_masks, style_summary = _cluster(style, k, seed, net)
    pairing = pair_clusters(photo_summary, style_summary)
    return [RegionPlan(f"auto {i + 1} → style region {j + 1}", photo_masks[i:i + 1], (0,),
                       style_masks[j:j + 1])
            for i, j in enumerate(pairing)]


# ---- --label-map MAP --exemplar LABEL:IMAGE ---------------------------------------------------


def label_regions(sp: SpatialOptions, label_map: torch.Tensor, map_name: str
                  ) -> list[RegionPlan]:
    """One region per ``--exemplar``, soft-edged, from the label map's colours; style i is the
    i-th exemplar.  Every map pixel must be near some label, and every label must appear."""
    assert sp.label_map is not None
    labels = torch.tensor([parse_exemplar(t)[0] for t in sp.exemplar], dtype=torch.float32)
    pixels = (label_map[0].reshape(3, -1).T * 255).round()
    distance = (pixels[:, None, :] - labels[None, :, :]).abs().amax(-1)  # (N, labels)
    nearest = distance.min(1)
    orphans = nearest.values > LABEL_TOLERANCE
    if bool(orphans.any()):
        colour = pixels[orphans][0].int().tolist()
        shown = str(colour[0]) if colour[0] == colour[1] == colour[2] else \
            "#{:02x}{:02x}{:02x}".format(*colour)
        raise TexstyleError(f"label map {map_name} has value {shown} ({int(orphans.sum())} px) "
                            f"with no --exemplar; add --exemplar {shown}:IMAGE")
    hw = (int(label_map.shape[-2]), int(label_map.shape[-1]))
    index = nearest.indices.reshape(hw)
    masks = soft_partition(index, len(labels))
    regions = []
    for i, text in enumerate(sp.exemplar):
        if not bool((index == i).any()):
            raise TexstyleError(f"--exemplar {text}: its label covers nothing in {map_name}")
        regions.append(RegionPlan(f"label {text.partition(':')[0]} → {text.partition(':')[2]}",
                                  masks[i:i + 1], (i,)))
    return regions


def plan_spatial(sp: SpatialOptions, layers: Sequence[str], main: list[torch.Tensor],
                 content: torch.Tensor | None, read: Reader, seed: int,
                 network: Callable[[], Extractor] | None = None
                 ) -> tuple[list[torch.Tensor], SpatialPlan, torch.Tensor | None]:
    """Read and check every spatial input: returns the run's style images (the ``main`` ones
    first), the plan, and for a label map the map (the output's reference size).  ``network``
    makes the VGG extractor that automatic regions cluster with (only they need it)."""
    if sp.scale_mixing:
        assert sp.style_coarse is not None and sp.style_fine is not None
        if main:
            raise TexstyleError("scale mixing takes its styles from --style-coarse and "
                                "--style-fine; give no other --style")
        images = [read(sp.style_coarse, "coarse style image"),
                  read(sp.style_fine, "fine style image")]
        return images, SpatialPlan(layer_styles=scale_layers(layers, sp.scale_split)), None
    if sp.label_map is not None:
        if main:
            raise TexstyleError("a label-map texture grows its --exemplar images; give no "
                                "other exemplar")
        label_map = read(sp.label_map, "label map")
        images = [read(parse_exemplar(t)[1], f"exemplar {t}") for t in sp.exemplar]
        return images, SpatialPlan(tuple(label_regions(sp, label_map, sp.label_map))), label_map
    if content is None:
        raise TexstyleError("regions need a photo to place them on (texstyle stylize); a texture "
                            "follows a --label-map")
    if sp.regions is not None:
        if len(main) != 1:
            raise TexstyleError(f"--regions {sp.regions} splits one --style image, got {len(main)}")
        assert network is not None, "automatic regions need the network"
        return main, SpatialPlan(tuple(auto_regions(parse_auto(sp.regions), content, main[0],
                                                    seed, network()))), None
    sources: list[str] = []
    regions = mask_regions(sp, len(main), content, read, sources)
    images = [*main, *(read(s, "style image") for s in sources)]
    fitted = []
    for r in regions:
        if r.style_mask is not None:
            style = images[r.styles[0]]
            hw = (int(style.shape[-2]), int(style.shape[-1]))
            r = replace(r, style_mask=fit_mask(r.style_mask, hw, r.style_mask_name,
                                               "its style image"))
        fitted.append(r)
    return images, SpatialPlan(tuple(fitted)), None


def spatial_sources(sp: SpatialOptions) -> list[str]:
    """Every file the spatial options name (masks, styles, label map, exemplars): inputs that a
    run must never write over."""
    found: list[str | None] = [sp.label_map, sp.style_coarse, sp.style_fine]
    for text in sp.region:
        spec = parse_region(text)
        found += [spec.mask, spec.style, spec.style_mask]
    found += [parse_exemplar(t)[1] for t in sp.exemplar]
    return [f for f in found if f is not None]


def scale_layers(layers: Sequence[str], split: str) -> dict[str, int]:
    """Scale mixing: style 0 (coarse) at ``split`` and deeper, style 1 (fine) above it."""
    return {n: 0 if layer_index(n) >= layer_index(split) else 1 for n in layers}
