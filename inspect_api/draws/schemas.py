"""Plan and draw schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

import re
from decimal import Decimal

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from inspect_api.directory.schemas import DEPARTMENT, INSTITUTION_KIND, INSTITUTION_STATUS, SERVICE_TAG
from inspect_api.draws.models import PLAN_KINDS
from inspect_api.schemas import Computed, DateText, DateTimeText, OutSchema, SharedEnum, StrictSchema

RATIO_RE = re.compile(r"^[0-9](\.[0-9]{1,6})?$")
REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")
REGION_PREFIX = validate.Regexp(r"^[1-9][0-9]{1,5}$", error="应为行政区划代码或其前缀（2–6 位数字）")
MAX_ENTROPY = 256

PLAN_STATE = SharedEnum("PlanState", {"draft": "草稿", "committed": "已提交承诺，待抽取", "drawn": "已抽取",
                                      "amended": "已抽取（有人员调整）", "cancelled": "已取消"})
DRAW_STATE = SharedEnum("DrawState", {"committed": "已提交承诺，待抽取", "drawn": "已抽取", "amended": "已抽取（有人员调整）",
                                      "cancelled": "已取消"})
PLAN_KIND = SharedEnum("PlanKind", PLAN_KINDS)
# What an office may do next with a plan (computed from its state by draws.actions.plan_actions).
PLAN_ACTION = SharedEnum("PlanAction", {"update": "修改", "delete": "删除", "commit": "提交承诺", "draw": "抽取",
                                        "amend": "调整人员", "cancel": "取消"})
STRATIFICATION = SharedEnum("Stratification", {"county": "按区县分层", "kind": "按机构类型分层", "none": "不分层"})


RATIO_MESSAGE = "抽查比例应为最多 6 位小数的字符串，如 \"0.1\""


def normalize_ratio(value: str) -> str:
    """'0.1' → '0.100000'; refuses anything outside 0 < r ≤ 1 or with more than 6 decimals."""
    if not isinstance(value, str) or not RATIO_RE.match(value):
        raise ValidationError(RATIO_MESSAGE)
    ratio = Decimal(value)
    if not (Decimal(0) < ratio <= Decimal(1)):
        raise ValidationError("抽查比例须大于 0 且不超过 1")
    return f"{ratio:.6f}"


class FiltersSchema(StrictSchema):
    region_prefix = fields.String(allow_none=True, validate=REGION_PREFIX,
                                  metadata={"description": "只抽取此区划代码前缀内的机构（须在计划范围内）"})
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), load_default=list)
    tags = fields.List(fields.String(validate=SERVICE_TAG), load_default=list)
    statuses = fields.List(fields.String(validate=INSTITUTION_STATUS), load_default=lambda: ["active"])


class MandatorySchema(StrictSchema):
    institution_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PlanInputSchema(StrictSchema):
    """A plan draft. Give exactly one of ``ratio`` (string, 0 < r ≤ 1, up to 6 decimals) and ``count``."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    kind = fields.String(load_default="site", validate=PLAN_KIND,
                         metadata={"description": "site 现场检查（默认）/ desk_review 台账资料抽查：抽中的机构在线提交台账资料，"
                                                  "由抽中的检查组书面审查"})
    region = fields.String(validate=REGION, metadata={"description": "计划范围（默认为本办公室区划）"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    matters = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                          validate=validate.Length(max=100))
    checklist_code = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "检查表编码；默认现场检查为 DB37T4086-2020，台账资料抽查为 DB37T4086-2020-TZ（用途须与计划类型一致）"})
    departments = fields.List(fields.String(validate=DEPARTMENT), load_default=list,
                              metadata={"description": "参与部门（多个 = 联合抽查）；空 = 不限"})
    filters = fields.Nested(FiltersSchema, load_default=lambda: FiltersSchema().load({}))
    ratio = fields.String(allow_none=True, load_default=None,
                          validate=validate.Regexp(RATIO_RE, error=RATIO_MESSAGE),
                          metadata={"example": "0.100000", "description": (
                              "抽查比例：十进制小数的字符串，0 < ratio ≤ 1，最多 6 位小数（如 \"0.1\"、\"1\"）；"
                              "与 count 二选一")})
    count = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=1000000))
    stratification = fields.String(load_default="county", validate=STRATIFICATION)
    min_per_stratum = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10000))
    risk_weighting = fields.Boolean(load_default=True)
    exclude_inspected_within_days = fields.Integer(allow_none=True, load_default=None,
                                                   validate=validate.Range(min=1, max=3650))
    mandatory = fields.List(fields.Nested(MandatorySchema), load_default=list, validate=validate.Length(max=1000))
    team_size = fields.Integer(load_default=2, validate=validate.Range(min=2, max=10, error="检查组人数须为 2–10 人"))
    required_departments = fields.List(fields.String(validate=DEPARTMENT), load_default=list)
    load_cap = fields.Integer(load_default=25, validate=validate.Range(min=1, max=1000))
    cross_region = fields.Boolean(load_default=False)
    no_repeat_lead = fields.Boolean(load_default=True)

    @validates("ratio")
    def _ratio(self, value, **_kwargs):
        if value is not None:
            normalize_ratio(value)

    @validates_schema
    def _cross(self, data, partial=None, **_kwargs):
        if partial:
            return  # PATCH: the service validates the merged plan
        if (data.get("ratio") is None) == (data.get("count") is None):
            raise ValidationError("须且只能给出抽查比例 ratio 或固定数量 count 之一", field_name="ratio")


