"""Accounts: authentication and user administration inside a region.

Plain functions; callers pass the acting user and ``now``.  Sessions (token
pairs, rotation, logout) are :mod:`inspect_api.auth.sessions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from bson import ObjectId

from inspect_api.audit.service import Actor
from inspect_api import db
from inspect_api.audit import service as audit
from inspect_api.auth import passwords
from inspect_api.auth.models import ROLES, RefreshToken, User
from inspect_api.batched import Read
from inspect_api.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from inspect_api.db import contains
from inspect_api.scoping import in_scope, is_region_code, region_range

INVALID_CREDENTIALS = "用户名或密码错误"

# Which division codes exist is the directory's knowledge (auth cannot import
# it: the directory depends on auth); the directory registers its lookup.
_REGION_LOOKUP: Callable[[str], bool] | None = None


def register_region_lookup(lookup: Callable[[str], bool]) -> None:
    """The directory tells auth how to check that a region code exists (``region_exists``)."""
    global _REGION_LOOKUP
    _REGION_LOOKUP = lookup


def _check_region(region: str) -> None:
    """A well-formed division code that exists in the region list; 422 otherwise."""
    if not is_region_code(region):
        raise Unprocessable("行政区划代码无效", code="REGION_INVALID",
                            details={"fields": {"region": ["应为 6 位行政区划代码"]}})
    if _REGION_LOOKUP is not None and not _REGION_LOOKUP(region):
        raise Unprocessable("未知的行政区划代码", code="REGION_UNKNOWN",
                            details={"fields": {"region": ["行政区划代码不存在"]}})


def actor_of(user: User | None, ip: str | None = None) -> Actor:
    if user is None:
        return Actor(ip=ip)
    return Actor(id=str(user.id), name=user.username, region=user.region, ip=ip)


def find_user(user_id: str) -> User | None:
    """The user of an id, built from a fresh read."""
    return db.by_id(User, user_id)


# Users of access tokens, built once per stored state: (connection, id) -> (stored document, built user).
_REQUEST_USERS: dict[tuple[int, ObjectId], tuple[dict, User]] = {}
_REQUEST_USERS_MAX = 4096


def request_user(user_id: str) -> User | None:
    """The user of an access token, read on every request (deactivation, token version and logged-out sessions
    count at once) but built only when its stored document changed: building it cost more than reading it.

    The user returned may be shared by concurrent requests of the same account, so callers only read it; a
    change goes through a query (as :func:`set_password` does).  A user with unsaved changes is never reused.
    """
    oid = db.parse_oid(user_id)
    raw = User._get_collection().find_one({"_id": oid}) if oid else None
    if raw is None:
        return None
    key = (db.generation(), oid)
    cached = _REQUEST_USERS.get(key)
    if cached is not None and cached[0] == raw and not cached[1]._changed_fields:
        return cached[1]
    user = User._from_son(raw)
    if len(_REQUEST_USERS) >= _REQUEST_USERS_MAX:
        _REQUEST_USERS.clear()
    _REQUEST_USERS[key] = (raw, user)
    return user


def user_view(user: User) -> dict[str, Any]:
    """A user as :class:`~inspect_api.auth.schemas.UserSchema` dumps it, built directly (every phone and page
    asks for ``/me``): text id, timestamps as ``datetime.isoformat`` writes them."""
    created, last_login = user.created_at, user.last_login_at
    return {"id": str(user.id), "username": user.username, "role": user.role, "region": user.region,
            "display_name": user.display_name, "phone": user.phone, "email": user.email,
            "institution_id": user.institution_id, "inspector_id": user.inspector_id, "active": user.active,
            "created_at": created.isoformat() if created is not None else None,
            "last_login_at": last_login.isoformat() if last_login is not None else None}


def account_read(username: str) -> Read:
    """The read of the account a login names (by its unique username), for a caller that batches it."""
    return Read(User._get_collection_name(), {"username": username}, key="username", limit=1)


def authenticate(username: str, password: str, *, now: datetime, ip: str | None = None,
                 account: list[dict] | None = None) -> User:
    """Return the active user for these credentials or raise Unauthorized.

    ``account``: the rows of :func:`account_read` when the caller read them already (else read here)."""
    if account is None:
        user = User.objects(username=username).first()
    else:
        user = User._from_son(account[0]) if account else None
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None:
        audit.record("auth.login_failed", actor=Actor(name=username[:64], ip=ip),
                     data={"username": username[:64], "known_user": user is not None}, now=now)
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    if not user.active:
        audit.record("auth.login_refused_inactive", actor=actor_of(user, ip), target_type="user",
                     target_id=str(user.id), now=now)
        raise Unauthorized("账号已停用，请联系所属办公室", code="ACCOUNT_DISABLED")
    # One targeted update (a full save would also run the save hooks, such as the inspector link: a command more).
    changes = {"set__last_login_at": now}
    if passwords.needs_rehash(user.password_hash):
        changes["set__password_hash"] = passwords.hash_password(password)
    User.objects(id=user.id).update_one(**changes)
    user.last_login_at = now
    user.password_hash = changes.get("set__password_hash", user.password_hash)
    audit.record("auth.login", actor=actor_of(user, ip), target_type="user", target_id=str(user.id), now=now)
    return user


def _check_password_policy(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise Unprocessable(f"密码长度至少 {min_length} 位", code="PASSWORD_TOO_SHORT",
                            details={"fields": {"password": [f"至少 {min_length} 位"]}})
    if password.isdigit() or password.isalpha():
        raise Unprocessable("密码须同时包含字母和数字", code="PASSWORD_TOO_WEAK",
                            details={"fields": {"password": ["须同时包含字母和数字"]}})


def require_office(actor: User) -> None:
    if actor.role != "office_admin":
        raise Forbidden("仅办公室管理员可以管理用户", code="ROLE_FORBIDDEN")


def create_user(actor: User, data: dict[str, Any], *, now: datetime, min_length: int = 8,
                link_check=None) -> User:
    """Create a user inside the actor's region subtree.

    ``link_check(role, region, institution_id, inspector_id)`` (optional)
    validates links to directory entries and may raise a DomainError.
    """
    require_office(actor)
    region = data["region"]
    _check_region(region)
    if not in_scope(actor.region, region):
        raise Forbidden("不能在本辖区以外创建用户", code="REGION_OUT_OF_SCOPE")
    if data["role"] not in ROLES:
        raise Unprocessable("角色无效", code="ROLE_INVALID")
    _check_password_policy(data["password"], min_length)
    if User.objects(username=data["username"]).first():
        raise Conflict("用户名已存在", code="USERNAME_TAKEN")
    if link_check is not None:
        link_check(data["role"], region, data.get("institution_id"), data.get("inspector_id"))
    user = User(
        username=data["username"], password_hash=passwords.hash_password(data["password"]),
        role=data["role"], region=region, display_name=data.get("display_name"),
        phone=data.get("phone"), email=data.get("email"),
        institution_id=data.get("institution_id"), inspector_id=data.get("inspector_id"),
        created_at=now, updated_at=now, created_by=str(actor.id),
    )
    user.save()
    audit.record("user.create", actor=actor_of(actor), target_type="user", target_id=str(user.id),
                 region=region, data={"username": user.username, "role": user.role, "region": region}, now=now)
    return user


def user_in_scope(actor: User, user_id: str) -> User:
    """The user with this id inside the actor's region, else NotFound (ids cannot be probed)."""
    require_office(actor)
    user = find_user(user_id)
    if user is None or not in_scope(actor.region, user.region):
        raise NotFound("用户不存在", code="USER_NOT_FOUND")
    return user


