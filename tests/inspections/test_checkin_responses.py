"""Check-in (QR token + GPS) and batch sync of responses."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from inspect_api.clock import utcnow
from inspect_api.directory.qr import make_checkin_token, qr_payload
from inspect_api.directory.models import Institution
from inspect_api.inspections import answers, records
from inspect_api.inspections.models import Assignment, Inspection, ItemResponse, ResponseWrite
from tests.conftest import assert_error
from tests.inspections.helpers import ZIBO, applicable_items, cid

NOW = "2026-11-23T09:30:00+08:00"


def checkin_body(institution, *, lat=ZIBO[0], lon=ZIBO[1], token=None, accuracy=12.0):
    return {"client_id": cid(), "qr_token": token or qr_payload(institution), "latitude": lat,
            "longitude": lon, "accuracy_m": accuracy, "captured_at": datetime.now(timezone.utc).isoformat()}


def check_in(client, world, headers, **kw):
    return client.post(f"/api/v1/inspections/{world.assignment.id}/check-in", json=checkin_body(world.institution, **kw),
                       headers=headers)


def answer(item, result="pass", base=0, client_id=None, codes=None, note=None):
    return {"client_id": client_id or cid(), "item_id": item["id"], "base_revision": base,
            "client_updated_at": NOW, "result": result, "deduction_codes": codes or [], "note": note}


def test_check_in_on_site_is_not_flagged_and_is_idempotent(client, world, as_user):
    r = check_in(client, world, as_user(world.lead_user), lat=ZIBO[0] + 0.0005)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "checked_in"
    assert 40 < body["checkin"]["distance_m"] < 70
    assert body["checkin"]["flagged"] is False and body["checkin"]["qr_version"] == 1
    again = check_in(client, world, as_user(world.member_user), lat=ZIBO[0] + 0.1)
    assert again.status_code == 200 and again.get_json()["checkin"] == body["checkin"]
    assert Assignment.objects.get(id=world.assignment.id).status == "in_progress"


def test_gps_5_km_away_is_accepted_but_flagged(client, world, as_user):
    r = check_in(client, world, as_user(world.lead_user), lat=ZIBO[0] + 0.045)  # ~5.0 km north
    assert r.status_code == 200, r.get_json()
    checkin = r.get_json()["checkin"]
    assert 4900 < checkin["distance_m"] < 5100
    assert checkin["flagged"] is True and "beyond_radius" in checkin["flag_reasons"]


def test_stale_gps_fix_is_flagged(client, world, as_user):
    body = checkin_body(world.institution)
    body["captured_at"] = "2026-01-01T09:00:00+08:00"
    r = client.post(f"/api/v1/inspections/{world.assignment.id}/check-in", json=body, headers=as_user(world.lead_user))
    assert r.status_code == 200
    assert "fix_time_implausible" in r.get_json()["checkin"]["flag_reasons"]


def test_old_qr_token_is_refused(client, world, as_user):
    old = make_checkin_token(world.institution)
    Institution.objects(id=world.institution.id).update_one(inc__qr_version=1)
    assert_error(check_in(client, world, as_user(world.lead_user), token=old), 422, "CHECKIN_TOKEN_REVOKED")
    assert Inspection.objects.get(id=world.assignment.id).state == "assigned"


@pytest.mark.parametrize("token", ["forged-token", "eyJpIjoiNjU0MzIxIiwidiI6MX0.deadbeef",
                                   "http://127.0.0.1:8000/p/institutions/X?t=abc.def"])
def test_forged_qr_token_is_refused(client, world, as_user, token):
    assert_error(check_in(client, world, as_user(world.lead_user), token=token), 422, "CHECKIN_TOKEN_INVALID")


def test_qr_token_of_another_institution_is_refused(client, world, as_user):
    from tests.inspections.helpers import make_institution

    other = make_institution(utcnow(), name="另一家机构")
    assert_error(check_in(client, world, as_user(world.lead_user), token=make_checkin_token(other)),
                 422, "CHECKIN_WRONG_INSTITUTION")


def test_check_in_rejects_bad_gps_and_outsiders(client, world, as_user):
    assert_error(check_in(client, world, as_user(world.lead_user), lat=95.0), 422)
    assert_error(check_in(client, world, as_user(world.outsider_user)), 404)
    assert_error(check_in(client, world, as_user(world.institution_user)), 403)


def test_answers_and_photos_before_check_in_are_refused(client, world, as_user):
    item = applicable_items()[0]
    r = client.put(f"/api/v1/inspections/{world.assignment.id}/responses", json={"items": [answer(item)]},
                   headers=as_user(world.lead_user))
    assert_error(r, 409, "NOT_CHECKED_IN")
    assert ItemResponse.objects.count() == 0


def test_batch_sync_applied_duplicate_conflict(client, world, as_user):
    check_in(client, world, as_user(world.lead_user))
    url = f"/api/v1/inspections/{world.assignment.id}/responses"
    items = applicable_items()
    batch = [answer(items[0]), answer(items[1], "deduct", codes=[items[1]["deductions"][0]["code"]], note="记录缺失")]
    r = client.put(url, json={"items": batch}, headers=as_user(world.lead_user))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [o["outcome"] for o in body["outcomes"]] == ["applied", "applied"]
    assert body["outcomes"][1]["current"]["revision"] == 1
    # Replay of the same batch: duplicates, nothing new stored.
    replay = client.put(url, json={"items": batch}, headers=as_user(world.lead_user)).get_json()
    assert [o["outcome"] for o in replay["outcomes"]] == ["duplicate", "duplicate"]
    assert [o["revision"] for o in replay["outcomes"]] == [1, 1]
    assert ItemResponse.objects.count() == 2 and ResponseWrite.objects.count() == 2
    # The member edits item 0 from revision 1: applied (revision 2).
    edit = answer(items[0], "fail", base=1)
    r = client.put(url, json={"items": [edit]}, headers=as_user(world.member_user)).get_json()
    assert r["outcomes"][0]["outcome"] == "applied" and r["outcomes"][0]["revision"] == 2
    # The lead, offline, edits item 0 from stale revision 1: conflict with the server's version.
    stale = answer(items[0], "pass", base=1)
    r = client.put(url, json={"items": [stale]}, headers=as_user(world.lead_user)).get_json()
    outcome = r["outcomes"][0]
    assert outcome["outcome"] == "conflict"
    assert outcome["current"]["result"] == "fail" and outcome["current"]["revision"] == 2
    # A new item with base 0 that someone else already created: conflict too.
    r = client.put(url, json={"items": [answer(items[1], "pass", base=0)]}, headers=as_user(world.member_user))
    assert r.get_json()["outcomes"][0]["outcome"] == "conflict"
    assert ItemResponse.objects.get(item_id=items[1]["id"]).result == "deduct"


def test_a_queue_that_edits_an_item_twice_and_a_write_whose_record_was_lost(client, world, as_user):
    """The phone's queue may hold an item's answer and its later edit: both apply, in order.  A write applied
    before a crash lost its record is reported as a duplicate, and the rest of its batch still applies."""
    check_in(client, world, as_user(world.lead_user))
    url = f"/api/v1/inspections/{world.assignment.id}/responses"
    items = applicable_items()
    first, edit = answer(items[0]), answer(items[0], "fail", base=1, note="复核后改为不符合")
    r = client.put(url, json={"items": [first, edit, answer(items[1])]}, headers=as_user(world.lead_user)).get_json()
    assert [(o["outcome"], o["revision"]) for o in r["outcomes"]] == [("applied", 1), ("applied", 2), ("applied", 1)]
    assert ItemResponse.objects.get(item_id=items[0]["id"]).result == "fail"
    # the server applied this write, then "crashed" before recording it: the phone sends it again
    lost = answer(items[1], "fail", base=1)
    answers_of = {"items": [lost, answer(items[2]), answer(items[3], base=4)]}
    client.put(url, json={"items": [lost]}, headers=as_user(world.lead_user))
    ResponseWrite.objects(client_id=lost["client_id"]).delete()
    r = client.put(url, json=answers_of, headers=as_user(world.lead_user)).get_json()
    assert [(o["outcome"], o["revision"]) for o in r["outcomes"]] == [("duplicate", 2), ("applied", 1), ("conflict", 0)]
    assert r["outcomes"][0]["current"]["result"] == "fail" and r["outcomes"][2]["current"] is None
    assert (r["applied"], r["duplicate"], r["conflict"]) == (1, 1, 1)


def test_invalid_batch_is_refused_whole(client, world, as_user):
    check_in(client, world, as_user(world.lead_user))
    items = applicable_items()
    batch = [answer(items[0]), answer({"id": "no-such-item"}), answer(items[1], "deduct", codes=["zz"])]
    err = assert_error(client.put(f"/api/v1/inspections/{world.assignment.id}/responses", json={"items": batch},
                                  headers=as_user(world.lead_user)), 422, "RESPONSES_INVALID")
    assert {p["code"] for p in err["details"]["problems"]} == {"UNKNOWN_ITEM", "UNKNOWN_DEDUCTION"}
    assert ItemResponse.objects.count() == 0
    # An item that does not apply to a "combined" institution may only be marked not applicable.
    only_hospital = {"id": "4086-1-06"}
    err = assert_error(client.put(f"/api/v1/inspections/{world.assignment.id}/responses",
                                  json={"items": [answer(only_hospital, "pass")]}, headers=as_user(world.lead_user)),
                       422, "RESPONSES_INVALID")
    assert err["details"]["problems"][0]["code"] == "NOT_APPLICABLE_TO_KIND"
    r = client.put(f"/api/v1/inspections/{world.assignment.id}/responses",
                   json={"items": [answer(only_hospital, "na")]}, headers=as_user(world.lead_user))
    assert r.get_json()["applied"] == 1
    bad_uuid = dict(answer(items[0]), client_id="not-a-uuid")
    assert_error(client.put(f"/api/v1/inspections/{world.assignment.id}/responses", json={"items": [bad_uuid]},
                            headers=as_user(world.lead_user)), 422)


def test_outsider_and_institution_user_cannot_write(client, world, as_user):
    check_in(client, world, as_user(world.lead_user))
    url = f"/api/v1/inspections/{world.assignment.id}/responses"
    body = {"items": [answer(applicable_items()[0])]}
    assert_error(client.put(url, json=body, headers=as_user(world.outsider_user)), 404, "ASSIGNMENT_NOT_FOUND")
    assert_error(client.put(url, json=body, headers=as_user(world.institution_user)), 403)
    assert_error(client.put(url, json=body, headers=as_user(world.office_user)), 403)
    assert ItemResponse.objects.count() == 0


def test_concurrent_edits_cannot_both_win(app, world):
    """Many writers race on one item from the same base revision: exactly one applies."""
    from inspect_api.auth.models import User

    now = utcnow()
    lead = User.objects.get(id=world.lead_user.id)
    assignment = records.assignment_for(lead, str(world.assignment.id))
    inspection = records.ensure_inspection(assignment, now=now)
    Inspection.objects(id=inspection.id).update_one(set__state="checked_in")
    item = applicable_items()[0]
    answers.sync_responses(lead, str(inspection.id), [dict(answer(item), client_updated_at=datetime.now(timezone.utc))],
                           now=now)
    results = []
    barrier = threading.Barrier(8)

    def write(i):
        with app.app_context():
            barrier.wait()
            entry = dict(answer(item, "fail" if i % 2 else "pass", base=1, note=f"w{i}"),
                         client_updated_at=datetime.now(timezone.utc))
            results.append(answers.sync_responses(lead, str(inspection.id), [entry], now=now)["outcomes"][0])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(o["outcome"] for o in results)
    assert outcomes.count("applied") == 1 and outcomes.count("conflict") == 7
    assert ItemResponse.objects.get(item_id=item["id"]).revision == 2
