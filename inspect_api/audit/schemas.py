"""Audit log schemas (the office's listing and the chain's verification)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from inspect_api.schemas import DateTimeText, JsonObject, OutSchema, StrictSchema


class AuditListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    action = fields.String(validate=validate.Length(max=64), metadata={"description": "如 draw.drawn、user.create"})
    target_type = fields.String(validate=validate.Length(max=64))
    target_id = fields.String(validate=validate.Length(max=64))


class AuditEventSchema(OutSchema):
    seq = fields.Integer(required=True, metadata={"description": "position in the hash chain"})
    at = DateTimeText(required=True)
    actor_id = fields.String(required=True, allow_none=True)
    actor_name = fields.String(required=True, allow_none=True)
    action = fields.String(required=True, metadata={"description": "如 draw.drawn、user.create"})
    target_type = fields.String(required=True, allow_none=True)
    target_id = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    ip = fields.String(required=True, allow_none=True)
    data = JsonObject(required=True, metadata={
        "description": "the action's facts as recorded (their shape depends on the action); the hash covers them "
                       "exactly as they are"})
    hash = fields.String(required=True)
    prev_hash = fields.String(required=True)


class ChainVerificationSchema(OutSchema):
    ok = fields.Boolean(required=True)
    checked = fields.Integer(required=True, metadata={"description": "已校验的记录数（整条链）"})
    broken_seq = fields.Integer(allow_none=True, metadata={"description": "第一条断开的记录序号"})
    reason = fields.String(allow_none=True)
    message = fields.String(required=True)
    verified_at = DateTimeText(required=True)
