"""Reading and editing one conflict of interest (回避): GET and PATCH /api/v1/conflicts/{id}."""

from __future__ import annotations

from datetime import date

from inspect_api.audit.models import AuditEvent
from inspect_api.directory import conflicts
from inspect_api.directory.models import Conflict
from tests.conftest import assert_error


def _inspector(client, headers, **fields):
    body = {"name": "王建国", "certificate_no": "37030210001", "department": "health", "region": "370302"} | fields
    r = client.post("/api/v1/inspectors", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _conflict(client, headers, inspector, institution, **fields):
    body = {"inspector_id": inspector["id"], "institution_id": institution["id"], "reason": "relative"} | fields
    r = client.post("/api/v1/conflicts", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _fields(conflict: dict) -> dict:
    """A conflict without its timestamps (the store keeps milliseconds)."""
    return {k: v for k, v in conflict.items() if k not in ("created_at", "updated_at")}


def test_get_and_patch_reason_period_and_note(client, office, new_institution):
    h = office[1]
    inst = new_institution()
    insp = _inspector(client, h)
    c = _conflict(client, h, insp, inst, note="配偶在该机构任护士长")
    got = client.get(f"/api/v1/conflicts/{c['id']}", headers=h)
    assert got.status_code == 200 and _fields(got.get_json()) == _fields(c)

    r = client.patch(f"/api/v1/conflicts/{c['id']}", headers=h, json={
        "reason": "declared", "valid_from": "2026-01-01", "valid_until": "2026-12-31", "note": "本人申报"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["reason"], body["reason_label"], body["valid_from"], body["valid_until"], body["note"]) == \
        ("declared", "本人申报利害关系", "2026-01-01", "2026-12-31", "本人申报")
    assert body["updated_at"] and body["inspector_id"] == insp["id"] and body["institution_id"] == inst["id"]
    assert _fields(client.get(f"/api/v1/conflicts/{c['id']}", headers=h).get_json()) == _fields(body)
    # The validity period now bounds recusal.
    assert conflicts.conflict_pairs(institution_ids=[inst["id"]], on=date(2026, 6, 1)) == {(insp["id"], inst["id"])}
    assert conflicts.conflict_pairs(institution_ids=[inst["id"]], on=date(2027, 1, 2)) == set()
    event = AuditEvent.objects(action="conflict.update", target_id=c["id"]).get()
    assert event.actor_name == office[0].username and event.region == "370302"
    assert event.data["changed"]["reason"] == ["relative", "declared"]
    assert event.data["changed"]["valid_until"] == [None, "2026-12-31"]

    # Clearing the period and the note; repeating a patch changes nothing and records nothing.
    r = client.patch(f"/api/v1/conflicts/{c['id']}", headers=h, json={"valid_until": None, "note": None})
    assert r.get_json()["valid_until"] is None and r.get_json()["note"] is None
    client.patch(f"/api/v1/conflicts/{c['id']}", headers=h, json={"valid_until": None})
    assert AuditEvent.objects(action="conflict.update", target_id=c["id"]).count() == 2


def test_patch_refuses_bad_input(client, office, new_institution):
    h = office[1]
    inst = new_institution()
    insp = _inspector(client, h)
    c = _conflict(client, h, insp, inst, valid_from="2026-03-01")
    url = f"/api/v1/conflicts/{c['id']}"
    # The inspector and the institution are the conflict's identity.
    for field in ("inspector_id", "institution_id", "source", "region"):
        err = assert_error(client.patch(url, headers=h, json={field: "x"}), 422)
        assert field in err["details"]["fields"]["json"]
    assert_error(client.patch(url, headers=h, json={"reason": "grudge"}), 422)
    assert_error(client.patch(url, headers=h, json={"note": "长" * 257}), 422)
    # An end before the stored start is refused, as on create.
    assert_error(client.patch(url, headers=h, json={"valid_until": "2026-02-01"}), 422, "CONFLICT_DATES_INVALID")
    # Another conflict of the same pair with that reason already exists.
    _conflict(client, h, insp, inst, reason="other")
    assert_error(client.patch(url, headers=h, json={"reason": "other"}), 409, "CONFLICT_EXISTS")
    stored = Conflict.objects.get(id=c["id"])
    assert stored.reason == "relative" and stored.valid_until is None and stored.updated_at is None
    assert_error(client.get("/api/v1/conflicts/not-an-id", headers=h), 404, "CONFLICT_NOT_FOUND")
    assert_error(client.patch("/api/v1/conflicts/" + "0" * 24, headers=h, json={"note": "x"}), 404,
                 "CONFLICT_NOT_FOUND")


def test_automatic_employment_conflicts_are_read_only(client, office, new_institution):
    h = office[1]
    inst = new_institution()
    insp = _inspector(client, h, employment_history=[inst["id"]])
    auto = client.get(f"/api/v1/conflicts?inspector_id={insp['id']}", headers=h).get_json()["items"][0]
    assert client.get(f"/api/v1/conflicts/{auto['id']}", headers=h).get_json()["source"] == "employment_history"
    assert_error(client.patch(f"/api/v1/conflicts/{auto['id']}", headers=h, json={"valid_until": "2026-01-01"}),
                 409, "CONFLICT_FROM_EMPLOYMENT")
    assert Conflict.objects.get(id=auto["id"]).valid_until is None


def test_get_and_patch_are_region_scoped(client, office, county_office, new_institution, make_user, login):
    other = new_institution(region="370303")
    insp = _inspector(client, office[1], region="370303")
    c = _conflict(client, office[1], insp, other)
    url = f"/api/v1/conflicts/{c['id']}"
    # Zichuan's office (370302) does not see a conflict of a Zhoucun (370303) institution.
    assert_error(client.get(url, headers=county_office[1]), 404, "CONFLICT_NOT_FOUND")
    assert_error(client.patch(url, headers=county_office[1], json={"note": "越权修改"}), 404, "CONFLICT_NOT_FOUND")
    assert Conflict.objects.get(id=c["id"]).note is None
    # Zhoucun's own office does.
    zhoucun = login(make_user("office_admin", "370303", username="zhoucun_office"))
    assert client.get(url, headers=zhoucun).status_code == 200
    assert client.patch(url, headers=zhoucun, json={"note": "区县核实"}).get_json()["note"] == "区县核实"
    # Other roles are refused outright.
    inspector = login(make_user("inspector", "370303", username="insp_conflict"))
    assert_error(client.get(url, headers=inspector), 403)
    assert_error(client.patch(url, headers=inspector, json={"note": "x"}), 403)
    assert_error(client.get(url), 401)
