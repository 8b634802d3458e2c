"""Inbox schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import Schema, fields

from inspect_api.schemas import DateText, OutSchema


class NotificationDataSchema(OutSchema):
    """Ids a client uses to open what a notification is about; which keys appear depends on ``kind``."""

    class Meta:
        unknown = ma.INCLUDE

    order_id = fields.String()
    finding_id = fields.String()
    institution_id = fields.String()
    inspection_id = fields.String()
    assignment_id = fields.String()
    answer = fields.Integer(metadata={"description": "answer number (rectification.answered, reviews)"})
    step = fields.String(metadata={"description": "escalation step code"})
    due = DateText()
    deadline = DateText()
    date = DateText(metadata={"description": "digest.daily: the day summarised"})


class NotificationSchema(OutSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "description": "e.g. rectification.issued, rectification.answered, rectification.reminder, digest.daily, "
                       "publication.step (escalation steps are configurable, so the list is open)"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Nested(NotificationDataSchema, required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(required=True, allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None, required=True, metadata={"type": "boolean"})


class InboxArgsSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    unread = fields.Boolean(metadata={"description": "true = 仅未读，false = 仅已读"})


class UnreadCountSchema(OutSchema):
    unread = fields.Integer(required=True)
