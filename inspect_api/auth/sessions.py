"""Login sessions: token pairs, rotation with a grace window, logout that ends the session at once.

A login opens a session: a refresh-token *family* whose id is also the
``sid`` of every access token issued in it.

- A login's first refresh token carries the session id as its own id and is
  stored at its first use, not at login (a login writes one document
  fewer): its first rotation inserts it, used; a second insert of it fails
  on the unique id and takes the paths below, as a used token would.
  Logout stores it revoked when it was never used, so it cannot open the
  session again later.
- Rotation (``/auth/refresh``) marks the presented refresh token used and
  issues its successor.  A phone whose refresh response was lost retries
  with the same token: within ``grace_seconds`` of the first use, and while
  the successor is unused, it gets the *same* pair again (tokens are
  derived deterministically, see :mod:`inspect_api.auth.tokens`; nothing
  secret is stored).  After the window, or once the successor has been
  used, presenting it again is theft evidence: the whole session is revoked.
- Logout (and theft detection) revokes the family's refresh tokens and
  records the session id on the user for one access-token lifetime.  Every
  authenticated request already reads its user (``auth.access``), so the
  session's access tokens are refused at once in every process, at no extra
  database read.  The list is pruned at each logout and bounded: past
  ``MAX_REVOKED_SESSIONS`` live entries the user's token version is bumped
  instead, which ends all their sessions.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from mongoengine.errors import NotUniqueError

from inspect_api.audit import service as audit
from inspect_api.audit.service import Actor
from inspect_api.auth import tokens
from inspect_api.auth.models import RefreshToken, User
from inspect_api.auth.service import find_user
from inspect_api.clock import as_utc
from inspect_api.errors import Unauthorized

MAX_REVOKED_SESSIONS = 50
DEFAULT_GRACE_SECONDS = 30


def _whole_seconds(now: datetime) -> datetime:
    return as_utc(now).replace(microsecond=0)


def issue_tokens(user: User, *, now: datetime, family: str | None = None, jti: str | None = None,
                 refresh_days: int = 30) -> dict[str, Any]:
    """The pair of refresh token ``jti`` in session ``family`` as of ``now`` (new login: both new).

    The same arguments give the same pair; the refresh token is stored once (a new login's first one at
    its first use: :func:`rotate`).
    """
    issued = _whole_seconds(now)
    lifetime = timedelta(days=refresh_days)
    if family is None:  # a new login: its first refresh token's id is the session's
        family = jti = uuid.uuid4().hex
    else:
        jti = jti or uuid.uuid4().hex
        with contextlib.suppress(NotUniqueError):  # the grace replay of a rotation: already stored
            RefreshToken(jti=jti, family=family, user_id=str(user.id), issued_at=issued,
                         expires_at=issued + lifetime).save(force_insert=True)
    return {
        "access_token": tokens.access_token(user, sid=family, refresh_jti=jti, issued=issued),
        "refresh_token": tokens.refresh_token(user, jti=jti, family=family, issued=issued, lifetime=lifetime),
        "token_type": "Bearer",
        "expires_in": tokens.access_seconds(),
        "user": user,
    }


def _current_user_of(claims: dict[str, Any], family: str, now: datetime, keep: timedelta) -> User:
    user = find_user(claims["sub"])
    if user is None or not user.active or claims.get("tv") != user.token_version:
        revoke_session(claims["sub"], family, now=now, keep=keep)
        raise Unauthorized("账号状态已变更，请重新登录", code="TOKEN_REVOKED")
    return user


def _in_grace(stored: RefreshToken, now: datetime, grace_seconds: float) -> bool:
    """A retry of a rotation: first used moments ago, successor issued and not yet used or revoked."""
    if stored.used_at is None or stored.revoked_at is not None or not stored.successor:
        return False
    if (as_utc(now) - as_utc(stored.used_at)).total_seconds() > grace_seconds:
        return False
    successor = RefreshToken.objects(jti=stored.successor).only("used_at", "revoked_at").first()
    return successor is None or (successor.used_at is None and successor.revoked_at is None)


def rotate(refresh_token: str, *, now: datetime, refresh_days: int = 30, ip: str | None = None,
           grace_seconds: float = DEFAULT_GRACE_SECONDS, keep: timedelta = timedelta(minutes=15)) -> dict[str, Any]:
    """Exchange a refresh token for its successor pair (see the module docstring for retries and reuse)."""
    claims = tokens.decode_refresh(refresh_token)
    jti, family = claims["jti"], claims["fam"]
    used_at = _whole_seconds(now)
    successor = tokens.derived_id("refresh", jti)
    # Atomic: only one caller marks this token used; a concurrent retry takes the grace path.
    if jti == family:  # a login's first token: stored, used, at its first use
        first_use = _stored_first(claims, used_at=used_at, successor=successor)
    else:
        first_use = bool(RefreshToken.objects(jti=jti, used_at=None, revoked_at=None).update_one(
            set__used_at=used_at, set__successor=successor))
    if first_use:
        user = _current_user_of(claims, family, now, keep)
        return issue_tokens(user, now=used_at, family=family, jti=successor, refresh_days=refresh_days)
    stored = RefreshToken.objects(jti=jti).first()
    if stored is None:
        raise Unauthorized("刷新令牌无效", code="TOKEN_INVALID")
    if _in_grace(stored, now, grace_seconds):
        user = _current_user_of(claims, family, now, keep)
        return issue_tokens(user, now=stored.used_at, family=family, jti=stored.successor,
                            refresh_days=refresh_days)
    revoke_session(stored.user_id, stored.family, now=now, keep=keep)
    audit.record("auth.refresh_reuse", actor=Actor(id=stored.user_id, name="?", ip=ip),
                 target_type="user", target_id=stored.user_id, data={"family": stored.family}, now=now)
    raise Unauthorized("刷新令牌已被使用，已注销该登录的全部令牌，请重新登录", code="REFRESH_TOKEN_REUSED")


def _stored_first(claims: dict[str, Any], **state: Any) -> bool:
    """Store a login's first refresh token (id = session id) with ``state``; False when it is stored already."""
    try:
        RefreshToken(jti=claims["jti"], family=claims["fam"], user_id=str(claims["sub"]),
                     issued_at=datetime.fromtimestamp(claims["iat"], timezone.utc),
                     expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc), **state).save(force_insert=True)
    except NotUniqueError:
        return False
    return True


