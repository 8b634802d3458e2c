"""Ledger spot check schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from checklists import RESULTS
from inspect_api.ledgers.models import CHECK_STATES
from inspect_api.schemas import OutSchema, StrictSchema, page_of


class LedgerCheckListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=validate.OneOf(tuple(CHECK_STATES)))
    institution_id = fields.String(validate=validate.Length(max=64))


class LedgerUploadFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "客户端生成的 UUID；重试上传返回首次结果"})
    file = fields.Raw(metadata={"type": "string", "format": "binary",
                                "description": "PDF（≤100 页，不加密、无脚本和附件）、XLSX 或图片（JPEG/PNG/WebP/HEIC）"})


class LedgerScoreInputSchema(StrictSchema):
    result = fields.String(required=True, validate=validate.OneOf(tuple(RESULTS)),
                           metadata={"description": "pass 符合 / deduct 扣分 / fail 不符合 / na 不适用"})
    deductions = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                             validate=validate.Length(max=50))
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                         metadata={"description": "审查意见（内部，不公开）"})
    base_revision = fields.Integer(required=True, validate=validate.Range(min=0, max=1000000),
                                   metadata={"description": "所依据的评分版本（首次评分为 0）"})


class LedgerScoreSchema(OutSchema):
    result = fields.String(required=True)
    deductions = fields.List(fields.String())
    note = fields.String(allow_none=True)
    revision = fields.Integer(required=True)
    by = fields.String()
    at = fields.String()


class LedgerDeductionSchema(OutSchema):
    code = fields.String()
    text = fields.String()
    points = fields.Float()
    repeatable = fields.Boolean()


class LedgerFileSchema(OutSchema):
    id = fields.String(required=True)
    item_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "pdf / xlsx / image"})
    mime = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    pages = fields.Integer(allow_none=True)
    sheets = fields.List(fields.String())
    evidence_id = fields.String(allow_none=True, metadata={"description": "图片：照片证据编号（/api/v1/photos/{id}/thumb）"})
    uploaded_at = fields.DateTime()
    url = fields.String()


class LedgerRequestItemSchema(OutSchema):
    item_id = fields.String(required=True)
    section_id = fields.String()
    section = fields.String()
    text = fields.String(required=True)
    clause = fields.String(allow_none=True)
    points = fields.Float()
    documents = fields.List(fields.String(), metadata={"description": "要求提交的资料"})
    applies = fields.Boolean(metadata={"description": "是否适用于本机构类型"})
    deductions = fields.List(fields.Nested(LedgerDeductionSchema))
    files = fields.List(fields.Nested(LedgerFileSchema))
    score = fields.Nested(LedgerScoreSchema, allow_none=True)


class LedgerStepSchema(OutSchema):
    code = fields.String()
    title = fields.String()
    due = fields.Date()
    at = fields.DateTime()


class LedgerCheckSummarySchema(OutSchema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    institution_id = fields.String(required=True)
    institution_name = fields.String()
    region = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": " / ".join(f"{k}={v}" for k, v in CHECK_STATES.items())})
    state_name = fields.String()
    team = fields.List(fields.String(), metadata={"description": "审查组（执法人员编号，组长在前）"})
    checklist_code = fields.String()
    checklist_version = fields.Integer()
    deadline = fields.Date(metadata={"description": "资料提交期限（工作日计算）"})
    overdue = fields.Boolean()
    level = fields.String(allow_none=True, metadata={"description": "已升级到的阶梯步骤"})
    late = fields.Boolean()
    requested_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    concluded_at = fields.DateTime(allow_none=True)
    score = fields.Float(allow_none=True)
    grade = fields.String(allow_none=True)
    grade_name = fields.String(allow_none=True)
    finding_count = fields.Integer()
    order_id = fields.String(allow_none=True, metadata={"description": "整改通知书编号（/api/v1/rectifications/{id}）"})
    draw_id = fields.String(allow_none=True)
    plan_id = fields.String(allow_none=True)


class LedgerCheckDetailSchema(LedgerCheckSummarySchema):
    items = fields.List(fields.Nested(LedgerRequestItemSchema), required=True)
    steps = fields.List(fields.Nested(LedgerStepSchema))
    findings = fields.List(fields.Dict())
    result = fields.Dict(allow_none=True)


LedgerCheckPageSchema = page_of(LedgerCheckSummarySchema, "LedgerCheckPageSchema")
