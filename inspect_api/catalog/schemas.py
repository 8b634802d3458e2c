"""Catalog schemas."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.catalog.models import MATTER_CATEGORIES
from inspect_api.directory.models import DEPARTMENTS
from inspect_api.schemas import OutSchema, StrictSchema


class ChecklistVersionSummarySchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    standard = fields.String(allow_none=True)
    purpose = fields.String(dump_default="site_inspection",
                            metadata={"description": "site_inspection 现场检查 / desk_review 台账资料抽查"})
    status = fields.String(required=True)
    content_hash = fields.String(required=True)
    item_count = fields.Integer(allow_none=True)
    source = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class ChecklistSchema(OutSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    purpose = fields.String()
    latest_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(ChecklistVersionSummarySchema), required=True)


class ChecklistListSchema(OutSchema):
    items = fields.List(fields.Nested(ChecklistSchema), required=True)


class ChecklistDiffArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    from_version = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


class ChangedItemSchema(OutSchema):
    id = fields.String(required=True)
    fields = fields.List(fields.String(), required=True)


class ChecklistDiffSchema(OutSchema):
    code = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    changed = fields.List(fields.Nested(ChangedItemSchema), required=True)


class MatterSchema(OutSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    department = fields.String(required=True)
    category = fields.String(required=True)
    checklist_code = fields.String(required=True)
    active = fields.Boolean(required=True)


class MatterCreateSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{2,32}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    department = fields.String(required=True, validate=validate.OneOf(tuple(DEPARTMENTS)))
    category = fields.String(required=True, validate=validate.OneOf(tuple(MATTER_CATEGORIES)))
    checklist_code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MatterUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    legal_basis = fields.String(validate=validate.Length(min=1, max=1000))
    department = fields.String(validate=validate.OneOf(tuple(DEPARTMENTS)))
    category = fields.String(validate=validate.OneOf(tuple(MATTER_CATEGORIES)))
    checklist_code = fields.String(validate=validate.Length(min=1, max=64))
    active = fields.Boolean()


class MatterListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    category = fields.String(validate=validate.OneOf(tuple(MATTER_CATEGORIES)))
    department = fields.String(validate=validate.OneOf(tuple(DEPARTMENTS)))
    active = fields.Boolean()


class QuestionnaireVersionSummarySchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    kinds = fields.List(fields.String())
    status = fields.String(required=True)
    content_hash = fields.String(required=True)
    question_count = fields.Integer(allow_none=True)
    source = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class QuestionnaireSchema(OutSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    kinds = fields.List(fields.String())
    latest_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(QuestionnaireVersionSummarySchema), required=True)


class QuestionnaireListSchema(OutSchema):
    items = fields.List(fields.Nested(QuestionnaireSchema), required=True)


class QuestionnaireVersionSchema(QuestionnaireVersionSummarySchema):
    content = fields.Dict(required=True, metadata={"description": "问卷内容（格式见 checklists/README.md）"})
