"""User accounts and refresh-token families."""

from __future__ import annotations

import mongoengine as me

ROLES = ("office_admin", "inspector", "institution")


class User(me.Document):
    """An account. ``region`` scopes office admins; links tie other roles to directories."""

    username = me.StringField(required=True, unique=True, max_length=64)
    password_hash = me.StringField(required=True)
    role = me.StringField(required=True, choices=ROLES)
    region = me.StringField(required=True, regex=r"^[1-9][0-9]{5}$")
    display_name = me.StringField(max_length=64)
    phone = me.StringField(max_length=32)
    email = me.StringField(max_length=128)
    institution_id = me.StringField()  # directory.Institution id for role=institution
    inspector_id = me.StringField()  # directory.Inspector id for role=inspector
    active = me.BooleanField(default=True)
    # Bumped on password change, reset and deactivation: older tokens stop working.
    token_version = me.IntField(default=1)
    # Sessions logged out within the last access-token lifetime, as "<until, epoch seconds, 10 digits>:<sid>"
    # (plain strings: cheap to load with the user on every request; pruned at each logout, bounded).
    revoked_sessions = me.ListField(me.StringField())
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    last_login_at = me.DateTimeField()
    created_by = me.StringField()

    meta = {
        "collection": "users",
        "indexes": [
            {"fields": ["region", "username"]},
            {"fields": ["role", "active"]},  # the daily digest's office admins
            {"fields": ["institution_id"], "sparse": True},
            {"fields": ["inspector_id"], "sparse": True},
        ],
    }


class RefreshToken(me.Document):
    """One issued refresh token; tokens of one login share a ``family``.

    Rotation marks a token used and names its ``successor``; presenting it
    again within the grace window returns the same successor pair, later (or
    once the successor has been used) it is theft evidence and revokes the
    whole family.
    """

    jti = me.StringField(required=True, unique=True)
    family = me.StringField(required=True)
    user_id = me.StringField(required=True)
    issued_at = me.DateTimeField(required=True)
    expires_at = me.DateTimeField(required=True)
    used_at = me.DateTimeField()  # whole seconds: the successor pair is issued as of this moment
    successor = me.StringField()  # jti of the refresh token this one was exchanged for
    revoked_at = me.DateTimeField()

    meta = {
        "collection": "refresh_tokens",
        "indexes": [
            {"fields": ["family"]},
            {"fields": ["user_id"]},
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
        ],
    }
