"""Schemas of the institution map feed (a GeoJSON FeatureCollection, RFC 7946, with the map's own properties)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.catalog.schemas import GRADE
from inspect_api.directory.schemas import INSTITUTION_KIND, INSTITUTION_STATUS
from inspect_api.schemas import DateText, Number, OutSchema

REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")


def _lon_lat(description: str) -> fields.List:
    return fields.List(Number(), required=True, validate=validate.Length(equal=2),
                       metadata={"description": f"[经度, 纬度] {description}"})


class MapArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    region = fields.String(validate=REGION, metadata={"description": "行政区划代码（含下级）"})
    kind = fields.String(validate=INSTITUTION_KIND)
    bbox = fields.String(validate=validate.Length(max=200),
                         metadata={"description": "最小经度,最小纬度,最大经度,最大纬度（WGS-84），如 117.9,36.7,118.2,36.9"})


class MapLinksSchema(OutSchema):
    """One-tap links: each map app gets the datum it expects."""

    tel = fields.String(required=True, allow_none=True, metadata={"description": "tel: link (null: no usable phone)"})
    geo = fields.String(required=True, metadata={"description": "geo: URI (WGS-84, RFC 5870)"})
    amap = fields.String(required=True, metadata={"description": "高德 navigation (GCJ-02)"})
    baidu = fields.String(required=True, metadata={"description": "百度 navigation (BD-09)"})
    tencent = fields.String(required=True, metadata={"description": "腾讯 navigation (GCJ-02)"})


class MapSatisfactionSchema(OutSchema):
    mean = Number(required=True, allow_none=True, metadata={"description": "mean score of the quarter (1–5)"})
    count = fields.Integer(required=True, metadata={"description": "answers it is the mean of"})
    quarter = fields.String(required=True, metadata={"description": "e.g. 2026Q3"})


class MapPropertiesSchema(OutSchema):
    public_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    kind_name = fields.String(required=True)
    region = fields.String(required=True)
    region_name = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True, metadata={"description": "public contact phone"})
    status = fields.String(required=True, validate=INSTITUTION_STATUS)
    grade = fields.String(required=True, allow_none=True, validate=GRADE,
                          metadata={"description": "latest published grade"})
    grade_name = fields.String(required=True, allow_none=True)
    inspected_on = DateText(required=True, allow_none=True, metadata={"description": "date of that inspection"})
    open_findings = fields.Integer(required=True)
    satisfaction = fields.Nested(MapSatisfactionSchema, required=True, allow_none=True,
                                 metadata={"description": "latest published satisfaction survey result"})
    gcj02 = _lon_lat("GCJ-02")
    bd09 = _lon_lat("BD-09")
    profile_url = fields.String(required=True)
    links = fields.Nested(MapLinksSchema, required=True)


class MapPointSchema(OutSchema):
    type = fields.String(required=True, validate=validate.OneOf(["Point"]))
    coordinates = _lon_lat("WGS-84")


class MapFeatureSchema(OutSchema):
    type = fields.String(required=True, validate=validate.OneOf(["Feature"]))
    id = fields.String(required=True, metadata={"description": "the institution's public id"})
    geometry = fields.Nested(MapPointSchema, required=True)
    properties = fields.Nested(MapPropertiesSchema, required=True)


class MapDatumNamesSchema(OutSchema):
    geometry = fields.String(required=True)
    gcj02 = fields.String(required=True)
    bd09 = fields.String(required=True)


class MapFiltersSchema(OutSchema):
    region = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, allow_none=True, validate=INSTITUTION_KIND)
    bbox = fields.List(Number(), required=True, allow_none=True,
                       metadata={"description": "min_lon, min_lat, max_lon, max_lat"})


class MapSchema(OutSchema):
    """The map feed: a GeoJSON FeatureCollection (geometry in WGS-84 as RFC 7946 requires)."""

    type = fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    datum = fields.String(required=True, metadata={"description": "the geometry's datum: WGS-84"})
    coordinates = fields.Nested(MapDatumNamesSchema, required=True,
                                metadata={"description": "which datum each coordinate pair is in"})
    filters = fields.Nested(MapFiltersSchema, required=True)
    without_location = fields.Integer(required=True, metadata={"description": "matching institutions with no "
                                                                              "location on file (not in features)"})
    features = fields.List(fields.Nested(MapFeatureSchema), required=True)
