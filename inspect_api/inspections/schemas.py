"""Inspection schemas: assignments, bundle, check-in, responses, evidence, submission, corrections."""

from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
from marshmallow import fields, validate

from checklists.spec import RESULTS
from inspect_api.catalog.schemas import GRADE, SEVERITY, ChecklistContentSchema
from inspect_api.directory.schemas import DEPARTMENT, INSTITUTION_KIND
from inspect_api.inspections.models import CHECKIN_FLAGS, SIGNER_ROLES, TARGETED_REASONS
from inspect_api.rectification.schemas import FINDING_STATUS
from inspect_api.schemas import (DateText, DateTimeText, FilePart, Number, OutSchema, SharedEnum, StrictSchema)

OBJECT_ID = validate.Regexp(r"^[0-9a-f]{24}$", error="应为 24 位十六进制编号")

ASSIGNMENT_STATUS = SharedEnum("AssignmentStatus", {
    "assigned": "待检查", "in_progress": "检查中", "submitted": "已提交", "cancelled": "已取消"},
    "in_progress: checked in; cancelled: no more check-in, answers or submission.")
ASSIGNMENT_SOURCE = SharedEnum("AssignmentSource", {"draw": "双随机抽取", "targeted": "专项（非随机）检查"})
TARGETED_REASON = SharedEnum("TargetedReason", TARGETED_REASONS)
INSPECTION_STATE = SharedEnum("InspectionState", {"assigned": "未签到", "checked_in": "已签到，检查中", "submitted": "已提交"},
                              "submitted: locked; changed only by a recorded correction.")
ITEM_RESULT = SharedEnum("ItemResult", RESULTS)
SIGNER_ROLE = SharedEnum("SignerRole", SIGNER_ROLES)
TEAM_ROLE = SharedEnum("TeamRole", {"lead": "组长", "member": "组员"})
SYNC_OUTCOME = SharedEnum("SyncOutcome", {"applied": "已保存（新修订号）", "duplicate": "重复提交（返回首次结果）",
                                          "conflict": "冲突：服务器已有更新的修订，current 为服务器版本"})
CHECKIN_FLAG = SharedEnum("CheckinFlag", CHECKIN_FLAGS)
PHOTO_POSITION_FLAG = SharedEnum("PhotoPositionFlag", {"beyond_radius": "拍摄位置超出签到半径"})


# --------------------------------------------------------------------------- assignments

class AssignmentMemberSchema(OutSchema):
    inspector_id = fields.String(required=True)
    role = fields.String(required=True, validate=TEAM_ROLE)
    name = fields.String(required=True, allow_none=True)


class AssignmentSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "also the id of its inspection"})
    institution_id = fields.String(required=True)
    institution_name = fields.String(required=True, allow_none=True)
    institution_address = fields.String(allow_none=True)
    institution_public_id = fields.String(allow_none=True, metadata={"description": "the id in public links and posters"})
    region = fields.String(required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "inspector ids, lead first"})
    team_members = fields.List(fields.Nested(AssignmentMemberSchema),
                               metadata={"description": "the team with names, lead first"})
    source = fields.String(required=True, validate=ASSIGNMENT_SOURCE)
    random = fields.Boolean(required=True)
    reason = fields.String(required=True, allow_none=True, validate=TARGETED_REASON)
    reason_note = fields.String(required=True, allow_none=True)
    plan_id = fields.String(required=True, allow_none=True)
    draw_id = fields.String(required=True, allow_none=True)
    parent_order_id = fields.String(required=True, allow_none=True)
    matters = fields.List(fields.String(), required=True)
    checklist_code = fields.String(required=True)
    checklist_version = fields.Integer(required=True, allow_none=True,
                                       metadata={"description": "pinned when the bundle is first built"})
    due_date = DateText(required=True, allow_none=True)
    status = fields.String(required=True, validate=ASSIGNMENT_STATUS)
    created_at = DateTimeText(required=True, allow_none=True)


class CheckinFlagNameSchema(OutSchema):
    code = fields.String(required=True, validate=CHECKIN_FLAG)
    name = fields.String(required=True)