def _entry(family: str, until: datetime) -> str:
    return f"{int(until.timestamp()):010d}:{family}"


def revoke_session(user_id: str, family: str, *, now: datetime, keep: timedelta) -> None:
    """End a session: its refresh tokens are revoked and its access tokens refused from now on.

    ``keep`` is the access-token lifetime: after it no access token of the session is alive, so the
    user's entry can go.  Idempotent.
    """
    RefreshToken.objects(family=family, revoked_at=None).update(set__revoked_at=now)
    user = find_user(user_id)
    if user is None or any(entry.endswith(":" + family) for entry in user.revoked_sessions):
        return
    # Entries start with their expiry in fixed-width seconds, so "older than now" is a string comparison.
    User.objects(id=user.id).update_one(pull__revoked_sessions__lt=_entry("", now))
    room = {f"revoked_sessions.{MAX_REVOKED_SESSIONS - 1}": {"$exists": False}}
    if not User.objects(id=user.id, __raw__=room).update_one(push__revoked_sessions=_entry(family, now + keep)):
        # Too many logouts within one token lifetime: end every session of the user instead.
        User.objects(id=user.id).update_one(inc__token_version=1, set__revoked_sessions=[])


def logout(refresh_token: str, *, now: datetime, ip: str | None = None,
           keep: timedelta = timedelta(minutes=15)) -> None:
    """End the session of this refresh token: refresh and access tokens alike (idempotent)."""
    claims = tokens.decode_refresh(refresh_token, verify_exp=False)
    if claims["jti"] == claims["fam"]:  # a login's first token, perhaps never stored: bar it for good
        _stored_first(claims, revoked_at=now)
    revoke_session(claims["sub"], claims["fam"], now=now, keep=keep)
    audit.record("auth.logout", actor=Actor(id=claims["sub"], name="?", ip=ip), target_type="user",
                 target_id=claims["sub"], data={"family": claims["fam"]}, now=now)


def session_revoked(user: User, claims: dict[str, Any]) -> bool:
    """Was the session of these access-token claims logged out?  (No database read: the user is loaded.)"""
    sid = claims.get("sid")
    return bool(sid) and any(entry.endswith(":" + sid) for entry in user.revoked_sessions)
