"""Inbox schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import Schema, fields

from inspect_api.schemas import OutSchema


class NotificationSchema(OutSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None, required=True)


class InboxArgsSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    unread = fields.Boolean(metadata={"description": "true = 仅未读，false = 仅已读"})


class UnreadCountSchema(OutSchema):
    unread = fields.Integer(required=True)
