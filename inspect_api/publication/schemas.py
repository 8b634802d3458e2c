"""Publication, notices and open-data schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from inspect_api.catalog.schemas import GRADE, SEVERITY
from inspect_api.directory.schemas import DEPARTMENT, INSTITUTION_KIND, INSTITUTION_STATUS
from inspect_api.inspections.schemas import ITEM_RESULT, TEAM_ROLE
from inspect_api.publication.models import NOTICE_STATUSES
from inspect_api.redaction import MAX_TERMS, TERM_MAX_LENGTH, TERM_MIN_LENGTH, normalize_terms
from inspect_api.rectification.schemas import FINDING_STATUS
from inspect_api.schemas import (Computed, DateText, DateTimeText, Number, OutSchema, PageArgsSchema, SharedEnum,
                                 StrictSchema, page_of)

NOTICE_STATUS = SharedEnum("NoticeStatus", NOTICE_STATUSES)
REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")
PERIOD_RE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")
# What ``period_bounds`` accepts, for the API document: a year 2000-2100, or a month of one.
PERIOD_PATTERN = "^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2]))?$"
ID_LIST_MAX = 500
# What an office may do with a notice in each status (the service refuses the rest with 409).
NOTICE_ACTIONS = {"draft": ["update", "publish"], "published": ["retract"], "retracted": []}
NOTICE_ACTION = SharedEnum("NoticeAction", {"update": "修改", "publish": "发布", "retract": "撤回"})


def period_bounds(period: str) -> tuple[date, date]:
    """'2026' → (2026-01-01, 2026-12-31); '2026-11' → (2026-11-01, 2026-11-30)."""
    match = PERIOD_RE.match(period or "")
    if not match:
        raise ValueError(period)
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise ValueError(period)
    if match.group(2) is None:
        return date(year, 1, 1), date(year, 12, 31)
    month = int(match.group(2))
    end = date(year + (month == 12), month % 12 + 1, 1)
    from datetime import timedelta

    return date(year, month, 1), end - timedelta(days=1)


def _validate_period(value: str) -> None:
    try:
        period_bounds(value)
    except ValueError:
        raise ValidationError("期间应为年份（2026）或年月（2026-11），年份在 2000–2100 之间") from None


# --------------------------------------------------------------------------- publishing

def _redact_terms_field(description: str) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=TERM_MIN_LENGTH, max=TERM_MAX_LENGTH)),
        load_default=list, validate=validate.Length(max=MAX_TERMS),
        metadata={"description": description + f"；每个 {TERM_MIN_LENGTH}–{TERM_MAX_LENGTH} 个字符，最多 {MAX_TERMS} 个，"
                                               "在公开内容各处遮盖为首字加星号（如 张秀英 → 张**）"})


INCLUDE_NOTES_DESCRIPTION = ("是否公开检查人员填写的问题说明（自由文本，可能含居民个人信息）；默认 false：不公开。"
                             "无论是否公开，身份证号、电话、邮箱及 [[标注]] 的姓名均自动隐去")


class PublishSchema(StrictSchema):
    photo_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                            validate=validate.Length(max=50),
                            metadata={"description": "选择公开的问题照片（证据 id）；默认不公开任何照片"})
    redact_terms = _redact_terms_field("办公室指定需隐去的词（如居民姓名）")
    include_notes = fields.Boolean(load_default=False, metadata={"description": INCLUDE_NOTES_DESCRIPTION})

    @validates_schema
    def _terms_not_blank(self, data, **_kwargs):
        _check_terms(data.get("redact_terms") or [])


def _check_terms(terms: list[str]) -> None:
    try:
        normalize_terms(terms)
    except ValueError as exc:
        raise ValidationError(str(exc), field_name="redact_terms") from None


class PublicMatterSchema(OutSchema):
    code = fields.String(allow_none=True)
    name = fields.String()


class PublicTeamMemberSchema(OutSchema):
    role = fields.String(validate=TEAM_ROLE)
    name = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True, metadata={"description": "执法证号"})
    department = fields.String(allow_none=True, validate=DEPARTMENT)
    department_name = fields.String(allow_none=True)


class FindingRectificationSchema(OutSchema):
    status = fields.String(allow_none=True, validate=FINDING_STATUS)
    status_name = fields.String(allow_none=True)
    deadline = DateText(allow_none=True)
    overdue = fields.Boolean(allow_none=True)


class PublicFindingSchema(OutSchema):
    seq = fields.Integer()
    item_id = fields.String(allow_none=True)
    item_text = fields.String(allow_none=True)
    clause = fields.String(allow_none=True)
    severity = fields.String(allow_none=True, validate=SEVERITY)
    severity_name = fields.String(allow_none=True)
    result = fields.String(allow_none=True, validate=ITEM_RESULT)
    result_name = fields.String(allow_none=True)
    veto = fields.Boolean(metadata={"description": "是否为一票否决项（不符合即整体不合格）"})
    deductions = fields.List(fields.String())
    points_lost = Number(allow_none=True)
    note = fields.String(allow_none=True, metadata={
        "description": "问题说明（已去除居民个人信息）；发布时未选择公开说明（include_notes）则为 null"})
    photo_ids = fields.List(fields.String())
    rectification = fields.Nested(FindingRectificationSchema, allow_none=True,
                                  metadata={"description": "实时整改状态"})


class ResultInstitutionSchema(OutSchema):
    public_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    kind = fields.String(allow_none=True, validate=INSTITUTION_KIND)
    kind_name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    region_name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class RectificationCountsSchema(OutSchema):
    total = fields.Integer(metadata={"description": "问题数（不含因更正撤销的）"})
    accepted = fields.Integer()
    open = fields.Integer()
    overdue = fields.Integer()
    withdrawn = fields.Integer(metadata={"description": "因检查记录更正撤销的问题数"})


class PublicCorrectionSchema(OutSchema):
    date = DateText(metadata={"description": "更正日期"})
    reason = fields.String(metadata={"description": "更正理由（已去除居民个人信息）"})
    score_before = Number(allow_none=True)
    score_after = Number(allow_none=True)


class RectificationSummarySchema(OutSchema):
    order_number = fields.String(allow_none=True)
    summary = fields.String()
    counts = fields.Nested(RectificationCountsSchema)


class VetoItemSchema(OutSchema):
    item_id = fields.String(allow_none=True)
    item_text = fields.String(allow_none=True, metadata={"description": "不符合要求的一票否决项"})
    problems = fields.List(fields.String(), metadata={"description": "发现的问题"})


class SnapshotSchema(OutSchema):
    inspection_id = fields.String()
    code = fields.String()
    institution = fields.Nested(ResultInstitutionSchema)
    inspected_on = DateText(allow_none=True)
    concluded_at = DateTimeText(allow_none=True)
    matters = fields.List(fields.Nested(PublicMatterSchema))
    team = fields.List(fields.Nested(PublicTeamMemberSchema))
    checklist_code = fields.String(allow_none=True)
    score = Number(allow_none=True)
    grade = fields.String(allow_none=True, validate=GRADE)
    grade_name = fields.String(allow_none=True)
    veto_failed = fields.List(fields.Nested(VetoItemSchema))
    findings = fields.List(fields.Nested(PublicFindingSchema))
    finding_count = fields.Integer()
    corrections = fields.List(fields.Nested(PublicCorrectionSchema))


class PreviewSchema(OutSchema):
    snapshot = fields.Nested(SnapshotSchema, metadata={"description": "发布后公开的全部内容（已脱敏）"})
    findings = fields.List(fields.Nested(PublicFindingSchema), metadata={"description": "问题及实时整改状态"})
    rectification = fields.Nested(RectificationSummarySchema)
    photo_ids = fields.List(fields.String())
    available_photo_ids = fields.List(fields.String(), metadata={"description": "可选择公开的照片（默认不公开）"})
    include_notes = fields.Boolean(metadata={"description": "是否公开问题说明（与发布时的选择一致才会得到同样的内容）"})
    redact_terms_count = fields.Integer(metadata={"description": "已应用的隐去词个数"})
    deadline = DateText(metadata={"description": "公开期限（检查结束后 publication_deadline_working_days 个工作日，默认 20）"})
    published = fields.Boolean()
    published_id = fields.String(allow_none=True)


class PublicResultSchema(OutSchema):
    id = fields.String(metadata={"description": "稳定的公开结果 id"})
    code = fields.String()
    institution = fields.Nested(ResultInstitutionSchema)
    inspected_on = DateText(allow_none=True)
    matters = fields.List(fields.Nested(PublicMatterSchema))
    team = fields.List(fields.Nested(PublicTeamMemberSchema))
    score = Number(allow_none=True)
    grade = fields.String(allow_none=True, validate=GRADE)
    grade_name = fields.String(allow_none=True)
    veto_failed = fields.List(fields.Nested(VetoItemSchema),
                              metadata={"description": "不符合要求的一票否决项（有则等级为不合格，与得分无关）"})
    grade_reason = fields.String(allow_none=True, metadata={
        "description": "等级不由得分决定时的说明（一票否决），否则为 null"})
    finding_count = fields.Integer()
    published_at = DateTimeText()
    rectification = fields.Nested(RectificationSummarySchema)
    findings = fields.List(fields.Nested(PublicFindingSchema))
    corrections = fields.List(fields.Nested(PublicCorrectionSchema),
                              metadata={"description": "公开后检查记录的更正（结果已随之更新）"})


PublicResultPageSchema = page_of(PublicResultSchema)


class ResultFilterArgsSchema(PageArgsSchema):
    region = fields.String(validate=REGION, metadata={"description": "区划代码（含下级）"})
    kind = fields.String(validate=INSTITUTION_KIND)
    grade = fields.String(validate=GRADE)
    period = fields.String(validate=_validate_period, metadata={"description": "检查期间：年份 2026 或年月 2026-11",
                                                                "pattern": PERIOD_PATTERN})


class CsvArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    region = fields.String(validate=REGION)
    kind = fields.String(validate=INSTITUTION_KIND)
    grade = fields.String(validate=GRADE)
    period = fields.String(validate=_validate_period, metadata={"pattern": PERIOD_PATTERN})


class InstitutionFilterArgsSchema(PageArgsSchema):
    region = fields.String(validate=REGION)
    kind = fields.String(validate=INSTITUTION_KIND)


class PublicInstitutionSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "机构公开编号（public_id，稳定）"})
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    kind_name = fields.String(required=True)
    region = fields.String(required=True)
    region_name = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    contact_name = fields.String(required=True, allow_none=True)
    contact_phone = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=INSTITUTION_STATUS)
    open_findings = fields.Integer(required=True)
    overdue_findings = fields.Integer(required=True)


PublicInstitutionPageSchema = page_of(PublicInstitutionSchema)


# --------------------------------------------------------------------------- notices

class NoticeItemSchema(OutSchema):
    finding_id = fields.String()
    order_number = fields.String(allow_none=True)
    institution_name = fields.String(allow_none=True)
    institution_public_id = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    item_text = fields.String(allow_none=True)
    clause = fields.String(allow_none=True)
    severity = fields.String(allow_none=True, validate=SEVERITY)
    severity_name = fields.String(allow_none=True)
    deadline = DateText(allow_none=True)
    overdue_when_published = fields.Boolean()
    status = fields.String(allow_none=True, validate=FINDING_STATUS, metadata={"description": "实时整改状态"})
    status_name = fields.String(allow_none=True)


class NoticeSchema(OutSchema):
    id = fields.String()
    number = fields.String(allow_none=True, metadata={"description": "文号，如 〔2027〕3号（按办公室和年度编号）"})
    status = fields.String(required=True, validate=NOTICE_STATUS)
    status_name = fields.String()
    title = fields.String()
    text = fields.String()
    office_region = fields.String()
    region = fields.String()
    region_name = fields.String()
    issuer = fields.String(allow_none=True)
    period_from = DateText()
    period_to = DateText()
    finding_ids = fields.List(fields.String())
    items = fields.List(fields.Nested(NoticeItemSchema))
    published_at = DateTimeText(allow_none=True)
    retracted_at = DateTimeText(allow_none=True)
    retraction_reason = fields.String(allow_none=True, metadata={"description": "撤回理由（公开）"})
    created_at = DateTimeText()
    updated_at = DateTimeText(allow_none=True)
    actions = Computed(lambda notice: NOTICE_ACTIONS.get(notice.get("status"), []),
                       fields.List(fields.String(validate=NOTICE_ACTION)),
                       metadata={"description": "what the office may do next: update, publish (draft), retract "
                                                "(published)"})


class PublicNoticeSchema(NoticeSchema):
    class Meta:
        exclude = ("finding_ids", "office_region", "created_at", "updated_at", "actions")


NoticePageSchema = page_of(NoticeSchema)
PublicNoticePageSchema = page_of(PublicNoticeSchema)


class NoticeListArgsSchema(PageArgsSchema):
    status = fields.String(validate=NOTICE_STATUS)


class NoticeCreateSchema(StrictSchema):
    region = fields.String(validate=REGION, metadata={"description": "通报范围（默认本办公室辖区）"})
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    title = fields.String(validate=validate.Length(min=1, max=200))
    text = fields.String(validate=validate.Length(min=1, max=20000))
    finding_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                              validate=validate.Length(max=ID_LIST_MAX),
                              metadata={"description": "省略时预选逾期及升级阶梯拟列入通报的问题"})


class NoticeUpdateSchema(StrictSchema):
    period_from = fields.Date()
    period_to = fields.Date()
    title = fields.String(validate=validate.Length(min=1, max=200))
    text = fields.String(validate=validate.Length(min=1, max=20000))
    finding_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                              validate=validate.Length(max=ID_LIST_MAX))

    @validates_schema
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ValidationError("至少修改一个字段", field_name="_schema")


class RetractSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "撤回理由，公开显示"})

    @validates_schema
    def _reason_not_blank(self, data, **_kwargs):
        if not (data.get("reason") or "").strip():
            raise ValidationError("撤回理由不能为空", field_name="reason")


class CandidateArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    region = fields.String(validate=REGION)
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


class CandidateSchema(OutSchema):
    finding_id = fields.String()
    order_number = fields.String(allow_none=True)
    institution_id = fields.String()
    institution_name = fields.String(allow_none=True)
    region = fields.String()
    item_text = fields.String(allow_none=True)
    severity = fields.String(validate=SEVERITY)
    status = fields.String(validate=FINDING_STATUS)
    deadline = DateText(allow_none=True)
    overdue = fields.Boolean()
    preselected = fields.Boolean()


class CandidateListSchema(OutSchema):
    items = fields.List(fields.Nested(CandidateSchema))


class PendingStepSchema(OutSchema):
    code = fields.String()
    title = fields.String()
    due = DateText()
    at = DateTimeText()


class PendingPublicationSchema(OutSchema):
    inspection_id = fields.String()
    code = fields.String(allow_none=True)
    institution_id = fields.String()
    institution_name = fields.String(allow_none=True)
    region = fields.String()
    concluded_at = DateTimeText(allow_none=True)
    deadline = DateText(metadata={"description": "公开期限（检查结束后 publication_deadline_working_days 个工作日，默认 20）"})
    overdue = fields.Boolean()
    level = fields.String(allow_none=True, metadata={"description": "已触发的最高升级步骤"})
    steps = fields.List(fields.Nested(PendingStepSchema))


PendingPublicationPageSchema = page_of(PendingPublicationSchema)


# --------------------------------------------------------------------------- the office's queue and published results

class QueuedPublicationSchema(PendingPublicationSchema):
    working_days_left = fields.Integer(metadata={
        "description": "距公开期限的工作日数（0 = 今天到期，负数 = 已逾期的工作日数），按当前工作日历计算"})
    level_title = fields.String(allow_none=True, metadata={"description": "已触发的最高升级步骤的名称"})


QueuedPublicationPageSchema = page_of(QueuedPublicationSchema)


class PublishedByOfficeSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "公开结果 id"})
    inspection_id = fields.String(required=True)
    code = fields.String()
    institution_name = fields.String(allow_none=True)
    region = fields.String()
    inspected_on = DateText(allow_none=True)
    grade_name = fields.String(allow_none=True)
    score = Number(allow_none=True)
    published_at = DateTimeText()
    deadline = DateText(allow_none=True)
    late = fields.Boolean(metadata={"description": "是否超过公开期限才发布"})
    revised_at = DateTimeText(allow_none=True)
    corrected_at = DateTimeText(allow_none=True)
    photo_ids = fields.List(fields.String(), metadata={"description": "办公室选择公开的照片"})
    redact_terms = fields.List(fields.String(), metadata={"description": "办公室指定隐去的词（仅办公室可见，不公开）"})
    include_notes = fields.Boolean()


PublishedByOfficePageSchema = page_of(PublishedByOfficeSchema)


class PublishedDetailSchema(PublishedByOfficeSchema):
    public = fields.Nested(PublicResultSchema, metadata={"description": "公开页面显示的内容"})
