"""Optical flow between two frames, warping along it, and where it can be trusted.

Flow comes from OpenCV's DIS (dense inverse search; Kroeger et al. 2016): a classical method,
so no flow network has to be downloaded, fast enough on a CPU to cost little next to a
stylisation.  A flow here is a (H, W, 2) float32 array of (dx, dy) in pixels: ``flow(a, b)``
says, for each pixel of ``a``, where it went in ``b``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..extras import optional


def _gray(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] → (H, W) uint8 luma, what DIS works on."""
    rgb = image[0].detach().cpu().clamp(0, 1)
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (luma.numpy() * 255 + 0.5).astype(np.uint8)


def optical_flow(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Flow from frame ``a`` to frame ``b`` (both (1, 3, H, W)): (H, W, 2) pixels (dx, dy)."""
    cv2 = optional("cv2")
    # The "medium" preset: finer than "fast" on the small frames we stylise, still ~10 ms.
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow: np.ndarray = dis.calc(_gray(a), _gray(b), None).astype(np.float32)
    return flow


def warp(image: torch.Tensor, flow: np.ndarray) -> torch.Tensor:
    """Backward warp: ``out(x) = image(x + flow(x))``, bilinear, edges repeated.

    With ``flow = optical_flow(frame_t, frame_t-1)`` this carries the previous frame's picture
    onto frame t's pixels.  Works on any channel count (an image or a flow field).
    """
    _, _, h, w = image.shape
    d = torch.from_numpy(flow).to(image)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype, device=image.device),
                            torch.arange(w, dtype=image.dtype, device=image.device), indexing="ij")
    # grid_sample wants positions in [-1, 1], pixel centres at -1 + (2i + 1) / n.
    gx = (2 * (xs + d[..., 0]) + 1) / w - 1
    gy = (2 * (ys + d[..., 1]) + 1) / h - 1
    grid = torch.stack([gx, gy], dim=-1)[None]
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def consistent(backward: np.ndarray, forward: np.ndarray) -> torch.Tensor:
    """Ruder et al.'s forward-backward check: (1, 1, H, W), 1 where the flow can be trusted.

    ``backward = optical_flow(frame_t, frame_t-1)``, ``forward = optical_flow(frame_t-1,
    frame_t)``.  Following a pixel of frame t back and then forward again should bring it home:
    where it does not, ``|b + f~|² > 0.01 (|b|² + |f~|²) + 0.5`` with f~ the forward flow warped
    onto frame t, the pixel was occluded in one of the frames.  Motion boundaries
    (``|∇b|² > 0.01 |b|² + 0.002``) are left out too: flow is least reliable there.  Pixels
    whose backward flow leaves the frame have no previous picture and are left out as well.
    """
    b = torch.from_numpy(backward).permute(2, 0, 1)[None]
    f = warp(torch.from_numpy(forward).permute(2, 0, 1)[None], backward)
    round_trip = (b + f).pow(2).sum(1)
    occluded = round_trip > 0.01 * (b.pow(2).sum(1) + f.pow(2).sum(1)) + 0.5
    gy, gx = torch.gradient(b[0], dim=(1, 2))
    boundary = (gx.pow(2) + gy.pow(2)).sum(0, keepdim=True) > 0.01 * b.pow(2).sum(1) + 0.002
    h, w = backward.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    tx, ty = xs + backward[..., 0], ys + backward[..., 1]
    outside = torch.from_numpy((tx < -0.5) | (tx > w - 0.5) | (ty < -0.5) | (ty > h - 0.5))[None]
    return (~(occluded | boundary | outside)).float()[:, None]


def previous_on_current(previous: torch.Tensor, frame: torch.Tensor, frame_before: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``previous`` (the output for ``frame_before``) carried onto ``frame``, with the mask of
    the pixels where that can be trusted: what the temporal methods and the flicker measure use.
    """
    backward = optical_flow(frame, frame_before)
    forward = optical_flow(frame_before, frame)
    return warp(previous, backward), consistent(backward, forward)
