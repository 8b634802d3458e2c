"""Schemas of the label tables."""

from __future__ import annotations

from marshmallow import fields

from inspect_api.labels.tables import TABLES
from inspect_api.schemas import OutSchema


class LabelSchema(OutSchema):
    code = fields.String(required=True)
    label = fields.String(required=True)


LabelsSchema = type("LabelsSchema", (OutSchema,), {
    name: fields.List(fields.Nested(LabelSchema), required=True,
                      metadata={"description": f"the names of `{enum.name}`"}) for name, enum in TABLES.items()})
