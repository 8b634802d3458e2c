"""The institution map (医养结合机构电子地图): a GeoJSON feed and one-tap call and navigation links.

``GET /api/v1/public/map.geojson`` lists every public (not closed)
institution with a location as a GeoJSON Feature (RFC 7946): the geometry in
WGS-84, as stored and as the RFC requires, and the same point in GCJ-02 and
BD-09 among the properties, which Chinese map apps expect; the collection
says so in ``datum`` and ``coordinates``.  Properties: name, kind, address,
public phone, latest published grade and its date, open findings, the latest
published satisfaction mean, and ready-made links: ``tel:``, ``geo:``
(WGS-84, RFC 5870), Amap (高德, GCJ-02), Baidu (百度, BD-09) and Tencent
(腾讯, GCJ-02) navigation.

Filters: ``region`` (a division code and its subtree), ``kind``, and
``bbox`` = ``min_lon,min_lat,max_lon,max_lat`` in WGS-84; a box whose minimum
exceeds its maximum (it crosses itself; no Chinese region crosses the
antimeridian) or that spans more than a hemisphere is refused with 422.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote, urlencode

from inspect_api import vocabulary
from inspect_api.errors import Unprocessable
from inspect_api.publication import sources
from inspect_api.publication.datum import wgs84_to_bd09, wgs84_to_gcj02

DATUM = "WGS-84"
COORDINATES = {"geometry": "WGS-84（EPSG:4326，GPS 坐标）", "gcj02": "GCJ-02（高德、腾讯等国内地图使用）",
               "bd09": "BD-09（百度地图使用）"}
MAX_SPAN_LON = 180.0
MAX_SPAN_LAT = 90.0
APP_NAME = "yyjh"
OPEN_STATUSES = ("open", "reopened", "answered")
_PHONE_CHARS = re.compile(r"[^0-9+]")


def _bbox_error(message: str, code: str = "BBOX_INVALID") -> Unprocessable:
    return Unprocessable(message, code=code, details={"fields": {"bbox": [message]}})


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``min_lon,min_lat,max_lon,max_lat`` (WGS-84) as floats, or 422 with the reason."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise _bbox_error("bbox 应为“最小经度,最小纬度,最大经度,最大纬度”四个数")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise _bbox_error("bbox 的四个值都应为数字") from None
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise _bbox_error("bbox 的四个值都应为有限数字")
    if not (-180.0 <= min_lon <= 180.0 and -180.0 <= max_lon <= 180.0):
        raise _bbox_error("bbox 的经度应在 -180 到 180 之间")
    if not (-90.0 <= min_lat <= 90.0 and -90.0 <= max_lat <= 90.0):
        raise _bbox_error("bbox 的纬度应在 -90 到 90 之间")
    if min_lon >= max_lon or min_lat >= max_lat:
        raise _bbox_error("bbox 自相交：最小经纬度须小于最大经纬度", code="BBOX_CROSSES_ITSELF")
    if max_lon - min_lon > MAX_SPAN_LON or max_lat - min_lat > MAX_SPAN_LAT:
        raise _bbox_error(f"bbox 范围过大（超过半个地球：经度跨度不超过 {MAX_SPAN_LON:g}°、纬度跨度不超过 {MAX_SPAN_LAT:g}°）",
                          code="BBOX_TOO_LARGE")
    return min_lon, min_lat, max_lon, max_lat


def _r6(value: float) -> float:
    return round(value, 6)


def nav_links(name: str, lat: float, lon: float, phone: str | None) -> dict[str, str | None]:
    """One-tap call and navigation links: each map app gets the datum it expects."""
    gcj_lat, gcj_lon = wgs84_to_gcj02(lat, lon)
    bd_lat, bd_lon = wgs84_to_bd09(lat, lon)
    digits = _PHONE_CHARS.sub("", phone or "")
    return {
        "tel": f"tel:{digits}" if len(digits) >= 5 else None,
        "geo": f"geo:{_r6(lat)},{_r6(lon)}?q={_r6(lat)},{_r6(lon)}({quote(name)})",
        "amap": "https://uri.amap.com/navigation?" + urlencode({
            "to": f"{_r6(gcj_lon)},{_r6(gcj_lat)},{name}", "mode": "car", "coordinate": "gaode", "callnative": "1",
            "src": APP_NAME}),
        "baidu": "baidumap://map/direction?" + urlencode({
            "destination": f"latlng:{_r6(bd_lat)},{_r6(bd_lon)}|name:{name}", "coord_type": "bd09ll",
            "mode": "driving", "src": APP_NAME}),
        "tencent": "qqmap://map/routeplan?" + urlencode({
            "type": "drive", "to": name, "tocoord": f"{_r6(gcj_lat)},{_r6(gcj_lon)}", "referer": APP_NAME}),
    }


def _latest_results(ids: list[str]) -> dict[str, Any]:
    from inspect_api.publication.models import PublishedResult

    latest: dict[str, Any] = {}
    for start in range(0, len(ids), 1000):
        query = PublishedResult.objects(institution_id__in=ids[start:start + 1000]).order_by(
            "institution_id", "-published_at").only("institution_id", "grade", "inspected_on", "published_at")
        for r in query:
            latest.setdefault(r.institution_id, r)
    return latest


def _open_findings(ids: list[str]) -> dict[str, int]:
    from inspect_api.rectification.models import Finding

    counts: dict[str, int] = {}
    for start in range(0, len(ids), 1000):
        pipeline = [{"$match": {"institution_id": {"$in": ids[start:start + 1000]}, "status": {"$in": OPEN_STATUSES}}},
                    {"$group": {"_id": "$institution_id", "n": {"$sum": 1}}}]
        for row in Finding._get_collection().aggregate(pipeline):
            counts[row["_id"]] = int(row["n"])
    return counts


def _institutions(region: str | None, kind: str | None) -> list:
    from inspect_api.directory.institutions import find_institutions

    return list(find_institutions(region_prefix=region or "", kinds=[kind] if kind else None,
                                  statuses=["active", "suspended"]).only(
        "public_id", "name", "kind", "region", "address", "location", "contact_phone", "status"))


def feature_collection(*, region: str | None = None, kind: str | None = None, bbox: str | None = None,
                       base_url: str = "") -> dict[str, Any]:
    """The map feed (a GeoJSON FeatureCollection) for the filters."""
    from inspect_api.directory.institutions import point_latlon
    from inspect_api.surveys.results import published_means

    box = parse_bbox(bbox)
    kinds = sources.institution_kinds()
    regions = sources.region_names()
    located, without = [], 0
    for inst in _institutions(region, kind):
        latlon = point_latlon(inst.location)
        if latlon is None:
            without += 1
            continue
        lat, lon = latlon
        if box and not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
            continue
        located.append((inst, lat, lon))
    ids = [str(i.id) for i, _, _ in located]
    results, findings, satisfaction = _latest_results(ids), _open_findings(ids), published_means(ids)
    features = []
    for inst, lat, lon in located:
        iid = str(inst.id)
        gcj_lat, gcj_lon = wgs84_to_gcj02(lat, lon)
        bd_lat, bd_lon = wgs84_to_bd09(lat, lon)
        latest = results.get(iid)
        mean = satisfaction.get(iid)
        features.append({
            "type": "Feature", "id": inst.public_id,
            "geometry": {"type": "Point", "coordinates": [_r6(lon), _r6(lat)]},
            "properties": {
                "public_id": inst.public_id, "name": inst.name, "kind": inst.kind,
                "kind_name": kinds.get(inst.kind, inst.kind), "region": inst.region,
                "region_name": regions.get(inst.region, inst.region), "address": inst.address,
                "phone": inst.contact_phone, "status": inst.status,
                "grade": latest.grade if latest else None,
                "grade_name": vocabulary.grade_name(latest.grade) if latest and latest.grade else None,
                "inspected_on": latest.inspected_on.isoformat()[:10] if latest and latest.inspected_on else None,
                "open_findings": findings.get(iid, 0),
                "satisfaction": mean,
                "gcj02": [_r6(gcj_lon), _r6(gcj_lat)], "bd09": [_r6(bd_lon), _r6(bd_lat)],
                "profile_url": f"{base_url}/p/institutions/{inst.public_id}",
                "links": nav_links(inst.name, lat, lon, inst.contact_phone),
            }})
    return {"type": "FeatureCollection", "datum": DATUM, "coordinates": COORDINATES,
            "filters": {"region": region, "kind": kind, "bbox": list(box) if box else None},
            "without_location": without, "features": features}
