"""Stored evidence: photos and signatures with their derived images in GridFS."""

from __future__ import annotations

import mongoengine as me

EVIDENCE_KINDS = ("photo", "signature")


class Evidence(me.Document):
    """One uploaded photo or signature; files are GridFS ids keyed by content hash."""

    kind = me.StringField(required=True, choices=EVIDENCE_KINDS)
    # What it belongs to: ("inspection", id), ("rectification_finding", id), ...
    owner_type = me.StringField(required=True)
    owner_id = me.StringField(required=True)
    item_id = me.StringField()
    client_id = me.StringField(required=True)
    client_key = me.StringField(required=True)  # owner_type:owner_id:client_id (idempotency, unique with the region)
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    team = me.ListField(me.StringField())  # inspector ids allowed to read it besides office and institution
    uploaded_by = me.StringField(required=True)
    uploaded_at = me.DateTimeField(required=True)
    mime = me.StringField(required=True)
    size = me.IntField(required=True)
    width = me.IntField()
    height = me.IntField()
    sha256 = me.StringField(required=True)
    phash = me.StringField()
    phash_bands = me.ListField(me.StringField())  # for index-served near-duplicate lookup
    captured_at = me.DateTimeField()
    latitude = me.FloatField()
    longitude = me.FloatField()
    gps_invalid = me.BooleanField(default=False)
    # Where the photo was taken, checked by its owner against the place (an inspection: the
    # institution and the check-in radius): metres away (None without EXIF GPS) and flag reasons.
    distance_m = me.FloatField()
    position_flags = me.ListField(me.StringField())
    reused = me.BooleanField(default=False)  # near-identical photo exists for another institution
    reused_of = me.ListField(me.StringField())
    signer_name = me.StringField(max_length=64)
    signer_role = me.StringField(max_length=64)
    original_file = me.ObjectIdField(required=True)
    display_file = me.ObjectIdField()
    thumb_file = me.ObjectIdField()
    pipeline_ms = me.FloatField()
    public = me.BooleanField(default=False)  # chosen for publication

    meta = {
        "collection": "evidence",
        "indexes": [
            {"fields": ["owner_type", "owner_id", "item_id"]},
            {"fields": ["owner_id"]},  # a page's photo counts, joined by owner id (inspect_api.batched)
            {"fields": ["phash_bands"]},
            {"fields": ["sha256"]},
            {"fields": ["institution_id", "-uploaded_at"]},
            {"fields": ["region", "client_key"], "unique": True},
            {"fields": ["client_key"]},  # look-up of a replayed upload
        ],
    }
