"""Survey schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inspect_api.schemas import OutSchema, StrictSchema, page_of
from inspect_api.surveys.models import HOLD_REASONS, RESPONSE_STATUSES

QUARTER = validate.Regexp(r"^[0-9]{4}Q[1-4]$", error="应为季度，如 2026Q4")


class SurveyAnswerInputSchema(StrictSchema):
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)), values=fields.Raw(),
                          required=True, validate=validate.Length(max=40),
                          metadata={"description": "问题编号 → 满意程度 1–5（5 = 很满意）；每题必答"})
    comment = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                            metadata={"description": "选填意见；身份证号、电话号码、邮箱在保存前删除；从不公开"})
    token = fields.String(required=True, validate=validate.Length(min=1, max=500),
                          metadata={"description": "GET 问卷时给出的表单令牌（绑定本设备，2 小时内有效）"})


class SurveyAnswerResultSchema(OutSchema):
    status = fields.String(required=True, metadata={"description": "counted 已计入 / held 待审核 / staff 不计入"})
    counted = fields.Boolean(required=True)
    message = fields.String(required=True)
    quarter = fields.String(required=True)
    comment_screened = fields.Boolean(metadata={"description": "意见中的身份证号、电话号码等已被删除"})


class SurveyQuestionSchema(OutSchema):
    id = fields.String(required=True)
    text = fields.String(required=True)


class SurveyCommentSpecSchema(OutSchema):
    prompt = fields.String()
    max_length = fields.Integer()


class SurveyQuestionnaireOutSchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    intro = fields.String(allow_none=True)
    scale = fields.List(fields.String(), metadata={"description": "5 个选项，依次为 1–5 分"})
    questions = fields.List(fields.Nested(SurveyQuestionSchema))
    comment = fields.Nested(SurveyCommentSpecSchema)


class SurveyInstitutionSchema(OutSchema):
    public_id = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_name = fields.String()


class SurveyFormSchema(OutSchema):
    institution = fields.Nested(SurveyInstitutionSchema)
    quarter = fields.String(required=True)
    quarter_label = fields.String()
    questionnaire = fields.Nested(SurveyQuestionnaireOutSchema)
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
    id = fields.String()
    text = fields.String()
    mean = fields.Float(allow_none=True)
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer(),
                               metadata={"description": "各分值（1–5）的答卷数"})


class SurveyResultSchema(OutSchema):
    institution_id = fields.String(required=True)
    institution_name = fields.String(allow_none=True)
    region = fields.String()
    quarter = fields.String(required=True)
    quarter_label = fields.String()
    count = fields.Integer(required=True, metadata={"description": "计入的答卷数"})
    mean = fields.Float(allow_none=True, metadata={"description": "总体均分（全部题目、全部计入答卷）"})
    questions = fields.List(fields.Nested(SurveyQuestionResultSchema))
    published = fields.Boolean(metadata={"description": "答卷数达到公开门槛（默认 10 份）"})
    low = fields.Boolean(allow_none=True, metadata={"description": "季度结束后判定为低满意度（计入抽查风险权重）"})
    held = fields.Integer()
    discarded = fields.Integer()
    staff = fields.Integer()
    comments = fields.Integer()


class SurveyResponseArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    institution_id = fields.String(validate=validate.Length(max=64))
    quarter = fields.String(validate=QUARTER)
    status = fields.String(validate=validate.OneOf(tuple(RESPONSE_STATUSES)))


class SurveyResponseSchema(OutSchema):
    id = fields.String(required=True)
    institution_id = fields.String()
    region = fields.String()
    quarter = fields.String()
    questionnaire_code = fields.String()
    questionnaire_version = fields.Integer()
    answers = fields.Dict(keys=fields.String(), values=fields.Integer())
    comment = fields.String(allow_none=True)
    comment_screened = fields.Boolean()
    status = fields.String(metadata={"description": " / ".join(f"{k}={v}" for k, v in RESPONSE_STATUSES.items())})
    hold_reason = fields.String(allow_none=True, metadata={"description": " / ".join(f"{k}={v}"
                                                                                     for k, v in HOLD_REASONS.items())})
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class SurveyReviewInputSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("count", "discard")),
                             metadata={"description": "count 计入 / discard 作废"})


SurveyResultPageSchema = page_of(SurveyResultSchema, "SurveyResultPageSchema")
SurveyResponsePageSchema = page_of(SurveyResponseSchema, "SurveyResponsePageSchema")
