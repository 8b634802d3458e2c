"""WGS-84 → GCJ-02 (and BD-09): reference points, and properties over the whole of China and beyond."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspect_api.publication.datum import gcj02_to_bd09, out_of_china, wgs84_to_bd09, wgs84_to_gcj02

# (WGS-84 lat, lon) -> (GCJ-02 lat, lon): the reference points the open-source implementations test against.
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]
CITIES = {"北京": (39.9042, 116.4074), "上海": (31.2304, 121.4737), "深圳": (22.5431, 114.0579),
          "淄博": (36.8131, 118.0549), "昆明": (25.0389, 102.7183), "乌鲁木齐": (43.8256, 87.6168),
          "拉萨": (29.6520, 91.1721), "哈尔滨": (45.8038, 126.5349), "海口": (20.0440, 110.1999),
          "喀什": (39.4704, 75.9898), "漠河": (52.9722, 122.5382), "香港": (22.3193, 114.1694)}
ABROAD = {"Seoul": (37.5665, 126.9780), "Pyongyang": (39.0392, 125.7625), "Hanoi": (21.0278, 105.8342),
          "Ulaanbaatar": (47.8864, 106.9057), "Kathmandu": (27.7172, 85.3240), "Taipei": (25.0330, 121.5654),
          "Vladivostok": (43.1198, 131.8869), "Singapore": (1.3521, 103.8198), "Bangkok": (13.7563, 100.5018),
          "New Delhi": (28.6139, 77.2090), "Almaty": (43.2220, 76.8512), "Tokyo": (35.6762, 139.6503)}


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    r = 6371008.8
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration (test helper): the offset varies slowly, so it converges fast."""
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        wlat, wlon = wlat - (glat - lat), wlon - (glon - lon)
    return wlat, wlon


@pytest.mark.parametrize("wgs,gcj", REFERENCE)
def test_reference_points(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9) and lon == pytest.approx(gcj[1], abs=1e-9)


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The published inverse of Baidu's shift (test helper)."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * math.pi * 3000.0 / 180.0)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * math.pi * 3000.0 / 180.0)
    return z * math.sin(theta), z * math.cos(theta)


@pytest.mark.parametrize("city", sorted(CITIES))
def test_chinese_cities_are_offset(city):
    assert not out_of_china(*CITIES[city])
    assert 100 < metres(CITIES[city], wgs84_to_gcj02(*CITIES[city])) < 1000


@pytest.mark.parametrize("place", sorted(ABROAD))
def test_places_abroad_are_not_offset_even_inside_the_rectangle(place):
    point = ABROAD[place]
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point and wgs84_to_bd09(*point) == point


def test_zibo_is_offset_a_few_hundred_metres_to_the_east():
    wgs = (36.790, 118.055)  # 淄博市张店区
    gcj = wgs84_to_gcj02(*wgs)
    assert 200 < metres(wgs, gcj) < 800 and gcj[1] > wgs[1]


@pytest.mark.parametrize("point", [(51.5007, -0.1246), (40.6892, -74.0445), (35.6586, 139.7454), (-33.8568, 151.2153),
                                   (0.0, 0.0), (56.5, 120.0)])
def test_outside_china_there_is_no_offset(point):
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert wgs84_to_bd09(*point) == point


# The heart of the mainland (a box well inside every border): Sichuan to the coast, Guangdong to Beijing.
china = st.tuples(st.floats(min_value=24.5, max_value=39.5), st.floats(min_value=103.0, max_value=116.5))
anywhere = st.tuples(st.floats(min_value=-90.0, max_value=90.0), st.floats(min_value=-180.0, max_value=180.0))


@given(china)
def test_the_offset_in_china_is_bounded(point):
    assert 1.0 < metres(point, wgs84_to_gcj02(*point)) < 1000.0


@given(china)
def test_the_conversion_can_be_inverted_to_within_a_centimetre(point):
    assert metres(point, gcj02_to_wgs84(*wgs84_to_gcj02(*point))) < 0.01


@given(china, st.floats(min_value=-0.0005, max_value=0.0005), st.floats(min_value=-0.0005, max_value=0.0005))
def test_the_conversion_is_smooth(point, dlat, dlon):
    """Points ~50 m apart stay about that far apart: no jumps a navigation app would notice."""
    near = (point[0] + dlat, point[1] + dlon)
    before = metres(point, near)
    after = metres(wgs84_to_gcj02(*point), wgs84_to_gcj02(*near))
    assert abs(after - before) < 0.05 * before + 0.01


@given(anywhere)
def test_outside_the_rectangle_nothing_moves(point):
    if out_of_china(*point):
        assert wgs84_to_gcj02(*point) == point


@given(china)
def test_bd09_adds_baidus_shift_on_top_of_gcj02(point):
    gcj = wgs84_to_gcj02(*point)
    bd = wgs84_to_bd09(*point)
    assert bd == gcj02_to_bd09(*gcj)
    assert 100.0 < metres(gcj, bd) < 1500.0
    assert metres(bd09_to_gcj02(*bd), gcj) < 1.0  # the published inverse undoes it
