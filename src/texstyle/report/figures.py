"""Pictures about results: the labelled contact sheet and grid, and loss-curve plots.

Everything here turns finished results into a PIL image; nothing runs an optimisation and
nothing writes files, so the CLI keeps its one place (``image.save_image``) for safe writing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import torch
from PIL import Image, ImageDraw, ImageFont

from ..image import to_pil

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Labelled = tuple[str, Image.Image]


def contact_sheet(rows: Sequence[Sequence[Labelled]], *, height: int = 256, pad: int = 12,
                  label_height: int = 28, title: str | None = None, width: int | None = None,
                  header: Sequence[str] | None = None) -> Image.Image:
    """Rows of labelled images, each scaled to ``height`` px tall, on a white background.

    With ``width`` every image is fitted, centred, into a ``width`` x ``height`` box, so columns
    line up whatever the aspect ratios: a grid.  ``header`` (grid only) labels the columns once,
    above the first row; each image keeps its own label too (the row's inputs, a final loss).
    """
    if header is not None and width is None:
        raise ValueError("a header row needs a fixed column width")
    font = ImageFont.load_default(size=16)
    title_h = label_height + 8 if title else 0
    header_h = label_height if header else 0
    scaled = [[(label, _fit(img, width, height)) for label, img in row] for row in rows]
    n_cols = max((len(row) for row in rows), default=0)
    if width is not None:
        sheet_w = pad + max(n_cols, len(header or ())) * (width + pad)
    else:
        sheet_w = max((sum(img.width for _, img in row) + pad * (len(row) + 1) for row in scaled),
                      default=2 * pad)
    sheet_h = title_h + header_h + len(scaled) * (height + label_height + pad) + pad
    sheet = Image.new("RGB", (sheet_w, sheet_h), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        title_font = ImageFont.load_default(size=20)  # clipped: a narrow grid has a long title
        draw.text((pad, pad), _clip(title, sheet_w - 2 * pad, title_font), fill="black", font=title_font)
    y = title_h + pad
    if header and width is not None:
        bold = ImageFont.load_default(size=18)
        for j, text in enumerate(header):
            draw.text((pad + j * (width + pad), y), _clip(text, width, bold), fill="black", font=bold)
        y += header_h
    for row in scaled:
        x = pad
        for label, img in row:
            box_w = width if width is not None else img.width
            sheet.paste(img, (x + (box_w - img.width) // 2, y + label_height + (height - img.height) // 2))
            text = _clip(label, box_w, font) if width is not None else label
            draw.text((x, y + 4), text, fill="black", font=font)
            x += box_w + pad
        y += height + label_height + pad
    return sheet


def grid(columns: Sequence[str], rows: Sequence[Sequence[Labelled]], *, cell: int = 128,
         title: str | None = None) -> Image.Image:
    """A labelled grid: ``columns`` as the header, every image fitted into a ``cell`` px square.

    Size: ``12 + len(columns) * (cell + 12)`` wide and ``(title: 36) + 28 + rows * (cell + 40) + 12``
    tall, so a reader (or a test) can find any cell.
    """
    return contact_sheet(rows, height=cell, width=cell, header=columns, title=title)


def loss_plot(curves: Mapping[str, Mapping[str, Sequence[float]]], *,
              dashed: Sequence[str] = (), title: str | None = None,
              level_starts: Sequence[int] = ()) -> Image.Image:
    """Loss curves, one panel per statistic (their scales differ), one line per row, log y.

    ``curves[statistic][row label]`` is the style loss per iteration.  Rows in ``dashed`` are
    drawn dashed (stylisations next to textures).  ``level_starts`` marks the iterations where a
    finer pyramid level begins, where every curve jumps.  Drawn with matplotlib's Agg canvas
    directly (no pyplot), so no display or global backend is involved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    stats = list(curves)
    n_cols = min(3, max(1, len(stats)))
    n_rows = -(-len(stats) // n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.3 * n_rows + (0.4 if title else 0)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    labels = list(dict.fromkeys(label for per_row in curves.values() for label in per_row))
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    for ax, stat in zip(axes, stats):
        for label, values in curves[stat].items():
            ax.plot(range(1, len(values) + 1), values, color=colours[label], linewidth=1.4,
                    linestyle="--" if label in dashed else "-", label=label,
                    marker="o" if len(values) == 1 else None)  # one point draws no line
        for start in level_starts:
            ax.axvline(start, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_yscale("log")
        ax.set_title(stat)
        ax.set_xlabel("iteration")
        ax.set_ylabel("style loss")
        ax.grid(True, which="major", alpha=0.3)
    legend = {name: h for ax in axes for h, name in zip(*ax.get_legend_handles_labels())}
    handles, names = list(legend.values()), list(legend)
    if len(axes) > len(stats):  # a spare panel: the legend goes there
        for ax in axes[len(stats):]:
            ax.axis("off")
        axes[len(stats)].legend(handles, names, loc="center", frameon=False)
    elif handles:
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 4),
                   frameon=False)
    if title:
        fig.suptitle(title)
    return _figure_image(fig)


def _figure_image(fig: Figure) -> Image.Image:
    """A matplotlib figure rendered to an RGB PIL image (no file, no pyplot state)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    buffer.seek(0)
    with Image.open(buffer) as img:
        return img.convert("RGB")


def _fit(img: Image.Image, width: int | None, height: int) -> Image.Image:
    """Scale to ``height`` tall, or, with ``width``, to fit inside width x height."""
    img = img.convert("RGB")
    scale = height / img.height if width is None else min(width / img.width, height / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def _clip(text: str, width: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """``text`` shortened with an ellipsis so it does not run into the next column."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def gan_curves(history: Sequence[Mapping[str, float]], layers: Sequence[str], *,
               title: str | None = None) -> Image.Image:
    """The adversarial loss's training curves: D accuracy, D loss and generator loss per layer.

    ``history`` is a run's history (``d_acc/L``, ``d_loss/L``, ``g_loss/L`` per layer L, and
    ``level``).  Dotted grey lines mark chance — accuracy 0.5, D loss 2·log 2, generator loss
    log 2 — where a discriminator that cannot tell X from the style sits; vertical ones mark the
    start of each finer pyramid level.
    """
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = (("d_acc", "discriminator accuracy", 0.5), ("d_loss", "discriminator loss", 2 * math.log(2)),
              ("g_loss", "generator loss −log D(X)", math.log(2)))
    fig = Figure(figsize=(13, 3.6 + (0.4 if title else 0)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    steps = range(1, len(history) + 1)
    starts = [i + 1 for i in range(1, len(history))
              if history[i].get("level") != history[i - 1].get("level")]
    for ax, (key, label, chance) in zip(axes, panels):
        for j, layer in enumerate(layers):
            ax.plot(steps, [h.get(f"{key}/{layer}", math.nan) for h in history], color=f"C{j % 10}",
                    linewidth=1.2, label=layer)
        ax.axhline(chance, color="0.5", linewidth=0.8, linestyle=":")
        for start in starts:
            ax.axvline(start, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_title(label)
        ax.set_xlabel("iteration")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylim(0, 1.02)
    axes[0].legend(loc="lower right", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return _figure_image(fig)


# Distinct, light colours for region maps (up to 8 regions, as --regions auto:K allows).
REGION_COLOURS = ((230, 97, 1), (94, 60, 153), (253, 184, 99), (178, 171, 210), (27, 158, 119),
                  (217, 95, 2), (117, 112, 179), (231, 41, 138))


def region_map(masks: Sequence[torch.Tensor]) -> Image.Image:
    """Soft region masks (each (1, 1, H, W) in [0, 1]) drawn as one picture, a colour each;
    soft boundaries show as blends."""
    stack = torch.cat([m.reshape(1, *m.shape[-2:]) for m in masks])  # (K, H, W)
    colours = torch.tensor(REGION_COLOURS[: len(masks)], dtype=torch.float32) / 255
    total = stack.sum(0, keepdim=True)
    rgb = torch.einsum("khw,kc->chw", stack, colours) + (1 - total.clamp(max=1)) * 1.0
    return to_pil(rgb.clamp(0, 1)[None])
