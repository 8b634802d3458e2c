"""Published results, the publication-deadline tracker and notices (问题通报).

A :class:`PublishedResult` holds the frozen public snapshot of one submitted
inspection (what the preview showed, after redaction) plus the live link
(``order_id``) through which rectification progress is read at render time.
A :class:`PublicationDeadline` tracks the 20-working-day deadline from an
inspection's conclusion to its publication and records the escalation
ladder's steps exactly once (atomic conditional updates on ``step_codes``).
A :class:`Notice` is an office's notice of problems, numbered per office and
year through :class:`NoticeCounter` (atomic ``$inc``).
"""

from __future__ import annotations

import mongoengine as me

NOTICE_STATUSES = {"draft": "草稿", "published": "已发布", "retracted": "已撤回"}


class PublishedResult(me.Document):
    """The public record of one inspection's result (one per inspection)."""

    inspection_id = me.StringField(required=True)  # one result per inspection: unique with the region
    code = me.StringField(required=True)  # the inspection's human code
    institution_id = me.StringField(required=True)
    institution_public_id = me.StringField()
    institution_kind = me.StringField()
    region = me.StringField(required=True)
    inspected_on = me.DateField(required=True)  # business date of the conclusion
    concluded_at = me.DateTimeField(required=True)
    grade = me.StringField()
    score = me.FloatField()
    order_id = me.StringField()  # live link to the rectification order
    snapshot = me.DictField(required=True)  # frozen public content (redacted)
    photo_ids = me.ListField(me.StringField())  # photos explicitly chosen to be public
    # The office's redaction choices at publication, applied again when a correction refreshes the snapshot.
    # Internal: never part of a public view.  include_notes is None for results published before it existed.
    redact_terms = me.ListField(me.StringField())
    include_notes = me.BooleanField()
    published_at = me.DateTimeField(required=True)
    published_by = me.StringField(required=True)
    deadline = me.DateField()  # the publication deadline it met (or missed)
    late = me.BooleanField(default=False)
    corrected_at = me.DateTimeField()  # last refresh after a correction of the inspection record
    revised_at = me.DateTimeField()  # last change of the office's choices (photos, masked terms, notes)

    meta = {
        "collection": "published_results",
        "indexes": [
            {"fields": ["-published_at", "-_id", "region"]},  # public list: newest first, region range on the keys
            {"fields": ["region", "-published_at"]},
            {"fields": ["institution_kind", "-published_at"]},
            {"fields": ["grade", "-published_at"]},
            {"fields": ["institution_id", "-published_at", "-_id"]},  # an institution's results
            {"fields": ["inspected_on"]},
            {"fields": ["-inspected_on", "-published_at", "-_id", "region"]},  # public pages: by inspection date
            {"fields": ["institution_id", "-inspected_on", "-published_at", "-_id"]},
            {"fields": ["region", "inspection_id"], "unique": True},
            {"fields": ["inspection_id"]},
        ],
    }


class StepRecord(me.EmbeddedDocument):
    code = me.StringField(required=True)
    title = me.StringField(required=True)
    due = me.DateField(required=True)
    at = me.DateTimeField(required=True)
    offset_working_days = me.IntField()  # working days from the deadline (negative = before)
    recipients = me.ListField(me.StringField())
    notification_ids = me.ListField(me.StringField())


class PublicationDeadline(me.Document):
    """The publication deadline of one submitted inspection and its escalation record."""

    inspection_id = me.StringField(required=True)  # unique with the region
    code = me.StringField()
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    concluded_at = me.DateTimeField(required=True)
    deadline = me.DateField(required=True)  # last working day on which publication is on time
    published_at = me.DateTimeField()
    steps = me.EmbeddedDocumentListField(StepRecord)
    step_codes = me.ListField(me.StringField())
    next_step_due = me.DateField()  # None once published or the ladder is done
    level = me.StringField()
    overdue = me.BooleanField(default=False)
    notify_pending = me.BooleanField()
    pending_steps = me.ListField(me.StringField())
    created_at = me.DateTimeField(required=True)

    meta = {
        "collection": "publication_deadlines",
        "indexes": [
            {"fields": ["next_step_due"], "sparse": True},
            {"fields": ["notify_pending"], "sparse": True},
            {"fields": ["region", "overdue"]},
            {"fields": ["published_at", "deadline", "_id", "region"]},  # office's pending list, earliest deadline first
            {"fields": ["region", "inspection_id"], "unique": True},
            {"fields": ["inspection_id"]},
        ],
    }


class NoticeItem(me.EmbeddedDocument):
    """One finding included in a notice, frozen when the notice is published (live status read at render)."""

    finding_id = me.StringField(required=True)
    order_id = me.StringField()
    order_number = me.StringField()
    institution_id = me.StringField()
    institution_name = me.StringField()
    institution_public_id = me.StringField()
    region = me.StringField()
    item_text = me.StringField()
    clause = me.StringField()
    severity = me.StringField()
    deadline = me.DateField()
    overdue = me.BooleanField(default=False)
    status = me.StringField()


class Notice(me.Document):
    """An office's notice of problems (问题通报)."""

    office_region = me.StringField(required=True)  # the drafting office's region
    region = me.StringField(required=True)  # the notice's scope (inside the office's subtree)
    period_from = me.DateField(required=True)
    period_to = me.DateField(required=True)
    title = me.StringField(required=True, max_length=200)
    text = me.StringField(required=True, max_length=20000)
    finding_ids = me.ListField(me.StringField())
    items = me.EmbeddedDocumentListField(NoticeItem)  # frozen at publication
    status = me.StringField(required=True, choices=tuple(NOTICE_STATUSES), default="draft")
    year = me.IntField()
    seq = me.IntField()
    number = me.StringField()  # 〔2027〕3号
    issuer = me.StringField()  # office display name at publication
    created_by = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    published_by = me.StringField()
    published_at = me.DateTimeField()
    retracted_by = me.StringField()
    retracted_at = me.DateTimeField()
    retraction_reason = me.StringField()

    meta = {
        "collection": "notices",
        "indexes": [
            {"fields": ["-created_at", "-_id", "office_region"]},  # office list: newest first, region range on the keys
            {"fields": ["-published_at", "-_id", "status"]},  # public list: newest first
            {"fields": ["finding_ids", "status"]},  # findings already cited by a published notice
            {"fields": ["number", "status"]},  # published notices left without a number (repair)
            {"fields": ["-year", "-seq", "-published_at", "-_id", "status"]},  # public list: by year and number
            {"fields": ["items.institution_id", "-year", "-seq", "-published_at", "-_id"]},  # an institution's
            {"fields": ["office_region", "year", "seq"]},  # numbers already used (counter catch-up)
        ],
    }


class NoticeCounter(me.Document):
    """Notice number sequence per office and year (atomic $inc)."""

    key = me.StringField(primary_key=True)  # "<office_region>-<year>"
    seq = me.IntField(default=0)

    meta = {"collection": "notice_counters"}