class PlanPatchSchema(PlanInputSchema):
    """Partial update of a draft (or of a cancelled plan before it is committed again).

    Only the top-level fields are optional (``partial_fields``): an entry of
    ``mandatory`` or the ``filters`` object, when given, is validated whole,
    exactly as on POST.
    """

    @classmethod
    def partial_fields(cls) -> tuple[str, ...]:
        return tuple(cls._declared_fields)


class PlanListArgsSchema(StrictSchema):
    class Meta:
        unknown = "exclude"

    state = fields.String(validate=PLAN_STATE)


class FiltersOutSchema(OutSchema):
    region_prefix = fields.String(required=True, allow_none=True)
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), required=True)
    tags = fields.List(fields.String(validate=SERVICE_TAG), required=True)
    statuses = fields.List(fields.String(validate=INSTITUTION_STATUS), required=True)


class MandatoryOutSchema(OutSchema):
    institution_id = fields.String(required=True)
    reason = fields.String(required=True)


class PlanSchema(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(dump_default="site", validate=PLAN_KIND)
    region = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    matters = fields.List(fields.String())
    checklist_code = fields.String()
    departments = fields.List(fields.String(validate=DEPARTMENT))
    filters = fields.Nested(FiltersOutSchema)
    ratio = fields.String(allow_none=True)
    count = fields.Integer(allow_none=True)
    stratification = fields.String(validate=STRATIFICATION)
    min_per_stratum = fields.Integer()
    risk_weighting = fields.Boolean()
    exclude_inspected_within_days = fields.Integer(allow_none=True)
    mandatory = fields.List(fields.Nested(MandatoryOutSchema))
    team_size = fields.Integer()
    required_departments = fields.List(fields.String(validate=DEPARTMENT))
    load_cap = fields.Integer()
    cross_region = fields.Boolean()
    no_repeat_lead = fields.Boolean()
    state = fields.String(required=True, validate=PLAN_STATE)
    current_draw_id = fields.String(allow_none=True)
    draw_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)
    actions = Computed(lambda plan: _plan_actions(plan), fields.List(fields.String(validate=PLAN_ACTION)),
                       metadata={"description": "what the office may do next"})


def _plan_actions(plan) -> list[str]:
    from inspect_api.draws.actions import plan_actions  # actions reads the service's state sets

    return plan_actions(plan)


class DrawEntropySchema(StrictSchema):
    public_entropy = fields.String(required=True, validate=validate.Length(
        min=1, max=MAX_ENTROPY, error="公开随机源须为 1–256 个字符"),
        metadata={"description": "见证人提供或公开来源（如彩票开奖号）的随机串，原样记录",
                  "example": "2026-11-20 福利彩票3D 开奖号 527 + 见证人 张伟/李娜"})


class CancelSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "公开的取消理由"})


class AmendmentInputSchema(StrictSchema):
    institution_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    inspector_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "被替换的检查人员"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class TeamMemberSchema(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    certificate_no = fields.String(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True, validate=DEPARTMENT)


class TargetViewSchema(OutSchema):
    institution_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    mandatory = fields.Boolean(required=True)
    team = fields.List(fields.Nested(TeamMemberSchema), required=True, metadata={"description": "lead first"})


class AmendmentOutSchema(OutSchema):
    number = fields.Integer(required=True, allow_none=True, metadata={"description": "该机构的第几次调整（从 1 起）"})
    institution_id = fields.String(required=True)
    institution_name = fields.String(required=True, allow_none=True)
    replaced = fields.String(required=True)
    replaced_name = fields.String(required=True, allow_none=True)
    replacement = fields.String(required=True)
    replacement_name = fields.String(required=True, allow_none=True)
    replacement_certificate_no = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    at = DateTimeText(required=True, allow_none=True)


class PlanSummarySchema(OutSchema):
    """The plan as frozen in the draw's record (extra keys of the record's plan may appear)."""

    class Meta:
        unknown = ma.INCLUDE

    id = fields.String(required=True)
    name = fields.String(required=True)
    region = fields.String(required=True)
    period_start = DateText(required=True)
    period_end = DateText(required=True)
    matters = fields.List(fields.String(), required=True)
    checklist_code = fields.String(required=True)
    departments = fields.List(fields.String(validate=DEPARTMENT), required=True)


class FailedAttemptSchema(OutSchema):
    public_entropy = fields.String(required=True)
    seed = fields.String(required=True)
    at = fields.DateTime(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "失败原因（无法组成检查组的机构及原因）"})


