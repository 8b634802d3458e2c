"""Inbox notifications and their channel deliveries."""

from __future__ import annotations

import mongoengine as me

CHANNELS = ("webhook", "email")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Notification(me.Document):
    """One message in one user's inbox; ``dedupe_key`` makes writing it idempotent."""

    user_id = me.StringField(required=True)
    kind = me.StringField(required=True)  # e.g. rectification.warning
    title = me.StringField(required=True)
    body = me.StringField(required=True)
    data = me.DictField()  # order_id, finding_id, step, ...
    region = me.StringField()
    dedupe_key = me.StringField(required=True)  # unique with the user (the shard key): see meta
    created_at = me.DateTimeField(required=True)
    read_at = me.DateTimeField()

    meta = {
        "collection": "notifications",
        "indexes": [
            {"fields": ["user_id", "-created_at", "-_id"]},  # the inbox, newest first
            {"fields": ["user_id", "read_at"]},
            {"fields": ["user_id", "dedupe_key"], "unique": True},
            {"fields": ["dedupe_key"]},  # the ids of a batch just written
        ],
    }


class Attempt(me.EmbeddedDocument):
    at = me.DateTimeField(required=True)
    ok = me.BooleanField(required=True)
    status_code = me.IntField()
    error = me.StringField()
    duration_ms = me.FloatField()


class Delivery(me.Document):
    """Delivery of one notification over one channel, with its log of attempts."""

    notification_id = me.StringField(required=True)
    channel = me.StringField(required=True, choices=CHANNELS)
    target = me.StringField(required=True)  # webhook URL or e-mail address
    status = me.StringField(required=True, choices=DELIVERY_STATUSES, default="pending")
    attempts = me.IntField(default=0)
    next_attempt_at = me.DateTimeField()
    attempts_log = me.EmbeddedDocumentListField(Attempt)
    created_at = me.DateTimeField(required=True)
    delivered_at = me.DateTimeField()

    meta = {
        "collection": "notification_deliveries",
        "indexes": [
            {"fields": ["notification_id", "channel"], "unique": True},
            {"fields": ["status", "next_attempt_at"]},  # the pending-deliveries query
        ],
    }
