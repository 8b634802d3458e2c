"""The institution map feed (GeoJSON) and page: datums, filters, ETag, links, bad bounding boxes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from inspect_api.directory.models import Institution
from inspect_api.publication.datum import wgs84_to_bd09, wgs84_to_gcj02
from inspect_api.surveys.models import SurveyResult
from tests.conftest import assert_error
from tests.draws import plan_fixtures as fx


def _place(region: str, lat: float, lon: float, **kw) -> Institution:
    inst = fx.institution(region, **kw)
    Institution.objects(id=inst.id).update_one(set__location={"type": "Point", "coordinates": [lon, lat]},
                                               set__contact_phone="0533-5281234", set__address="张店区人民西路 1 号")
    return Institution.objects.get(id=inst.id)


@pytest.fixture
def places(app):
    return {"zhangdian": _place("370303", 36.8070, 118.0540, name="张店康养中心"),
            "zichuan": _place("370302", 36.6450, 117.9670, kind="community_station", name="淄川社区站"),
            "closed": _place("370303", 36.8000, 118.0500, status="closed", name="已关闭机构"),
            "nowhere": fx.institution("370303", name="无坐标机构")}


def test_the_feed_is_geojson_in_wgs84_with_gcj02_and_bd09(client, places):
    r = client.get("/api/v1/public/map.geojson")
    assert r.status_code == 200 and r.content_type.startswith("application/geo+json")
    feed = r.get_json()
    assert feed["type"] == "FeatureCollection" and feed["datum"] == "WGS-84"
    assert set(feed["coordinates"]) == {"geometry", "gcj02", "bd09"} and feed["without_location"] == 1
    names = {f["properties"]["name"] for f in feed["features"]}
    assert names == {"张店康养中心", "淄川社区站"}  # closed and unlocated institutions are not on the map
    feature = next(f for f in feed["features"] if f["id"] == places["zhangdian"].public_id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [118.054, 36.807]}
    gcj = wgs84_to_gcj02(36.807, 118.054)
    bd = wgs84_to_bd09(36.807, 118.054)
    p = feature["properties"]
    assert p["gcj02"] == [round(gcj[1], 6), round(gcj[0], 6)] and p["bd09"] == [round(bd[1], 6), round(bd[0], 6)]
    assert p["phone"] == "0533-5281234" and p["open_findings"] == 0 and p["grade"] is None
    assert p["satisfaction"] is None and p["profile_url"].endswith(f"/p/institutions/{places['zhangdian'].public_id}")


def test_links_call_and_navigate_in_each_apps_datum(client, places):
    feed = client.get("/api/v1/public/map.geojson").get_json()
    links = next(f for f in feed["features"] if f["id"] == places["zhangdian"].public_id)["properties"]["links"]
    gcj = wgs84_to_gcj02(36.807, 118.054)
    bd = wgs84_to_bd09(36.807, 118.054)
    assert links["tel"] == "tel:05335281234"
    assert links["geo"].startswith("geo:36.807,118.054?q=36.807,118.054(")  # RFC 5870: WGS-84
    amap = parse_qs(urlparse(links["amap"]).query)
    assert amap["to"] == [f"{round(gcj[1], 6)},{round(gcj[0], 6)},张店康养中心"] and amap["coordinate"] == ["gaode"]
    baidu = parse_qs(urlparse(links["baidu"]).query)
    assert links["baidu"].startswith("baidumap://map/direction?") and baidu["coord_type"] == ["bd09ll"]
    assert baidu["destination"] == [f"latlng:{round(bd[0], 6)},{round(bd[1], 6)}|name:张店康养中心"]
    tencent = parse_qs(urlparse(links["tencent"]).query)
    assert links["tencent"].startswith("qqmap://map/routeplan?")
    assert tencent["tocoord"] == [f"{round(gcj[0], 6)},{round(gcj[1], 6)}"]


def test_filters_by_region_kind_and_bbox(client, places):
    def ids(query: str) -> set[str]:
        r = client.get("/api/v1/public/map.geojson" + query)
        assert r.status_code == 200, r.get_json()
        return {f["id"] for f in r.get_json()["features"]}

    zd, zc = places["zhangdian"].public_id, places["zichuan"].public_id
    assert ids("?region=370303") == {zd} and ids("?region=370300") == {zd, zc}
    assert ids("?kind=community_station") == {zc}
    assert ids("?bbox=118.0,36.7,118.1,36.9") == {zd}
    assert ids("?bbox=117.9,36.6,118.1,36.9&region=370302") == {zc}
    assert ids("?bbox=10,10,11,11") == set()


@pytest.mark.parametrize("bbox,code", [
    ("118.1,36.7,118.0,36.9", "BBOX_CROSSES_ITSELF"),  # west edge east of the east edge
    ("118.0,36.9,118.1,36.7", "BBOX_CROSSES_ITSELF"),
    ("118.0,36.7,118.0,36.9", "BBOX_CROSSES_ITSELF"),  # no width
    ("-180,-90,180,90", "BBOX_TOO_LARGE"),  # the whole globe
    ("-170,-10,20,10", "BBOX_TOO_LARGE"),
    ("118,36,119", "BBOX_INVALID"),
    ("a,b,c,d", "BBOX_INVALID"),
    ("118,36,nan,37", "BBOX_INVALID"),
    ("118,36,190,37", "BBOX_INVALID"),
    ("118,-95,119,37", "BBOX_INVALID"),
])
def test_bad_bounding_boxes_are_422_in_the_error_shape(client, places, bbox, code):
    err = assert_error(client.get(f"/api/v1/public/map.geojson?bbox={bbox}"), 422, code)
    assert "bbox" in err["details"]["fields"]


def test_bad_region_and_kind(client, places):
    assert_error(client.get("/api/v1/public/map.geojson?region=37"), 422)
    assert_error(client.get("/api/v1/public/map.geojson?kind=hotel"), 422)


def test_etag_and_304(client, places):
    first = client.get("/api/v1/public/map.geojson")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/public/map.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    Institution.objects(id=places["zichuan"].id).update_one(set__contact_phone="0533-5200000")
    changed = client.get("/api/v1/public/map.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_satisfaction_shows_only_when_published(client, places):
    def add(inst, count):
        SurveyResult(key=f"{inst.id}:2026Q3", institution_id=str(inst.id), region=inst.region, quarter="2026Q3",
                     questions=[{"id": "overall", "text": "总体"}], count=count, sums={"overall": 4 * count},
                     dist={"overall": {"4": count}}).save()

    add(places["zhangdian"], 12)
    add(places["zichuan"], 9)
    feed = client.get("/api/v1/public/map.geojson").get_json()
    by_id = {f["id"]: f["properties"] for f in feed["features"]}
    assert by_id[places["zhangdian"].public_id]["satisfaction"] == {"quarter": "2026Q3", "mean": 4.0, "count": 12}
    assert by_id[places["zichuan"].public_id]["satisfaction"] is None


def test_the_page_lists_places_with_one_tap_links_and_no_external_requests(client, places):
    r = client.get("/p/map")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "医养结合机构电子地图" in html
    assert "一键电话" in html and "一键导航" in html and 'href="tel:05335281234"' in html
    assert "WGS-84" in html and "GCJ-02" in html and "BD-09" in html
    assert '<script src="/static/map.js" defer></script>' in html and "<script>" not in html
    sources = [s for s in __import__("re").findall(r'(?:src|href)="([^"]+)"', html)
               if s.startswith("http") and "/p/institutions/" not in s]
    assert all(s.startswith("https://uri.amap.com/navigation") for s in sources), sources  # links, not loads
    assert "geolocation=(self)" in r.headers["Permissions-Policy"]  # only this page may ask for the position
    assert "geolocation=()" in client.get("/p/notices").headers["Permissions-Policy"]
    zichuan = client.get("/p/map?region=370302").get_data(as_text=True)
    assert "淄川社区站" in zichuan and "张店康养中心" not in zichuan
    bad = client.get("/p/map?region=abc")
    assert bad.status_code == 400 and "参数有误" in bad.get_data(as_text=True)
