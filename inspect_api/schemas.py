"""Shared marshmallow pieces: the strict base schema, paging and error schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import RAISE, Schema, fields, validate
from mongoengine.queryset import QuerySet


class StrictSchema(Schema):
    """Base for input schemas: unknown fields are refused, not ignored."""

    class Meta:
        unknown = RAISE
        ordered = True


class OutSchema(Schema):
    """Base for output schemas."""

    class Meta:
        ordered = True


class PageArgsSchema(Schema):
    """``?page=&per_page=`` (per_page capped at 100)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ErrorDetailSchema(OutSchema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "Chinese message for people"})
    details = fields.Dict(required=True)


class ErrorSchema(OutSchema):
    error = fields.Nested(ErrorDetailSchema, required=True)


def page_of(item_schema: type[Schema], name: str | None = None) -> type[Schema]:
    """A page schema ``{items, total, page, per_page}`` around ``item_schema``."""
    cls_name = name or f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    return type(cls_name, (OutSchema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    })


def paginate(query: QuerySet | list, page: int, per_page: int) -> dict[str, Any]:
    """Slice a queryset (already in a stable order) into a page dict."""
    if isinstance(query, list):
        total = len(query)
        items = query[(page - 1) * per_page: page * per_page]
    else:
        items = list(query.skip((page - 1) * per_page).limit(per_page))
        # A first page that is not full holds everything: no second round trip to count.
        total = len(items) if page == 1 and len(items) < per_page else query.count()
    return {"items": items, "total": total, "page": page, "per_page": per_page}
