"""Draw documents: plans (抽查计划) and draws (one commitment of a plan, holding its public record).

A plan is what an office edits; a draw is one commitment of that plan and
carries the public record of DESIGN §5 (its JSON text stored compressed, so
the download is byte-for-byte what was published).  A plan has at most one live
draw (committed, drawn or amended); a cancelled draw stays public and the plan
may then be committed again, which creates a new draw with a new commitment.

State changes are atomic conditional updates (``update_one`` with the expected
state in the filter), so two concurrent calls can never both succeed.
"""

from __future__ import annotations

import zlib

import mongoengine as me

PLAN_STATES = ("draft", "committed", "drawn", "amended", "cancelled")
DRAW_STATES = ("committed", "drawn", "amended", "cancelled")
# Draws visible to the public (every draw is, from its commitment on).
PUBLIC_DRAW_STATES = DRAW_STATES
STRATIFICATIONS = ("county", "kind", "none")
DEFAULT_CHECKLIST = "DB37T4086-2020"
# What a drawn target becomes: a site inspection (现场检查) or a ledger spot check (台账资料抽查, desk review).
PLAN_KINDS = {"site": "现场检查", "desk_review": "台账资料抽查"}
# The checklist purpose each plan kind draws with, and its default checklist.
PLAN_KIND_PURPOSES = {"site": "site_inspection", "desk_review": "desk_review"}
DEFAULT_CHECKLISTS = {"site": DEFAULT_CHECKLIST, "desk_review": "DB37T4086-2020-TZ"}


class TargetFilters(me.EmbeddedDocument):
    """Which institutions of the scope are candidates."""

    region_prefix = me.StringField(max_length=6)  # narrower than the plan's scope; None = whole scope
    kinds = me.ListField(me.StringField())
    tags = me.ListField(me.StringField())
    statuses = me.ListField(me.StringField(), default=lambda: ["active"])


class MandatoryTarget(me.EmbeddedDocument):
    """An institution that must be inspected (重点对象), with the public reason."""

    institution_id = me.StringField(required=True)
    reason = me.StringField(required=True, max_length=200)


class Plan(me.Document):
    """A random-inspection plan of an office, inside the office's region subtree."""

    name = me.StringField(required=True, max_length=128)
    kind = me.StringField(required=True, choices=tuple(PLAN_KINDS), default="site")
    region = me.StringField(required=True, regex=r"^[1-9][0-9]{5}$")  # scope: this code's subtree
    period_start = me.DateField(required=True)
    period_end = me.DateField(required=True)
    matters = me.ListField(me.StringField(max_length=64))
    checklist_code = me.StringField(required=True, default=DEFAULT_CHECKLIST)
    departments = me.ListField(me.StringField())  # inspector pool; several = joint inspection (联合抽查)
    filters = me.EmbeddedDocumentField(TargetFilters, default=TargetFilters)
    ratio = me.StringField()  # "0.100000" (exactly 6 decimals) or None
    count = me.IntField(min_value=1)  # fixed number of targets, or None
    stratification = me.StringField(required=True, choices=STRATIFICATIONS, default="county")
    min_per_stratum = me.IntField(min_value=0, default=0)
    risk_weighting = me.BooleanField(default=True)
    exclude_inspected_within_days = me.IntField(min_value=0)  # None = no exclusion
    mandatory = me.EmbeddedDocumentListField(MandatoryTarget)
    team_size = me.IntField(required=True, min_value=2, default=2)
    required_departments = me.ListField(me.StringField())
    load_cap = me.IntField(min_value=1, default=25)
    cross_region = me.BooleanField(default=False)
    no_repeat_lead = me.BooleanField(default=True)

    state = me.StringField(required=True, choices=PLAN_STATES, default="draft")
    current_draw_id = me.StringField()
    draw_count = me.IntField(default=0)
    created_by = me.StringField()
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "draw_plans",
        "indexes": [
            {"fields": ["-created_at", "-_id", "region"]},  # list: newest first, region range on the keys
            {"fields": ["region", "state", "-created_at"]},
        ],
    }


class FailedAttempt(me.EmbeddedDocument):
    """A draw attempt that failed (a team could not be filled); shown publicly with the draw."""

    public_entropy = me.StringField(required=True)
    seed = me.StringField(required=True)
    at = me.DateTimeField(required=True)
    code = me.StringField(required=True)
    message = me.StringField(required=True)
    institution_id = me.StringField()


class Draw(me.Document):
    """One commitment of a plan and, once drawn, its immutable public record."""

    plan_id = me.StringField(required=True)
    seq = me.IntField(required=True, min_value=1)  # 1 for the plan's first commitment, 2 after a cancel...
    region = me.StringField(required=True)  # the plan's scope, for scoping
    state = me.StringField(required=True, choices=DRAW_STATES, default="committed")
    # The public record (DESIGN §5 plus plan details): compact JSON text, zlib-compressed, so that
    # a province-wide plan's record (tens of MiB as text) fits in one document and every state
    # change stays one atomic update. Read it through ``record_json``.
    record_gz = me.BinaryField(required=True)
    # Copies of record facts that lists show, so lists never load ``record_gz``.
    plan_name = me.StringField()
    target_count = me.IntField()
    commitment = me.StringField(required=True, regex=r"^[0-9a-f]{64}$")
    # Secret until the draw (or a cancellation) reveals it in the record; never served before.
    nonce = me.StringField(required=True, regex=r"^[0-9a-f]{64}$")
    committed_at = me.DateTimeField(required=True)
    public_entropy = me.StringField()
    seed = me.StringField()
    drawn_at = me.DateTimeField()
    amendment_count = me.IntField(default=0)
    # Attempts that failed before the draw succeeded (or the commitment was cancelled): public, so a
    # second attempt with other entropy on the same commitment is never silent.
    failed_attempts = me.EmbeddedDocumentListField(FailedAttempt)
    cancelled_at = me.DateTimeField()
    cancel_reason = me.StringField(max_length=500)
    created_by = me.StringField()
    updated_at = me.DateTimeField()

    @property
    def record_json(self) -> str:
        """The public record as JSON text (what ``record.json`` downloads)."""
        return zlib.decompress(self.record_gz).decode("utf-8")

    meta = {
        "collection": "draws",
        "indexes": [
            {"fields": ["region", "plan_id", "seq"], "unique": True},
            {"fields": ["plan_id", "seq"]},
            {"fields": ["-committed_at", "-_id", "region"]},  # office and public lists: newest first, region on the keys
        ],
    }
