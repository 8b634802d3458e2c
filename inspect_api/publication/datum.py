"""Map datums (坐标系): WGS-84 as stored, GCJ-02 and BD-09 as Chinese map apps expect.

Positions are stored in WGS-84 (GPS, EXIF, the directory).  Maps published in
China use GCJ-02, an obfuscated offset of a few hundred metres that Amap
(高德), Tencent (腾讯) and Apple Maps in China expect; Baidu (百度) adds its own
BD-09 on top of GCJ-02.  :func:`wgs84_to_gcj02` is the one conversion of the
project (the published algorithm, Krasovsky ellipsoid constants); it agrees
with the known reference points of the open-source implementations to the
last digit (see tests/publication/test_datum.py).  Outside mainland China
(the usual bounding rectangle) GCJ-02 is WGS-84: no offset.
"""

from __future__ import annotations

import math

# Krasovsky 1940 semi-major axis and eccentricity squared, as the GCJ-02 algorithm uses them.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lat: float, lon: float) -> bool:
    """True outside the rectangle where GCJ-02 applies an offset."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(x: float, y: float) -> tuple[float, float]:
    """The raw (latitude, longitude) offsets of the algorithm at (x, y) = (lon - 105, lat - 35)."""
    shared = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + shared
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + shared
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in GCJ-02 of a WGS-84 position; unchanged outside mainland China."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _offset(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in Baidu's BD-09 of a GCJ-02 position (outside mainland China: unchanged)."""
    if out_of_china(lat, lon):
        return lat, lon
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in BD-09 of a WGS-84 position."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))