def list_users(actor: User, *, role: str | None = None, region: str | None = None,
               q: str | None = None, active: bool | None = None):
    require_office(actor)
    if region and not in_scope(actor.region, region):
        return User.objects.none()
    query = User.objects(__raw__={"region": region_range(region or actor.region)})
    if role:
        query = query.filter(role=role)
    if active is not None:
        query = query.filter(active=active)
    if q:
        query = query.filter(__raw__={"username": contains(q[:64])})
    # By region, then username: the (region, username) index bounds the range, orders the page, holds the search.
    return query.order_by("region", "username").hint([("region", 1), ("username", 1)])


def deactivate(actor: User, user_id: str, *, now: datetime) -> User:
    user = user_in_scope(actor, user_id)
    if user.id == actor.id:
        raise Conflict("不能停用自己的账号", code="CANNOT_DEACTIVATE_SELF")
    User.objects(id=user.id).update_one(set__active=False, inc__token_version=1, set__updated_at=now)
    RefreshToken.objects(user_id=str(user.id), revoked_at=None).update(set__revoked_at=now)
    audit.record("user.deactivate", actor=actor_of(actor), target_type="user", target_id=str(user.id),
                 region=user.region, now=now)
    user.reload()
    return user


def reactivate(actor: User, user_id: str, *, now: datetime) -> User:
    user = user_in_scope(actor, user_id)
    User.objects(id=user.id).update_one(set__active=True, set__updated_at=now)
    audit.record("user.reactivate", actor=actor_of(actor), target_type="user", target_id=str(user.id),
                 region=user.region, now=now)
    user.reload()
    return user


def set_password(user: User, new_password: str, *, now: datetime, min_length: int = 8) -> None:
    """Store a new password and revoke every token issued before."""
    _check_password_policy(new_password, min_length)
    User.objects(id=user.id).update_one(set__password_hash=passwords.hash_password(new_password),
                                        inc__token_version=1, set__updated_at=now)
    RefreshToken.objects(user_id=str(user.id), revoked_at=None).update(set__revoked_at=now)


def reset_password(actor: User, user_id: str, new_password: str, *, now: datetime, min_length: int = 8) -> User:
    user = user_in_scope(actor, user_id)
    set_password(user, new_password, now=now, min_length=min_length)
    user.reload()
    audit.record("user.reset_password", actor=actor_of(actor), target_type="user", target_id=str(user.id),
                 region=user.region, now=now)
    return user


def change_own_password(user: User, old_password: str, new_password: str, *, now: datetime,
                        min_length: int = 8) -> None:
    if not passwords.verify_password(user.password_hash, old_password):
        raise Forbidden("原密码错误", code="INVALID_CREDENTIALS")
    set_password(user, new_password, now=now, min_length=min_length)
    audit.record("user.change_password", actor=actor_of(user), target_type="user", target_id=str(user.id),
                 region=user.region, now=now)


def create_admin(username: str, password: str, region: str, *, now: datetime, min_length: int = 8) -> User:
    """Bootstrap the first office admin (CLI); no acting user."""
    _check_region(region)
    _check_password_policy(password, min_length)
    if User.objects(username=username).first():
        raise Conflict("用户名已存在", code="USERNAME_TAKEN")
    user = User(username=username, password_hash=passwords.hash_password(password), role="office_admin",
                region=region, display_name=username, created_at=now, updated_at=now, created_by="cli")
    user.save()
    audit.record("user.create", actor=Actor(name="cli"), target_type="user", target_id=str(user.id),
                 region=region, data={"username": username, "role": "office_admin", "region": region}, now=now)
    return user
