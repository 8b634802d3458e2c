"""Cancelled assignments (their plan or draw was cancelled) answer reads but refuse every write."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inspect_api.errors import Conflict
from inspect_api.evidence.models import Evidence
from inspect_api.inspections import checkin, records
from inspect_api.inspections.models import Assignment, Inspection, ItemResponse
from tests.conftest import assert_error
from tests.inspections.helpers import ZIBO, applicable_items, cid, jpeg, photo_form, signature_form
from tests.inspections.test_checkin_responses import answer, checkin_body


def _url(world, tail=""):
    return f"/api/v1/inspections/{world.assignment.id}{tail}"


def _cancel(world):
    """What cancelling the plan does to its not-yet-started assignments (draws.lifecycle)."""
    Assignment.objects(id=world.assignment.id, status="assigned").update_one(set__status="cancelled")


# ------------------------------------------------------------------ cancelled assignments

def test_every_write_on_a_cancelled_assignment_is_409(client, world, as_user):
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    bundle = client.get(f"/api/v1/assignments/{world.assignment.id}/bundle", headers=lead)
    assert bundle.status_code == 200
    _cancel(world)
    item = applicable_items()[0]

    r = client.get(f"/api/v1/assignments/{world.assignment.id}/bundle", headers=lead)
    assert r.status_code == 200 and r.get_json()["assignment"]["status"] == "cancelled"
    assert r.get_json()["inspection"]["state"] == "assigned"
    r = client.get(_url(world), headers=member)
    assert r.status_code == 200 and r.get_json()["assignment_status"] == "cancelled"
    office = client.get(_url(world), headers=as_user(world.office_user))
    assert office.status_code == 200 and office.get_json()["assignment_status"] == "cancelled"

    writes = [
        client.post(_url(world, "/check-in"), json=checkin_body(world.institution), headers=lead),
        client.put(_url(world, "/responses"), json={"items": [answer(item)]}, headers=member),
        client.post(_url(world, "/photos"), data=photo_form(jpeg(1), item["id"]), headers=member,
                    content_type="multipart/form-data"),
        client.post(_url(world, "/signatures"), data=signature_form(world.lead.name, "lead"), headers=lead,
                    content_type="multipart/form-data"),
        client.post(_url(world, "/submit"), headers=lead),
        client.post(_url(world, "/corrections"), headers=lead, json={
            "client_id": cid(), "reason": "更正", "changes": [{"item_id": item["id"], "result": "pass"}]}),
    ]
    for r in writes:
        assert_error(r, 409, "ASSIGNMENT_CANCELLED")
    inspection = Inspection.objects.get(id=world.assignment.id)
    assert inspection.state == "assigned" and inspection.checkin is None and not inspection.signatures
    assert ItemResponse.objects.count() == 0 and Evidence.objects.count() == 0
    # outsiders still get 404, not a hint that the task exists
    assert_error(client.post(_url(world, "/check-in"), json=checkin_body(world.institution),
                             headers=as_user(world.outsider_user)), 404)


def test_reading_a_cancelled_assignment_starts_no_inspection(client, world, as_user):
    _cancel(world)
    r = client.get(f"/api/v1/assignments/{world.assignment.id}/bundle", headers=as_user(world.lead_user))
    assert r.status_code == 200 and r.get_json()["assignment"]["status"] == "cancelled"
    assert Inspection.objects(id=world.assignment.id).first() is None


def test_cancellation_racing_a_check_in_wins_cleanly(client, world):
    """The check-in flips the assignment first: a cancellation that got there first refuses it."""
    assignment = Assignment.objects.get(id=world.assignment.id)
    inspection = records.ensure_inspection(assignment, now=datetime.now(timezone.utc))
    _cancel(world)  # after the caller's checks, before the flip
    with pytest.raises(Conflict) as info:
        checkin.record_checkin(world.lead_user, assignment, inspection, world.institution,
                               inspector_id=str(world.lead.id), client_id=cid(), latitude=ZIBO[0],
                               longitude=ZIBO[1], accuracy_m=5.0, captured_at=datetime.now(timezone.utc),
                               now=datetime.now(timezone.utc))
    assert info.value.code == "ASSIGNMENT_CANCELLED"
    assert Inspection.objects.get(id=inspection.id).state == "assigned"
    assert Assignment.objects.get(id=assignment.id).status == "cancelled"
