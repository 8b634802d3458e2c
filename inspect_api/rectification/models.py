"""Rectification orders (整改通知书) and their findings.

An :class:`Order` lists the findings of one submitted inspection.  Each
:class:`Finding` is its own document so that the scheduler's sweep can select
due findings through the ``(next_step_due)`` index and apply each escalation
step with one atomic conditional update on that finding
(``step_codes != code`` and the deadline unchanged), which is what makes
repeated, overlapping or catching-up sweeps apply every step exactly once per
deadline.
"""

from __future__ import annotations

import mongoengine as me

from inspect_api import vocabulary

ORDER_STATUSES = {"open": "整改中", "closed": "已办结"}
FINDING_STATUSES = vocabulary.FINDING_STATUSES  # labels: the one vocabulary of every surface
# Statuses in which the institution owes an answer, so the escalation ladder runs.
ESCALATING = ("open", "reopened")
# Statuses in which nothing more is owed: rectified, or withdrawn by a correction of the inspection record.
SETTLED = ("accepted", "withdrawn")
SEVERITIES = vocabulary.SEVERITIES
ORDER_SOURCES = {"inspection": "现场检查", "ledger_check": "台账资料抽查"}
# What a reader may do next (rectification.views computes them per caller), code -> name.
ORDER_ACTIONS = {"acknowledge": "签收"}
FINDING_ACTIONS = {"answer": "答复", "upload_photo": "上传照片", "request_extension": "申请延期",
                   "review": "审核答复", "decide_extension": "审批延期", "require_reinspection": "要求现场复查"}
# The office's review queues (rectification.views.REVIEW_QUEUES holds their filters), code -> name.
REVIEW_QUEUE_NAMES = {"answered": "待审核的整改答复", "extension_pending": "待审批的延期申请",
                      "critical": "未办结的严重问题（可要求现场复查）", "overdue": "逾期未整改的问题"}


class Deduction(me.EmbeddedDocument):
    code = me.StringField()
    text = me.StringField()
    points = me.FloatField()


class StepRecord(me.EmbeddedDocument):
    """One escalation step that happened."""

    code = me.StringField(required=True)
    title = me.StringField(required=True)
    due = me.DateField(required=True)  # business date it fell due
    at = me.DateTimeField(required=True)  # moment of the sweep that applied it
    deadline = me.DateField(required=True)  # the deadline it was computed from
    offset_working_days = me.IntField()  # the step's offset when it was applied
    recipients = me.ListField(me.StringField())  # role keys; the notifications carry the step in their data
    notification_ids = me.ListField(me.StringField())  # legacy: written by sweeps before 2026-11, no longer


class Answer(me.EmbeddedDocument):
    """One answer of the institution and its review."""

    seq = me.IntField(required=True)
    client_id = me.StringField()  # a retried answer with the same client_id is not stored twice
    description = me.StringField(required=True)
    photo_ids = me.ListField(me.StringField())
    answered_by = me.StringField(required=True)
    answered_at = me.DateTimeField(required=True)
    late = me.BooleanField(default=False)
    decision = me.StringField(choices=("accepted", "rejected"))
    comment = me.StringField()
    reviewed_by = me.StringField()
    reviewed_at = me.DateTimeField()
    new_deadline = me.DateField()


class Extension(me.EmbeddedDocument):
    """The one extension request a finding may have."""

    reason = me.StringField(required=True)
    requested_deadline = me.DateField(required=True)
    previous_deadline = me.DateField(required=True)
    requested_by = me.StringField(required=True)
    requested_at = me.DateTimeField(required=True)
    status = me.StringField(required=True, choices=("pending", "granted", "denied"), default="pending")
    comment = me.StringField()
    decided_by = me.StringField()
    decided_at = me.DateTimeField()


class Reinspection(me.EmbeddedDocument):
    assignment_id = me.StringField(required=True)
    note = me.StringField()
    requested_by = me.StringField(required=True)
    requested_at = me.DateTimeField(required=True)


