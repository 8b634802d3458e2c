"""Sessions (issue #13 items 1, 2, 4): logout ends the session, a retried refresh keeps the phone
logged in, and password spraying from one address is slowed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask_jwt_extended import decode_token

from inspect_api.auth import sessions
from inspect_api.auth.models import RefreshToken, User
from tests.conftest import TEST_PASSWORD, assert_error


def _login(client, username, **environ: str):
    r = client.post("/api/v1/auth/login", json={"username": username, "password": TEST_PASSWORD},
                    environ_base=environ)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _bearer(pair) -> dict[str, str]:
    return {"Authorization": "Bearer " + pair["access_token"]}


class Clock:
    """``utcnow`` of the auth routes, set by the test (never ahead of real time: tokens carry nbf)."""

    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr("inspect_api.auth.routes.utcnow", c)
    return c


# ------------------------------------------------------------------ 1. logout ends the session

def test_logout_ends_the_access_tokens_of_that_login_at_once(client, make_user):
    make_user("inspector", username="ivy")
    phone, laptop = _login(client, "ivy"), _login(client, "ivy")
    assert client.get("/api/v1/me", headers=_bearer(phone)).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]}).status_code == 204
    assert_error(client.get("/api/v1/me", headers=_bearer(phone)), 401, "TOKEN_REVOKED")
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}), 401)
    # The other login of the same user goes on.
    assert client.get("/api/v1/me", headers=_bearer(laptop)).status_code == 200
    # Logging out twice is harmless.
    assert client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]}).status_code == 204


def test_access_tokens_from_refreshes_of_the_session_die_with_it(client, make_user):
    make_user("inspector", username="jon")
    first = _login(client, "jon")
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    assert decode_token(first["access_token"])["sid"] == decode_token(second["access_token"])["sid"]
    client.post("/api/v1/auth/logout", json={"refresh_token": second["refresh_token"]})
    for pair in (first, second):
        assert_error(client.get("/api/v1/me", headers=_bearer(pair)), 401, "TOKEN_REVOKED")


def test_a_logout_handled_by_another_api_process_is_honoured_at_the_next_request(client, make_user):
    """Another gunicorn worker's logout reaches this process only through the store: the session's
    revocation is written to the user document, which every authenticated request reads anyway."""
    make_user("inspector", username="kay")
    pair = _login(client, "kay")
    assert client.get("/api/v1/me", headers=_bearer(pair)).status_code == 200  # this process has seen the user
    claims = decode_token(pair["refresh_token"])
    until = int((datetime.now(timezone.utc) + timedelta(minutes=15)).timestamp())
    User.objects(id=claims["sub"]).update_one(push__revoked_sessions=f"{until:010d}:{claims['fam']}")  # its write
    assert_error(client.get("/api/v1/me", headers=_bearer(pair)), 401, "TOKEN_REVOKED")


def test_revocations_are_pruned_after_one_access_token_lifetime_and_bounded(app, make_user, monkeypatch):
    user = make_user("inspector", username="lea")
    keep = timedelta(minutes=15)
    t0 = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
    for n in range(3):
        sessions.revoke_session(str(user.id), f"family-{n}", now=t0, keep=keep)
    def sids():
        return [entry.split(":", 1)[1] for entry in User.objects.get(id=user.id).revoked_sessions]

    assert sids() == ["family-0", "family-1", "family-2"]
    sessions.revoke_session(str(user.id), "family-3", now=t0 + keep + timedelta(seconds=1), keep=keep)
    assert sids() == ["family-3"]
    # Past the bound, every session of the user ends instead (token version bumped, list emptied).
    monkeypatch.setattr(sessions, "MAX_REVOKED_SESSIONS", 2)
    before = User.objects.get(id=user.id).token_version
    sessions.revoke_session(str(user.id), "family-4", now=t0 + keep * 2, keep=keep)
    sessions.revoke_session(str(user.id), "family-5", now=t0 + keep * 2, keep=keep)
    after = User.objects.get(id=user.id)
    assert after.token_version == before + 1 and after.revoked_sessions == []


def test_a_logins_first_refresh_token_is_stored_at_its_first_use_and_a_logout_bars_it_for_good(client, make_user):
    """A login writes no refresh token; the first refresh stores it (used) with its successor.  A login that
    logs out before ever refreshing stores it revoked: once the session's entry on the user is pruned (one
    access-token lifetime later), the token still opens nothing."""
    make_user("inspector", username="pia")
    pair = _login(client, "pia")
    claims = decode_token(pair["refresh_token"])
    assert claims["jti"] == claims["fam"] and RefreshToken.objects.count() == 0
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert new.status_code == 200
    first = RefreshToken.objects.get(jti=claims["jti"])
    assert first.used_at is not None and first.successor == decode_token(new.get_json()["refresh_token"])["jti"]
    assert RefreshToken.objects.count() == 2

    other = _login(client, "pia")
    assert client.post("/api/v1/auth/logout", json={"refresh_token": other["refresh_token"]}).status_code == 204
    barred = RefreshToken.objects.get(jti=decode_token(other["refresh_token"])["jti"])
    assert barred.revoked_at is not None and barred.used_at is None
    User.objects(username="pia").update_one(set__revoked_sessions=[])  # one access-token lifetime later
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}), 401,
                 "REFRESH_TOKEN_REUSED")
    # the first login goes on
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": new.get_json()["refresh_token"]}).status_code == 200


# ------------------------------------------------------------------ 2. refresh grace window

def test_a_retried_refresh_within_the_grace_window_gets_the_same_pair(client, make_user, clock):
    make_user("inspector", username="max")
    pair = _login(client, "max")
    clock.now = datetime.now(timezone.utc) - timedelta(seconds=20)
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    clock.now += timedelta(seconds=19)  # the response was lost; the phone retries
    retry = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert retry.status_code == 200
    assert retry.get_json()["access_token"] == first.get_json()["access_token"]
    assert retry.get_json()["refresh_token"] == first.get_json()["refresh_token"]
    assert RefreshToken.objects.count() == 2  # the login's token and one successor, stored once
    # The phone goes on with the pair it finally received.
    assert client.get("/api/v1/me", headers=_bearer(retry.get_json())).status_code == 200
    nxt = client.post("/api/v1/auth/refresh", json={"refresh_token": retry.get_json()["refresh_token"]})
    assert nxt.status_code == 200


def test_reuse_after_the_grace_window_still_revokes_the_whole_login(client, make_user, clock):
    make_user("inspector", username="ned")
    pair = _login(client, "ned")
    clock.now = datetime.now(timezone.utc) - timedelta(seconds=31)
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).get_json()
    clock.now += timedelta(seconds=31)
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401,
                 "REFRESH_TOKEN_REUSED")
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}), 401)
    assert_error(client.get("/api/v1/me", headers=_bearer(new)), 401, "TOKEN_REVOKED")


def test_reuse_after_the_successor_was_used_is_theft_even_within_the_window(client, make_user):
    make_user("inspector", username="ola")
    pair = _login(client, "ola")
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).get_json()
    newer = client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}).get_json()
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401,
                 "REFRESH_TOKEN_REUSED")
    assert_error(client.get("/api/v1/me", headers=_bearer(newer)), 401, "TOKEN_REVOKED")


def test_the_grace_window_is_configurable(app_factory, make_user):
    app = app_factory(refresh_grace_seconds=0)
    with app.app_context():
        from inspect_api.auth import passwords
        from inspect_api.clock import utcnow

        User(username="pia", password_hash=passwords.hash_password(TEST_PASSWORD), role="inspector",
             region="370302", created_at=utcnow()).save()
        client = app.test_client()
        pair = _login(client, "pia")
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200
        assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401,
                     "REFRESH_TOKEN_REUSED")


def test_a_retry_after_a_password_change_is_refused(client, make_user, clock):
    user = make_user("inspector", username="quin")
    pair = _login(client, "quin")
    clock.now = datetime.now(timezone.utc) - timedelta(seconds=5)
    client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    User.objects(id=user.id).update_one(inc__token_version=1)
    clock.now += timedelta(seconds=3)
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401,
                 "TOKEN_REVOKED")


# ------------------------------------------------------------------ 4. password spraying

def test_spraying_many_usernames_from_one_address_is_slowed(client, make_user):
    make_user("inspector", username="real_user")
    for n in range(30):
        assert_error(client.post("/api/v1/auth/login", json={"username": f"guess{n}", "password": "Winter2026!"}),
                     401, "INVALID_CREDENTIALS")
    refused = client.post("/api/v1/auth/login", json={"username": "real_user", "password": TEST_PASSWORD})
    assert_error(refused, 429, "TOO_MANY_REQUESTS")
    assert int(refused.headers["Retry-After"]) > 0
    # Another address is not held back, and successful logins never counted.
    assert client.post("/api/v1/auth/login", json={"username": "real_user", "password": TEST_PASSWORD},
                       environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200


def test_successful_logins_do_not_use_the_address_budget(app_factory):
    app = app_factory(login_address_max_failures=3)
    with app.app_context():
        from inspect_api.auth import passwords
        from inspect_api.clock import utcnow

        User(username="rex", password_hash=passwords.hash_password(TEST_PASSWORD), role="inspector",
             region="370302", created_at=utcnow()).save()
        client = app.test_client()
        for _ in range(5):
            _login(client, "rex")
        for n in range(3):
            assert_error(client.post("/api/v1/auth/login", json={"username": f"x{n}", "password": "y"}), 401)
        assert_error(client.post("/api/v1/auth/login", json={"username": "rex", "password": TEST_PASSWORD}), 429)
