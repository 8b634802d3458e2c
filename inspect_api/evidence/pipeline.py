"""Pure image pipeline for inspection photo evidence and signatures (DESIGN §7).

No Flask, no MongoDB: bytes in, bytes and fields out.  The HTTP layer maps
:class:`ImageRejected` to the error shape of the API (it carries ``code``,
``status``, ``message`` and ``details`` like ``DomainError``) and stores the
``original``, ``display`` and ``thumb`` bytes of a :class:`ProcessedPhoto`.

Order of work in :func:`process_photo`, cheapest refusal first:

1. byte size, then the real type from the magic bytes (never the file name
   or the declared content type);
2. the header only (``Image.open`` does not decode): pixel count against
   :attr:`Limits.max_pixels`, so a decompression bomb is refused before any
   pixel buffer is allocated;
3. JPEGs are decoded in draft mode at the smallest DCT scale (1/2, 1/4, 1/8)
   whose both sides still cover the display size, asked with the image's own
   aspect ratio -- Pillow's ``draft`` keeps both sides at or above the size
   asked, so a square request would decode at full size;
4. one decode of every byte (a truncated file is refused, Pillow's
   ``LOAD_TRUNCATED_IMAGES`` is left False), then one resize chain: the
   display size in the stored orientation, the EXIF orientation applied once
   to that already small image, the thumbnail from the display image by an
   integer box reduce, the perceptual hashes from the thumbnail
   (:mod:`inspect_api.evidence.phash`);
5. the watermark last (so neither thumbnail nor hash depend on the label),
   then JPEG encoding without EXIF, XMP or comments.  The original bytes are
   returned untouched.

The ICC profile, when there is one, is kept on the derivatives: it is colour
data, not metadata about the capture, and dropping a Display P3 profile would
wash out the colours of most phone photos.
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pillow_heif
from PIL import Image, ImageOps

from inspect_api.evidence import exif as exif_fields
from inspect_api.evidence import phash, watermark

pillow_heif.register_heif_opener()

MIME_JPEG = "image/jpeg"
MIME_PNG = "image/png"
MIME_WEBP = "image/webp"
MIME_HEIC = "image/heic"
MIME_HEIF = "image/heif"

# Pillow format ids allowed for each sniffed type: Image.open never gets to
# guess a format we did not see in the magic bytes.
_FORMATS = {
    MIME_JPEG: ("JPEG",),
    MIME_PNG: ("PNG",),
    MIME_WEBP: ("WEBP",),
    MIME_HEIC: ("HEIF",),
    MIME_HEIF: ("HEIF",),
}

# ftyp brands.  HEVC-coded HEIF first; AVIF (AV1) is not decoded here.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

# The resample after an integer reduction (the draft decode of a JPEG, or
# Image.reduce): what is left is under 2x -- 2016 -> 1920 for 12 MP, 1.05x --
# and bilinear is a proper anti-aliasing filter there.  It is a third of the
# pipeline's time on a 12 MP JPEG; nearest-neighbour would cost almost nothing
# but drops every 21st row and column (steps on thin lines and text), so it
# is not used (README, "Photo pipeline").
_RESAMPLE = Image.Resampling.BILINEAR

_MB = 1024 * 1024


# --------------------------------------------------------------------------
# Errors and settings


_CODES: dict[str, tuple[int, str]] = {
    "IMAGE_TOO_LARGE": (413, "图片文件过大"),
    "IMAGE_TOO_MANY_PIXELS": (413, "图片像素数超过上限"),
    "IMAGE_TYPE_UNSUPPORTED": (415, "不支持的图片类型，仅接受 JPEG、PNG、WebP 或 HEIC/HEIF"),
    "IMAGE_CORRUPT": (422, "图片已损坏或不完整，无法解码"),
}


class ImageRejected(Exception):
    """An upload refused by the pipeline.

    ``code`` is stable for programs, ``status`` the HTTP status it maps to
    (413, 415 or 422), ``message`` a Chinese sentence for people.
    """

    def __init__(self, code: str, message: str | None = None, *,
                 details: dict[str, Any] | None = None):
        status, default_message = _CODES[code]
        self.code = code
        self.status = status
        self.message = message or default_message
        self.details = details or {}
        super().__init__(f"{code}: {self.message}")


@dataclass(frozen=True)
class Limits:
    """Caps and encoder settings; the defaults are the production values."""

    max_bytes: int = 25 * _MB
    max_pixels: int = 100_000_000          # phones take 3-50 MP
    display_max: int = 1920                # long side of the display image
    thumb_max: int = 320                   # long side of the thumbnail
    display_quality: int = 85
    thumb_quality: int = 80
    signature_max_bytes: int = 2 * _MB
    signature_max_pixels: int = 4_000_000


@dataclass(frozen=True)
class ProcessedPhoto:
    """Everything stored and recorded for one photo.

    ``width`` and ``height`` are those of the original after its EXIF
    orientation; ``captured_at`` is aware UTC; ``gps`` is (lat, lon);
    ``phash`` is the current (v2) perceptual hash, ``phash_legacy`` the v1
    hash, used only to find photos stored before v2.
    """

    mime: str
    width: int
    height: int
    original: bytes = field(repr=False)
    display: bytes = field(repr=False)
    thumb: bytes = field(repr=False)
    sha256: str
    phash: str
    captured_at: datetime | None
    gps: tuple[float, float] | None
    gps_invalid: bool
    pipeline_ms: float
    display_size: tuple[int, int] = (0, 0)
    thumb_size: tuple[int, int] = (0, 0)
    phash_legacy: str = ""


@dataclass(frozen=True)
class ProcessedSignature:
    """A normalised signature PNG; ``sha256`` is that of the upload as sent."""

    mime: str
    width: int
    height: int
    png: bytes = field(repr=False)
    sha256: str
    png_sha256: str


@dataclass(frozen=True)
class NaiveResult:
    """Output of :func:`process_naive` (the benchmark baseline)."""

    display: bytes = field(repr=False)
    thumb: bytes = field(repr=False)
    sha256: str


# --------------------------------------------------------------------------
# Type sniffing


def sniff(data: bytes) -> str:
    """The MIME type from the magic bytes alone; refuses anything else (415)."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return MIME_JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MIME_PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MIME_WEBP
    if len(head) >= 16 and head[4:8] == b"ftyp":
        mime = _sniff_ftyp(data)
        if mime:
            return mime
    raise ImageRejected("IMAGE_TYPE_UNSUPPORTED")


