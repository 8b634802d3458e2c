"""Checklist versions (immutable once published) and random-inspection matters."""

from __future__ import annotations

import mongoengine as me

MATTER_CATEGORIES = {"general": "一般事项", "key": "重点事项"}


class ChecklistVersion(me.Document):
    """One version of a checklist, identified by code + version and its content hash."""

    code = me.StringField(required=True, max_length=64)
    version = me.IntField(required=True, min_value=1)
    title = me.StringField(required=True)
    standard = me.StringField()
    # site_inspection (scored on site) or desk_review (ledger spot check); from the content's ``purpose``.
    purpose = me.StringField(default="site_inspection")
    status = me.StringField(required=True, choices=("draft", "published"), default="draft")
    content = me.DictField(required=True)
    content_hash = me.StringField(required=True)
    item_count = me.IntField()
    source = me.StringField(choices=("shipped", "upload"), default="upload")
    created_by = me.StringField()
    created_at = me.DateTimeField(required=True)
    published_at = me.DateTimeField()

    meta = {
        "collection": "checklist_versions",
        "indexes": [{"fields": ["code", "version"], "unique": True}, {"fields": ["status", "code", "-version"]}],
    }


class Matter(me.Document):
    """A random-inspection matter: what may be inspected, under which basis, with which checklist."""

    code = me.StringField(required=True, unique=True, max_length=32)
    name = me.StringField(required=True, max_length=128)
    legal_basis = me.StringField(required=True, max_length=1000)
    department = me.StringField(required=True)
    category = me.StringField(required=True, choices=tuple(MATTER_CATEGORIES))
    checklist_code = me.StringField(required=True)
    active = me.BooleanField(default=True)
    created_by = me.StringField()
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {"collection": "matters", "indexes": [{"fields": ["active", "code"]}]}


class QuestionnaireVersion(me.Document):
    """One version of a satisfaction questionnaire (满意度测评问卷), immutable once published.

    Versioned like checklists (code + version, content hash of the canonical
    JSON); ``kinds`` says which institution kinds answer it.
    """

    code = me.StringField(required=True, max_length=64)
    version = me.IntField(required=True, min_value=1)
    title = me.StringField(required=True)
    kinds = me.ListField(me.StringField())
    status = me.StringField(required=True, choices=("draft", "published"), default="draft")
    content = me.DictField(required=True)
    content_hash = me.StringField(required=True)
    question_count = me.IntField()
    source = me.StringField(choices=("shipped", "upload"), default="upload")
    created_by = me.StringField()
    created_at = me.DateTimeField(required=True)
    published_at = me.DateTimeField()

    meta = {
        "collection": "questionnaire_versions",
        "indexes": [{"fields": ["code", "version"], "unique": True},
                    {"fields": ["status", "code", "-version"]},
                    {"fields": ["status", "kinds", "code", "-version"]}],
    }
