"""Verified access tokens are remembered per process (inspect_api.extensions.VerifiedTokenJWTManager):
a remembered token still expires on time, still goes through the user checks, and is only ever
accepted under the key that verified it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt as pyjwt

from inspect_api import extensions
from tests.conftest import TEST_PASSWORD, assert_error


def _later(minutes: int):
    """A ``datetime`` whose ``now`` is ``minutes`` ahead (the clocks of PyJWT and of the token cache)."""

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(minutes=minutes)

    return Later


def test_a_remembered_token_expires_on_time(client, make_user, login, monkeypatch):
    headers = login(make_user("inspector", region="370302", username="fay"))
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # verified once, now remembered
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    monkeypatch.setattr(extensions, "datetime", _later(24 * 60))
    monkeypatch.setattr(pyjwt.api_jwt, "datetime", _later(24 * 60))
    assert_error(client.get("/api/v1/me", headers=headers), 401, "TOKEN_EXPIRED")


def test_a_remembered_token_still_meets_the_user_checks(client, make_user, login):
    from inspect_api.auth.models import User

    user = make_user("inspector", region="370302", username="gus")
    headers = login(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    User.objects(id=user.id).update_one(inc__token_version=1)  # as a password change does
    assert_error(client.get("/api/v1/me", headers=headers), 401, "TOKEN_REVOKED")


def test_a_token_is_remembered_only_under_the_key_that_verified_it(app_factory):
    from inspect_api.auth import passwords
    from inspect_api.auth.models import User
    from inspect_api.clock import utcnow

    def token_and_client(secret: str):
        app = app_factory(secret_key=secret)
        ctx = app.app_context()
        ctx.push()
        User(username="hal", password_hash=passwords.hash_password(TEST_PASSWORD), role="inspector",
             region="370302", created_at=utcnow()).save()
        c = app.test_client()
        token = c.post("/api/v1/auth/login", json={"username": "hal", "password": TEST_PASSWORD}).get_json()
        return ctx, c, {"Authorization": "Bearer " + token["access_token"]}

    first_ctx, first, headers = token_and_client("a" * 48)
    assert first.get("/api/v1/me", headers=headers).status_code == 200
    first_ctx.pop()
    second_ctx, second, _ = token_and_client("b" * 48)
    try:
        assert_error(second.get("/api/v1/me", headers=headers), 401, "TOKEN_INVALID")
    finally:
        second_ctx.pop()


def test_tokens_without_an_end_are_not_remembered(app):
    manager = extensions.jwt
    assert manager._still_valid({"exp": datetime.now(timezone.utc).timestamp() + 60}, 0)
    assert not manager._still_valid({"exp": datetime.now(timezone.utc).timestamp() - 1}, 0)
    assert not manager._still_valid({}, 0)
    assert not manager._still_valid({"exp": datetime.now(timezone.utc).timestamp() + 60,
                                     "nbf": datetime.now(timezone.utc).timestamp() + 30}, 0)


def test_the_request_user_is_built_again_whenever_its_stored_document_changes(client, make_user, login):
    """Each request reads its user; the built user is reused only while the stored document is the same."""
    from inspect_api.auth.models import User
    from inspect_api.auth.service import request_user

    user = make_user("inspector", region="370302", username="ivy")
    first = request_user(str(user.id))
    assert request_user(str(user.id)) is first
    User.objects(id=user.id).update_one(set__display_name="艾薇")
    renamed = request_user(str(user.id))
    assert renamed is not first and renamed.display_name == "艾薇"
    renamed.display_name = "未保存的改动"  # a change made in place and never saved is not served to anyone
    again = request_user(str(user.id))
    assert again is not renamed and again.display_name == "艾薇"
    assert request_user("not-an-id") is None and request_user(str(User().id)) is None

    headers = login(user)
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "艾薇"
    User.objects(id=user.id).update_one(set__display_name="艾薇二")
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "艾薇二"
    User.objects(id=user.id).update_one(set__active=False)  # deactivated (without a token version bump)
    assert_error(client.get("/api/v1/me", headers=headers), 401, "TOKEN_REVOKED")


def test_changing_ones_own_password_ends_the_tokens_it_was_changed_with(client, make_user, login):
    user = make_user("inspector", region="370302", username="jon")
    headers = login(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    r = client.post("/api/v1/me/password", headers=headers,
                    json={"old_password": TEST_PASSWORD, "new_password": "Another-Passw0rd"})
    assert r.status_code in (200, 204), r.get_data(as_text=True)
    assert_error(client.get("/api/v1/me", headers=headers), 401, "TOKEN_REVOKED")
    r = client.post("/api/v1/auth/login", json={"username": "jon", "password": "Another-Passw0rd"})
    assert r.status_code == 200


def test_a_remembered_token_is_not_parsed_again(client, make_user, login, monkeypatch):
    """flask-jwt-extended reads the header of the token it just verified: a remembered token's header is
    the remembered one (the same as PyJWT's parse), so the token is not parsed again on each request."""
    from flask_jwt_extended import get_jwt_header, verify_jwt_in_request

    headers = login(make_user("inspector", region="370302", username="ivy"))
    token = headers["Authorization"].split()[1]
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # verified once, now remembered
    real = pyjwt.get_unverified_header
    parsed = []
    monkeypatch.setattr(pyjwt, "get_unverified_header", lambda t: parsed.append(t) or real(t))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert parsed == []
    with client.application.test_request_context("/api/v1/me", headers=headers):
        verify_jwt_in_request()
        assert get_jwt_header() == real(token) == {"alg": "HS256", "typ": "JWT"}
        get_jwt_header()["alg"] = "none"  # a caller changing its copy changes nothing remembered
        assert extensions.jwt.header_of(token) == real(token)
    assert extensions.jwt.header_of(token + "x") is None