def _sniff_ftyp(data: bytes) -> str | None:
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > 4096 or size > len(data) or size % 4:
        return None
    major = bytes(data[8:12])
    compatible = {bytes(data[i:i + 4]) for i in range(16, size, 4)}
    if major in _HEIC_BRANDS:
        return MIME_HEIC
    if major in _AVIF_BRANDS:
        return None
    brands = compatible | {major}
    if brands & _HEIC_BRANDS:
        return MIME_HEIC
    if brands & _AVIF_BRANDS:
        return None
    if brands & _HEIF_BRANDS:
        return MIME_HEIF
    return None


# --------------------------------------------------------------------------
# Opening and decoding


def _check_bytes(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImageRejected(
            "IMAGE_TOO_LARGE", f"图片文件过大（上限 {max_bytes / _MB:g} MB）",
            details={"bytes": size, "max_bytes": max_bytes})


def _too_many_pixels(max_pixels: int, size: tuple[int, int] | None = None) -> ImageRejected:
    details: dict[str, Any] = {"max_pixels": max_pixels}
    if size:
        details.update(width=size[0], height=size[1])
    return ImageRejected(
        "IMAGE_TOO_MANY_PIXELS",
        f"图片像素数超过上限（{max_pixels / 1e6:g} 百万像素）", details=details)


def _open(data: bytes, mime: str, max_pixels: int) -> Image.Image:
    """Parse the header only and check the pixel count before any decoding.

    Pillow's own guard (``Image.MAX_IMAGE_PIXELS``) stays in force as a hard
    ceiling: above twice that value ``Image.open`` raises before we see the
    size, which we report the same way.
    """
    try:
        with warnings.catch_warnings():
            # DecompressionBombWarning (our own limit decides) and warnings
            # about malformed EXIF/MPO headers parsed while opening.
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data), formats=_FORMATS[mime])
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels) from None
    except Exception:  # UnidentifiedImageError, SyntaxError, struct.error, ...
        raise ImageRejected("IMAGE_CORRUPT") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageRejected("IMAGE_CORRUPT")
    if w * h > max_pixels:
        raise _too_many_pixels(max_pixels, im.size)
    return im


