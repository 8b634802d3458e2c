"""The "Done when" life cycle with injected time, and the sweep's exactly-once guarantees."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta, timezone

from inspect_api.calendar.service import current_calendar
from inspect_api.directory.models import Institution
from inspect_api.notify.models import Notification
from inspect_api.rectification import escalation
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Finding, Order
from tests.notify.world import build, finding
from tests.rectification.timing import STEP_KINDS, at, sweep_thrice


def step_notices() -> Counter:
    return Counter((n.kind, n.user_id) for n in Notification.objects(kind__in=STEP_KINDS))


def step_notices_per_deadline() -> Counter:
    """A step is notified once per deadline: a rejection with a new deadline re-arms the ladder."""
    return Counter((n.kind, n.user_id, n.data["deadline"]) for n in Notification.objects(kind__in=STEP_KINDS))


def _uid(world, key):
    return str(world.users[key].id)


def test_whole_life_of_an_order(client, login, world, clock):
    cal = current_calendar()
    # issue
    order = world.open([finding("A1", "major", 15)])
    f = rs.findings_of(order)[0]
    assert f.deadline == date(2026, 3, 23)
    inst_h, lead_h, county_h = login(world.users["institution"]), login(world.users["lead"]), \
        login(world.users["county"])
    base = f"/api/v1/rectifications/{order.id}/findings/{f.id}"
    assert Notification.objects(kind="rectification.issued", user_id=_uid(world, "institution")).count() == 1

    # nothing is due the day before the reminder
    reminder_day = cal.add_working_days(f.deadline, -3)
    escalation.run_sweep(at(reminder_day - timedelta(days=1)))
    assert Finding.objects.get(id=f.id).step_codes == []

    # reminder, swept three times
    sweep_thrice(reminder_day)
    f.reload()
    assert f.step_codes == ["reminder"] and f.steps[0].due == reminder_day
    assert step_notices() == Counter({("rectification.reminder", _uid(world, "institution")): 1})
    inbox = client.get("/api/v1/me/notifications", headers=inst_h).get_json()
    assert any(n["kind"] == "rectification.reminder" and "整改期限临近" in n["title"] for n in inbox["items"])

    # answer, rejected with a new deadline
    clock.set(at(reminder_day, 14))
    assert client.post(base + "/answer", json={"description": "已整改"}, headers=inst_h).status_code == 200
    new_deadline = cal.add_working_days(reminder_day, 4)
    r = client.post(base + "/review", json={"decision": "reject", "comment": "整改不到位",
                                            "new_deadline": new_deadline.isoformat()}, headers=lead_h)
    assert r.status_code == 200 and r.get_json()["status"] == "reopened"
    rejected_risk = Institution.objects.get(id=world.institution.id).risk.rejected_answers
    assert rejected_risk == 1

    # the new deadline re-arms the ladder: its own reminder, once
    f.reload()
    assert f.step_codes == [] and not f.overdue
    sweep_thrice(cal.add_working_days(new_deadline, -3))
    assert Finding.objects.get(id=f.id).step_codes == ["reminder"]
    assert step_notices() == Counter({("rectification.reminder", _uid(world, "institution")): 2})

    # overdue warning on the first overdue working day
    warning_day = cal.add_working_days(new_deadline, 1)
    escalation.run_sweep(at(new_deadline, 20))  # the deadline day itself: not overdue yet
    assert Finding.objects.get(id=f.id).step_codes == ["reminder"]
    sweep_thrice(warning_day)
    f.reload()
    assert f.step_codes == ["reminder", "warning"] and f.overdue and f.level == "warning"
    assert Institution.objects.get(id=world.institution.id).risk.overdue_rectifications == 1
    notices = step_notices()
    for who in ("institution", "lead", "county"):
        assert notices[("rectification.warning", _uid(world, who))] == 1

    # department escalation at +5
    department_day = cal.add_working_days(new_deadline, 5)
    sweep_thrice(department_day)
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department"]
    notices = step_notices()
    assert notices[("rectification.department", _uid(world, "city"))] == 1
    assert notices[("rectification.department", _uid(world, "county"))] == 1
    assert not f.preselected_for_notice

    # office escalation at +10, after a simulated three-day outage (no sweep at all), then swept again twice
    office_day = cal.add_working_days(new_deadline, 10)
    escalation.run_sweep(at(office_day - timedelta(days=3)))  # before the outage: nothing new yet
    assert Finding.objects.get(id=f.id).step_codes == ["reminder", "warning", "department"]
    back = office_day + timedelta(days=3)
    for hour in (9, 10, 11):
        escalation.run_sweep(at(back, hour))
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department", "office"]
    assert f.steps[-1].due == office_day and f.steps[-1].at == at(back, 9).astimezone(timezone.utc)
    # notice pre-selection
    assert f.preselected_for_notice and f.level == "office" and f.next_step_due is None
    assert [x.id for x in rs.preselected_for_notice("370300")] == [f.id]
    notices = step_notices()
    for who in ("city", "province", "county"):
        assert notices[("rectification.office", _uid(world, who))] == 1

    # late answer, accepted: the order closes
    later = back + timedelta(days=1)
    clock.set(at(later, 10))
    r = client.post(base + "/answer", json={"description": "已全部整改，附照片说明"}, headers=inst_h)
    assert r.status_code == 200 and r.get_json()["answers"][-1]["late"] is True
    r = client.post(base + "/review", json={"decision": "accept", "comment": "整改到位"}, headers=county_h)
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    assert Order.objects.get(id=order.id).status == "closed"
    escalation.run_sweep(at(later + timedelta(days=30)))

    # every notice exactly once, and the finding records which steps happened and when
    assert all(count == 1 for count in step_notices_per_deadline().values())
    assert Notification.objects(kind="rectification.reminder").count() == 2  # one per deadline
    assert Notification.objects(kind="rectification.warning").count() == 3
    detail = client.get(f"/api/v1/rectifications/{order.id}", headers=inst_h).get_json()
    steps = detail["findings"][0]["steps"]
    assert [s["code"] for s in steps] == ["reminder", "reminder", "warning", "department", "office"]
    assert [s["deadline"] for s in steps] == [f.original_deadline.isoformat()] + [new_deadline.isoformat()] * 4
    assert [s["due"] for s in steps] == [d.isoformat() for d in (reminder_day, cal.add_working_days(new_deadline, -3),
                                                                   warning_day, department_day, office_day)]
    notified = {(n.data["step"], n.data["deadline"]) for n in Notification.objects(data__finding_id=str(f.id), kind__in=STEP_KINDS)}
    assert notified == {(s["code"], s["deadline"]) for s in steps}  # each step's notifications name it
    assert Institution.objects.get(id=world.institution.id).risk.overdue_rectifications == 1


def test_catch_up_after_outage_applies_each_missed_step_once(world):
    cal = current_calendar()
    order = world.open([finding("A1", "critical", 5)])
    f = rs.findings_of(order)[0]
    # no sweep from issue until well after the department step: one sweep catches up three steps at once
    back = cal.add_working_days(f.deadline, 7)
    stats = escalation.run_sweep(at(back))
    assert stats["steps"] == 3
    for _ in range(2):
        assert escalation.run_sweep(at(back))["steps"] == 0
    from inspect_api.audit.models import AuditEvent

    events = list(AuditEvent.objects(action="rectification.sweep"))
    assert len(events) == 1 and events[0].data["steps"] == 3
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department"]
    assert len({s.at for s in f.steps}) == 1
    assert Counter(n.kind for n in Notification.objects(kind__in=STEP_KINDS)) == Counter(
        {"rectification.reminder": 1, "rectification.warning": 3, "rectification.department": 2})


def test_overlapping_sweeps_and_crash_between_notify_and_claim(world):
    cal = current_calendar()
    order = world.open([finding("A1", "major", 15), finding("A2", "minor", 30)])
    f = rs.findings_of(order)[0]
    day = at(cal.add_working_days(f.deadline, -3))
    # a sweep writes the reminder's notifications and "crashes" before its claim
    due = escalation.due_findings(day)
    escalation.notify_planned(escalation.plan_claims(due, now=day, token="crashed"), now=day)
    assert Notification.objects(kind="rectification.reminder").count() == 1
    assert Finding.objects.get(id=f.id).step_codes == []
    # two sweeps then work on the same due findings: one claim matches, nothing is notified twice
    first = escalation.escalate(escalation.due_findings(day), now=day)
    second = escalation.escalate(due, now=day)
    assert first["steps"] == 1 and first["claimed_findings"] == 1
    assert second["steps"] == 0 and second["claimed_findings"] == 0
    assert Notification.objects(kind="rectification.reminder").count() == 1
    assert Finding.objects.get(id=f.id).step_codes == ["reminder"]
    assert escalation.run_sweep(day)["steps"] == 0


def test_a_finding_answered_between_plan_and_claim_is_not_escalated_and_its_notices_are_withdrawn(
        client, login, world):
    cal = current_calendar()
    order = world.open([finding("A1", "major", 15), finding("A2", "minor", 15)])
    f1, f2 = rs.findings_of(order)
    day = at(cal.add_working_days(f1.deadline, 1))
    due = escalation.due_findings(day)  # the sweep reads both findings as due (reminder and warning)
    r = client.post(f"/api/v1/rectifications/{order.id}/findings/{f1.id}/answer", json={"description": "完成"},
                    headers=login(world.users["institution"]))
    assert r.status_code == 200, r.get_json()
    stats = escalation.escalate(due, now=day)
    assert stats["claimed_findings"] == 1 and stats["steps"] == 2  # f2 only
    assert Finding.objects.get(id=f1.id).step_codes == []
    assert Finding.objects.get(id=f2.id).step_codes == ["reminder", "warning"]
    by_finding = Counter(n.data["finding_id"] for n in Notification.objects(kind__in=STEP_KINDS))
    assert by_finding[str(f1.id)] == 0 and by_finding[str(f2.id)] > 0
    # the institution's risk counts the finding that went overdue, not the answered one
    assert Institution.objects.get(id=world.institution.id).risk.overdue_rectifications == 1


def test_answered_finding_does_not_escalate_and_extension_reschedules(client, login, world, clock):
    cal = current_calendar()
    order = world.open([finding("A1", "major", 15), finding("A2", "major", 15)])
    f1, f2 = rs.findings_of(order)
    inst = login(world.users["institution"])
    base = f"/api/v1/rectifications/{order.id}/findings"
    client.post(f"{base}/{f1.id}/answer", json={"description": "完成"}, headers=inst)
    new = cal.add_working_days(f2.deadline, 10)
    client.post(f"{base}/{f2.id}/extension", json={"reason": "需采购设备", "requested_deadline": new.isoformat()},
                headers=inst)
    client.post(f"{base}/{f2.id}/extension/decision", json={"approve": True}, headers=login(world.users["county"]))
    escalation.run_sweep(at(cal.add_working_days(f1.deadline, 2)))
    assert Finding.objects.get(id=f1.id).step_codes == []  # answered, awaiting review: no escalation
    f2.reload()
    assert f2.step_codes == [] and f2.next_step_due == cal.add_working_days(new, -3)  # extended: not yet due
    escalation.run_sweep(at(cal.add_working_days(new, 1)))
    f2.reload()
    assert f2.step_codes == ["reminder", "warning"] and f2.steps[1].deadline == new


def test_ladder_from_configuration(app_factory, make_user):
    ladder = [{"code": "nudge", "offset_working_days": -1, "recipients": ["institution"], "title": "明日到期提醒"},
              {"code": "late", "offset_working_days": 2, "recipients": ["county_office"], "title": "逾期两日",
               "preselect_for_notice": True}]
    app = app_factory(ladder=ladder)
    with app.app_context():
        w = build(make_user)
        cal = current_calendar()
        order = w.open([finding("A1", "minor", 30)])
        f = rs.findings_of(order)[0]
        escalation.run_sweep(at(cal.add_working_days(f.deadline, 2)))
        f.reload()
        assert f.step_codes == ["nudge", "late"] and f.preselected_for_notice
        assert {n.kind for n in Notification.objects(kind="rectification.step")} == {"rectification.step"}
        assert Notification.objects(kind="rectification.step", title__contains="逾期两日").count() == 1


def test_sweep_query_is_index_served(world):
    from inspect_api.rectification.models import Finding as F

    names = {tuple(k for k, _ in spec) for spec in
             (v["key"] for v in F._get_collection().index_information().values())}
    assert ("next_step_due",) in names