class InspectionSummarySchema(OutSchema):
    code = fields.String(required=True)
    state = fields.String(required=True, validate=INSPECTION_STATE)
    checked_in_at = DateTimeText(required=True, allow_none=True)
    checkin_flagged = fields.Boolean(required=True)
    checkin_flags = fields.List(fields.Nested(CheckinFlagNameSchema), required=True)
    checkin_distance_m = fields.Float(required=True, allow_none=True)
    checkin_radius_m = fields.Float(required=True, allow_none=True)
    photos = fields.Integer(required=True)
    reused_photos = fields.Integer(required=True, metadata={"description": "与其他机构照片近似（疑似重复使用）的照片数"})
    submitted_at = DateTimeText(required=True, allow_none=True)
    score = fields.Float(required=True, allow_none=True)
    grade = fields.String(required=True, allow_none=True, validate=GRADE)
    order_id = fields.String(required=True, allow_none=True)
    report_hash = fields.String(required=True, allow_none=True)


class RegionAssignmentSchema(AssignmentSchema):
    inspection = fields.Nested(InspectionSummarySchema, allow_none=True,
                               metadata={"description": "签到、照片与提交情况；尚未开始时为 null"})


class MyAssignmentArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=ASSIGNMENT_STATUS)
    date_from = fields.Date(metadata={"description": "due date on or after (YYYY-MM-DD)"})
    date_to = fields.Date(metadata={"description": "due date on or before (YYYY-MM-DD)"})


class RegionAssignmentArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=ASSIGNMENT_STATUS)
    source = fields.String(validate=ASSIGNMENT_SOURCE)
    institution_id = fields.String(validate=OBJECT_ID)


class TargetedAssignmentSchema(StrictSchema):
    client_id = fields.UUID(required=True, metadata={"description": "idempotency key: a retry returns the first"})
    institution_id = fields.String(required=True, validate=OBJECT_ID)
    team = fields.List(fields.String(validate=OBJECT_ID), required=True, validate=validate.Length(min=2, max=10),
                       metadata={"description": "inspector ids, lead first"})
    reason = fields.String(required=True, validate=TARGETED_REASON)
    reason_note = fields.String(validate=validate.Length(max=500))
    checklist_code = fields.String(validate=validate.Length(min=1, max=64))
    checklist_version = fields.Integer(validate=validate.Range(min=1))
    matters = fields.List(fields.String(validate=validate.Length(max=32)), validate=validate.Length(max=20))
    due_date = fields.Date()


# --------------------------------------------------------------------------- bundle

class BundleInspectionSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "equals the assignment id"})
    code = fields.String(required=True, metadata={"description": "short human code, e.g. ZB-2026-000123"})
    state = fields.String(required=True, validate=INSPECTION_STATE)


class BundleInstitutionSchema(OutSchema):
    id = fields.String(required=True)
    public_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    kind_name = fields.String(required=True)
    region = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    contact_name = fields.String(required=True, allow_none=True)
    contact_phone = fields.String(required=True, allow_none=True)


class TeamMemberViewSchema(OutSchema):
    inspector_id = fields.String(required=True)
    role = fields.String(required=True, validate=TEAM_ROLE)
    name = fields.String(required=True, allow_none=True)
    certificate_no = fields.String(required=True, allow_none=True, metadata={"description": "执法证号"})
    department = fields.String(required=True, allow_none=True, validate=DEPARTMENT)


class BundleChecklistSchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the content"})
    content = fields.Nested(ChecklistContentSchema, required=True)


# Checklist contents as a bundle sends them, by (code, version, content hash): a published version never changes
# under its hash, and its content is most of a bundle's bytes and nearly all of its serialization time.
_CONTENT_DUMPS: dict[tuple[str, int, str], tuple[dict, str]] = {}
_CONTENT_DUMPS_MAX = 64


def checklist_content_dump(code: str, version: int, content_hash: str, content: dict,
                           encode: Callable[[Any], str]) -> tuple[dict, str]:
    """``content`` dumped with :class:`ChecklistContentSchema` and that dump encoded with ``encode``, once per
    process and version (callers must not modify the result)."""
    key = (code, int(version), content_hash)
    cached = _CONTENT_DUMPS.get(key)
    if cached is None:
        if len(_CONTENT_DUMPS) >= _CONTENT_DUMPS_MAX:
            _CONTENT_DUMPS.clear()
        dumped = ChecklistContentSchema().dump(content)
        cached = _CONTENT_DUMPS[key] = (dumped, encode(dumped))
    return cached


class PreviousResultSchema(OutSchema):
    inspection_id = fields.String(required=True)
    code = fields.String(required=True)
    submitted_at = DateTimeText(required=True, allow_none=True)
    score = Number(required=True, allow_none=True)
    grade = fields.String(required=True, allow_none=True, validate=GRADE)
    grade_name = fields.String(required=True, allow_none=True)
    findings = fields.Integer(required=True, metadata={"description": "number of findings"})
    order_id = fields.String(required=True, allow_none=True)