class Order(me.Document):
    """A rectification order (整改通知书) for one inspection."""

    number = me.StringField(required=True)  # unique with the region (the shard key): see meta
    inspection_id = me.StringField(required=True)  # idempotency of open_order, unique with the region
    # What found the problems: a site inspection, or a ledger spot check (inspection_id "ledger:<check id>").
    source = me.StringField(choices=tuple(ORDER_SOURCES), default="inspection")
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    lead_inspector_id = me.StringField(required=True)
    team = me.ListField(me.StringField())
    checklist_code = me.StringField()
    status = me.StringField(required=True, choices=tuple(ORDER_STATUSES), default="open")
    finding_count = me.IntField(required=True)
    concluded_at = me.DateTimeField(required=True)
    issued_at = me.DateTimeField(required=True)
    acknowledged_at = me.DateTimeField()
    acknowledged_by = me.StringField()
    closed_at = me.DateTimeField()
    updated_at = me.DateTimeField()

    meta = {
        "collection": "rectification_orders",
        "indexes": [
            {"fields": ["institution_id", "-issued_at", "-_id"]},  # lists: institution's orders, newest first
            {"fields": ["-issued_at", "-_id", "region"]},  # office list: newest first, region range on the keys
            {"fields": ["team", "-issued_at", "-_id"]},  # inspector's orders
            {"fields": ["status", "region"]},
            {"fields": ["region", "number"], "unique": True},
            {"fields": ["region", "inspection_id"], "unique": True},
            {"fields": ["inspection_id"]},
            {"fields": ["number"]},
        ],
    }


class Finding(me.Document):
    """One finding (问题) of an order with its deadline, answers and escalation record."""

    order_id = me.StringField(required=True)
    seq = me.IntField(required=True)
    order_number = me.StringField(required=True)
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    lead_inspector_id = me.StringField(required=True)
    team = me.ListField(me.StringField())
    item_id = me.StringField(required=True)
    item_text = me.StringField()
    clause = me.StringField()
    severity = me.StringField(required=True, choices=tuple(SEVERITIES))
    deductions = me.EmbeddedDocumentListField(Deduction)
    points_lost = me.FloatField(default=0)
    deadline_working_days = me.IntField(required=True)
    reinspection_required = me.BooleanField(default=False)
    note = me.StringField()
    photo_ids = me.ListField(me.StringField())  # the inspection's evidence

    status = me.StringField(required=True, choices=tuple(FINDING_STATUSES), default="open")
    deadline = me.DateField(required=True)  # business date (Asia/Shanghai), last on-time day
    original_deadline = me.DateField(required=True)
    answers = me.EmbeddedDocumentListField(Answer)
    extension = me.EmbeddedDocumentField(Extension)
    reinspection = me.EmbeddedDocumentField(Reinspection)

    # Escalation: steps that happened (all deadlines), the codes applied for the current deadline (the atomic
    # guard, cleared when the deadline moves), the next due date (sweep index).
    steps = me.EmbeddedDocumentListField(StepRecord)
    step_codes = me.ListField(me.StringField())
    next_step_due = me.DateField()  # None when nothing is pending (answered, accepted, ladder done)
    level = me.StringField()  # code of the latest step applied for the current deadline
    overdue = me.BooleanField(default=False)
    overdue_since = me.DateField()
    preselected_for_notice = me.BooleanField(default=False)
    preselected_at = me.DateTimeField()
    risk_overdue_recorded = me.BooleanField(default=False)
    claim_token = me.StringField()  # the sweep batch whose claim recorded the latest steps
    # Legacy: the mark-and-clear of sweeps before 2026-11 (declared so such documents still load).
    notify_pending = me.BooleanField()
    pending_steps = me.ListField(me.StringField())
    risk_pending = me.BooleanField()
    risk_token = me.StringField()

    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    accepted_at = me.DateTimeField()
    withdrawn_at = me.DateTimeField()
    withdrawn_reason = me.StringField()  # the correction's reason

    meta = {
        "collection": "rectification_findings",
        "indexes": [
            {"fields": ["region", "order_id", "seq"], "unique": True},
            {"fields": ["order_id", "seq"]},
            {"fields": ["next_step_due"], "sparse": True},  # the sweep
            {"fields": ["institution_id", "status"]},
            {"fields": ["region", "preselected_for_notice"]},  # notices pre-selection
            {"fields": ["region", "overdue"]},
            # The office's review queues (rectification.views.REVIEW_QUEUES), earliest deadline first.  Each
            # is partial, holding only the findings its queue asks for: on a server every write of a finding
            # rewrites its entry in each index that holds it, and the sweep writes thousands at a time.  (The
            # local SecantusDB answers wrongly from a partial index whose filter is not on its leading field,
            # so only these are partial.)
            {"fields": ["status", "deadline", "id"]},
            {"fields": ["extension.status", "deadline", "id"],
             "partialFilterExpression": {"extension.status": "pending"}},
            {"fields": ["severity", "deadline", "id"], "partialFilterExpression": {"severity": "critical"}},
            {"fields": ["overdue", "deadline", "id"], "partialFilterExpression": {"overdue": True}},
        ],
    }


class OrderCounter(me.Document):
    """Order number sequence per region and year (atomic $inc)."""

    key = me.StringField(primary_key=True)  # "<region>-<year>"
    seq = me.IntField(default=0)

    meta = {"collection": "rectification_counters"}
