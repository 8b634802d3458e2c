"""Open data of the institution map: ``GET /api/v1/public/map.geojson`` (see :mod:`inspect_api.publication.map`)."""

from __future__ import annotations

from inspect_api.apidoc import raises
from inspect_api.extensions import Blueprint, public_endpoint
from inspect_api.publication import map as institution_map
from inspect_api.publication.map_schemas import MapArgsSchema, MapSchema
from inspect_api.publication.routes import _etagged
from inspect_api.urls import public_base_url

blp = Blueprint("map", __name__, url_prefix="/api/v1", description="医养结合机构电子地图（GeoJSON）")


@blp.route("/public/map.geojson", methods=["GET"])
@blp.doc(operationId="getMapGeojson")
@public_endpoint
@blp.arguments(MapArgsSchema, location="query")
@blp.response(200, MapSchema, content_type="application/geo+json",
              description="GeoJSON FeatureCollection：geometry 为 WGS-84，properties.gcj02 / bd09 为国内地图坐标")
@raises(422, "BBOX_INVALID", "BBOX_CROSSES_ITSELF", "BBOX_TOO_LARGE", description="bbox 格式错误、自相交或范围过大")
def map_geojson(args):
    """Every public institution with a location, with one-tap call and navigation links; ETag and 304."""
    data = institution_map.feature_collection(region=args.get("region"), kind=args.get("kind"),
                                              bbox=args.get("bbox"), base_url=public_base_url())
    return _etagged(MapSchema().dump(data), content_type="application/geo+json; charset=utf-8")