class OpenFindingPhotoSchema(OutSchema):
    id = fields.String(required=True)
    thumb_url = fields.String(required=True, metadata={"description": "GET it with the bearer token (image/jpeg)"})


class OpenFindingSchema(OutSchema):
    order_id = fields.String(required=True)
    order_number = fields.String(required=True, allow_none=True)
    finding_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_text = fields.String(required=True, allow_none=True)
    severity = fields.String(required=True, validate=SEVERITY)
    status = fields.String(required=True, validate=FINDING_STATUS)
    deadline = DateText(required=True, allow_none=True)
    reinspection_required = fields.Boolean(required=True)
    photos = fields.List(fields.Nested(OpenFindingPhotoSchema),
                         metadata={"description": "the finding's photos, for a re-inspection team to take offline"})


class CheckinRulesSchema(OutSchema):
    qr_required = fields.Boolean(required=True)
    radius_m = fields.Float(required=True, metadata={"description": "check-ins farther than this are flagged"})
    latitude = fields.Float(required=True, allow_none=True, metadata={"description": "the institution's location"})
    longitude = fields.Float(required=True, allow_none=True)
    note = fields.String(required=True)


class SignatureRoleOptionSchema(OutSchema):
    role = fields.String(required=True, validate=SIGNER_ROLE)
    name = fields.String(required=True)


class BundleSchema(OutSchema):
    """Everything the phone needs offline for one assignment."""

    assignment = fields.Nested(AssignmentSchema, required=True)
    inspection = fields.Nested(BundleInspectionSchema, required=True)
    institution = fields.Nested(BundleInstitutionSchema, required=True)
    team = fields.List(fields.Nested(TeamMemberViewSchema), required=True, metadata={"description": "lead first"})
    checklist = fields.Nested(BundleChecklistSchema, required=True,
                              metadata={"description": "the exact checklist version the inspection is scored with"})
    previous_result = fields.Nested(PreviousResultSchema, required=True, allow_none=True,
                                    metadata={"description": "the institution's last submitted inspection"})
    open_findings = fields.List(fields.Nested(OpenFindingSchema), required=True,
                                metadata={"description": "unresolved findings of the institution's open orders"})
    checkin_rules = fields.Nested(CheckinRulesSchema, required=True)
    signature_roles = fields.List(fields.Nested(SignatureRoleOptionSchema), required=True)


# --------------------------------------------------------------------------- check-in and responses

class CheckInSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    qr_token = fields.String(required=True, validate=validate.Length(min=1, max=2048),
                             metadata={"description": "the scanned QR payload (poster URL or bare token)"})
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(validate=validate.Range(min=0, max=100000))
    captured_at = fields.AwareDateTime(required=True, default_timezone=None,
                                       metadata={"description": "when the phone took the GPS fix (ISO 8601 with offset)"})


class ResponseInSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    base_revision = fields.Integer(required=True, validate=validate.Range(min=0),
                                   metadata={"description": "the server revision this edit is based on (0: new)"})
    client_updated_at = fields.AwareDateTime(required=True)
    result = fields.String(required=True, validate=ITEM_RESULT)
    deduction_codes = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                                  validate=validate.Length(max=50))
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class ResponseBatchSchema(StrictSchema):
    items = fields.List(fields.Nested(ResponseInSchema), required=True, validate=validate.Length(min=1, max=500))


class ResponseSchema(OutSchema):
    """The server's current answer to one item."""

    item_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    result = fields.String(required=True, validate=ITEM_RESULT)
    deduction_codes = fields.List(fields.String(), required=True)
    note = fields.String(required=True, allow_none=True)
    client_id = fields.String(required=True, metadata={"description": "of the write that produced this revision"})
    client_updated_at = DateTimeText(required=True, allow_none=True)
    updated_by = fields.String(required=True, allow_none=True)
    updated_at = DateTimeText(required=True, allow_none=True)


class OutcomeSchema(OutSchema):
    client_id = fields.String(required=True)
    item_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=SYNC_OUTCOME)
    revision = fields.Integer(required=True, metadata={"description": "revision produced by (or current for) this write"})
    current = fields.Nested(ResponseSchema, allow_none=True, metadata={"description": "the server's current version"})


class BatchResultSchema(OutSchema):
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True)
    applied = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    conflict = fields.Integer(required=True)


# --------------------------------------------------------------------------- evidence

