"""Inspection documents.

``Assignment`` is the contract draws and reviews create through the service.
``Inspection`` is the on-site record of one assignment: its ``id`` IS the
assignment's id (one inspection per assignment, created lazily on first bundle
fetch or check-in), so ``/api/v1/inspections/{id}`` accepts the assignment id
the phone already holds and the phone never needs a round trip to learn it.
Item responses live in their own collection (``ItemResponse``), one document
per (inspection, item) carrying a server ``revision``: every write is an
atomic conditional update on that revision, so two concurrent edits cannot
both win.  ``ResponseWrite`` remembers applied client writes by ``client_id``
so a replayed batch answers ``duplicate`` with the first result.
"""

from __future__ import annotations

import mongoengine as me

ASSIGNMENT_SOURCES = ("draw", "targeted")
TARGETED_REASONS = {"complaint": "投诉举报", "reinspection": "整改复查", "special": "专项检查", "other": "其他"}
ASSIGNMENT_STATUSES = ("assigned", "in_progress", "submitted", "cancelled")

INSPECTION_STATES = ("assigned", "checked_in", "submitted")
RESULTS = ("pass", "deduct", "fail", "na")
SIGNER_ROLES = {"lead": "检查组组长", "member": "检查组成员", "institution_representative": "机构负责人/代表"}
# Why a check-in is flagged, code -> what an office reads.
CHECKIN_FLAGS = {
    "beyond_radius": "签到位置超出范围",
    "low_accuracy": "定位精度不足",
    "fix_time_implausible": "定位时间异常",
    "institution_location_unknown": "机构位置未登记",
}


class Assignment(me.Document):
    """A team sent to inspect one institution, from a draw (random) or an office (targeted, 非随机)."""

    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)  # the institution's region, for scoping
    team = me.ListField(me.StringField(), required=True)  # inspector ids, lead first
    # The team's names when it was drawn or changed, same order (a list page names its team without a lookup;
    # empty when a member was unknown or the assignment predates the field: then it is named by a lookup).
    team_names = me.ListField(me.StringField())
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
    dedupe_key = me.StringField(required=True)  # unique with the region (the shard key): see meta

    meta = {
        "collection": "assignments",
        "indexes": [
            {"fields": ["team", "status", "-created_at", "-_id"]},  # my assignments of a status, newest first
            {"fields": ["team", "-created_at", "-_id"]},  # my assignments, newest first
            {"fields": ["institution_id", "-created_at"]},
            {"fields": ["region", "status"]},
            {"fields": ["-created_at", "-_id", "region"]},  # office list: newest first, region range on the keys
            {"fields": ["draw_id"], "sparse": True},
            {"fields": ["region", "dedupe_key"], "unique": True},  # idempotency, prefixed by the shard key
            {"fields": ["dedupe_key"]},  # look-up of a replayed creation
        ],
    }


class CheckIn(me.EmbeddedDocument):
    """Proof of presence: a server-verified QR token plus the phone's GPS fix."""

    inspector_id = me.StringField(required=True)
    client_id = me.StringField(required=True)
    qr_version = me.IntField(required=True)
    latitude = me.FloatField(required=True)
    longitude = me.FloatField(required=True)
    accuracy_m = me.FloatField()
    captured_at = me.DateTimeField(required=True)
    received_at = me.DateTimeField(required=True)
    distance_m = me.FloatField()  # None when the institution has no location on file
    radius_m = me.FloatField(required=True)
    flagged = me.BooleanField(required=True)
    flag_reasons = me.ListField(me.StringField())


class SignatureRef(me.EmbeddedDocument):
    """One signature on the inspection record (the image is an Evidence of kind signature)."""

    evidence_id = me.StringField(required=True)
    client_id = me.StringField(required=True)
    signer_role = me.StringField(required=True, choices=tuple(SIGNER_ROLES))
    signer_name = me.StringField(required=True)
    inspector_id = me.StringField()  # for lead/member signatures: always the uploading inspector
    uploaded_by = me.StringField(required=True)  # user id of the account that uploaded it
    uploaded_session = me.StringField()  # the login (access token's sid) it was uploaded from
    signed_at = me.DateTimeField(required=True)


