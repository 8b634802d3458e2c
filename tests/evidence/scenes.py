"""A generated set of varied, camera-like photos (Pillow only, deterministic by seed).

Used to measure the perceptual hash: how often a re-saved or downsized copy
of a photo is missed, and how often two different photos are taken for the
same one.  The scenes are what inspectors photograph -- streets and building
fronts, rooms, corridors, kitchens, wards, notices and documents, close-ups,
storerooms, dim rooms -- each drawn with its own random layout, colours and
text, then passed through a "camera": lens blur, vignetting, exposure and
white balance, sensor noise and JPEG at a phone's quality with EXIF.

Noise comes from ``random.Random(seed)`` (not ``Image.effect_noise``, which
uses the C library's generator), so a seed gives the same bytes every run.
"""

from __future__ import annotations

import io
import random
import string
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

Size = tuple[int, int]
RGB = tuple[int, int, int]


def _colour(rnd: random.Random, lo: int = 0, hi: int = 255) -> RGB:
    return (rnd.randint(lo, hi), rnd.randint(lo, hi), rnd.randint(lo, hi))


def _shade(c: RGB, f: float) -> RGB:
    return tuple(max(0, min(255, round(v * f))) for v in c)  # type: ignore[return-value]


def _gradient(size: Size, top: RGB, bottom: RGB, angle: float = 0.0) -> Image.Image:
    """A two-colour linear gradient, top to bottom, turned by ``angle`` degrees."""
    ramp = Image.linear_gradient("L")
    if angle:
        ramp = ramp.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=128)
    return ImageOps.colorize(ramp.resize(size, Image.Resampling.BILINEAR), black=top, white=bottom)


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, px))


def _words(rnd: random.Random, n: int) -> str:
    return " ".join("".join(rnd.choice(string.ascii_letters) for _ in range(rnd.randint(2, 9)))
                    for _ in range(n))


def _text_block(draw: ImageDraw.ImageDraw, rnd: random.Random, box: tuple[int, int, int, int],
                px: int, ink: RGB) -> None:
    x0, y0, x1, y1 = box
    y = y0
    while y + px < y1:
        line = _words(rnd, rnd.randint(2, 12))
        draw.text((x0 + rnd.randint(0, px), y), line, font=_font(px), fill=ink)
        y += round(px * rnd.uniform(1.3, 1.8))


# --------------------------------------------------------------------------
# Scenes: each draws on a new RGB image of the given size.


