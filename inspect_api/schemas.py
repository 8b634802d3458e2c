"""Shared marshmallow pieces: the strict base schema, paging and error schemas."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate
from mongoengine.queryset import QuerySet

# C0 control characters (U+0000-U+001F) have no place in text people enter: they break exports
# (XLSX refuses them) and hide in names.  Multi-line fields keep tab and line breaks (CR LF too).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f]")
CONTROL_CHARACTERS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Free-text fields that may span lines; any other field with ``metadata={"multiline": True}`` too.
MULTILINE_FIELDS = frozenset({"note", "text", "description", "comment", "reason", "reason_note", "legal_basis",
                              "body"})


def control_character_error(value: str, *, multiline: bool = False) -> str | None:
    """The Chinese message for the first control character in ``value``, or None when it has none."""
    found = (CONTROL_CHARACTERS_MULTILINE if multiline else CONTROL_CHARACTERS).search(value)
    if found is None:
        return None
    return f"不能包含控制字符（U+{ord(found.group()):04X}）" + ("" if multiline else "，也不能换行或含制表符")


class NoControlCharacters(validate.Validator):
    """Refuses C0 control characters (tab and line breaks allowed when ``multiline``)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        message = control_character_error(value, multiline=self.multiline) if isinstance(value, str) else None
        if message:
            raise ValidationError(message)
        return value


def _guard_text(field: fields.Field, multiline: bool) -> None:
    if isinstance(field, fields.String):
        field.validators = [*field.validators, NoControlCharacters(multiline)]
    elif isinstance(field, fields.List):
        _guard_text(field.inner, multiline)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            _guard_text(inner, multiline)
    elif isinstance(field, fields.Dict):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                _guard_text(inner, multiline)


class StrictSchema(Schema):
    """Base for input schemas: unknown fields are refused, not ignored, and no text field takes C0
    control characters (422 naming the field; multi-line fields keep tab and line breaks)."""

    class Meta:
        unknown = RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        multiline = field_obj.metadata.get("multiline", field_name in MULTILINE_FIELDS)
        _guard_text(field_obj, bool(multiline))


class MultipartSchema(StrictSchema):
    """Base of ``multipart/form-data`` bodies (``location="form"``): the uploaded files join the
    form fields, so a file is declared, validated and documented like any other field
    (``file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})``).
    Fields a phone sends beyond those declared are ignored (older apps send extra ones)."""

    class Meta:
        unknown = ma.EXCLUDE
        ordered = True

    @pre_load
    def _with_files(self, data, **_kwargs):
        from flask import has_request_context, request

        if not has_request_context() or not request.files:
            return data
        merged = {key: data[key] for key in data}
        merged.update({key: request.files[key] for key in request.files})
        return merged


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
        total = query.count()
        items = list(query.skip((page - 1) * per_page).limit(per_page))
    return {"items": items, "total": total, "page": page, "per_page": per_page}
