"""Issuing orders (open_order) and the institution / review API."""

from __future__ import annotations

from datetime import date, timedelta

from inspect_api.calendar.models import CalendarOverride
from inspect_api.calendar import service as cal
from inspect_api.directory.models import Institution
from inspect_api.inspections.models import Assignment
from inspect_api.notify.models import Notification
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Finding, Order
from tests.conftest import assert_error
from tests.notify.world import CONCLUDED, finding


def _base(order):
    return f"/api/v1/rectifications/{order.id}"


def test_open_order_deadlines_number_and_idempotency(world):
    order = world.open([finding("A1", "critical", 5), finding("A2", "major", 15), finding("A3", "minor", 30)])
    assert order.number == "ZG-370302-2026-0001"
    findings = rs.findings_of(order)
    # Monday 2026-03-02 + 5 working days = Monday 2026-03-09 (start day not counted).
    cal_ = cal.current_calendar()
    assert [f.deadline for f in findings] == [cal_.add_working_days(date(2026, 3, 2), d) for d in (5, 15, 30)]
    assert findings[0].deadline == date(2026, 3, 9)
    assert all(f.next_step_due is not None for f in findings)
    replay = rs.open_order(
        inspection_id="insp-1", institution_id=str(world.institution.id), region="370302",
        lead_inspector_id=str(world.lead.id), team=[str(world.lead.id), str(world.member.id)],
        checklist_code="X", findings=[finding()], concluded_at=CONCLUDED, now=CONCLUDED)
    assert replay.id == order.id and Order.objects.count() == 1 and Finding.objects.count() == 3
    assert Notification.objects(kind="rectification.issued").count() == 1
    second = world.open([finding()])
    assert second.number == "ZG-370302-2026-0002"
    assert world.open([]) is None


def test_open_order_uses_office_overrides(world):
    # Make Tuesday 2026-03-03 a day off: the 5-working-day deadline moves one day later.
    CalendarOverride(date=date(2026, 3, 3), working=False, note="测试", updated_at=CONCLUDED).save()
    cal.invalidate(CONCLUDED)
    order = world.open([finding("A1", "critical", 5)])
    assert rs.findings_of(order)[0].deadline == date(2026, 3, 10)


def test_institution_lists_only_own_orders_and_acknowledges(client, login, world):
    mine = world.open()
    theirs = world.open(institution=world.other_institution)
    h = login(world.users["institution"])
    r = client.get("/api/v1/rectifications", headers=h)
    assert r.status_code == 200 and [o["id"] for o in r.get_json()["items"]] == [str(mine.id)]
    assert_error(client.get(_base(theirs), headers=h), 404, "ORDER_NOT_FOUND")
    r = client.post(_base(mine) + "/acknowledge", headers=h)
    assert r.status_code == 200 and r.get_json()["acknowledged_at"]
    assert client.post(_base(mine) + "/acknowledge", headers=h).get_json()["acknowledged_at"] == \
        r.get_json()["acknowledged_at"]
    office = login(world.users["city"])
    assert client.get("/api/v1/rectifications", headers=office).get_json()["total"] == 2
    county = login(world.users["other_county"])
    assert [o["id"] for o in client.get("/api/v1/rectifications", headers=county).get_json()["items"]] == \
        [str(theirs.id)]
    member = login(world.users["member"])
    assert client.get(_base(mine), headers=member).status_code == 200


def test_answer_to_another_institutions_order_is_404(client, login, world):
    theirs = world.open(institution=world.other_institution)
    f = rs.findings_of(theirs)[0]
    h = login(world.users["institution"])
    assert_error(client.post(f"{_base(theirs)}/findings/{f.id}/answer", json={"description": "已整改"}, headers=h),
                 404, "ORDER_NOT_FOUND")
    assert Finding.objects.get(id=f.id).status == "open"


