"""The office's list of assignments: check-in flags, photo counts with reused evidence, submission state."""

from __future__ import annotations

from inspect_api.clock import utcnow
from inspect_api.evidence import service as evidence
from tests.inspections.helpers import ZIBO, applicable_items, jpeg, photo_form
from tests.inspections.test_checkin_responses import answer, check_in


def _listed(client, world, as_user, **query):
    r = client.get("/api/v1/assignments", query_string=query, headers=as_user(world.office_user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_unstarted_assignment_has_no_inspection_summary(client, world, as_user):
    page = _listed(client, world, as_user)
    assert page["total"] == 1 and page["items"][0]["inspection"] is None
    assert page["items"][0]["institution_name"] == world.institution.name
    other = client.get("/api/v1/assignments", headers=as_user(world.other_office_user)).get_json()
    assert other["total"] == 0


def test_flagged_check_in_and_reused_photo_are_shown(client, world, as_user):
    lead = as_user(world.lead_user)
    assert check_in(client, world, lead, lat=ZIBO[0] + 0.045).status_code == 200  # about 5 km away
    item = [i for i in applicable_items(world.institution.kind) if not i.get("veto")][0]
    r = client.put(f"/api/v1/inspections/{world.assignment.id}/responses",
                   json={"items": [answer(item, "deduct", codes=[item["deductions"][0]["code"]])]}, headers=lead)
    assert r.status_code == 200
    picture = jpeg(42)
    # The same picture was already used as evidence at another institution.
    evidence.store_photo(picture, owner_type="inspection", owner_id="elsewhere", institution_id="another",
                         region="370303", label="ZB-2026-000999", client_id="earlier", uploaded_by="u0",
                         item_id=item["id"], now=utcnow())
    url = f"/api/v1/inspections/{world.assignment.id}/photos"
    for data in (picture, jpeg(43)):
        r = client.post(url, data=photo_form(data, item["id"]), headers=lead, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()

    page = _listed(client, world, as_user, status="in_progress")
    summary = page["items"][0]["inspection"]
    assert summary["state"] == "checked_in" and summary["checkin_flagged"] is True
    assert [f["code"] for f in summary["checkin_flags"]] == ["beyond_radius"]
    assert summary["checkin_flags"][0]["name"] == "签到位置超出范围"
    assert 4900 < summary["checkin_distance_m"] < 5100
    assert summary["photos"] == 2 and summary["reused_photos"] == 1
    assert summary["submitted_at"] is None and summary["score"] is None
    assert _listed(client, world, as_user, status="submitted")["total"] == 0