class DrawSchema(OutSchema):
    """A draw (one commitment of a plan). ``nonce`` stays null until the draw or a cancellation reveals it."""

    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True, validate=DRAW_STATE)
    plan = fields.Nested(PlanSummarySchema)
    commitment = fields.String(required=True)
    committed_at = fields.DateTime(required=True)
    candidates = fields.Integer()
    inspectors = fields.Integer()
    nonce = fields.String(allow_none=True)
    public_entropy = fields.String(allow_none=True)
    seed = fields.String(allow_none=True)
    drawn_at = fields.DateTime(allow_none=True)
    targets = fields.List(fields.Nested(TargetViewSchema))
    amendments = fields.List(fields.Nested(AmendmentOutSchema))
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    failed_attempts = fields.List(fields.Nested(FailedAttemptSchema),
                                  metadata={"description": "本承诺下失败的抽取尝试（公开，不能静默重抽）"})
    record_url = fields.String()
    public_url = fields.String()


class DrawListItemSchema(OutSchema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True, validate=DRAW_STATE)
    plan_name = fields.String()
    commitment = fields.String()
    committed_at = fields.DateTime()
    drawn_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    target_count = fields.Integer(allow_none=True)


class DrawListArgsSchema(StrictSchema):
    class Meta:
        unknown = "exclude"

    region = fields.String(validate=REGION_PREFIX)


class VerifySchema(OutSchema):
    ok = fields.Boolean(required=True)
    differences = fields.List(fields.String(), required=True)


# --------------------------------------------------------------------------- the public record (DESIGN §5)

class RecordParamsSchema(OutSchema):
    class Meta:
        unknown = ma.INCLUDE

    ratio = fields.String(required=True, allow_none=True, metadata={"description": "6 decimals, e.g. 0.100000"})
    count = fields.Integer(required=True, allow_none=True)
    min_per_stratum = fields.Integer(required=True)
    team_size = fields.Integer(required=True)
    required_departments = fields.List(fields.String(), required=True)
    cross_region = fields.Boolean(required=True)
    no_repeat_lead = fields.Boolean(required=True)


class RecordInstitutionSchema(OutSchema):
    class Meta:
        unknown = ma.INCLUDE

    id = fields.String(required=True)
    region = fields.String(required=True)
    stratum = fields.String(required=True)
    weight = fields.String(required=True, metadata={"description": "6 decimals, > 0"})
    mandatory = fields.Boolean(required=True)


class RecordInspectorSchema(OutSchema):
    class Meta:
        unknown = ma.INCLUDE

    id = fields.String(required=True)
    department = fields.String(required=True)
    region = fields.String(required=True)
    load = fields.Integer(required=True)
    load_cap = fields.Integer(required=True)


class RecordSnapshotSchema(OutSchema):
    class Meta:
        unknown = ma.INCLUDE

    institutions = fields.List(fields.Nested(RecordInstitutionSchema), required=True)
    inspectors = fields.List(fields.Nested(RecordInspectorSchema), required=True)
    conflicts = fields.List(fields.List(fields.String()), required=True,
                            metadata={"description": "[inspector id, institution id] pairs"})
    previous_leads = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                                 metadata={"description": "institution id → inspector id"})


class RecordResultSchema(OutSchema):
    targets = fields.List(fields.String(), required=True, metadata={"description": "in processing order"})
    teams = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                        metadata={"description": "institution id → inspector ids, lead first"})


class RecordAmendmentSchema(OutSchema):
    class Meta:
        unknown = ma.INCLUDE

    institution = fields.String(required=True)
    number = fields.Integer(required=True)
    replaced = fields.String(required=True)
    replacement = fields.String(required=True)
    reason = fields.String()
    at = DateTimeText()


class RecordCancellationSchema(OutSchema):
    reason = fields.String(required=True)
    at = DateTimeText(required=True)


class DrawRecordSchema(OutSchema):
    """The public record of a draw (DESIGN §5): ``python -m inspect_api.draws.verify record.json`` checks it.
    Other plan details may sit beside these fields; a verifier ignores them."""

    class Meta:
        unknown = ma.INCLUDE

    algorithm = fields.String(required=True, metadata={"example": "dr1"})
    params = fields.Nested(RecordParamsSchema, required=True)
    snapshot = fields.Nested(RecordSnapshotSchema, required=True)
    commitment = fields.String(required=True, metadata={"description": "64 hex"})
    nonce = fields.String(metadata={"description": "64 hex; present once drawn (or cancelled)"})
    public_entropy = fields.String(metadata={"description": "present once drawn"})
    seed = fields.String(metadata={"description": "64 hex; present once drawn"})
    result = fields.Nested(RecordResultSchema, metadata={"description": "present once drawn"})
    draw_id = fields.String()
    seq = fields.Integer()
    plan = fields.Nested(PlanSummarySchema)
    committed_at = DateTimeText()
    drawn_at = DateTimeText()
    amendments = fields.List(fields.Nested(RecordAmendmentSchema))
    cancellation = fields.Nested(RecordCancellationSchema, allow_none=True)
