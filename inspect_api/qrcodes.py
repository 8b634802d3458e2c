"""QR codes as inline SVG (public pages) and PNG (downloads), via ``qrcode``."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def svg(data: str, *, box_size: int = 8) -> Markup:
    """An inline ``<svg>`` element encoding ``data`` (safe to embed in Jinja)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size, border=2)
    text = img.to_string(encoding="unicode")
    if text.startswith("<?xml"):
        text = text.split("?>", 1)[1]
    return Markup(text.replace("<svg ", '<svg role="img" aria-label="二维码" ', 1))


def png(data: str, *, box_size: int = 10) -> bytes:
    """PNG bytes of a QR code encoding ``data``."""
    img = qrcode.make(data, box_size=box_size, border=4)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
