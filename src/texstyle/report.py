"""Pictures about results: the labelled contact sheet (later issues add grids and plots here)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(rows: Sequence[Sequence[tuple[str, Image.Image]]], *, height: int = 256,
                  pad: int = 12, label_height: int = 28, title: str | None = None) -> Image.Image:
    """Rows of labelled images, each scaled to ``height`` px tall, on a white background."""
    font = ImageFont.load_default(size=16)
    title_h = label_height + 8 if title else 0
    scaled = [[(label, _to_height(img, height)) for label, img in row] for row in rows]
    widths = [sum(img.width for _, img in row) + pad * (len(row) + 1) for row in scaled]
    sheet_w = max(widths)
    sheet_h = title_h + len(scaled) * (height + label_height + pad) + pad
    sheet = Image.new("RGB", (sheet_w, sheet_h), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, pad), title, fill="black", font=ImageFont.load_default(size=20))
    y = title_h + pad
    for row in scaled:
        x = pad
        for label, img in row:
            sheet.paste(img, (x, y + label_height))
            draw.text((x, y + 4), label, fill="black", font=font)
            x += img.width + pad
        y += height + label_height + pad
    return sheet


def _to_height(img: Image.Image, height: int) -> Image.Image:
    img = img.convert("RGB")
    width = max(1, round(img.width * height / img.height))
    return img.resize((width, height), Image.Resampling.LANCZOS)
