"""Ledger spot check schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.catalog.schemas import GRADE, SEVERITY
from inspect_api.directory.schemas import INSTITUTION_KIND
from inspect_api.inspections.schemas import ITEM_RESULT
from inspect_api.ledgers.models import CHECK_STATES, FILE_KINDS
from inspect_api.schemas import DateText, DateTimeText, FilePart, Number, OutSchema, SharedEnum, StrictSchema, page_of

LEDGER_CHECK_STATE = SharedEnum("LedgerCheckState", CHECK_STATES)
LEDGER_FILE_KIND = SharedEnum("LedgerFileKind", FILE_KINDS, "pdf: PDF; xlsx: Excel workbook; image: a photo "
                                                            "(kept as evidence, see evidence_id).")


class LedgerCheckListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=LEDGER_CHECK_STATE)
    institution_id = fields.String(validate=validate.Length(max=64))


class LedgerUploadFormSchema(StrictSchema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "客户端生成的 UUID；重试上传返回首次结果"})
    file = FilePart(required=True, metadata={
        "description": "PDF（≤100 页，不加密、无脚本和附件）、XLSX 或图片（JPEG/PNG/WebP/HEIC）"})


class LedgerScoreInputSchema(StrictSchema):
    result = fields.String(required=True, validate=ITEM_RESULT)
    deductions = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                             validate=validate.Length(max=50))
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                         metadata={"description": "审查意见（内部，不公开）"})
    base_revision = fields.Integer(required=True, validate=validate.Range(min=0, max=1000000),
                                   metadata={"description": "所依据的评分版本（首次评分为 0）"})


class LedgerScoreSchema(OutSchema):
    result = fields.String(required=True, validate=ITEM_RESULT)
    deductions = fields.List(fields.String(), required=True, metadata={"description": "chosen deduction codes"})
    note = fields.String(allow_none=True, metadata={"description": "审查意见（内部，不公开）"})
    revision = fields.Integer(required=True, metadata={"description": "send it back as base_revision"})
    by = fields.String(required=True, metadata={"description": "the reviewer (inspector id)"})
    at = DateTimeText(required=True)


class LedgerDeductionSchema(OutSchema):
    code = fields.String(required=True)
    text = fields.String(required=True)
    points = Number(required=True)
    repeatable = fields.Boolean(required=True)


class LedgerFileSchema(OutSchema):
    id = fields.String(required=True)
    item_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "the uploaded file's name"})
    kind = fields.String(required=True, validate=LEDGER_FILE_KIND)
    mime = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    pages = fields.Integer(required=True, allow_none=True, metadata={"description": "PDF: its pages"})
    sheets = fields.List(fields.String(), required=True, metadata={"description": "XLSX: its sheet names"})
    evidence_id = fields.String(required=True, allow_none=True,
                                metadata={"description": "图片：照片证据编号（/api/v1/photos/{id}/thumb）"})
    uploaded_at = DateTimeText(required=True)
    url = fields.String(required=True, metadata={"description": "download path (downloadLedgerFile)"})


class LedgerRequestItemSchema(OutSchema):
    item_id = fields.String(required=True)
    section_id = fields.String(required=True)
    section = fields.String(required=True, metadata={"description": "the section's title"})
    text = fields.String(required=True)
    clause = fields.String(required=True, allow_none=True)
    points = Number(required=True)
    documents = fields.List(fields.String(), required=True, metadata={"description": "要求提交的资料"})
    applies = fields.Boolean(required=True, metadata={"description": "是否适用于本机构类型"})
    deductions = fields.List(fields.Nested(LedgerDeductionSchema), required=True)
    files = fields.List(fields.Nested(LedgerFileSchema), required=True)
    score = fields.Nested(LedgerScoreSchema, required=True, allow_none=True, metadata={
        "description": "null until scored; the institution sees scores only once the check is concluded"})


class LedgerStepSchema(OutSchema):
    code = fields.String(required=True, metadata={"description": "the ladder step's code ([[ladder]] in the config)"})
    title = fields.String(required=True)
    due = DateText(required=True)
    at = DateTimeText(required=True)


class LedgerFindingDeductionSchema(OutSchema):
    code = fields.String(required=True)
    text = fields.String(required=True)
    points = Number(required=True, metadata={"description": "points lost (times chosen × points)"})


class LedgerFindingSchema(OutSchema):
    """A problem the conclusion found; the rectification order holds it as a finding."""

    item_id = fields.String(required=True)
    item_text = fields.String(required=True)
    clause = fields.String(required=True, allow_none=True)
    section_id = fields.String(required=True)
    result = fields.String(required=True, validate=ITEM_RESULT)
    severity = fields.String(required=True, validate=SEVERITY)
    deductions = fields.List(fields.Nested(LedgerFindingDeductionSchema), required=True)
    points_lost = Number(required=True)
    deadline_working_days = fields.Integer(required=True, metadata={"description": "rectification deadline"})
    reinspection_required = fields.Boolean(required=True)
    note = fields.String(required=True, allow_none=True, metadata={"description": "the reviewer's note"})
    photo_ids = fields.List(fields.String(), required=True)


class LedgerResultSchema(OutSchema):
    """The conclusion's score, as the scoring engine computed it."""

    score = Number(required=True)
    grade = fields.String(required=True, validate=GRADE)
    grade_name = fields.String(required=True)
    earned = Number(required=True)
    applicable_max = Number(required=True, metadata={"description": "points of the applicable items"})
    not_applicable = fields.List(fields.String(), required=True, metadata={"description": "item ids answered na"})
    kind = fields.String(required=True, allow_none=True, validate=INSTITUTION_KIND,
                         metadata={"description": "the institution kind scored for"})


class LedgerCheckSummarySchema(OutSchema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    institution_id = fields.String(required=True)
    institution_name = fields.String(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True, validate=LEDGER_CHECK_STATE)
    state_name = fields.String(required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "审查组（执法人员编号，组长在前）"})
    checklist_code = fields.String(required=True)
    checklist_version = fields.Integer(required=True)
    deadline = DateText(required=True, metadata={"description": "资料提交期限（工作日计算）"})
    overdue = fields.Boolean(required=True)
    level = fields.String(required=True, allow_none=True, metadata={"description": "已升级到的阶梯步骤"})
    late = fields.Boolean(required=True)
    requested_at = DateTimeText(required=True)
    submitted_at = DateTimeText(required=True, allow_none=True)
    concluded_at = DateTimeText(required=True, allow_none=True)
    score = Number(required=True, allow_none=True)
    grade = fields.String(required=True, allow_none=True, validate=GRADE)
    grade_name = fields.String(required=True, allow_none=True)
    finding_count = fields.Integer(required=True)
    order_id = fields.String(required=True, allow_none=True,
                             metadata={"description": "整改通知书编号（/api/v1/rectifications/{id}）"})
    draw_id = fields.String(required=True, allow_none=True)
    plan_id = fields.String(required=True, allow_none=True)


class LedgerCheckDetailSchema(LedgerCheckSummarySchema):
    items = fields.List(fields.Nested(LedgerRequestItemSchema), required=True)
    steps = fields.List(fields.Nested(LedgerStepSchema), required=True)
    findings = fields.List(fields.Nested(LedgerFindingSchema), required=True,
                           metadata={"description": "empty until concluded"})
    result = fields.Nested(LedgerResultSchema, required=True, allow_none=True,
                           metadata={"description": "null until concluded"})


LedgerCheckPageSchema = page_of(LedgerCheckSummarySchema, "LedgerCheckPageSchema")