def test_answer_review_reject_accept_and_close(client, login, world):
    order = world.open([finding("A1"), finding("A2")])
    f1, f2 = rs.findings_of(order)
    inst = login(world.users["institution"])
    lead = login(world.users["lead"])
    r = client.post(f"{_base(order)}/findings/{f1.id}/answer", json={"description": "已清理消防通道",
                                                                     "client_id": "c-1"}, headers=inst)
    assert r.status_code == 200 and r.get_json()["status"] == "answered"
    assert r.get_json()["next_step_due"] is None
    # a retried answer with the same client_id is not stored twice
    again = client.post(f"{_base(order)}/findings/{f1.id}/answer", json={"description": "已清理消防通道",
                                                                         "client_id": "c-1"}, headers=inst)
    assert again.status_code == 200 and len(again.get_json()["answers"]) == 1
    assert_error(client.post(f"{_base(order)}/findings/{f1.id}/answer", json={"description": "再答复"},
                             headers=inst), 409, "ANSWER_PENDING_REVIEW")
    before = Institution.objects.get(id=world.institution.id).risk.rejected_answers
    assert_error(client.post(f"{_base(order)}/findings/{f1.id}/review",
                             json={"decision": "reject", "comment": "x", "new_deadline": "2020-01-01"}, headers=lead),
                 422, "NEW_DEADLINE_NOT_IN_FUTURE")
    assert_error(client.post(f"{_base(order)}/findings/{f1.id}/review",
                             json={"decision": "maybe", "comment": "x"}, headers=lead), 422)
    r = client.post(f"{_base(order)}/findings/{f1.id}/review",
                    json={"decision": "reject", "comment": "照片不清晰"}, headers=lead)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "reopened" and body["answers"][0]["decision"] == "rejected"
    assert Institution.objects.get(id=world.institution.id).risk.rejected_answers == before + 1
    assert Notification.objects(kind="rectification.rejected").count() == 1
    for f in (f1, f2):
        client.post(f"{_base(order)}/findings/{f.id}/answer", json={"description": "整改完成"}, headers=inst)
        r = client.post(f"{_base(order)}/findings/{f.id}/review", json={"decision": "accept", "comment": "通过"},
                        headers=lead)
        assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    detail = client.get(_base(order), headers=inst).get_json()
    assert detail["status"] == "closed" and detail["closed_at"]
    assert Notification.objects(kind="rectification.closed").count() >= 1


def test_answer_after_order_closed_is_409(client, login, world):
    order = world.open([finding("A1")])
    f = rs.findings_of(order)[0]
    inst, office = login(world.users["institution"]), login(world.users["county"])
    client.post(f"{_base(order)}/findings/{f.id}/answer", json={"description": "完成"}, headers=inst)
    client.post(f"{_base(order)}/findings/{f.id}/review", json={"decision": "accept", "comment": "好"}, headers=office)
    assert Order.objects.get(id=order.id).status == "closed"
    assert_error(client.post(f"{_base(order)}/findings/{f.id}/answer", json={"description": "再来"}, headers=inst),
                 409, "ORDER_CLOSED")
    assert_error(client.post(f"{_base(order)}/findings/{f.id}/extension",
                             json={"reason": "需要时间", "requested_deadline": "2026-12-01"}, headers=inst),
                 409, "ORDER_CLOSED")