class Correction(me.EmbeddedDocument):
    """A recorded change to a submitted inspection (after submission the only way to change it)."""

    client_id = me.StringField(required=True)
    at = me.DateTimeField(required=True)
    by = me.StringField(required=True)  # user id
    reason = me.StringField(required=True)
    changes = me.ListField(me.DictField())  # [{item_id, before, after}]
    score_before = me.FloatField()
    score_after = me.FloatField()
    grade_before = me.StringField()
    grade_after = me.StringField()


class Inspection(me.Document):
    """The on-site record of one assignment; ``id`` equals the assignment's id."""

    id = me.ObjectIdField(primary_key=True)
    code = me.StringField(required=True)  # e.g. ZB-2026-000123, printed on watermarks; unique with the region
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    team = me.ListField(me.StringField(), required=True)  # copy of the assignment's team, lead first
    checklist_code = me.StringField(required=True)
    checklist_version = me.IntField(required=True)
    content_hash = me.StringField()  # of the checklist version
    state = me.StringField(required=True, choices=INSPECTION_STATES, default="assigned")
    checkin = me.EmbeddedDocumentField(CheckIn)
    signatures = me.EmbeddedDocumentListField(SignatureRef)
    # Submission (resumable steps; the state flip to "submitted" is last).
    submission_started_at = me.DateTimeField()
    submitted_by = me.StringField()
    submitted_at = me.DateTimeField()
    result = me.DictField()  # {score, grade, ...} frozen at submission, re-set by corrections
    findings = me.ListField(me.DictField())
    order_id = me.StringField()
    risk_recorded = me.BooleanField(default=False)
    report = me.DictField()  # frozen report content (what the printed report shows)
    report_hash = me.StringField()  # SHA-256 of ``report``'s canonical JSON (verification QR)
    corrections = me.EmbeddedDocumentListField(Correction)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "inspections",
        "indexes": [
            {"fields": ["institution_id", "state", "-submitted_at"]},
            {"fields": ["region", "state"]},
            {"fields": ["team", "state"]},
            {"fields": ["state", "submitted_at"]},  # publication-deadline safety net
            {"fields": ["region", "code"], "unique": True},
            {"fields": ["code"]},  # look-up by code alone
        ],
    }


class ItemResponse(me.Document):
    """The current answer to one checklist item; ``revision`` increments on every applied write."""

    inspection_id = me.StringField(required=True)
    item_id = me.StringField(required=True)
    revision = me.IntField(required=True)
    result = me.StringField(required=True, choices=RESULTS)
    deduction_codes = me.ListField(me.StringField())
    note = me.StringField(max_length=2000)
    client_id = me.StringField(required=True)  # of the write that produced this revision
    client_updated_at = me.DateTimeField()
    updated_by = me.StringField(required=True)  # inspector id (or user id for corrections)
    updated_at = me.DateTimeField(required=True)
    write_token = me.StringField()  # the sync batch that wrote this revision (tells its writes from a race's)

    meta = {
        "collection": "inspection_responses",
        "indexes": [
            {"fields": ["inspection_id", "item_id"], "unique": True},
        ],
    }


class ResponseWrite(me.Document):
    """An applied client write, by ``client_id``: a replay returns this first outcome."""

    inspection_id = me.StringField(required=True)
    client_id = me.StringField(required=True)
    item_id = me.StringField(required=True)
    revision = me.IntField(required=True)
    at = me.DateTimeField(required=True)

    meta = {
        "collection": "inspection_response_writes",
        "indexes": [
            {"fields": ["inspection_id", "client_id"], "unique": True},
        ],
    }


class InspectionCounter(me.Document):
    """Sequence behind the short human code, per prefix and year (atomic $inc)."""

    key = me.StringField(primary_key=True)  # e.g. "ZB-2026"
    seq = me.IntField(default=0)

    meta = {"collection": "inspection_counters"}
