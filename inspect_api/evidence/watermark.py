"""The watermark on a photo's display image: the inspection code, the time taken and the position.

ASCII only (the default font has no CJK glyphs), white on a darkened strip at the bottom.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

UTC = timezone.utc
UTC8 = timezone(timedelta(hours=8))

# The watermark strip: pixels scaled to 40 %, i.e. black at 60 % opacity.
_DARKEN_LUT = [v * 40 // 100 for v in range(256)] * 3


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _ascii(text: str, limit: int = 64) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:limit]


def _format_time(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC8).strftime("%Y-%m-%d %H:%M") + " UTC+8"


def _format_gps(gps: tuple[float, float]) -> str:
    lat, lon = gps
    return f"{abs(lat):.5f}{'N' if lat >= 0 else 'S'} {abs(lon):.5f}{'E' if lon >= 0 else 'W'}"


def text_lines(label: str, when: datetime, gps: tuple[float, float] | None,
               fallback_gps: tuple[float, float] | None = None) -> list[str]:
    """The ASCII lines drawn on the display image: code, UTC+8 time, coordinates.

    Coordinates come from the photo's EXIF GPS; without them (or with absurd
    ones) from ``fallback_gps`` -- the inspection's check-in fix -- marked
    ``(check-in)`` so nobody takes them for the camera's own position.
    """
    out = [_ascii(label), _format_time(when)]
    if gps is not None:
        out.append(_format_gps(gps))
    elif fallback_gps is not None:
        out.append(_format_gps(fallback_gps) + " (check-in)")
    return out


def apply(im: Image.Image, lines: list[str]) -> None:
    """Draw ``lines`` in white on a darkened (60 % black) strip at the bottom, in place (RGB)."""
    w, h = im.size
    size = max(9, min(w, h) // 40)
    pad = max(3, size // 3)
    font = _font(size)
    widest = max(font.getlength(line) for line in lines)
    while size > 9 and widest + 2 * pad > w:
        size -= 1
        font = _font(size)
        widest = max(font.getlength(line) for line in lines)
    line_h = round(size * 1.25)
    strip_h = min(h, line_h * len(lines) + 2 * pad)
    box = (0, h - strip_h, w, h)
    strip = im.crop(box).point(_DARKEN_LUT)
    pen = ImageDraw.Draw(strip)
    for i, line in enumerate(lines):
        pen.text((pad, pad + i * line_h), line, font=font, fill=(255, 255, 255))
    im.paste(strip, box)
