"""Draw the app's home-screen icons with Pillow (run once; the PNGs are committed).

``python -m inspect_api.frontends.inspector.icons`` writes into ``static/``:
192 and 512 px icons (a clipboard with a check mark on the theme colour,
rounded corners) and a 512 px maskable icon (full-bleed background, the mark
inside the central safe zone).  No text, so no font is needed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "static"
THEME = (11, 79, 138)
WHITE = (255, 255, 255)
GREEN = (46, 160, 90)


def _mark(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """A clipboard with a check mark, centred, occupying ``scale`` of the side."""
    side = size * scale
    x0, y0 = (size - side * 0.72) / 2, (size - side) / 2 + side * 0.04
    x1, y1 = x0 + side * 0.72, y0 + side * 0.92
    draw.rounded_rectangle((x0, y0, x1, y1), radius=side * 0.07, fill=WHITE)
    cx = size / 2
    draw.rounded_rectangle((cx - side * 0.16, y0 - side * 0.05, cx + side * 0.16, y0 + side * 0.08),
                           radius=side * 0.04, fill=(200, 214, 230))
    for n in range(3):
        y = y0 + side * (0.3 + 0.14 * n)
        draw.rounded_rectangle((x0 + side * 0.1, y, x0 + side * 0.22, y + side * 0.05), radius=side * 0.02,
                               fill=THEME)
        draw.rounded_rectangle((x0 + side * 0.28, y, x1 - side * 0.1, y + side * 0.05), radius=side * 0.02,
                               fill=(170, 190, 212))
    width = max(2, int(side * 0.07))
    points = [(cx - side * 0.02, y1 - side * 0.2), (cx + side * 0.1, y1 - side * 0.08),
              (cx + side * 0.36, y1 - side * 0.36)]
    draw.line(points, fill=GREEN, width=width, joint="curve")


def icon(size: int, *, maskable: bool = False) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=THEME)
        _mark(draw, size, 0.56)  # inside the 80 % safe circle
    else:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.2, fill=THEME)
        _mark(draw, size, 0.72)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192).save(OUT / "icon-192.png", optimize=True)
    icon(512).save(OUT / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
