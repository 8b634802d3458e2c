"""Rectification order schemas."""

from __future__ import annotations

from datetime import date, datetime

import marshmallow as ma
from marshmallow import Schema, fields, validate

from inspect_api.rectification.models import FINDING_STATUSES, ORDER_STATUSES
from inspect_api.schemas import MultipartSchema, OutSchema, StrictSchema


def _date(value):
    return value.date() if isinstance(value, datetime) else value


class BizDate(fields.Date):
    """A business date; tolerates stores returning DateField values as datetimes."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(_date(value), attr, obj, **kwargs)


class DeductionSchema(OutSchema):
    code = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    points = fields.Float(allow_none=True)


class StepSchema(OutSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    due = BizDate(required=True)
    at = fields.DateTime(required=True)
    deadline = BizDate(required=True)
    offset_working_days = fields.Integer(allow_none=True, metadata={
        "description": "working days from the deadline (negative = before) of the step when it was applied"})
    recipients = fields.List(fields.String())
    notification_ids = fields.List(fields.String())


class AnswerSchema(OutSchema):
    seq = fields.Integer(required=True)
    description = fields.String(required=True)
    photo_ids = fields.List(fields.String())
    answered_by = fields.String()
    answered_at = fields.DateTime()
    late = fields.Boolean()
    decision = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    new_deadline = BizDate(allow_none=True)


class ExtensionSchema(OutSchema):
    reason = fields.String()
    requested_deadline = BizDate()
    previous_deadline = BizDate()
    requested_at = fields.DateTime()
    status = fields.String()
    comment = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ReinspectionSchema(OutSchema):
    assignment_id = fields.String()
    note = fields.String(allow_none=True)
    requested_at = fields.DateTime()


class FindingSchema(OutSchema):
    id = fields.String(required=True)
    seq = fields.Integer(required=True)
    item_id = fields.String(required=True)
    item_text = fields.String(allow_none=True)
    clause = fields.String(allow_none=True)
    severity = fields.String(required=True)
    deductions = fields.List(fields.Nested(DeductionSchema))
    points_lost = fields.Float()
    note = fields.String(allow_none=True)
    photo_ids = fields.List(fields.String())
    status = fields.String(required=True, metadata={"description": " / ".join(f"{k}={v}" for k, v in
                                                                                FINDING_STATUSES.items())})
    deadline = BizDate(required=True)
    original_deadline = BizDate()
    deadline_working_days = fields.Integer()
    reinspection_required = fields.Boolean()
    overdue = fields.Boolean()
    overdue_since = BizDate(allow_none=True)
    level = fields.String(allow_none=True,
                          metadata={"description": "latest escalation step applied for the current deadline"})
    next_step_due = BizDate(allow_none=True)
    preselected_for_notice = fields.Boolean()
    steps = fields.List(fields.Nested(StepSchema))
    answers = fields.List(fields.Nested(AnswerSchema))
    extension = fields.Nested(ExtensionSchema, allow_none=True)
    reinspection = fields.Nested(ReinspectionSchema, allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_reason = fields.String(allow_none=True, metadata={"description": "why a correction withdrew it"})


class OrderSchema(OutSchema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    inspection_id = fields.String(required=True)
    institution_id = fields.String(required=True)
    region = fields.String(required=True)
    lead_inspector_id = fields.String()
    status = fields.String(required=True, metadata={"description": " / ".join(f"{k}={v}" for k, v in
                                                                                ORDER_STATUSES.items())})
    finding_count = fields.Integer()
    issued_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class OrderDetailSchema(OrderSchema):
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class OrderListArgsSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=validate.OneOf(tuple(ORDER_STATUSES)))
    institution_id = fields.String(validate=validate.Length(max=64))


class AnswerInSchema(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    photo_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                            validate=validate.Length(max=20))
    client_id = fields.String(validate=validate.Length(min=1, max=64))


class ExtensionInSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))
    requested_deadline = fields.Date(required=True, metadata={"description": "须晚于当前整改期限"})


class ExtensionDecisionSchema(StrictSchema):
    approve = fields.Boolean(required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class ReviewInSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("accept", "reject")))
    comment = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    new_deadline = fields.Date(metadata={"description": "退回时的新期限；缺省按原期限工作日数自今日起算"})


class ReinspectionInSchema(StrictSchema):
    note = fields.String(validate=validate.Length(max=500))


class PhotoUploadSchema(MultipartSchema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "客户端生成的 UUID；重试上传返回首次结果"})
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "照片文件（JPEG/PNG/WebP/HEIC）"})


class PhotoOutSchema(OutSchema):
    id = fields.String(required=True)
    sha256 = fields.String(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime()


__all__ = ["date"]
