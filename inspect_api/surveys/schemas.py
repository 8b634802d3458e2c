"""Survey schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.catalog.schemas import QuestionnaireCommentSchema, QuestionnaireQuestionSchema
from inspect_api.directory.schemas import INSTITUTION_KIND
from inspect_api.schemas import DateTimeText, Number, OutSchema, SharedEnum, StrictSchema, page_of
from inspect_api.surveys.models import HOLD_REASONS, RESPONSE_STATUSES

QUARTER = validate.Regexp(r"^[0-9]{4}Q[1-4]$", error="应为季度，如 2026Q4")
QUARTER_DOC = {"pattern": r"^[0-9]{4}Q[1-4]$", "example": "2026Q4"}
RESPONSE_STATUS = SharedEnum("SurveyResponseStatus", RESPONSE_STATUSES)
HOLD_REASON = SharedEnum("SurveyHoldReason", HOLD_REASONS)
REVIEW_DECISION = SharedEnum("SurveyReviewDecision", {"count": "计入", "discard": "作废"})


class SurveyAnswerInputSchema(StrictSchema):
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)),
                          values=fields.Raw(metadata={"type": "integer", "minimum": 1, "maximum": 5}),
                          required=True, validate=validate.Length(max=40),
                          metadata={"description": "问题编号 → 满意程度 1–5（5 = 很满意）；每题必答（答案由服务校验："
                                                   "SURVEY_ANSWERS_INVALID 的 details.fields 按题列出问题）"})
    comment = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                            metadata={"description": "选填意见；身份证号、电话号码、邮箱在保存前删除；从不公开"})
    token = fields.String(required=True, validate=validate.Length(min=1, max=500),
                          metadata={"description": "GET 问卷时给出的表单令牌（绑定本设备，2 小时内有效）"})


class SurveyAnswerResultSchema(OutSchema):
    status = fields.String(required=True, validate=RESPONSE_STATUS,
                           metadata={"description": "counted 已计入 / held 待审核 / staff 不计入"})
    counted = fields.Boolean(required=True)
    message = fields.String(required=True)
    quarter = fields.String(required=True, metadata=QUARTER_DOC)
    comment_screened = fields.Boolean(required=True, metadata={"description": "意见中的身份证号、电话号码等已被删除"})


class SurveyQuestionnaireOutSchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    intro = fields.String(required=True, allow_none=True)
    scale = fields.List(fields.String(), required=True, metadata={"description": "5 个选项，依次为 1–5 分"})
    questions = fields.List(fields.Nested(QuestionnaireQuestionSchema), required=True)
    comment = fields.Nested(QuestionnaireCommentSchema, required=True)


class SurveyInstitutionSchema(OutSchema):
    public_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    kind_name = fields.String(required=True)


class SurveyFormSchema(OutSchema):
    institution = fields.Nested(SurveyInstitutionSchema, required=True)
    quarter = fields.String(required=True, metadata=QUARTER_DOC)
    quarter_label = fields.String(required=True)
    questionnaire = fields.Nested(SurveyQuestionnaireOutSchema, required=True)
    already_answered = fields.Boolean(required=True)
    token = fields.String(required=True)


class SurveyStaffDeviceSchema(OutSchema):
    staff = fields.Boolean(required=True)


class SurveyResultArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    region = fields.String(validate=validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码"))
    institution_id = fields.String(validate=validate.Length(max=64))
    quarter_from = fields.String(validate=QUARTER)
    quarter_to = fields.String(validate=QUARTER)


class SurveyQuestionResultSchema(OutSchema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    mean = Number(required=True, allow_none=True)
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                               metadata={"description": "各分值（1–5）的答卷数"})


class SurveyResultSchema(OutSchema):
    institution_id = fields.String(required=True)
    institution_name = fields.String(required=True, allow_none=True)
    region = fields.String(required=True)
    quarter = fields.String(required=True, metadata=QUARTER_DOC)
    quarter_label = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "计入的答卷数"})
    mean = Number(required=True, allow_none=True, metadata={"description": "总体均分（全部题目、全部计入答卷）"})
    questions = fields.List(fields.Nested(SurveyQuestionResultSchema), required=True)
    published = fields.Boolean(required=True, metadata={"description": "答卷数达到公开门槛（默认 10 份）"})
    low = fields.Boolean(required=True, allow_none=True,
                         metadata={"description": "季度结束后判定为低满意度（计入抽查风险权重）"})
    held = fields.Integer(required=True)
    discarded = fields.Integer(required=True)
    staff = fields.Integer(required=True)
    comments = fields.Integer(required=True)


class SurveyResponseArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    institution_id = fields.String(validate=validate.Length(max=64))
    quarter = fields.String(validate=QUARTER)
    status = fields.String(validate=RESPONSE_STATUS)


class SurveyResponseSchema(OutSchema):
    id = fields.String(required=True)
    institution_id = fields.String(required=True)
    region = fields.String(required=True)
    quarter = fields.String(required=True, metadata=QUARTER_DOC)
    questionnaire_code = fields.String(required=True)
    questionnaire_version = fields.Integer(required=True)
    answers = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "问题编号 → 满意程度 1–5"})
    comment = fields.String(required=True, allow_none=True)
    comment_screened = fields.Boolean(required=True)
    status = fields.String(required=True, validate=RESPONSE_STATUS)
    hold_reason = fields.String(required=True, allow_none=True, validate=HOLD_REASON)
    created_at = DateTimeText(required=True)
    reviewed_at = DateTimeText(required=True, allow_none=True)


class SurveyReviewInputSchema(StrictSchema):
    decision = fields.String(required=True, validate=REVIEW_DECISION)


SurveyResultPageSchema = page_of(SurveyResultSchema, "SurveyResultPageSchema")
SurveyResponsePageSchema = page_of(SurveyResponseSchema, "SurveyResponsePageSchema")
