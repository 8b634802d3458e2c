"""JWT access and refresh tokens (flask-jwt-extended, HS256 only).

Access tokens carry role, region and the user's ``token_version``; a token
whose version is older than the user's current one (password change,
deactivation) is refused on use.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt.exceptions import PyJWTError

from inspect_api.errors import Unauthorized


def access_seconds() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


def _claims(user) -> dict[str, Any]:
    return {"role": user.role, "region": user.region, "tv": user.token_version}


def access_token(user) -> str:
    return create_access_token(identity=str(user.id), additional_claims=_claims(user))


def refresh_token(user, *, jti: str, family: str) -> str:
    claims = _claims(user) | {"fam": family, "jti": jti}
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
