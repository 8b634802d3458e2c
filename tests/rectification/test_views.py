"""What the portal and the console read: working days left, escalation state, next actions, review queues."""

from __future__ import annotations

from datetime import date

from inspect_api.calendar.service import current_calendar
from inspect_api.rectification import escalation
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import FINDING_STATUSES, SEVERITIES
from tests.conftest import assert_error
from tests.notify.world import CONCLUDED, finding
from tests.rectification.timing import at

QUEUE = "/api/v1/rectifications/findings"


def _order(client, headers, order):
    r = client.get(f"/api/v1/rectifications/{order.id}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_order_summary_counts_working_days_and_escalation(client, login, world, clock):
    order = world.open([finding("A1", "major", 15), finding("A2", "minor", 30)])
    first = rs.findings_of(order)[0]
    inst = login(world.users["institution"])
    clock.set(CONCLUDED)
    listed = client.get("/api/v1/rectifications", headers=inst).get_json()["items"][0]
    assert listed["institution_name"] == "淄川区康养中心" and listed["status_name"] == "整改中"
    assert listed["open_findings"] == 2 and listed["overdue_findings"] == 0
    assert listed["next_deadline"] == first.deadline.isoformat() == "2026-03-23"
    assert listed["working_days_left"] == 15 and listed["level"] is None
    assert listed["actions"] == ["acknowledge"]

    detail = _order(client, inst, order)
    f = detail["findings"][0]
    assert f["working_days_left"] == 15 and f["status_name"] == FINDING_STATUSES["open"]
    assert f["severity_name"] == SEVERITIES["major"]
    assert f["actions"] == ["answer", "upload_photo", "request_extension"]
    assert f["order_number"] == order.number and f["order_id"] == str(order.id)

    # The deadline day itself: 0 left.  Two working days after it: overdue by 2, with the ladder's warning.
    clock.set(at(date(2026, 3, 23), 10))
    assert _order(client, inst, order)["working_days_left"] == 0
    cal = current_calendar()
    two_after = cal.add_working_days(date(2026, 3, 23), 2)
    escalation.run_sweep(at(two_after))
    clock.set(at(two_after, 10))
    detail = _order(client, inst, order)
    assert detail["overdue_findings"] == 1 and detail["working_days_left"] == -2
    assert detail["level"] == "warning" and detail["level_title"] == "整改逾期警示"
    assert detail["findings"][0]["working_days_left"] == -2 and detail["findings"][0]["overdue"] is True
    assert detail["findings"][1]["working_days_left"] > 0

    client.post(f"/api/v1/rectifications/{order.id}/acknowledge", headers=inst)
    assert _order(client, inst, order)["actions"] == []


def test_answer_moves_the_finding_to_the_review_queue_of_its_office_only(client, login, world, clock):
    order = world.open([finding("A1", "major", 15)])
    f = rs.findings_of(order)[0]
    inst, county, city = (login(world.users[k]) for k in ("institution", "county", "city"))
    other_county, lead, member = (login(world.users[k]) for k in ("other_county", "lead", "member"))
    clock.set(CONCLUDED)
    base = f"/api/v1/rectifications/{order.id}/findings/{f.id}"
    assert client.get(QUEUE, query_string={"queue": "answered"}, headers=county).get_json()["total"] == 0
    r = client.post(base + "/answer", json={"description": "已清理消防通道"}, headers=inst)
    assert r.status_code == 200
    answered = r.get_json()
    assert answered["status"] == "answered" and answered["working_days_left"] is None
    assert answered["actions"] == ["request_extension"]

    for headers in (county, city):
        page = client.get(QUEUE, query_string={"queue": "answered"}, headers=headers).get_json()
        assert [i["id"] for i in page["items"]] == [str(f.id)]
        assert page["items"][0]["institution_name"] == "淄川区康养中心"
        assert page["items"][0]["actions"] == ["review"]
    assert client.get(QUEUE, query_string={"queue": "answered"}, headers=other_county).get_json()["total"] == 0
    assert _order(client, lead, order)["findings"][0]["actions"] == ["review"]
    assert _order(client, member, order)["findings"][0]["actions"] == []

    r = client.post(base + "/review", json={"decision": "reject", "comment": "请补充照片"}, headers=county)
    assert r.status_code == 200 and r.get_json()["status"] == "reopened" and r.get_json()["actions"] == []
    again = _order(client, inst, order)["findings"][0]
    assert again["actions"] == ["answer", "upload_photo", "request_extension"] and again["working_days_left"] > 0
    assert client.post(base + "/answer", json={"description": "已补充照片"}, headers=inst).status_code == 200
    r = client.post(base + "/review", json={"decision": "accept", "comment": "整改到位"}, headers=county)
    assert r.status_code == 200
    assert r.get_json()["status"] == "accepted" and r.get_json()["actions"] == []
    assert r.get_json()["status_name"] == FINDING_STATUSES["accepted"]
    assert client.get(QUEUE, query_string={"queue": "answered"}, headers=county).get_json()["total"] == 0
    closed = _order(client, inst, order)
    assert closed["status"] == "closed" and closed["open_findings"] == 0 and closed["next_deadline"] is None


def test_extension_and_critical_queues(client, login, world, clock):
    order = world.open([finding("A1", "critical", 5), finding("A2", "major", 15)])
    crit, major = rs.findings_of(order)
    inst, county = login(world.users["institution"]), login(world.users["county"])
    clock.set(CONCLUDED)
    page = client.get(QUEUE, query_string={"queue": "critical"}, headers=county).get_json()
    assert [i["id"] for i in page["items"]] == [str(crit.id)]
    assert page["items"][0]["actions"] == ["require_reinspection"]

    base = f"/api/v1/rectifications/{order.id}/findings/{major.id}"
    r = client.post(base + "/extension", json={"reason": "需采购设备", "requested_deadline": "2026-04-30"},
                    headers=inst)
    assert r.status_code == 200 and "request_extension" not in r.get_json()["actions"]
    page = client.get(QUEUE, query_string={"queue": "extension_pending"}, headers=county).get_json()
    assert [i["id"] for i in page["items"]] == [str(major.id)]
    assert page["items"][0]["actions"] == ["decide_extension"]
    r = client.post(base + "/extension/decision", json={"approve": True, "comment": "同意"}, headers=county)
    assert r.status_code == 200 and r.get_json()["extension"]["status"] == "granted"
    assert client.get(QUEUE, query_string={"queue": "extension_pending"}, headers=county).get_json()["total"] == 0

    r = client.post(f"/api/v1/rectifications/{order.id}/findings/{crit.id}/reinspection", json={}, headers=county)
    assert r.status_code == 200 and r.get_json()["actions"] == []


def test_queue_is_for_offices_and_checks_its_arguments(client, login, world):
    world.open()
    assert_error(client.get(QUEUE, query_string={"queue": "answered"}, headers=login(world.users["institution"])),
                 403, "ROLE_FORBIDDEN")
    county = login(world.users["county"])
    assert_error(client.get(QUEUE, query_string={"queue": "everything"}, headers=county), 422)
    assert_error(client.get(QUEUE, headers=county), 422)
    r = client.get(QUEUE, query_string={"queue": "overdue", "institution_id": '{"$gt": ""}'}, headers=county)
    assert r.status_code == 200 and r.get_json()["total"] == 0
