"""The audit log over HTTP for offices: region-scoped listing and the chain's verification."""

from __future__ import annotations

from inspect_api.audit.models import AuditEvent
from tests.conftest import assert_error


def _create(client, headers, username, region):
    r = client.post("/api/v1/users", headers=headers, json={"username": username, "password": "Secret123x",
                                                             "role": "office_admin", "region": region})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _actions(client, headers, **query):
    r = client.get("/api/v1/audit/events", headers=headers, query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_offices_list_the_events_of_their_region_newest_first(client, make_user, login):
    city = login(make_user("office_admin", "370300", username="city"))
    zichuan_id = _create(client, city, "zichuan", "370302")
    zhangdian_id = _create(client, city, "zhangdian", "370303")
    county = login("zichuan", "Secret123x")
    far = login(make_user("office_admin", "370400", username="far"))

    page = _actions(client, county, action="user.create")
    assert [e["target_id"] for e in page["items"]] == [zichuan_id]
    mine = _actions(client, county)
    assert {e["region"] for e in mine["items"]} == {"370302"}
    assert [e["seq"] for e in mine["items"]] == sorted((e["seq"] for e in mine["items"]), reverse=True)

    everything = _actions(client, city, action="user.create")
    assert [e["target_id"] for e in everything["items"]] == [zhangdian_id, zichuan_id]
    first = everything["items"][-1]
    assert first["actor_name"] == "city" and len(first["hash"]) == 64 and len(first["prev_hash"]) == 64
    assert _actions(client, city, target_type="user", target_id=zhangdian_id)["total"] == 1
    assert _actions(client, far, action="user.create")["total"] == 0
    assert _actions(client, city, action='{"$gt": ""}')["total"] == 0


def test_verification_names_the_first_broken_entry(client, make_user, login):
    headers = login(make_user("office_admin", "370302", username="county"))
    r = client.get("/api/v1/audit/verify", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] is True and body["checked"] == AuditEvent.objects.count() and body["broken_seq"] is None
    assert "完整" in body["message"]
    AuditEvent.objects(seq=1).update_one(set__actor_name="someone else")
    body = client.get("/api/v1/audit/verify", headers=headers).get_json()
    assert body["ok"] is False and body["broken_seq"] == 1 and "断开" in body["message"]


def test_audit_is_for_offices_only(client, make_user, login):
    inst = login(make_user("institution", "370302", username="inst"))
    assert_error(client.get("/api/v1/audit/events", headers=inst), 403, "ROLE_FORBIDDEN")
    assert_error(client.get("/api/v1/audit/verify", headers=inst), 403, "ROLE_FORBIDDEN")
    assert_error(client.get("/api/v1/audit/events"), 401)
