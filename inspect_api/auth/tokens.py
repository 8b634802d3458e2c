"""JWT access and refresh tokens (flask-jwt-extended, HS256 only).

Access tokens carry role, region, the user's ``token_version`` and the
session id ``sid`` (the refresh-token family of the login); a token whose
version is older than the user's current one (password change,
deactivation), or whose session was logged out, is refused on use.

A pair is a pure function of the user's claims, the session, the refresh
token's ``jti`` and the moment of issue (whole seconds): every claim that
flask-jwt-extended would otherwise draw at random (``jti``) or from the clock
(``iat``, ``nbf``, ``exp``) is given.  So a refresh retried within the grace
window gets the very same pair again without any token being stored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt.exceptions import PyJWTError

from inspect_api.errors import Unauthorized


def access_seconds() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


def derived_id(purpose: str, value: str) -> str:
    """A token id derived from another with the signing key (deterministic, unguessable)."""
    key = str(current_app.config["JWT_SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, f"{purpose}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _claims(user) -> dict[str, Any]:
    return {"role": user.role, "region": user.region, "tv": user.token_version}


def _times(issued: datetime, lifetime: timedelta) -> dict[str, int]:
    at = int(issued.timestamp())
    return {"iat": at, "nbf": at, "exp": at + int(lifetime.total_seconds())}


def access_token(user, *, sid: str, refresh_jti: str, issued: datetime) -> str:
    """The access token issued with refresh token ``refresh_jti`` of session ``sid``."""
    claims = _claims(user) | {"sid": sid, "jti": derived_id("access", refresh_jti)}
    claims |= _times(issued, current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])
    return create_access_token(identity=str(user.id), additional_claims=claims)


def refresh_token(user, *, jti: str, family: str, issued: datetime, lifetime: timedelta) -> str:
    claims = _claims(user) | {"fam": family, "jti": jti} | _times(issued, lifetime)
    return create_refresh_token(identity=str(user.id), additional_claims=claims)


def decode_refresh(token: str, *, verify_exp: bool = True) -> dict[str, Any]:
    """Decode and check a refresh token's signature, type and (optionally) expiry."""
    try:
        claims = decode_token(token, allow_expired=not verify_exp)
    except PyJWTError as exc:
        raise Unauthorized("刷新令牌无效或已过期", code="TOKEN_INVALID") from exc
    except Exception as exc:  # noqa: BLE001 - flask-jwt-extended raises its own types too
        raise Unauthorized("刷新令牌无效或已过期", code="TOKEN_INVALID") from exc
    if claims.get("type") != "refresh" or "fam" not in claims:
        raise Unauthorized("需要刷新令牌", code="TOKEN_INVALID")
    return claims