def _load(im: Image.Image) -> None:
    """Decode every byte; anything short or malformed is IMAGE_CORRUPT."""
    try:
        im.load()
    except Image.DecompressionBombError:
        raise ImageRejected("IMAGE_TOO_MANY_PIXELS") from None
    except Exception:  # OSError("image file is truncated"), SyntaxError, ...
        raise ImageRejected("IMAGE_CORRUPT") from None


def _fit(w: int, h: int, long_side: int) -> tuple[int, int]:
    """(w, h) scaled down so that the long side is at most ``long_side``."""
    m = max(w, h)
    if m <= long_side:
        return w, h
    s = long_side / m
    return max(1, round(w * s)), max(1, round(h * s))


def _shrink(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``im`` resized down to ``size``: the display step of the one resize chain.

    What a JPEG draft decode does in the DCT, done here for the other formats
    (a 12 MP HEIC or PNG): a box average by the largest integer factor that
    keeps both sides at or above ``size``, then one resample for the rest.
    """
    if im.size == size:
        return im
    factor = min(im.width // size[0], im.height // size[1])
    if factor >= 2:
        im = im.reduce(factor)
    return im if im.size == size else im.resize(size, _RESAMPLE)


def _thumbnail(display: Image.Image, long_side: int) -> Image.Image:
    """The thumbnail from the (not yet watermarked) display image.

    A box average by the largest integer factor that keeps both sides at or
    above the thumbnail size (exactly 6 for 1920 -> 320), then bilinear for
    what is left, if anything.  Always a new image: the display is drawn on.
    """
    size = _fit(display.width, display.height, long_side)
    if size == display.size:
        return display.copy()
    factor = min(display.width // size[0], display.height // size[1])
    small = display.reduce(factor) if factor >= 2 else display
    return small if small.size == size else small.resize(size, _RESAMPLE)


def _to_rgb_or_l(im: Image.Image) -> Image.Image:
    """A mode that resizes well and stays cheap (alpha kept until flattening)."""
    mode = im.mode
    if mode in ("RGB", "L", "RGBA", "LA"):
        return im
    if mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if mode == "PA":
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV ...


def _flatten(im: Image.Image) -> Image.Image:
    """RGB (JPEG-ready), alpha composited on white."""
    if im.mode in ("RGBA", "LA"):
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im.convert("RGBA") if im.mode == "LA" else im, mask=im.getchannel("A"))
        return bg
    if im.mode != "RGB":
        return im.convert("RGB")
    return im


# --------------------------------------------------------------------------
# Encoding


def _jpeg(im: Image.Image, quality: int, icc: bytes | None) -> bytes:
    im.info = {}  # nothing from the source (comment, exif, xmp) rides along
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"quality": quality}
    if icc:
        kwargs["icc_profile"] = icc
    im.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


# --------------------------------------------------------------------------
# Photos


def process_photo(data: bytes, *, label: str, now: datetime, limits: Limits = Limits(),
                  fallback_gps: tuple[float, float] | None = None) -> ProcessedPhoto:
    """Check, decode, orient, derive, watermark and hash one photo.

    ``label`` is the inspection code drawn on the display image; ``now`` (the
    upload time) is used for the watermark when the photo carries no capture
    time, ``fallback_gps`` (lat, lon; the inspection's check-in) when it
    carries no valid GPS, so every display image shows code, time and place.
    The returned ``captured_at`` and ``gps`` stay those of the photo itself.
    Raises :class:`ImageRejected`.
    """
    t0 = time.perf_counter()
    if not isinstance(data, bytes):
        data = bytes(data)
    _check_bytes(len(data), limits.max_bytes)
    mime = sniff(data)
    im = _open(data, mime, limits.max_pixels)
    raw_w, raw_h = im.size
    target = _fit(raw_w, raw_h, limits.display_max)
    if im.format in ("JPEG", "MPO") and target != (raw_w, raw_h):
        # Ask with the image's own aspect ratio: both sides of the result
        # stay >= target, so the scale is the smallest that covers it.
        im.draft(im.mode if im.mode in ("RGB", "L") else None, target)
    _load(im)
    with warnings.catch_warnings():
        # Malformed EXIF only costs its fields (Pillow warns "Truncated File
        # Read" and the like); the image itself decoded fine.
        warnings.simplefilter("ignore")
        exif = exif_fields.read_exif(im)
        orientation = exif_fields.orientation(exif, im)
        captured_at = exif_fields.captured_at(exif)
        gps, gps_invalid = exif_fields.gps(exif)
    icc = im.info.get("icc_profile") or None

    frame = _shrink(_to_rgb_or_l(im), target)
    if orientation != 1:
        frame = frame.transpose(exif_fields.TRANSPOSE[orientation])
    display = _flatten(frame)
    if display is im:  # never draw on (or re-save) the decoded source itself
        display = display.copy()

    thumb = _thumbnail(display, limits.thumb_max)
    p_hash, p_hash_legacy = phash.hashes(thumb)  # before the watermark: the label is not the photo

    watermark.apply(display, watermark.text_lines(label, captured_at or now, gps, fallback_gps))

    display_bytes = _jpeg(display, limits.display_quality, icc)
    thumb_bytes = _jpeg(thumb, limits.thumb_quality, icc)
    digest = hashlib.sha256(data).hexdigest()

    width, height = (raw_h, raw_w) if orientation in (5, 6, 7, 8) else (raw_w, raw_h)
    return ProcessedPhoto(
        mime=mime, width=width, height=height,
        original=data, display=display_bytes, thumb=thumb_bytes,
        sha256=digest, phash=p_hash,
        captured_at=captured_at, gps=gps, gps_invalid=gps_invalid,
        pipeline_ms=round((time.perf_counter() - t0) * 1000, 2),
        display_size=display.size, thumb_size=thumb.size, phash_legacy=p_hash_legacy,
    )


def process_naive(data: bytes, *, limits: Limits = Limits()) -> NaiveResult:
    """The benchmark's baseline, as DESIGN §11 names it: full decode, then resize.

    The same outputs as :func:`process_photo` (oriented display and thumbnail)
    the plain way: decode every pixel, apply the orientation, Lanczos to the
    display size, and the thumbnail from the display image (not from the full
    frame, which would make the baseline look slower than a plain one is).
    """
    im = Image.open(io.BytesIO(data))
    im.load()
    im = ImageOps.exif_transpose(im).convert("RGB")
    display = im.resize(_fit(*im.size, limits.display_max), Image.Resampling.LANCZOS)
    thumb = display.resize(_fit(*display.size, limits.thumb_max), Image.Resampling.LANCZOS)
    out = []
    for img, q in ((display, limits.display_quality), (thumb, limits.thumb_quality)):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        out.append(buf.getvalue())
    return NaiveResult(display=out[0], thumb=out[1], sha256=hashlib.sha256(data).hexdigest())


# --------------------------------------------------------------------------
# Signatures


def process_signature(data: bytes, *, limits: Limits = Limits()) -> ProcessedSignature:
    """A hand-written signature: PNG only, small; re-encoded without metadata."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) > limits.signature_max_bytes:
        raise ImageRejected(
            "IMAGE_TOO_LARGE", f"签名图片过大（上限 {limits.signature_max_bytes / _MB:g} MB）",
            details={"bytes": len(data), "max_bytes": limits.signature_max_bytes})
    try:
        mime = sniff(data)
    except ImageRejected:
        mime = None
    if mime != MIME_PNG:
        raise ImageRejected("IMAGE_TYPE_UNSUPPORTED", "签名必须为 PNG 图片")
    im = _open(data, mime, limits.signature_max_pixels)
    _load(im)
    img = _to_rgb_or_l(im)
    if img is im:
        img = im.copy()
    img.info = {}
    buf = io.BytesIO()
    img.save(buf, "PNG")
    png = buf.getvalue()
    return ProcessedSignature(
        mime=MIME_PNG, width=img.width, height=img.height, png=png,
        sha256=hashlib.sha256(data).hexdigest(),
        png_sha256=hashlib.sha256(png).hexdigest(),
    )
