"""Login, tokens, refresh rotation and user administration over HTTP."""

from __future__ import annotations

import base64
import json
import time

from tests.conftest import TEST_PASSWORD, assert_error


def test_login_and_me(client, make_user, login):
    user = make_user("office_admin", "370300", username="office1")
    headers = login(user)
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 200
    assert r.get_json()["username"] == "office1"
    assert "password_hash" not in r.get_json()


def test_me_unauthenticated_is_401_in_error_shape(client):
    assert_error(client.get("/api/v1/me"), 401, "UNAUTHORIZED")


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    make_user(username="alice")
    a = assert_error(client.post("/api/v1/auth/login", json={"username": "alice", "password": "nope"}), 401)
    b = assert_error(client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"}), 401)
    assert a == b


def test_deactivated_user_cannot_log_in_and_old_token_dies(client, make_user, login):
    office = make_user(username="boss")
    worker = make_user("inspector", "370302", username="worker")
    worker_headers = login(worker)
    office_headers = login(office)
    r = client.post(f"/api/v1/users/{worker.id}/deactivate", headers=office_headers)
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert_error(client.get("/api/v1/me", headers=worker_headers), 401, "TOKEN_REVOKED")
    assert_error(client.post("/api/v1/auth/login", json={"username": "worker", "password": TEST_PASSWORD}),
                 401, "ACCOUNT_DISABLED")


def _forge(claims: dict, alg: str = "none") -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."


def test_forged_alg_none_and_expired_tokens(client, make_user, login, app_factory):
    user = make_user(username="carol")
    claims = {"sub": str(user.id), "type": "access", "role": "office_admin", "region": "370300", "tv": 1,
              "iat": int(time.time()), "nbf": int(time.time()), "exp": int(time.time()) + 600, "jti": "x"}
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer " + _forge(claims)}), 401)
    good = login(user)["Authorization"].split()[1]
    head, body, sig = good.split(".")
    tampered = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims | {"region": "110000"}).encode())
                         .rstrip(b"=").decode(), sig])
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer " + tampered}), 401, "TOKEN_INVALID")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer garbage"}), 401)


def test_expired_token(app_factory, make_user):
    app = app_factory(access_token_minutes=-1)
    with app.app_context():
        from inspect_api.auth import passwords
        from inspect_api.auth.models import User
        from inspect_api.clock import utcnow
        User(username="dave", password_hash=passwords.hash_password(TEST_PASSWORD), role="inspector",
             region="370302", created_at=utcnow()).save()
        c = app.test_client()
        token = c.post("/api/v1/auth/login", json={"username": "dave", "password": TEST_PASSWORD}).get_json()
        assert_error(c.get("/api/v1/me", headers={"Authorization": "Bearer " + token["access_token"]}),
                     401, "TOKEN_EXPIRED")


def test_refresh_rotation_and_reuse_revokes_family(client, make_user):
    make_user(username="erin")
    pair = client.post("/api/v1/auth/login", json={"username": "erin", "password": TEST_PASSWORD}).get_json()
    r1 = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r1.status_code == 200
    second = r1.get_json()
    assert second["refresh_token"] != pair["refresh_token"]
    third = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).get_json()
    # Replaying a rotated token whose successor is in use is theft evidence: the family dies
    # (a retry within the grace window, successor unused, is tests/auth/test_sessions.py).
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
                 401, "REFRESH_TOKEN_REUSED")
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]}), 401)
    # An access token cannot be used as a refresh token.
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": second["access_token"]}), 401)


def test_logout_revokes_refresh(client, make_user):
    make_user(username="fay")
    pair = client.post("/api/v1/auth/login", json={"username": "fay", "password": TEST_PASSWORD}).get_json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)


def test_login_throttled_after_five_failures(client, make_user):
    make_user(username="gus")
    for _ in range(5):
        assert_error(client.post("/api/v1/auth/login", json={"username": "gus", "password": "bad"}), 401)
    err = client.post("/api/v1/auth/login", json={"username": "gus", "password": TEST_PASSWORD})
    assert_error(err, 429, "TOO_MANY_REQUESTS")
    assert int(err.headers["Retry-After"]) > 0
    # Another username from the same IP is not blocked.
    make_user(username="hal")
    assert client.post("/api/v1/auth/login", json={"username": "hal", "password": TEST_PASSWORD}).status_code == 200


def test_bad_login_bodies(client):
    assert_error(client.post("/api/v1/auth/login", data="{not json", content_type="application/json"),
                 400, "MALFORMED_JSON")
    err = assert_error(client.post("/api/v1/auth/login", json={"username": {"$gt": ""}, "password": "x"}),
                       422, "VALIDATION_ERROR")
    assert "username" in err["details"]["fields"]["json"]
    assert_error(client.post("/api/v1/auth/login", json={"username": "u" * 1_000_000, "password": "x"}), 422)
    err = assert_error(client.post("/api/v1/auth/login", json={}), 422)
    assert set(err["details"]["fields"]["json"]) == {"username", "password"}
    assert_error(client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "extra": 1}), 422)
    assert_error(client.post("/api/v1/auth/login", data="username=a", content_type="text/plain"), 415)


