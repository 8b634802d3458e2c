"""The capture fields of a photo's EXIF: orientation, time taken and GPS position.

Pure functions over Pillow's ``Image.Exif``.  Broken or absurd metadata never
breaks the photo: it reads as absent (GPS as absent and flagged invalid).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image

UTC = timezone.utc
UTC8 = timezone(timedelta(hours=8))

# EXIF tags.
_TAG_ORIENTATION = 0x0112
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def read_exif(im: Image.Image) -> Image.Exif | None:
    """The image's EXIF, or None when it cannot be read."""
    try:
        return im.getexif()
    except Exception:  # broken metadata is not a broken image
        return None


def orientation(exif: Image.Exif | None, im: Image.Image) -> int:
    """The EXIF orientation (1-8) to apply to the decoded pixels; 1 when absent or already applied."""
    if exif is None or im.format == "HEIF":
        # libheif applies irot/imir itself; pillow_heif reports the
        # pixels already upright.
        return 1
    try:
        value = int(exif.get(_TAG_ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if value in TRANSPOSE else 1


_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip().strip("\x00").strip()


def captured_at(exif: Image.Exif | None) -> datetime | None:
    """DateTimeOriginal (+ OffsetTimeOriginal, else UTC+8) as aware UTC."""
    if exif is None:
        return None
    try:
        ifd = exif.get_ifd(_IFD_EXIF)
        raw = ifd.get(_TAG_DATETIME_ORIGINAL)
        if raw is None:
            return None
        local = datetime.strptime(_as_text(raw), "%Y:%m:%d %H:%M:%S")
        tz = UTC8
        offset = ifd.get(_TAG_OFFSET_TIME_ORIGINAL)
        if offset is not None:
            m = _OFFSET_RE.match(_as_text(offset))
            if m:
                minutes = int(m.group(2)) * 60 + int(m.group(3))
                if minutes <= 14 * 60 and int(m.group(3)) < 60:
                    tz = timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
        if local.year < 1970:
            return None
        return local.replace(tzinfo=tz).astimezone(UTC)
    except Exception:
        return None


def _dms(value: Any) -> float:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError("GPS coordinate is not degrees/minutes/seconds")
    d, m, s = (float(v) for v in value)
    if not all(math.isfinite(v) and v >= 0 for v in (d, m, s)) or m >= 60 or s >= 60:
        raise ValueError("GPS coordinate out of range")
    return d + m / 60 + s / 3600


def gps(exif: Image.Exif | None) -> tuple[tuple[float, float] | None, bool]:
    """((lat, lon), invalid).  Absurd coordinates are dropped and flagged."""
    if exif is None:
        return None, False
    try:
        ifd = exif.get_ifd(_IFD_GPS)
    except Exception:
        return None, True
    if _GPS_LAT not in ifd and _GPS_LON not in ifd:
        return None, False
    try:
        lat = _dms(ifd[_GPS_LAT])
        lon = _dms(ifd[_GPS_LON])
        lat_ref = _as_text(ifd[_GPS_LAT_REF]).upper()
        lon_ref = _as_text(ifd[_GPS_LON_REF]).upper()
        if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
            raise ValueError("GPS reference")
        if lat > 90 or lon > 180:
            raise ValueError("GPS coordinate out of range")
        if lat == 0 and lon == 0:  # "null island": no fix written as zeros
            raise ValueError("GPS zero")
    except Exception:
        return None, True
    return (round(-lat if lat_ref == "S" else lat, 7),
            round(-lon if lon_ref == "W" else lon, 7)), False