class PhotoFormSchema(StrictSchema):
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    client_id = fields.UUID(required=True)
    file = FilePart(required=True, metadata={"description": "the photo: JPEG, PNG, WebP or HEIC"})


class SignatureFormSchema(StrictSchema):
    """Team members sign only as themselves; the institution's representative on the lead's device."""

    client_id = fields.UUID(required=True, metadata={"description": "idempotency key: a retry returns the first"})
    signer_role = fields.String(required=True, validate=SIGNER_ROLE, metadata={
        "description": "lead（组长，仅组长本人）| member（组员，仅组员本人）| institution_representative"
                       "（机构代表，仅在组长设备上由组长上传）"})
    signer_name = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "机构代表的姓名（institution_representative 必填）；lead/member 的签名人姓名取自名录，"
                       "此处填写的内容不被采用"})
    inspector_id = fields.String(validate=OBJECT_ID, metadata={
        "description": "可不填：lead/member 的签名人总是当前登录的执法人员本人；若填写须为本人的编号，"
                       "否则 422 SIGNER_NOT_SELF；机构代表签名不得填写"})
    file = FilePart(required=True, metadata={"description": "PNG strokes"})


class PhotoUrlsSchema(OutSchema):
    thumb = fields.String(required=True, metadata={"description": "GET it with the bearer token (image/jpeg)"})
    display = fields.String(required=True)
    original = fields.String(required=True, metadata={"description": "the uploaded file as it was"})


class PhotoSchema(OutSchema):
    id = fields.String(required=True)
    item_id = fields.String(required=True, allow_none=True)
    client_id = fields.String(required=True)
    sha256 = fields.String(required=True)
    reused = fields.Boolean(required=True, metadata={"description": "near-identical photo exists for another institution"})
    captured_at = fields.DateTime(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    gps_invalid = fields.Boolean(required=True)
    distance_m = fields.Float(allow_none=True, metadata={
        "description": "EXIF 拍摄位置距机构的距离（米）；照片无定位或机构无定位时为 null"})
    position_flags = fields.List(fields.String(validate=PHOTO_POSITION_FLAG), metadata={
        "description": "位置标记：beyond_radius = 拍摄位置超出签到半径（与签到相同的半径）"})
    width = fields.Integer(required=True, allow_none=True)
    height = fields.Integer(required=True, allow_none=True)
    urls = fields.Nested(PhotoUrlsSchema, required=True)


class SignatureSchema(OutSchema):
    evidence_id = fields.String(required=True)
    client_id = fields.String(required=True)
    signer_role = fields.String(required=True, validate=SIGNER_ROLE)
    signer_name = fields.String(required=True)
    inspector_id = fields.String(required=True, allow_none=True,
                                 metadata={"description": "lead/member: the signing inspector"})
    uploaded_by = fields.String(allow_none=True, metadata={"description": "user id of the uploading account"})
    uploaded_session = fields.String(allow_none=True, metadata={
        "description": "the login (session id) the signature was uploaded from"})
    signed_at = DateTimeText(required=True, allow_none=True)


# --------------------------------------------------------------------------- inspection, submission, corrections

class CheckInRecordSchema(OutSchema):
    inspector_id = fields.String(required=True)
    qr_version = fields.Integer(required=True)
    latitude = fields.Float(required=True)
    longitude = fields.Float(required=True)
    accuracy_m = fields.Float(required=True, allow_none=True)
    captured_at = DateTimeText(required=True, allow_none=True)
    received_at = DateTimeText(required=True, allow_none=True)
    distance_m = fields.Float(required=True, allow_none=True, metadata={
        "description": "metres to the institution's location; null when it has none on file"})
    radius_m = fields.Float(required=True)
    flagged = fields.Boolean(required=True, metadata={"description": "accepted but flagged for review"})
    flag_reasons = fields.List(fields.String(validate=CHECKIN_FLAG), required=True)


class InspectionPhotoSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "GET /api/v1/photos/{id}/{variant}"})
    item_id = fields.String(required=True, allow_none=True)
    client_id = fields.String(required=True)
    sha256 = fields.String(required=True)
    reused = fields.Boolean(required=True)
    captured_at = DateTimeText(required=True, allow_none=True)
    distance_m = fields.Float(required=True, allow_none=True, metadata={
        "description": "EXIF 拍摄位置距机构的距离（米）；照片无定位或机构无定位时为 null"})
    position_flags = fields.List(fields.String(validate=PHOTO_POSITION_FLAG), required=True,
                                 metadata={"description": "beyond_radius = 拍摄位置超出签到半径"})