def test_json_endpoints_refuse_every_other_body_type(client, make_user):
    make_user("office_admin", "370300", username="typed")
    for content_type, body in (("text/csv", "username,password\ntyped,x"), ("application/x-yaml", "username: typed"),
                               ("application/octet-stream", b"\x00\x01"),
                               ("application/x-www-form-urlencoded", "username=typed&password=x")):
        err = assert_error(client.post("/api/v1/auth/login", data=body, content_type=content_type), 415,
                           "UNSUPPORTED_MEDIA_TYPE")
        assert err["details"]["expected"] == "application/json"
    multipart = client.post("/api/v1/auth/login", data={"username": "typed", "password": "x"},
                            content_type="multipart/form-data")
    assert_error(multipart, 415, "UNSUPPORTED_MEDIA_TYPE")
    ok = client.post("/api/v1/auth/login", data='{"username": "typed", "password": "Passw0rd!23"}',
                     content_type="application/json; charset=utf-8")
    assert ok.status_code == 200


def test_office_creates_user_in_region_only(client, make_user, login):
    county = make_user("office_admin", "370302", username="county")
    headers = login(county)
    ok = client.post("/api/v1/users", headers=headers, json={
        "username": "insp1", "password": "Secret123", "role": "office_admin", "region": "370302"})
    assert ok.status_code == 201, ok.get_json()
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "insp2", "password": "Secret123", "role": "office_admin", "region": "370400"}),
        403, "REGION_OUT_OF_SCOPE")
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "insp3", "password": "Secret123", "role": "office_admin", "region": "370300"}),
        403, "REGION_OUT_OF_SCOPE")
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "insp1", "password": "Secret123", "role": "office_admin", "region": "370302"}), 409)
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "insp4", "password": "short", "role": "office_admin", "region": "370302"}), 422)
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "insp5", "password": "Secret123", "role": "superuser", "region": "370302"}), 422)


def test_inspector_cannot_administer_users(client, make_user, login):
    insp = make_user("inspector", "370302", username="ivan")
    headers = login(insp)
    assert_error(client.get("/api/v1/users", headers=headers), 403, "ROLE_FORBIDDEN")
    assert_error(client.post("/api/v1/users", headers=headers, json={
        "username": "x1", "password": "Secret123", "role": "office_admin", "region": "370302"}), 403)


def test_user_list_is_scoped_and_paged(client, make_user, login):
    city = make_user("office_admin", "370300", username="city")
    county = make_user("office_admin", "370302", username="countyb")
    make_user("inspector", "370302", username="in_a")
    other = make_user("inspector", "370402", username="in_far")
    r = client.get("/api/v1/users?per_page=2", headers=login(city))
    body = r.get_json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["per_page"] == 2
    names = {u["username"] for u in client.get("/api/v1/users", headers=login(county)).get_json()["items"]}
    assert names == {"countyb", "in_a"}
    assert_error(client.get(f"/api/v1/users/{other.id}", headers=login(city)), 404)
    assert_error(client.get(f"/api/v1/users/{city.id}", headers=login(county)), 404)
    assert_error(client.get("/api/v1/users/not-an-id", headers=login(city)), 404)
    assert_error(client.get("/api/v1/users?per_page=1000", headers=login(city)), 422)


def test_reset_and_change_password_revoke_tokens(client, make_user, login):
    office = make_user(username="ops")
    worker = make_user("inspector", "370302", username="jill")
    old = login(worker)
    r = client.post(f"/api/v1/users/{worker.id}/reset-password", headers=login(office),
                    json={"new_password": "NewPass123"})
    assert r.status_code == 200
    assert_error(client.get("/api/v1/me", headers=old), 401, "TOKEN_REVOKED")
    new = login("jill", "NewPass123")
    assert client.post("/api/v1/me/password", headers=new,
                       json={"old_password": "NewPass123", "new_password": "Other4567"}).status_code == 204
    assert_error(client.get("/api/v1/me", headers=new), 401)
    assert_error(client.post("/api/v1/me/password", headers=login("jill", "Other4567"),
                             json={"old_password": "wrong", "new_password": "Other4567x"}), 403)


def test_user_search_matches_literal_text(client, make_user, login):
    office = make_user(username="boss.city")
    make_user("office_admin", "370302", username="zhang.wei")
    make_user("office_admin", "370302", username="zhangxwei")
    names = {u["username"] for u in client.get("/api/v1/users?q=zhang.wei", headers=login(office)).get_json()["items"]}
    assert names == {"zhang.wei"}
