"""Inspection schemas: assignments, bundle, check-in, responses, evidence, submission, corrections."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from inspect_api.inspections.models import (
    ASSIGNMENT_SOURCES, ASSIGNMENT_STATUSES, RESULTS, SIGNER_ROLES, TARGETED_REASONS)
from inspect_api.schemas import OutSchema, StrictSchema

OBJECT_ID = validate.Regexp(r"^[0-9a-f]{24}$", error="应为 24 位十六进制编号")


# --------------------------------------------------------------------------- assignments

class AssignmentMemberSchema(OutSchema):
    inspector_id = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "lead | member"})
    name = fields.String(allow_none=True)


class AssignmentSchema(OutSchema):
    id = fields.String(required=True)
    institution_id = fields.String(required=True)
    institution_name = fields.String(allow_none=True)
    institution_address = fields.String(allow_none=True)
    institution_public_id = fields.String(allow_none=True, metadata={"description": "the id in public links and posters"})
    region = fields.String(required=True)
    team = fields.List(fields.String(), required=True, metadata={"description": "inspector ids, lead first"})
    team_members = fields.List(fields.Nested(AssignmentMemberSchema), metadata={"description": "the team with names, lead first"})
    source = fields.String(required=True, metadata={"description": "draw | targeted"})
    random = fields.Boolean(required=True)
    reason = fields.String(allow_none=True)
    reason_note = fields.String(allow_none=True)
    plan_id = fields.String(allow_none=True)
    draw_id = fields.String(allow_none=True)
    parent_order_id = fields.String(allow_none=True)
    matters = fields.List(fields.String())
    checklist_code = fields.String(required=True)
    checklist_version = fields.Integer(allow_none=True)
    due_date = fields.String(allow_none=True)
    status = fields.String(required=True)
    created_at = fields.String(allow_none=True)


class MyAssignmentArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=validate.OneOf(ASSIGNMENT_STATUSES))
    date_from = fields.Date(metadata={"description": "due date on or after (YYYY-MM-DD)"})
    date_to = fields.Date(metadata={"description": "due date on or before (YYYY-MM-DD)"})


class RegionAssignmentArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    status = fields.String(validate=validate.OneOf(ASSIGNMENT_STATUSES))
    source = fields.String(validate=validate.OneOf(ASSIGNMENT_SOURCES))
    institution_id = fields.String(validate=OBJECT_ID)


class TargetedAssignmentSchema(StrictSchema):
    client_id = fields.UUID(required=True, metadata={"description": "idempotency key: a retry returns the first"})
    institution_id = fields.String(required=True, validate=OBJECT_ID)
    team = fields.List(fields.String(validate=OBJECT_ID), required=True, validate=validate.Length(min=2, max=10),
                       metadata={"description": "inspector ids, lead first"})
    reason = fields.String(required=True, validate=validate.OneOf(tuple(TARGETED_REASONS)))
    reason_note = fields.String(validate=validate.Length(max=500))
    checklist_code = fields.String(validate=validate.Length(min=1, max=64))
    checklist_version = fields.Integer(validate=validate.Range(min=1))
    matters = fields.List(fields.String(validate=validate.Length(max=32)), validate=validate.Length(max=20))
    due_date = fields.Date()


# --------------------------------------------------------------------------- bundle

class BundleSchema(OutSchema):
    assignment = fields.Nested(AssignmentSchema, required=True)
    inspection = fields.Dict(required=True, metadata={"description": "{id, code, state}; id equals the assignment id"})
    institution = fields.Dict(required=True)
    team = fields.List(fields.Dict(), required=True,
                       metadata={"description": "[{inspector_id, role, name, certificate_no, department}]"})
    checklist = fields.Dict(required=True, metadata={"description": "{code, version, content_hash, content}"})
    previous_result = fields.Dict(allow_none=True)
    open_findings = fields.List(fields.Dict(), metadata={
        "description": "unresolved findings of the institution's open orders, each with photos [{id, thumb_url}]"})
    checkin_rules = fields.Dict(required=True)
    signature_roles = fields.List(fields.Dict())


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
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    deduction_codes = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                                  validate=validate.Length(max=50))
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class ResponseBatchSchema(StrictSchema):
    items = fields.List(fields.Nested(ResponseInSchema), required=True, validate=validate.Length(min=1, max=500))


class ResponseSchema(OutSchema):
    item_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    result = fields.String(required=True)
    deduction_codes = fields.List(fields.String())
    note = fields.String(allow_none=True)
    client_id = fields.String()
    client_updated_at = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class OutcomeSchema(OutSchema):
    client_id = fields.String(required=True)
    item_id = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "applied | duplicate | conflict"})
    revision = fields.Integer(required=True, metadata={"description": "revision produced by (or current for) this write"})
    current = fields.Nested(ResponseSchema, allow_none=True, metadata={"description": "the server's current version"})


class BatchResultSchema(OutSchema):
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True)
    applied = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    conflict = fields.Integer(required=True)


# --------------------------------------------------------------------------- evidence

class PhotoFormSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    client_id = fields.UUID(required=True)
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "the photo (required)"})


class SignatureFormSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    client_id = fields.UUID(required=True)
    signer_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signer_role = fields.String(required=True, validate=validate.OneOf(tuple(SIGNER_ROLES)))
    inspector_id = fields.String(validate=OBJECT_ID,
                                 metadata={"description": "lead/member: whose signature (default: the uploader)"})
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "PNG strokes (required)"})


class PhotoSchema(OutSchema):
    id = fields.String(required=True)
    item_id = fields.String(allow_none=True)
    client_id = fields.String(required=True)
    sha256 = fields.String(required=True)
    reused = fields.Boolean(required=True, metadata={"description": "near-identical photo exists for another institution"})
    captured_at = fields.DateTime(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    gps_invalid = fields.Boolean()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    urls = fields.Dict()


class SignatureSchema(OutSchema):
    evidence_id = fields.String(required=True)
    client_id = fields.String(required=True)
    signer_role = fields.String(required=True)
    signer_name = fields.String(required=True)
    inspector_id = fields.String(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)


# --------------------------------------------------------------------------- inspection, submission, corrections

class InspectionSchema(OutSchema):
    id = fields.String(required=True)
    assignment_id = fields.String(required=True)
    code = fields.String(required=True)
    institution_id = fields.String(required=True)
    region = fields.String(required=True)
    team = fields.List(fields.String())
    checklist_code = fields.String()
    checklist_version = fields.Integer()
    state = fields.String(required=True, metadata={"description": "assigned | checked_in | submitted"})
    assignment_status = fields.String(allow_none=True, metadata={
        "description": "assigned | in_progress | submitted | cancelled（已取消的任务不能再签到、填写或提交）"})
    checkin = fields.Dict(allow_none=True)
    signatures = fields.List(fields.Dict())
    photos = fields.List(fields.Dict())
    submitted_at = fields.String(allow_none=True)
    result = fields.Dict(allow_none=True)
    findings = fields.List(fields.Dict())
    order_id = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True, metadata={"description": "the rectification order's number (整改通知书编号)"})
    report_hash = fields.String(allow_none=True)
    corrections = fields.List(fields.Dict())
    responses = fields.List(fields.Dict())


class CorrectionChangeSchema(StrictSchema):
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    deduction_codes = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class CorrectionSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))
    changes = fields.List(fields.Nested(CorrectionChangeSchema), required=True,
                          validate=validate.Length(min=1, max=200))