def street(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    horizon = rnd.randint(h // 4, h * 3 // 5)
    im = _gradient((w, horizon), _colour(rnd, 60, 160), _colour(rnd, 170, 255))
    ground = _gradient((w, h - horizon), _colour(rnd, 60, 140), _colour(rnd, 20, 90))
    canvas = Image.new("RGB", size)
    canvas.paste(im, (0, 0))
    canvas.paste(ground, (0, horizon))
    d = ImageDraw.Draw(canvas)
    x = rnd.randint(-w // 10, w // 10)
    while x < w:
        bw = rnd.randint(w // 10, w // 3)
        top = rnd.randint(h // 10, horizon - h // 20)
        wall = _colour(rnd, 70, 230)
        d.rectangle((x, top, x + bw, horizon + h // 30), fill=wall)
        win = _shade(wall, rnd.uniform(0.3, 0.7))
        step_x, step_y = max(8, bw // rnd.randint(3, 7)), max(8, (horizon - top) // rnd.randint(3, 8))
        for wx in range(x + step_x // 3, x + bw - step_x // 2, step_x):
            for wy in range(top + step_y // 3, horizon - step_y // 2, step_y):
                d.rectangle((wx, wy, wx + step_x // 2, wy + step_y // 2), fill=win)
        if rnd.random() < 0.5:
            sign = (x + bw // 8, top + (horizon - top) // 2, x + bw * 7 // 8, top + (horizon - top) // 2 + h // 14)
            d.rectangle(sign, fill=_colour(rnd, 120, 255))
            d.text((sign[0] + 6, sign[1] + 4), _words(rnd, 2).upper(), font=_font(h // 22), fill=_colour(rnd, 0, 80))
        x += bw + rnd.randint(0, w // 12)
    road = [(w // 2 - w // 20, horizon), (w // 2 + w // 20, horizon), (w, h), (0, h)]
    d.polygon(road, fill=_colour(rnd, 50, 110))
    for _ in range(rnd.randint(0, 4)):  # trees
        tx, ty = rnd.randint(0, w), rnd.randint(horizon, h)
        r = rnd.randint(h // 20, h // 7)
        d.rectangle((tx - r // 8, ty - r, tx + r // 8, ty), fill=_colour(rnd, 40, 90))
        d.ellipse((tx - r, ty - 2 * r, tx + r, ty - r // 2), fill=(rnd.randint(20, 80), rnd.randint(90, 170), rnd.randint(20, 80)))
    return canvas


def room(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    floor_y = rnd.randint(h // 2, h * 4 // 5)
    wall = _colour(rnd, 150, 245)
    canvas = _gradient(size, wall, _shade(wall, rnd.uniform(0.6, 0.9)), angle=rnd.uniform(-40, 40))
    d = ImageDraw.Draw(canvas)
    d.polygon([(0, floor_y), (w, floor_y + rnd.randint(-h // 10, h // 10)), (w, h), (0, h)], fill=_colour(rnd, 60, 180))
    for _ in range(rnd.randint(1, 2)):  # windows
        x0, y0 = rnd.randint(0, w * 3 // 4), rnd.randint(h // 12, floor_y // 2)
        ww, wh = rnd.randint(w // 8, w // 4), rnd.randint(h // 6, h // 3)
        d.rectangle((x0, y0, x0 + ww, y0 + wh), fill=_colour(rnd, 200, 255), outline=_colour(rnd, 60, 200), width=max(2, w // 150))
        d.line((x0 + ww // 2, y0, x0 + ww // 2, y0 + wh), fill=_colour(rnd, 60, 200), width=max(2, w // 200))
    if rnd.random() < 0.7:  # door
        dx = rnd.randint(0, w - w // 6)
        d.rectangle((dx, floor_y - h // 2, dx + w // 8, floor_y), fill=_colour(rnd, 80, 200))
        d.ellipse((dx + w // 10, floor_y - h // 4, dx + w // 10 + 8, floor_y - h // 4 + 8), fill=(200, 190, 90))
    for _ in range(rnd.randint(2, 6)):  # furniture
        fx, fw = rnd.randint(0, w), rnd.randint(w // 10, w // 3)
        fh = rnd.randint(h // 10, h // 3)
        fy = floor_y + rnd.randint(-h // 20, h // 8)
        c = _colour(rnd, 30, 220)
        d.rectangle((fx, fy - fh, fx + fw, fy), fill=c)
        d.rectangle((fx, fy - fh, fx + fw, fy - fh + fh // 6), fill=_shade(c, 1.25))
    if rnd.random() < 0.5:  # a framed notice
        px0, py0 = rnd.randint(0, w * 2 // 3), rnd.randint(h // 10, floor_y // 2)
        box = (px0, py0, px0 + w // 5, py0 + h // 5)
        d.rectangle(box, fill=(245, 245, 235), outline=(40, 40, 40), width=3)
        _text_block(d, rnd, (box[0] + 6, box[1] + 6, box[2] - 6, box[3] - 6), max(8, h // 60), (20, 20, 20))
    return canvas


def corridor(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    vx, vy = rnd.randint(w * 3 // 10, w * 7 // 10), rnd.randint(h * 3 // 10, h // 2)
    bw, bh = rnd.randint(w // 12, w // 5), rnd.randint(h // 10, h // 4)
    back = (vx - bw // 2, vy - bh // 2, vx + bw // 2, vy + bh // 2)
    wall = _colour(rnd, 120, 235)
    canvas = Image.new("RGB", size, _shade(wall, 0.8))
    d = ImageDraw.Draw(canvas)
    d.polygon([(0, 0), (w, 0), (back[2], back[1]), (back[0], back[1])], fill=_shade(wall, 1.1))       # ceiling
    d.polygon([(0, h), (w, h), (back[2], back[3]), (back[0], back[3])], fill=_colour(rnd, 50, 170))   # floor
    d.polygon([(0, 0), (back[0], back[1]), (back[0], back[3]), (0, h)], fill=wall)                    # left wall
    d.polygon([(w, 0), (back[2], back[1]), (back[2], back[3]), (w, h)], fill=_shade(wall, 0.9))       # right wall
    d.rectangle(back, fill=_colour(rnd, 40, 255))
    door = _colour(rnd, 40, 200)
    for i in range(1, rnd.randint(3, 6)):  # doors along both walls, smaller with depth
        t = i / 6
        for side in (0, 1):
            x = round(t * back[0]) if side == 0 else round(w - t * (w - back[2]))
            top = round(t * back[1] + (1 - t) * h * 0.15)
            bottom = round(h - t * (h - back[3]))
            width = max(4, round((1 - t) * w / 14))
            d.rectangle((x, top, x + (width if side == 0 else -width), bottom) if side == 0
                        else (x - width, top, x, bottom), fill=door)
    for i in range(rnd.randint(2, 5)):  # ceiling lights
        t = (i + 0.5) / 5
        cx, cy = round(vx * t + (w / 2) * (1 - t)), round(back[1] * t)
        r = max(3, round((1 - t) * w / 16))
        d.ellipse((cx - r, cy - r // 3, cx + r, cy + r // 3), fill=(255, 255, 240))
    if rnd.random() < 0.6:
        d.rectangle((vx - bw // 4, back[1] - bh // 3, vx + bw // 4, back[1] - bh // 8), fill=(20, 150, 60))
        d.text((vx - bw // 5, back[1] - bh // 3 + 1), "EXIT", font=_font(max(8, bh // 6)), fill=(255, 255, 255))
    return canvas


def document(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    canvas = _gradient(size, _colour(rnd, 40, 140), _colour(rnd, 20, 110), angle=rnd.uniform(0, 360))
    pw, ph = rnd.randint(w * 5 // 10, w * 8 // 10), rnd.randint(h * 6 // 10, h * 9 // 10)
    paper = Image.new("RGBA", (pw, ph), (*_colour(rnd, 225, 255), 255))
    d = ImageDraw.Draw(paper)
    px = max(8, ph // rnd.randint(28, 45))
    d.text((pw // 10, ph // 20), _words(rnd, rnd.randint(2, 4)).upper(), font=_font(px * 2), fill=(10, 10, 10))
    if rnd.random() < 0.5:  # a table
        rows, cols = rnd.randint(3, 8), rnd.randint(2, 5)
        tx0, ty0, tx1, ty1 = pw // 10, ph // 5, pw * 9 // 10, ph // 5 + rows * px * 2
        for r_ in range(rows + 1):
            y = ty0 + (ty1 - ty0) * r_ // rows
            d.line((tx0, y, tx1, y), fill=(30, 30, 30), width=2)
        for c_ in range(cols + 1):
            x = tx0 + (tx1 - tx0) * c_ // cols
            d.line((x, ty0, x, ty1), fill=(30, 30, 30), width=2)
        _text_block(d, rnd, (pw // 10, ty1 + px, pw * 9 // 10, ph * 9 // 10), px, (30, 30, 30))
    else:
        _text_block(d, rnd, (pw // 10, ph // 6, pw * 9 // 10, ph * 9 // 10), px, (30, 30, 30))
    if rnd.random() < 0.6:  # a red seal
        sx, sy, r = rnd.randint(pw // 2, pw * 4 // 5), rnd.randint(ph * 3 // 5, ph * 4 // 5), pw // 9
        d.ellipse((sx - r, sy - r, sx + r, sy + r), outline=(200, 30, 30), width=max(2, r // 10))
        d.regular_polygon((sx, sy, r // 3), 5, fill=(200, 30, 30))
    paper = paper.rotate(rnd.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=True)
    canvas.paste(paper, (rnd.randint(0, max(0, w - paper.width)), rnd.randint(0, max(0, h - paper.height))), paper)
    return canvas


def kitchen(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    tile = _colour(rnd, 170, 255)
    canvas = Image.new("RGB", size, tile)
    d = ImageDraw.Draw(canvas)
    step = rnd.randint(w // 40, w // 12)
    grout = _shade(tile, rnd.uniform(0.55, 0.8))
    for x in range(rnd.randint(0, step), w, step):
        d.line((x, 0, x, h), fill=grout, width=max(1, step // 12))
    for y in range(rnd.randint(0, step), h, step):
        d.line((0, y, w, y), fill=grout, width=max(1, step // 12))
    counter = rnd.randint(h // 2, h * 3 // 4)
    d.rectangle((0, counter, w, h), fill=_colour(rnd, 60, 200))
    d.rectangle((0, counter, w, counter + h // 30), fill=_colour(rnd, 150, 240))
    steel = _gradient((rnd.randint(w // 6, w // 3), rnd.randint(h // 5, h // 3)), (210, 210, 215), (120, 120, 130),
                      angle=rnd.uniform(-30, 30))
    canvas.paste(steel, (rnd.randint(0, w - steel.width), counter - steel.height))
    for _ in range(rnd.randint(3, 12)):  # jars, pots, boards
        x, r = rnd.randint(0, w), rnd.randint(w // 40, w // 12)
        c = _colour(rnd, 20, 255)
        if rnd.random() < 0.5:
            d.ellipse((x - r, counter - 2 * r, x + r, counter), fill=c)
        else:
            d.rectangle((x - r, counter - 3 * r, x + r, counter), fill=c)
    if rnd.random() < 0.6:  # a hygiene notice
        x0, y0 = rnd.randint(0, w * 3 // 4), rnd.randint(0, counter // 3)
        d.rectangle((x0, y0, x0 + w // 5, y0 + h // 6), fill=(250, 250, 250), outline=(0, 90, 180), width=4)
        _text_block(d, rnd, (x0 + 5, y0 + 5, x0 + w // 5 - 5, y0 + h // 6 - 5), max(8, h // 70), (0, 60, 140))
    return canvas


def ward(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    wall = _colour(rnd, 180, 250)
    canvas = _gradient(size, wall, _shade(wall, 0.75), angle=rnd.uniform(-20, 20))
    d = ImageDraw.Draw(canvas)
    floor_y = rnd.randint(h * 3 // 5, h * 4 // 5)
    d.rectangle((0, floor_y, w, h), fill=_colour(rnd, 120, 210))
    curtain = _colour(rnd, 80, 230)
    cx0 = rnd.randint(0, w * 2 // 3)
    for i, x in enumerate(range(cx0, min(w, cx0 + w // 3), max(6, w // 60))):
        d.rectangle((x, h // 12, x + max(6, w // 60), floor_y), fill=_shade(curtain, 0.85 if i % 2 else 1.05))
    for _ in range(rnd.randint(1, 3)):  # beds with pillows and a blanket
        bx, bw = rnd.randint(0, w * 2 // 3), rnd.randint(w // 4, w // 2)
        by = floor_y + rnd.randint(-h // 20, h // 10)
        d.rectangle((bx, by - h // 6, bx + bw, by), fill=(235, 235, 240))
        d.rectangle((bx + bw // 3, by - h // 6, bx + bw, by - h // 14), fill=_colour(rnd, 60, 200))
        d.ellipse((bx + 8, by - h // 5, bx + bw // 4, by - h // 8), fill=(250, 250, 252))
        d.rectangle((bx, by, bx + 6, by + h // 12), fill=(90, 90, 100))
        d.rectangle((bx + bw - 6, by, bx + bw, by + h // 12), fill=(90, 90, 100))
    if rnd.random() < 0.5:  # bed number plate
        x0 = rnd.randint(0, w - w // 8)
        d.rectangle((x0, h // 8, x0 + w // 10, h // 8 + h // 16), fill=(30, 80, 160))
        d.text((x0 + 4, h // 8 + 2), f"{rnd.randint(1, 60):02d}", font=_font(h // 20), fill=(255, 255, 255))
    return canvas


def closeup(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    canvas = _gradient(size, _colour(rnd), _colour(rnd), angle=rnd.uniform(0, 360))
    bokeh = Image.new("RGB", size)
    bokeh.paste(canvas)
    d = ImageDraw.Draw(bokeh)
    for _ in range(rnd.randint(5, 20)):
        x, y, r = rnd.randint(0, w), rnd.randint(0, h), rnd.randint(w // 30, w // 8)
        d.ellipse((x - r, y - r, x + r, y + r), fill=_colour(rnd))
    canvas = bokeh.filter(ImageFilter.BoxBlur(max(2, w // 60)))
    d = ImageDraw.Draw(canvas)
    ox, oy = rnd.randint(w // 4, w * 3 // 4), rnd.randint(h // 4, h * 3 // 4)
    ow, oh = rnd.randint(w // 6, w // 3), rnd.randint(h // 5, h // 2)
    body = _colour(rnd, 20, 235)
    shape = rnd.choice(("ellipse", "rect", "poly"))
    box = (ox - ow, oy - oh, ox + ow, oy + oh)
    if shape == "ellipse":
        d.ellipse(box, fill=body)
        d.ellipse((ox - ow // 2, oy - oh * 3 // 4, ox, oy - oh // 4), fill=_shade(body, 1.35))
    elif shape == "rect":
        d.rounded_rectangle(box, radius=min(ow, oh) // 4, fill=body)
        d.rectangle((ox - ow * 3 // 4, oy - oh // 4, ox + ow * 3 // 4, oy + oh // 4), fill=(245, 245, 245))
        d.text((ox - ow * 2 // 3, oy - oh // 6), _words(rnd, 2).upper(), font=_font(max(8, oh // 6)), fill=(20, 20, 20))
    else:
        d.regular_polygon((ox, oy, min(ow, oh)), rnd.randint(3, 8), rotation=rnd.uniform(0, 90), fill=body)
    return canvas


def storeroom(rnd: random.Random, size: Size) -> Image.Image:
    w, h = size
    canvas = Image.new("RGB", size, _colour(rnd, 90, 200))
    d = ImageDraw.Draw(canvas)
    shelves = rnd.randint(3, 6)
    frame = _colour(rnd, 60, 160)
    for i in range(shelves + 1):
        y = h * (i + 0.5) // (shelves + 1)
        d.rectangle((0, y, w, y + max(3, h // 60)), fill=frame)
        x = rnd.randint(0, w // 20)
        while x < w and i < shelves:
            bw, bh = rnd.randint(w // 25, w // 8), rnd.randint(h // (shelves + 2) // 2, h // (shelves + 2))
            c = _colour(rnd, 30, 240)
            d.rectangle((x, y - bh, x + bw, y), fill=c, outline=_shade(c, 0.6))
            if rnd.random() < 0.3:
                d.text((x + 3, y - bh + 3), _words(rnd, 1)[:6], font=_font(max(8, bh // 4)), fill=_shade(c, 0.3))
            x += bw + rnd.randint(1, w // 30)
    for x in (rnd.randint(0, w // 10), rnd.randint(w * 9 // 10, w)):
        d.rectangle((x - 4, 0, x + 4, h), fill=frame)
    return canvas


def wall(rnd: random.Random, size: Size) -> Image.Image:
    """A close-up of a plain wall, floor or ceiling with one small detail.

    The hard case for a perceptual hash: almost no structure, so most of the
    low frequencies are near zero and light falloff decides the rest.
    """
    w, h = size
    base = _colour(rnd, 150, 250)
    canvas = _gradient(size, _shade(base, rnd.uniform(0.85, 1.05)), _shade(base, rnd.uniform(0.7, 0.95)),
                       angle=rnd.uniform(0, 360))
    d = ImageDraw.Draw(canvas)
    x, y = rnd.randint(w // 8, w * 7 // 8), rnd.randint(h // 8, h * 7 // 8)
    s = rnd.randint(min(w, h) // 14, min(w, h) // 5)
    detail = rnd.choice(("socket", "crack", "sign", "stain", "pipe"))
    if detail == "socket":
        d.rounded_rectangle((x - s, y - s, x + s, y + s), radius=s // 5, fill=(240, 240, 236), outline=(170, 170, 165), width=2)
        for dx in (-s // 3, s // 3):
            d.rectangle((x + dx - 2, y - s // 4, x + dx + 2, y + s // 4), fill=(60, 60, 60))
    elif detail == "crack":
        points = [(x, y)]
        for _ in range(rnd.randint(4, 9)):
            px, py = points[-1]
            points.append((px + rnd.randint(-s, s), py + rnd.randint(s // 3, s)))
        d.line(points, fill=_shade(base, 0.35), width=max(2, w // 400))
    elif detail == "sign":
        d.rectangle((x - s, y - s // 2, x + s, y + s // 2), fill=rnd.choice(((200, 30, 30), (20, 140, 60), (240, 200, 0))))
        d.text((x - s * 4 // 5, y - s // 4), _words(rnd, 1).upper()[:5], font=_font(max(8, s // 3)), fill=(255, 255, 255))
    elif detail == "stain":
        d.ellipse((x - s, y - s * 2 // 3, x + s, y + s * 2 // 3), fill=_shade(base, rnd.uniform(0.6, 0.85)))
    else:
        d.rectangle((x - s // 6, 0, x + s // 6, h), fill=_shade(base, rnd.uniform(0.5, 1.2)))
    if rnd.random() < 0.5:  # skirting board or ceiling edge
        edge = rnd.choice((rnd.randint(0, h // 8), rnd.randint(h * 7 // 8, h)))
        d.rectangle((0, edge - h // 40, w, edge + h // 40), fill=_shade(base, rnd.uniform(0.5, 0.9)))
    return canvas


def dim(rnd: random.Random, size: Size) -> Image.Image:
    """A badly lit room: dark, low contrast, a few light sources."""
    base = rnd.choice((room, corridor, storeroom, ward))(rnd, size)
    dark = ImageChops.multiply(base, Image.new("RGB", size, _colour(rnd, 45, 110)))
    glow = Image.new("RGB", size)
    d = ImageDraw.Draw(glow)
    w, h = size
    for _ in range(rnd.randint(1, 3)):
        x, y, r = rnd.randint(0, w), rnd.randint(0, h // 2), rnd.randint(w // 20, w // 6)
        d.ellipse((x - r, y - r, x + r, y + r), fill=_colour(rnd, 120, 255))
    return ImageChops.add(dark, glow.filter(ImageFilter.BoxBlur(max(2, w // 40))))


SCENES: tuple[Callable[[random.Random, Size], Image.Image], ...] = (
    street, room, corridor, document, kitchen, ward, closeup, storeroom, dim, wall)


# --------------------------------------------------------------------------
# The camera


def _vignette(size: Size, strength: float) -> Image.Image:
    """A multiplier image: 255 in the middle, darker towards the corners."""
    radial = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)  # 0 centre, 255 edge
    return radial.point(lambda v: max(0, 255 - round(v * strength))).convert("RGB")


def _noise(rnd: random.Random, size: Size, amplitude: int) -> Image.Image:
    """Uniform noise in [128 - amplitude, 128 + amplitude] from the seeded generator."""
    raw = Image.frombytes("L", size, rnd.randbytes(size[0] * size[1]))
    lo = 128 - amplitude
    return raw.point(lambda v: lo + v * (2 * amplitude + 1) // 256)


def camera(rnd: random.Random, scene: Image.Image) -> Image.Image:
    """Lens blur, vignetting, exposure, white balance and sensor noise."""
    w, h = scene.size
    im = scene.filter(ImageFilter.GaussianBlur(rnd.uniform(0.4, 1.2) * max(w, h) / 2000))
    im = ImageChops.multiply(im, _vignette(im.size, rnd.uniform(0.05, 0.45)))
    gains = [rnd.uniform(0.85, 1.15) * rnd.uniform(0.8, 1.25) for _ in range(3)]
    im = Image.merge("RGB", [ch.point(lambda v, g=g: min(255, round(v * g))) for ch, g in zip(im.split(), gains)])
    amplitude = rnd.randint(2, 9)
    noise = _noise(rnd, im.size, amplitude)
    return Image.merge("RGB", [ImageChops.add(ch, noise, 1, -128) for ch in im.split()])


def scene_photo(seed: int, size: Size = (1600, 1200)) -> tuple[Image.Image, str]:
    """The pixels of photo ``seed`` (stored orientation) and its scene's name."""
    rnd = random.Random(f"scene-{seed}")
    kind = SCENES[seed % len(SCENES)]
    return camera(rnd, kind(rnd, size)), kind.__name__


def exif_for(seed: int) -> Image.Exif:
    rnd = random.Random(f"exif-{seed}")
    exif = Image.Exif()
    exif[0x010F] = "ScenePhone"
    exif[0x0112] = rnd.choice((1, 1, 6, 6, 3, 8))
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"2024:{rnd.randint(1, 12):02d}:{rnd.randint(1, 28):02d} {rnd.randint(7, 18):02d}:{rnd.randint(0, 59):02d}:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (float(rnd.randint(20, 45)), float(rnd.randint(0, 59)), rnd.uniform(0, 59))
    gps[3], gps[4] = "E", (float(rnd.randint(100, 125)), float(rnd.randint(0, 59)), rnd.uniform(0, 59))
    return exif


def scene_jpeg(seed: int, size: Size = (1600, 1200)) -> bytes:
    """Photo ``seed`` as a phone would store it: JPEG at quality 88-95 with EXIF."""
    im, _ = scene_photo(seed, size)
    quality = random.Random(f"q-{seed}").randint(88, 95)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=exif_for(seed))
    return buf.getvalue()


def resaved(data: bytes, quality: int = 80) -> bytes:
    """The same photo opened and saved again at ``quality`` (EXIF kept)."""
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def half_size(data: bytes, quality: int = 85) -> bytes:
    """The same photo at half its width and height, re-encoded (EXIF kept)."""
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    small = im.resize((im.width // 2, im.height // 2), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()
