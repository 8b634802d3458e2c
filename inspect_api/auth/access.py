"""Authorization helpers for views: who is calling, and may they.

``login_required(*roles)`` wraps a view: it demands a valid access token of a
still-active user whose token version is current, then checks the role.
Object scoping (region prefix, own assignment, own institution) is checked by
each service, which answers NotFound for out-of-scope ids.
"""

from __future__ import annotations

import functools
from typing import Callable

from flask import g, request
from flask_jwt_extended import current_user as _jwt_current_user
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from inspect_api.audit.service import Actor
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of, request_user
from inspect_api.auth.sessions import session_revoked
from inspect_api.errors import Forbidden, Unauthorized, error_response
from inspect_api.extensions import jwt
from inspect_api.query_args import check_query

BEARER = [{"bearerAuth": []}]


def current_user() -> User:
    """The user of the verified token: the object itself (attribute reads through the library's proxy cost a
    context look-up each), or the proxy when no token was verified in this request."""
    loaded = g.get("_jwt_extended_jwt_user")
    return loaded["loaded_user"] if loaded is not None else _jwt_current_user


def current_session_id() -> str | None:
    """The login (``sid`` of the access token) the current request comes from."""
    return get_jwt().get("sid")


def client_ip() -> str | None:
    return request.remote_addr


def request_actor() -> Actor:
    """The audit actor of this request (anonymous when no valid token)."""
    try:
        verify_jwt_in_request(optional=True)
        user = _jwt_current_user
    except Exception:  # noqa: BLE001 - an invalid token is simply anonymous here
        user = None
    return actor_of(user, client_ip())


def login_required(*roles: str) -> Callable:
    """Require an access token; with ``roles``, require one of them (403 otherwise)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            user = _jwt_current_user
            if roles and user.role not in roles:
                raise Forbidden("当前角色无权执行此操作", code="ROLE_FORBIDDEN",
                                details={"required_roles": list(roles)})
            check_query()  # undeclared query parameters: 422 once the caller is known to be allowed
            return view(*args, **kwargs)

        wrapper._login_required = True  # type: ignore[attr-defined]  # query_args checks after this

        # flask-smorest reads this to document the security requirement.
        wrapper._apidoc = getattr(view, "_apidoc", {})  # type: ignore[attr-defined]
        wrapper._apidoc.setdefault("manual_doc", {}).setdefault("security", BEARER)
        wrapper._apidoc["manual_doc"]["x-roles"] = list(roles)  # documented per operation (inspect_api.apidoc)
        return wrapper

    return decorator


@jwt.user_lookup_loader
def _load_user(_header, claims):
    user = request_user(claims["sub"])
    if user is None or not user.active or claims.get("tv") != user.token_version:
        return None
    if session_revoked(user, claims):  # logged out: checked on the user just read, no extra query
        return None
    return user


def _unauthorized(code: str, message: str):
    return error_response(401, code, message)


@jwt.user_lookup_error_loader
def _lookup_error(_header, _claims):
    return _unauthorized("TOKEN_REVOKED", "账号已停用或令牌已被吊销，请重新登录")


@jwt.unauthorized_loader
def _missing(_reason):
    return _unauthorized("UNAUTHORIZED", "未登录或登录已失效")


@jwt.invalid_token_loader
def _invalid(_reason):
    return _unauthorized("TOKEN_INVALID", "令牌无效")


@jwt.expired_token_loader
def _expired(_header, _claims):
    return _unauthorized("TOKEN_EXPIRED", "令牌已过期，请刷新或重新登录")


@jwt.revoked_token_loader
def _revoked(_header, _claims):
    return _unauthorized("TOKEN_REVOKED", "令牌已被吊销")


@jwt.needs_fresh_token_loader
def _needs_fresh(_header, _claims):
    return _unauthorized("FRESH_TOKEN_REQUIRED", "需要重新登录")


@jwt.token_verification_failed_loader
def _verification_failed(_header, _claims):
    return _unauthorized("TOKEN_INVALID", "令牌无效")


def ensure(condition: bool, message: str = "没有执行此操作的权限", code: str = "FORBIDDEN") -> None:
    if not condition:
        raise Forbidden(message, code=code)


__all__ = ["login_required", "current_user", "current_session_id", "request_actor", "client_ip", "ensure", "Unauthorized"]
