"""Ledger spot checks (台账资料抽查): one document review of one drawn institution, and its uploaded files.

A :class:`LedgerCheck` is created by the draw of a ``desk_review`` plan (one
per target, keyed ``draw:<draw id>:<institution id>``).  It is at once the
request to the institution (the documents each checklist item names, with a
working-day deadline), the reviewers' scores per item, and the conclusion.
Its size is bounded by its checklist (tens of items) and its ladder (a few
steps); the files live in their own collection (:class:`LedgerFile`).

States: ``requested`` (the institution uploads) → ``submitted`` (it declared
the upload complete) → ``concluded`` (the lead reviewer scored and
concluded); ``cancelled`` when the draw is cancelled before review started.
Reviewers may score once the request is submitted or its deadline passed.
"""

from __future__ import annotations

import mongoengine as me

CHECK_STATES = {"requested": "待机构提交资料", "submitted": "资料已提交待审查", "concluded": "已完成审查",
                "cancelled": "已取消"}
OPEN_STATES = ("requested", "submitted")
FILE_KINDS = ("pdf", "xlsx", "image")


class StepRecord(me.EmbeddedDocument):
    """One escalation step of the request deadline that happened."""

    code = me.StringField(required=True)
    title = me.StringField(required=True)
    due = me.DateField(required=True)
    at = me.DateTimeField(required=True)
    deadline = me.DateField(required=True)
    offset_working_days = me.IntField()
    recipients = me.ListField(me.StringField())
    notification_ids = me.ListField(me.StringField())


class LedgerCheck(me.Document):
    """One institution's ledger spot check: request, uploads (separate), scores, conclusion."""

    code = me.StringField(required=True, unique=True)  # TZ-ZB-2026-000001
    dedupe_key = me.StringField(required=True, unique=True)  # draw:<draw id>:<institution id>
    draw_id = me.StringField()
    plan_id = me.StringField()
    institution_id = me.StringField(required=True)
    institution_kind = me.StringField()
    region = me.StringField(required=True)
    team = me.ListField(me.StringField())  # reviewers (inspector ids), lead first
    checklist_code = me.StringField(required=True)
    checklist_version = me.IntField(required=True)
    content_hash = me.StringField(required=True)
    matters = me.ListField(me.StringField())
    state = me.StringField(required=True, choices=tuple(CHECK_STATES), default="requested")

    requested_at = me.DateTimeField(required=True)
    request_working_days = me.IntField(required=True)
    deadline = me.DateField(required=True)  # business date: the last day to submit on time
    submitted_at = me.DateTimeField()
    submitted_by = me.StringField()
    late = me.BooleanField(default=False)

    # Reviewers' scores by item id: {result, deductions, note, revision, by, at}; bounded by the checklist.
    scores = me.DictField()
    review_started_at = me.DateTimeField()  # the first score: from then on the team is fixed
    conclusion_started_at = me.DateTimeField()
    concluded_at = me.DateTimeField()
    concluded_by = me.StringField()
    result = me.DictField()
    findings = me.ListField(me.DictField())
    order_id = me.StringField()
    risk_recorded = me.BooleanField(default=False)
    cancelled_at = me.DateTimeField()

    # Escalation of the request deadline on the rectification ladder (see ledgers.deadlines).
    steps = me.EmbeddedDocumentListField(StepRecord)
    step_codes = me.ListField(me.StringField())
    next_step_due = me.DateField()
    level = me.StringField()
    overdue = me.BooleanField(default=False)
    notify_pending = me.BooleanField()
    pending_steps = me.ListField(me.StringField())
    risk_overdue_recorded = me.BooleanField(default=False)
    risk_pending = me.BooleanField()  # set with the claim of the first overdue step, cleared once recorded

    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "ledger_checks",
        "indexes": [
            {"fields": ["region", "-created_at", "-id"]},
            {"fields": ["institution_id", "-created_at", "-id"]},
            {"fields": ["team", "-created_at", "-id"]},
            {"fields": ["team", "state"]},
            {"fields": ["draw_id", "institution_id"]},
            # An institution's checks, newest conclusion first (its public profile joins them by institution).
            {"fields": ["institution_id", "-concluded_at", "-id"]},
            {"fields": ["next_step_due"], "sparse": True},
            {"fields": ["notify_pending"], "sparse": True},
        ],
    }


class LedgerFile(me.Document):
    """One uploaded document of a check item; the bytes live once per SHA-256 in GridFS (images as evidence)."""

    check_id = me.StringField(required=True)
    item_id = me.StringField(required=True)
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    client_key = me.StringField(required=True, unique=True)  # <check>:<item>:<client_id>: a retry is no duplicate
    name = me.StringField(max_length=200)
    kind = me.StringField(required=True, choices=FILE_KINDS)
    mime = me.StringField(required=True)
    size = me.IntField(required=True)
    sha256 = me.StringField(required=True)
    pages = me.IntField()
    sheets = me.ListField(me.StringField(max_length=64))
    file_id = me.ObjectIdField()  # GridFS id (PDF, XLSX)
    evidence_id = me.StringField()  # the photo pipeline's evidence (images)
    uploaded_by = me.StringField(required=True)
    uploaded_at = me.DateTimeField(required=True)

    meta = {
        "collection": "ledger_files",
        "indexes": [
            {"fields": ["check_id", "item_id", "uploaded_at", "id"]},
            {"fields": ["sha256"]},
        ],
    }


class LedgerCounter(me.Document):
    """Check code sequence per city prefix and year (atomic $inc)."""

    key = me.StringField(primary_key=True)
    seq = me.IntField(default=0)

    meta = {"collection": "ledger_counters"}
