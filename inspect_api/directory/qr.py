"""QR check-in tokens and printable posters: server-signed, versioned, re-issued to revoke old ones."""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.directory.institutions import get_institution, get_institution_by_public_id, institution_in_scope
from inspect_api.directory.models import Institution
from inspect_api.errors import Unprocessable
from inspect_api.urls import public_base_url

CHECKIN_SALT = "inspect.checkin.v1"
POSTER_SALT = "inspect.poster.v1"
POSTER_LINK_SECONDS = 3600


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def make_checkin_token(institution: Institution) -> str:
    """A server-signed token naming the institution and its current QR version."""
    return URLSafeSerializer(_secret(), salt=CHECKIN_SALT).dumps({"i": str(institution.id),
                                                                  "v": int(institution.qr_version or 1)})


def verify_checkin_token(token: str) -> Institution:
    """The institution of a valid, current check-in token; Unprocessable otherwise."""
    try:
        payload = URLSafeSerializer(_secret(), salt=CHECKIN_SALT).loads(str(token))
        institution_id, version = str(payload["i"]), int(payload["v"])
    except (BadData, KeyError, TypeError, ValueError):
        raise Unprocessable("签到二维码无效", code="CHECKIN_TOKEN_INVALID") from None
    institution = get_institution(institution_id)
    if institution is None:
        raise Unprocessable("签到二维码无效", code="CHECKIN_TOKEN_INVALID")
    if version != int(institution.qr_version or 1):
        raise Unprocessable("签到二维码已作废，请扫描机构张贴的新二维码", code="CHECKIN_TOKEN_REVOKED")
    return institution


def reissue_qr(user, institution_id: str, now: datetime) -> Institution:
    """Bump the QR version (office of the region or the institution itself): older tokens are refused."""
    institution = institution_in_scope(user, institution_id)
    Institution.objects(id=institution.id).update_one(inc__qr_version=1, set__updated_at=now)
    institution.reload()
    audit.record("institution.qr_reissue", actor=actor_of(user), target_type="institution",
                 target_id=str(institution.id), region=institution.region,
                 data={"qr_version": institution.qr_version}, now=now)
    return institution


def public_url(institution: Institution) -> str:
    base = public_base_url()
    return f"{base}/p/institutions/{institution.public_id}"


def qr_payload(institution: Institution) -> str:
    """What the poster's QR code holds: the public page URL carrying the check-in token."""
    return f"{public_url(institution)}?t={make_checkin_token(institution)}"


def token_from_payload(payload: str) -> str:
    """The check-in token inside a scanned QR payload (or the payload itself when it is a bare token)."""
    match = re.search(r"[?&]t=([^&#]+)", payload or "")
    return match.group(1) if match else payload


def poster_key(institution: Institution) -> str:
    """A short-lived key that opens the printable poster (which shows the check-in token)."""
    return URLSafeTimedSerializer(_secret(), salt=POSTER_SALT).dumps(
        {"p": institution.public_id, "v": int(institution.qr_version or 1)})


def poster_institution(public_id: str, key: str | None, *, max_age: int = POSTER_LINK_SECONDS) -> Institution | None:
    """The institution whose poster ``key`` opens, or None (unknown, expired, forged or re-issued since)."""
    institution = get_institution_by_public_id(public_id)
    if institution is None or not key:
        return None
    try:
        payload = URLSafeTimedSerializer(_secret(), salt=POSTER_SALT).loads(key, max_age=max_age)
    except BadData:
        return None
    if payload.get("p") != institution.public_id or payload.get("v") != int(institution.qr_version or 1):
        return None
    return institution
