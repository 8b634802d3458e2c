"""Calendar override schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
import marshmallow as ma

from inspect_api.schemas import OutSchema, StrictSchema


class OverrideInSchema(StrictSchema):
    date = fields.Date(required=True)
    working = fields.Boolean(required=True, metadata={"description": "true = 工作日（含调休上班），false = 休息日"})
    note = fields.String(load_default="", validate=validate.Length(max=200))


class OverridesPutSchema(StrictSchema):
    items = fields.List(fields.Nested(OverrideInSchema), load_default=list, validate=validate.Length(max=400))
    remove = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=400))
    confirm_years = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=10),
                                metadata={"description": "已完整录入当年调休安排的年份（消除提示）"})


class OverridesQuerySchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class OverrideOutSchema(OutSchema):
    date = fields.Date(required=True)
    working = fields.Boolean(required=True)
    note = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class WarningSchema(OutSchema):
    year = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class OverridesOutSchema(OutSchema):
    items = fields.List(fields.Nested(OverrideOutSchema), required=True)
    confirmed_years = fields.List(fields.Integer(), required=True)
    warnings = fields.List(fields.Nested(WarningSchema), required=True)


class WarningsOutSchema(OutSchema):
    items = fields.List(fields.Nested(WarningSchema), required=True)
