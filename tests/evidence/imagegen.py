"""Real test images built with Pillow (no fixtures on disk)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, ImageChops, ImageDraw

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def photo_like(seed: int, size: tuple[int, int] = (4032, 3024), noise: float = 6.0) -> Image.Image:
    """Gradients, shapes and sensor-like noise: compresses like a photo.

    The shapes (which drive the perceptual hash) depend only on ``seed``.
    """
    rnd = random.Random(seed)
    w, h = size
    chans = []
    for _ in range(3):
        grad = Image.linear_gradient("L").rotate(rnd.uniform(0, 360)).resize((w, h), Image.Resampling.BILINEAR)
        coarse = Image.effect_noise((max(1, w // 32), max(1, h // 32)), 40).resize((w, h), Image.Resampling.BICUBIC)
        chans.append(Image.blend(grad, coarse, 0.3))
    im = Image.merge("RGB", chans)
    draw = ImageDraw.Draw(im)
    for _ in range(30):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        x1, y1 = x0 + rnd.randrange(w // 20, w // 3), y0 + rnd.randrange(h // 20, h // 3)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    if noise:
        fine = Image.effect_noise((w, h), noise)
        im = Image.merge("RGB", [ImageChops.add(ch, fine, 1, -128) for ch in im.split()])
    return im


def make_exif(*, orientation: int | None = None, taken: str | None = None,
              offset: str | None = None, gps: tuple[tuple, str, tuple, str] | None = None,
              make: str | None = "TestPhone") -> Image.Exif:
    """EXIF with IFD0, the Exif IFD (0x8769) and the GPS IFD (0x8825)."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None or offset is not None:
        ifd = exif.get_ifd(EXIF_IFD)
        if taken is not None:
            ifd[0x9003] = taken
        if offset is not None:
            ifd[0x9011] = offset
    if gps is not None:
        lat, lat_ref, lon, lon_ref = gps
        g = exif.get_ifd(GPS_IFD)
        g[0] = b"\x02\x03\x00\x00"
        g[1] = lat_ref
        g[2] = lat
        g[3] = lon_ref
        g[4] = lon
    return exif


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of any size, built without a pixel buffer."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
