"""Rectification order schemas."""

from __future__ import annotations

from datetime import date, datetime

import marshmallow as ma
from marshmallow import Schema, fields, validate

from inspect_api.catalog.schemas import SEVERITY
from inspect_api.rectification.models import (FINDING_ACTIONS, FINDING_STATUSES, ORDER_ACTIONS, ORDER_SOURCES,
                                              ORDER_STATUSES, REVIEW_QUEUE_NAMES)
from inspect_api.schemas import FilePart, OutSchema, SharedEnum, StrictSchema

ORDER_STATUS = SharedEnum("OrderStatus", ORDER_STATUSES)
FINDING_STATUS = SharedEnum("FindingStatus", FINDING_STATUSES)
EXTENSION_STATUS = SharedEnum("ExtensionStatus", {"pending": "待审批", "granted": "已批准", "denied": "未批准"})
REVIEW_DECISION = SharedEnum("ReviewDecision", {"accept": "通过", "reject": "退回重新整改"})
ANSWER_DECISION = SharedEnum("AnswerDecision", {"accepted": "已通过", "rejected": "已退回"},
                             "The review's outcome recorded on an answer (null while it awaits review).")
ORDER_SOURCE = SharedEnum("OrderSource", ORDER_SOURCES, "Where the findings come from.")
ORDER_ACTION = SharedEnum("OrderAction", ORDER_ACTIONS)
FINDING_ACTION = SharedEnum("FindingAction", FINDING_ACTIONS)
REVIEW_QUEUE = SharedEnum("ReviewQueue", REVIEW_QUEUE_NAMES)


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
    recipients = fields.List(fields.String(), metadata={
        "description": "who the step notified, by role; each inbox notification names the finding and step in its data"})


class AnswerSchema(OutSchema):
    seq = fields.Integer(required=True)
    description = fields.String(required=True)
    photo_ids = fields.List(fields.String())
    answered_by = fields.String()
    answered_at = fields.DateTime()
    late = fields.Boolean()
    decision = fields.String(allow_none=True, validate=ANSWER_DECISION)
    comment = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    new_deadline = BizDate(allow_none=True)


class ExtensionSchema(OutSchema):
    reason = fields.String()
    requested_deadline = BizDate()
    previous_deadline = BizDate()
    requested_at = fields.DateTime()
    status = fields.String(validate=EXTENSION_STATUS)
    comment = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ReinspectionSchema(OutSchema):
    assignment_id = fields.String()
    note = fields.String(allow_none=True)
    requested_at = fields.DateTime()


ACTIONS_DESCRIPTION = ("what the calling user may do next: answer, upload_photo, request_extension (institution); "
                       "review, decide_extension, require_reinspection (office or lead inspector)")


class FindingSchema(OutSchema):
    id = fields.String(required=True)
    seq = fields.Integer(required=True)
    order_id = fields.String()
    order_number = fields.String()
    institution_id = fields.String()
    item_id = fields.String(required=True)
    item_text = fields.String(allow_none=True)
    clause = fields.String(allow_none=True)
    severity = fields.String(required=True, validate=SEVERITY)
    deductions = fields.List(fields.Nested(DeductionSchema))
    points_lost = fields.Float()
    note = fields.String(allow_none=True)
    photo_ids = fields.List(fields.String())
    status = fields.String(required=True, validate=FINDING_STATUS)
    status_name = fields.String(metadata={"description": "问题状态（中文）"})
    severity_name = fields.String(metadata={"description": "严重程度（中文）"})
    deadline = BizDate(required=True)
    working_days_left = fields.Integer(allow_none=True, metadata={
        "description": "距整改期限的工作日数（0 = 今天到期，负数 = 已逾期的工作日数）；不欠答复时为 null"})
    original_deadline = BizDate()
    deadline_working_days = fields.Integer()
    reinspection_required = fields.Boolean()
    overdue = fields.Boolean()
    overdue_since = BizDate(allow_none=True)
    level = fields.String(allow_none=True,
                          metadata={"description": "latest escalation step applied for the current deadline"})
    level_title = fields.String(allow_none=True, metadata={"description": "该升级步骤的名称"})
    next_step_due = BizDate(allow_none=True)
    preselected_for_notice = fields.Boolean()
    steps = fields.List(fields.Nested(StepSchema))
    answers = fields.List(fields.Nested(AnswerSchema))
    extension = fields.Nested(ExtensionSchema, allow_none=True)
    reinspection = fields.Nested(ReinspectionSchema, allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_reason = fields.String(allow_none=True, metadata={"description": "why a correction withdrew it"})
    actions = fields.List(fields.String(validate=FINDING_ACTION), metadata={"description": ACTIONS_DESCRIPTION})


class QueuedFindingSchema(FindingSchema):
    institution_name = fields.String(allow_none=True)


class OrderSchema(OutSchema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    inspection_id = fields.String(required=True, metadata={
        "description": "检查记录编号；台账资料抽查为 ledger:<抽查编号>"})
    source = fields.String(dump_default="inspection", validate=ORDER_SOURCE)
    institution_id = fields.String(required=True)
    region = fields.String(required=True)
    lead_inspector_id = fields.String()
    status = fields.String(required=True, validate=ORDER_STATUS)
    status_name = fields.String()
    institution_name = fields.String(allow_none=True)
    finding_count = fields.Integer()
    issued_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    open_findings = fields.Integer(metadata={"description": "未办结的问题数（不含已通过和已撤销）"})
    awaiting_review = fields.Integer(metadata={"description": "已答复待审核的问题数"})
    overdue_findings = fields.Integer(metadata={"description": "逾期未整改的问题数"})
    next_deadline = BizDate(allow_none=True, metadata={"description": "待整改问题中最早的整改期限"})
    working_days_left = fields.Integer(allow_none=True, metadata={
        "description": "距最早整改期限的工作日数（0 = 今天到期，负数 = 已逾期的工作日数）"})
    level = fields.String(allow_none=True, metadata={"description": "待整改问题中最高的升级步骤"})
    level_title = fields.String(allow_none=True)
    actions = fields.List(fields.String(validate=ORDER_ACTION),
                          metadata={"description": "调用者可执行的操作：acknowledge（机构签收）"})


class OrderDetailSchema(OrderSchema):
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class OrderListArgsSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=ORDER_STATUS)
    institution_id = fields.String(validate=validate.Length(max=64))


class FindingQueueArgsSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    queue = fields.String(required=True, validate=REVIEW_QUEUE)
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
    decision = fields.String(required=True, validate=REVIEW_DECISION)
    comment = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    new_deadline = fields.Date(metadata={"description": "退回时的新期限；缺省按原期限工作日数自今日起算"})


class ReinspectionInSchema(StrictSchema):
    note = fields.String(validate=validate.Length(max=500))


class PhotoUploadSchema(StrictSchema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "客户端生成的 UUID；重试上传返回首次结果"})
    file = FilePart(required=True, metadata={"description": "照片文件（JPEG/PNG/WebP/HEIC）"})


class PhotoOutSchema(OutSchema):
    id = fields.String(required=True)
    sha256 = fields.String(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime()


__all__ = ["date"]