class InspectionResultSchema(OutSchema):
    """The score frozen at submission (records older than some keys hold only score and grade)."""

    score = Number(required=True, metadata={"description": "0–100, two decimals"})
    grade = fields.String(required=True, validate=GRADE, metadata={"description": "the checklist's grade band code"})
    grade_name = fields.String(required=True)
    earned = Number()
    applicable_max = Number()
    veto_failed = fields.List(fields.String(), metadata={"description": "failed veto item ids"})
    not_applicable = fields.List(fields.String(), metadata={"description": "item ids not scored"})
    kind = fields.String(allow_none=True, validate=INSTITUTION_KIND)


class AppliedDeductionSchema(OutSchema):
    code = fields.String(required=True)
    text = fields.String(required=True)
    points = Number(required=True, metadata={"description": "points lost by this deduction (each × count)"})
    count = fields.Integer(required=True)


class InspectionFindingSchema(OutSchema):
    item_id = fields.String(required=True)
    item_text = fields.String(required=True)
    clause = fields.String(required=True, allow_none=True)
    section_id = fields.String(required=True)
    result = fields.String(required=True, validate=ITEM_RESULT, metadata={"description": "deduct or fail"})
    severity = fields.String(required=True, validate=SEVERITY)
    veto = fields.Boolean(required=True)
    deductions = fields.List(fields.Nested(AppliedDeductionSchema), required=True)
    points_lost = Number(required=True)
    item_points = Number(required=True)
    deadline_working_days = fields.Integer(required=True)
    reinspection_required = fields.Boolean(required=True)
    note = fields.String(required=True, allow_none=True)
    photo_ids = fields.List(fields.String(), required=True)


class AnswerStateSchema(OutSchema):
    result = fields.String(required=True, allow_none=True, validate=ITEM_RESULT,
                           metadata={"description": "null: the item had no answer"})
    deduction_codes = fields.List(fields.String(), required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)


class CorrectionChangeRecordSchema(OutSchema):
    item_id = fields.String(required=True)
    before = fields.Nested(AnswerStateSchema, required=True)
    after = fields.Nested(AnswerStateSchema, required=True)


class CorrectionRecordSchema(OutSchema):
    client_id = fields.String(required=True)
    at = DateTimeText(required=True)
    by = fields.String(required=True, metadata={"description": "user id of the lead"})
    reason = fields.String(required=True)
    changes = fields.List(fields.Nested(CorrectionChangeRecordSchema), required=True)
    score_before = Number(required=True, allow_none=True)
    score_after = Number(required=True, allow_none=True)


class InspectionSchema(OutSchema):
    id = fields.String(required=True)
    assignment_id = fields.String(required=True)
    code = fields.String(required=True)
    institution_id = fields.String(required=True)
    region = fields.String(required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "inspector ids, lead first"})
    checklist_code = fields.String(required=True)
    checklist_version = fields.Integer(required=True)
    state = fields.String(required=True, validate=INSPECTION_STATE)
    assignment_status = fields.String(required=True, allow_none=True, validate=ASSIGNMENT_STATUS)
    checkin = fields.Nested(CheckInRecordSchema, required=True, allow_none=True)
    signatures = fields.List(fields.Nested(SignatureSchema), required=True)
    photos = fields.List(fields.Nested(InspectionPhotoSchema), required=True)
    submitted_at = DateTimeText(required=True, allow_none=True)
    result = fields.Nested(InspectionResultSchema, required=True, allow_none=True)
    findings = fields.List(fields.Nested(InspectionFindingSchema), required=True)
    order_id = fields.String(required=True, allow_none=True, metadata={"description": "the rectification order"})
    order_number = fields.String(allow_none=True, metadata={"description": "the rectification order's number (整改通知书编号)"})
    report_hash = fields.String(required=True, allow_none=True, metadata={"description": "SHA-256 of the report"})
    corrections = fields.List(fields.Nested(CorrectionRecordSchema), required=True)
    responses = fields.List(fields.Nested(ResponseSchema), metadata={
        "description": "every current answer; left out by check-in (its answer is only the record)"})


class CorrectionChangeSchema(StrictSchema):
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = fields.String(required=True, validate=ITEM_RESULT)
    deduction_codes = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class CorrectionSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))
    changes = fields.List(fields.Nested(CorrectionChangeSchema), required=True,
                          validate=validate.Length(min=1, max=200))
