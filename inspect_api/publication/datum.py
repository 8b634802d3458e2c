"""Map datums (坐标系): WGS-84 as stored, GCJ-02 and BD-09 as Chinese map apps expect.

Positions are stored in WGS-84 (GPS, EXIF, the directory).  Maps published in
China use GCJ-02, an obfuscated offset of a few hundred metres that Amap
(高德), Tencent (腾讯) and Apple Maps in China expect; Baidu (百度) adds its own
BD-09 on top of GCJ-02.  :func:`wgs84_to_gcj02` is the one conversion of the
project (the published algorithm, Krasovsky ellipsoid constants); it agrees
with the known reference points of the open-source implementations to the
last digit (see tests/publication/test_datum.py).  Outside mainland China
GCJ-02 is WGS-84: no offset.  "Inside" is the usual bounding rectangle of the
algorithm narrowed by a coarse outline of the mainland (:data:`MAINLAND`, tens
of kilometres accurate along the land borders, the coast taken generously), so
Seoul, Pyongyang, Hanoi, Ulaanbaatar, Kathmandu or Taipei are not moved the way
the rectangle alone would move them; Hong Kong and Macau lie inside and are
offset as mainland maps show them.
"""

from __future__ import annotations

import math

# Krasovsky 1940 semi-major axis and eccentricity squared, as the GCJ-02 algorithm uses them.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


# A coarse outline of mainland China (with Hainan) as (lon, lat), clockwise from the north-east corner.
MAINLAND: tuple[tuple[float, float], ...] = (
    (134.77, 48.27), (134.0, 46.8), (133.1, 45.3), (132.5, 45.0), (131.3, 44.0), (131.0, 42.9), (130.6, 42.4),
    (129.0, 42.2), (128.0, 41.4), (126.0, 40.8), (124.3, 39.8), (121.6, 38.6), (122.8, 37.4), (120.6, 35.8),
    (119.6, 34.5), (121.2, 32.5), (122.2, 31.0), (122.5, 29.9), (121.3, 28.0), (120.1, 26.6), (119.9, 25.6),
    (118.8, 24.6), (117.3, 23.3), (115.6, 22.6), (114.4, 22.1), (113.5, 21.9), (111.5, 21.3), (110.5, 20.3),
    (111.3, 19.7), (110.2, 18.0), (108.5, 18.4), (108.4, 19.5), (109.5, 20.5), (108.1, 21.5), (106.7, 21.9),
    (105.5, 23.2), (103.9, 22.5), (102.1, 22.4), (101.1, 21.1), (100.0, 21.6), (99.2, 22.1), (98.8, 23.2),
    (97.5, 23.9), (98.6, 25.3), (98.6, 27.6), (97.4, 28.2), (96.0, 29.3), (94.0, 28.9), (91.6, 27.9),
    (88.9, 27.3), (88.0, 27.9), (86.0, 27.9), (85.0, 28.3), (82.0, 30.0), (81.0, 30.2), (79.0, 31.2),
    (78.7, 32.5), (79.4, 34.3), (78.0, 35.5), (75.0, 37.0), (73.5, 39.4), (75.6, 40.5), (78.3, 41.2),
    (80.2, 42.2), (80.7, 45.0), (82.5, 45.2), (82.9, 47.1), (85.6, 47.0), (87.3, 49.1), (90.0, 47.9),
    (91.0, 46.0), (93.5, 44.9), (96.4, 42.7), (100.0, 42.6), (105.0, 41.6), (107.0, 42.4), (110.0, 42.6),
    (111.9, 43.7), (114.0, 44.9), (116.0, 45.7), (117.4, 46.6), (119.9, 46.7), (119.5, 47.5), (115.6, 47.9),
    (117.4, 49.6), (119.2, 50.3), (120.8, 52.6), (122.5, 53.6), (125.2, 53.0), (127.5, 50.2), (130.6, 48.9),
    (132.5, 47.7),
)


def _inside(lat: float, lon: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: is (lon, lat) inside the polygon?"""
    inside = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def out_of_china(lat: float, lon: float) -> bool:
    """True where GCJ-02 applies no offset: outside the algorithm's rectangle or the mainland outline."""
    if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return True
    return not _inside(lat, lon, MAINLAND)


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
