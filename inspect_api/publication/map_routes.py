"""Open data of the institution map: ``GET /api/v1/public/map.geojson`` (see :mod:`inspect_api.publication.map`)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.extensions import public_endpoint
from inspect_api.publication import map as institution_map
from inspect_api.publication.routes import _etagged
from inspect_api.urls import public_base_url

blp = Blueprint("map", __name__, url_prefix="/api/v1", description="医养结合机构电子地图（GeoJSON）")


class MapArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    region = fields.String(validate=validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码"),
                           metadata={"description": "行政区划代码（含下级）"})
    kind = fields.String(validate=validate.OneOf(tuple(INSTITUTION_KINDS)))
    bbox = fields.String(validate=validate.Length(max=200),
                         metadata={"description": "最小经度,最小纬度,最大经度,最大纬度（WGS-84），如 117.9,36.7,118.2,36.9"})


@blp.route("/public/map.geojson", methods=["GET"])
@public_endpoint
@blp.arguments(MapArgsSchema, location="query")
@blp.response(200, description="GeoJSON FeatureCollection：geometry 为 WGS-84，properties.gcj02 / bd09 为国内地图坐标",
              content_type="application/geo+json")
@blp.alt_response(304, description="未修改（If-None-Match）")
@blp.alt_response(422, description="bbox 格式错误、自相交或范围过大")
def map_geojson(args):
    """Every public institution with a location, with one-tap call and navigation links; ETag and 304."""
    data = institution_map.feature_collection(region=args.get("region"), kind=args.get("kind"),
                                              bbox=args.get("bbox"), base_url=public_base_url())
    return _etagged(data, content_type="application/geo+json; charset=utf-8")