def test_extension_once_and_after_current_deadline(client, login, world):
    order = world.open([finding("A1", "major", 15)])
    f = rs.findings_of(order)[0]
    inst = login(world.users["institution"])
    url = f"{_base(order)}/findings/{f.id}/extension"
    err = assert_error(client.post(url, json={"reason": "设备采购周期长", "requested_deadline": f.deadline.isoformat()},
                                   headers=inst), 422, "EXTENSION_NOT_AFTER_DEADLINE")
    assert err["details"]["deadline"] == f.deadline.isoformat()
    assert_error(client.post(url, json={"reason": "设备采购周期长",
                                        "requested_deadline": (f.deadline - timedelta(days=3)).isoformat()},
                             headers=inst), 422, "EXTENSION_NOT_AFTER_DEADLINE")
    assert_error(client.post(url, json={"reason": "设备采购周期长", "requested_deadline": "9999-12-31"}, headers=inst),
                 422, "EXTENSION_TOO_LONG")
    new = f.deadline + timedelta(days=14)
    r = client.post(url, json={"reason": "设备采购周期长", "requested_deadline": new.isoformat()}, headers=inst)
    assert r.status_code == 200 and r.get_json()["extension"]["status"] == "pending"
    assert_error(client.post(url, json={"reason": "再延一次", "requested_deadline": (new + timedelta(days=5)).isoformat()},
                             headers=inst), 409, "EXTENSION_ALREADY_REQUESTED")
    # missing reason / unknown field → validation errors
    assert_error(client.post(url, json={"requested_deadline": new.isoformat()}, headers=inst), 422)
    member = login(world.users["member"])
    assert_error(client.post(url + "/decision", json={"approve": True}, headers=member), 403, "NOT_LEAD_INSPECTOR")
    r = client.post(url + "/decision", json={"approve": True, "comment": "同意"}, headers=login(world.users["lead"]))
    assert r.status_code == 200
    body = r.get_json()
    assert body["deadline"] == new.isoformat() and body["extension"]["status"] == "granted"
    assert body["original_deadline"] == f.deadline.isoformat()
    assert_error(client.post(url + "/decision", json={"approve": False}, headers=login(world.users["county"])),
                 409, "NO_PENDING_EXTENSION")


def test_review_by_inspector_who_is_not_the_lead(client, login, world, make_user):
    order = world.open([finding("A1")])
    f = rs.findings_of(order)[0]
    client.post(f"{_base(order)}/findings/{f.id}/answer", json={"description": "完成"},
                headers=login(world.users["institution"]))
    url = f"{_base(order)}/findings/{f.id}/review"
    assert_error(client.post(url, json={"decision": "accept", "comment": "好"}, headers=login(world.users["member"])),
                 403, "NOT_LEAD_INSPECTOR")
    stranger = make_user("inspector", "370302", username="stranger", inspector_id="nope")
    assert_error(client.post(url, json={"decision": "accept", "comment": "好"}, headers=login(stranger)), 404)
    assert_error(client.post(url, json={"decision": "accept", "comment": "好"},
                             headers=login(world.users["institution"])), 403, "ROLE_FORBIDDEN")
    assert_error(client.post(url, json={"decision": "accept", "comment": "好"},
                             headers=login(world.users["other_county"])), 404)
    assert Finding.objects.get(id=f.id).status == "answered"


def test_reinspection_of_critical_finding_creates_targeted_assignment(client, login, world):
    order = world.open([finding("A1", "critical", 5), finding("A2", "minor", 30)])
    crit, minor = rs.findings_of(order)
    lead = login(world.users["lead"])
    r = client.post(f"{_base(order)}/findings/{crit.id}/reinspection", json={"note": "复查消防"}, headers=lead)
    assert r.status_code == 200
    a = Assignment.objects.get(id=r.get_json()["reinspection"]["assignment_id"])
    assert a.reason == "reinspection" and a.source == "targeted" and a.random is False
    assert a.team == [str(world.lead.id), str(world.member.id)]
    assert a.dedupe_key == f"reinspection:{order.id}:{crit.id}"
    client.post(f"{_base(order)}/findings/{crit.id}/reinspection", json={}, headers=lead)
    assert Assignment.objects.count() == 1
    assert_error(client.post(f"{_base(order)}/findings/{minor.id}/reinspection", json={}, headers=lead),
                 422, "REINSPECTION_ONLY_CRITICAL")


def test_answer_photos_must_belong_to_the_finding(client, login, world):
    order = world.open([finding("A1")])
    f = rs.findings_of(order)[0]
    assert_error(client.post(f"{_base(order)}/findings/{f.id}/answer",
                             json={"description": "完成", "photo_ids": ["64b000000000000000000000"]},
                             headers=login(world.users["institution"])), 422, "PHOTO_NOT_FOUND")
    assert_error(client.post(f"{_base(order)}/findings/{f.id}/answer", json={"description": "完成", "x": 1},
                             headers=login(world.users["institution"])), 422)
