"""Inspection documents. ``Assignment`` is the contract draws and reviews create through the service."""

from __future__ import annotations

import mongoengine as me

ASSIGNMENT_SOURCES = ("draw", "targeted")
TARGETED_REASONS = {"complaint": "投诉举报", "reinspection": "整改复查", "special": "专项检查", "other": "其他"}
ASSIGNMENT_STATUSES = ("assigned", "in_progress", "submitted", "cancelled")


class Assignment(me.Document):
    """A team sent to inspect one institution, from a draw (random) or an office (targeted, 非随机)."""

    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)  # the institution's region, for scoping
    team = me.ListField(me.StringField(), required=True)  # inspector ids, lead first
    source = me.StringField(required=True, choices=ASSIGNMENT_SOURCES)
    random = me.BooleanField(required=True)
    reason = me.StringField(choices=tuple(TARGETED_REASONS))
    reason_note = me.StringField(max_length=500)
    plan_id = me.StringField()
    draw_id = me.StringField()
    parent_order_id = me.StringField()  # re-inspection (复查) of a rectification order
    matters = me.ListField(me.StringField())  # random-inspection matter codes
    checklist_code = me.StringField(required=True)
    checklist_version = me.IntField()  # fixed when the bundle is first built, if not given
    due_date = me.DateField()
    status = me.StringField(required=True, choices=ASSIGNMENT_STATUSES, default="assigned")
    created_by = me.StringField()
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    # Idempotency: one assignment per (draw, institution) or per client-supplied key.
    dedupe_key = me.StringField(required=True, unique=True)

    meta = {
        "collection": "assignments",
        "indexes": [
            {"fields": ["team", "status", "-created_at"]},
            {"fields": ["institution_id", "-created_at"]},
            {"fields": ["region", "status"]},
            {"fields": ["draw_id"], "sparse": True},
        ],
    }
