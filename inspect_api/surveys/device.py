"""The answering device: a signed cookie, the form token bound to it, and the keyed hashes stored with answers.

* The cookie (``yyjh_device``, HttpOnly, SameSite=Lax, signed with the server
  secret) holds a random device id and whether the device belongs to staff
  (set by ``POST /api/v1/surveys/staff-device`` from a signed-in session).
  A missing or forged cookie is a new device.
* The form token (signed, timed) binds a questionnaire page to the device and
  the institution: an answer needs both the cookie and a token issued to it,
  so another site cannot post answers through a visitor's browser (the Lax
  cookie is not sent on a cross-site POST), and a page left open too long
  asks to be reloaded.
* Stored with an answer are only HMACs of the device id and of the client
  address (salted with the quarter): enough to enforce one answer per device
  and to see bursts, useless to identify a person without the secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

COOKIE = "yyjh_device"
COOKIE_SALT = "inspect.survey.device.v1"
TOKEN_SALT = "inspect.survey.form.v1"
TOKEN_MAX_AGE = 2 * 3600


@dataclass(frozen=True)
class Device:
    id: str
    staff: bool = False
    new: bool = False


def read(secret: str, value: str | None) -> Device:
    """The device of a cookie value; a new device when it is missing or not ours."""
    data = None
    if value:
        with contextlib.suppress(BadData):  # not signed by us: a new device
            data = URLSafeSerializer(secret, salt=COOKIE_SALT).loads(value)
    device_id = str(data.get("d") or "") if isinstance(data, dict) else ""
    if 16 <= len(device_id) <= 64:
        return Device(id=device_id, staff=bool(data.get("s")))
    return Device(id=secrets.token_hex(16), new=True)


def cookie_value(secret: str, device: Device) -> str:
    return URLSafeSerializer(secret, salt=COOKIE_SALT).dumps({"d": device.id, "s": 1 if device.staff else 0})


def form_token(secret: str, device: Device, public_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT).dumps({"d": device.id, "p": public_id})


def token_problem(secret: str, token: str | None, device: Device, public_id: str) -> str | None:
    """None when ``token`` was issued to this device for this institution within the last two hours,
    else ``"expired"`` or ``"invalid"``."""
    if not token or device.new:
        return "invalid"
    try:
        data = URLSafeTimedSerializer(secret, salt=TOKEN_SALT).loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        return "expired"
    except BadData:
        return "invalid"
    if not isinstance(data, dict) or data.get("d") != device.id or data.get("p") != public_id:
        return "invalid"
    return None


def keyed_hash(secret: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts (hex, 40 characters): stored instead of device ids and addresses."""
    return hmac.new(secret.encode("utf-8"), ":".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()[:40]
