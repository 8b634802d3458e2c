"""Notice pre-selection: only findings still owed, and not again once a published notice cited them."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from inspect_api.calendar.service import current_calendar
from inspect_api.publication import notices
from inspect_api.rectification import escalation
from inspect_api.rectification import responses, reviews
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Finding
from inspect_api.workdays import SHANGHAI
from tests.notify.world import build, finding

PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


@pytest.fixture
def rworld(app, make_user):
    return build(make_user)


def at(d, hour=9):
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def _preselected(client, headers):
    items = client.get("/api/v1/notices/candidates", query_string=PERIOD, headers=headers).get_json()["items"]
    return {c["finding_id"]: c["preselected"] for c in items}


def _draft(client, headers, **extra):
    r = client.post("/api/v1/notices", json={**PERIOD, **extra}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_accepted_and_already_noticed_findings_are_not_preselected(client, login, rworld):
    cal = current_calendar()
    order = rworld.open([finding("A1", "major", 15), finding("A2", "major", 15)])
    f1, f2 = rs.findings_of(order)
    escalation.run_sweep(at(cal.add_working_days(f1.deadline, 10)))  # both reach the office step
    assert all(f.preselected_for_notice for f in Finding.objects(order_id=str(order.id)))
    city = login(rworld.users["city"])
    assert _preselected(client, city) == {str(f1.id): True, str(f2.id): True}

    # f1 answered late and accepted: it is settled, the flag goes and no draft pre-selects it any more
    inst, county = login(rworld.users["institution"]), login(rworld.users["county"])
    base = f"/api/v1/rectifications/{order.id}/findings/{f1.id}"
    assert client.post(base + "/answer", json={"description": "已整改"}, headers=inst).status_code == 200
    r = client.post(base + "/review", json={"decision": "accept", "comment": "整改到位"}, headers=county)
    assert r.status_code == 200 and r.get_json()["preselected_for_notice"] is False
    assert Finding.objects.get(id=f1.id).preselected_for_notice is False
    assert _preselected(client, city) == {str(f1.id): False, str(f2.id): True}
    assert [f.id for f in rs.preselected_for_notice("370300")] == [f2.id]
    first = _draft(client, city)
    assert first["finding_ids"] == [str(f2.id)]

    # once a published notice cites f2, the next draft does not pre-select it again; it stays selectable
    assert client.post(f"/api/v1/notices/{first['id']}/publish", headers=city).status_code == 200
    assert _preselected(client, city) == {str(f1.id): False, str(f2.id): False}
    assert _draft(client, city)["finding_ids"] == []
    assert _draft(client, city, finding_ids=[str(f2.id)])["finding_ids"] == [str(f2.id)]

    # a retracted notice no longer counts
    r = client.post(f"/api/v1/notices/{first['id']}/retract", json={"reason": "范围有误，予以撤回"}, headers=city)
    assert r.status_code == 200
    assert _preselected(client, city)[str(f2.id)] is True


def test_overdue_but_settled_findings_are_not_preselected(client, login, rworld):
    order = rworld.open([finding("A1", "major", 15), finding("A2", "major", 15)])
    f1, f2 = rs.findings_of(order)
    # a stale flag on a withdrawn finding, and an overdue accepted one (data written before the fix)
    Finding.objects(id=f1.id).update_one(set__status="withdrawn", set__preselected_for_notice=True,
                                         set__overdue=True)
    Finding.objects(id=f2.id).update_one(set__status="accepted", set__preselected_for_notice=True,
                                         set__overdue=True)
    city = login(rworld.users["city"])
    assert _preselected(client, city) == {str(f2.id): False}
    assert _draft(client, city)["finding_ids"] == []


def test_a_new_deadline_that_escalates_again_is_preselected_again(client, login, rworld):
    cal = current_calendar()
    f = rs.findings_of(rworld.open([finding("A1", "major", 15)]))[0]
    first_deadline = f.deadline
    office_day = cal.add_working_days(first_deadline, 10)
    escalation.run_sweep(at(office_day))
    city = login(rworld.users["city"])
    notice = _draft(client, city)
    assert notice["finding_ids"] == [str(f.id)]
    notices.publish_notice(rworld.users["city"], notice["id"], now=at(office_day, 15))  # injected time
    assert _preselected(client, city)[str(f.id)] is False

    # a late answer is rejected with a new deadline, which passes unanswered up to the office step again
    day = cal.add_working_days(first_deadline, 11)
    responses.answer(rworld.users["institution"], f.order_id, str(f.id), description="已整改", photo_ids=[], now=at(day))
    new_deadline = cal.add_working_days(day, 5)
    reviews.review(rworld.users["county"], f.order_id, str(f.id), decision="reject", comment="不到位",
              new_deadline=new_deadline, now=at(day, 11))
    assert _preselected(client, city)[str(f.id)] is False  # cited with its first deadline, not overdue now
    escalation.run_sweep(at(cal.add_working_days(new_deadline, 10)))
    assert _preselected(client, city)[str(f.id)] is True
