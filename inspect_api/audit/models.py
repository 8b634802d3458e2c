"""Audit events: each stores the hash of the previous one."""

from __future__ import annotations

import mongoengine as me


class AuditEvent(me.Document):
    """One state change; ``seq`` is unique, so two writers cannot both extend the chain."""

    seq = me.IntField(required=True, unique=True)
    at = me.DateTimeField(required=True)
    actor_id = me.StringField()
    actor_name = me.StringField()
    action = me.StringField(required=True)
    target_type = me.StringField()
    target_id = me.StringField()
    region = me.StringField()
    ip = me.StringField()
    data = me.DictField()
    prev_hash = me.StringField(required=True)
    hash = me.StringField(required=True)

    meta = {
        "collection": "audit_events",
        "indexes": [
            {"fields": ["target_type", "target_id", "seq"]},
            {"fields": ["action", "-at"]},
            {"fields": ["region", "-seq"]},
        ],
    }
