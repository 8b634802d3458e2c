"""A new deadline (rejected answer, granted extension) ends the overdue state and re-arms the ladder:
each step once per deadline, even when sweeps repeat, overlap or race with the review."""

from __future__ import annotations

from collections import Counter

from inspect_api.calendar.service import current_calendar
from inspect_api.directory.models import Institution
from inspect_api.notify.models import Notification
from inspect_api.rectification import escalation
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Finding
from tests.notify.world import finding
from tests.rectification.timing import STEP_KINDS, at, sweep_thrice


def kinds_for(user) -> Counter:
    return Counter(n.kind for n in Notification.objects(kind__in=STEP_KINDS, user_id=str(user.id)))


def overdue_risk(world) -> int:
    return Institution.objects.get(id=world.institution.id).risk.overdue_rectifications


def test_rejected_late_answer_rearms_the_ladder_for_the_new_deadline(client, login, world, clock):
    cal = current_calendar()
    f = rs.findings_of(world.open([finding("A1", "major", 15)]))[0]
    base = f"/api/v1/rectifications/{f.order_id}/findings/{f.id}"
    inst, county = login(world.users["institution"]), login(world.users["county"])
    first_deadline = f.deadline

    # the whole ladder of the first deadline, swept repeatedly
    sweep_thrice(cal.add_working_days(first_deadline, 10))
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department", "office"] and f.overdue
    assert overdue_risk(world) == 1

    # a late answer, rejected with a new deadline ahead: no longer overdue, the ladder waits for the new deadline
    answered_on = cal.add_working_days(first_deadline, 11)
    clock.set(at(answered_on, 10))
    assert client.post(base + "/answer", json={"description": "已整改"}, headers=inst).status_code == 200
    new_deadline = cal.add_working_days(answered_on, 8)
    r = client.post(base + "/review", json={"decision": "reject", "comment": "照片不清晰",
                                            "new_deadline": new_deadline.isoformat()}, headers=county)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["overdue"] is False and body["overdue_since"] is None and body["level"] is None
    assert body["next_step_due"] == cal.add_working_days(new_deadline, -3).isoformat()
    assert [s["code"] for s in body["steps"]] == ["reminder", "warning", "department", "office"]  # history stays
    profile = client.get(f"/api/v1/public/institutions/{world.institution.public_id}").get_json()
    assert profile["overdue_findings"] == 0 and profile["open_findings"] == 1

    # nothing is sent again before the new deadline's reminder day
    sweep_thrice(cal.add_working_days(new_deadline, -4))
    assert Finding.objects.get(id=f.id).step_codes == []
    # the new deadline gets its own reminder, warning and escalations, each once despite repeated sweeps
    sweep_thrice(cal.add_working_days(new_deadline, -3))
    assert kinds_for(world.users["institution"])["rectification.reminder"] == 2
    sweep_thrice(cal.add_working_days(new_deadline, 1))
    f.reload()
    assert f.overdue and f.overdue_since == cal.add_working_days(new_deadline, 1) and f.level == "warning"
    sweep_thrice(cal.add_working_days(new_deadline, 10))
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department", "office"] and f.next_step_due is None
    assert [s.deadline for s in f.steps] == [first_deadline] * 4 + [new_deadline] * 4
    notified = {(n.data["step"], n.data["deadline"]) for n in Notification.objects(data__finding_id=str(f.id), kind__in=STEP_KINDS)}
    assert notified == {(s.code, s.deadline.isoformat()) for s in f.steps}
    assert kinds_for(world.users["institution"]) == Counter({"rectification.reminder": 2,
                                                             "rectification.warning": 2})
    assert kinds_for(world.users["county"]) == Counter({"rectification.warning": 2, "rectification.department": 2,
                                                        "rectification.office": 2})
    assert kinds_for(world.users["city"]) == Counter({"rectification.department": 2, "rectification.office": 2})
    # the overdue finding still counts once in the institution's risk profile
    assert overdue_risk(world) == 1
    deadlines = {n.data["deadline"] for n in Notification.objects(kind="rectification.office")}
    assert deadlines == {first_deadline.isoformat(), new_deadline.isoformat()}


def test_granted_extension_rearms_and_a_claim_racing_with_it_is_notified_once(client, login, world, clock):
    cal = current_calendar()
    f = rs.findings_of(world.open([finding("A1", "major", 15)]))[0]
    old = f.deadline
    inst, county = login(world.users["institution"]), login(world.users["county"])
    base = f"/api/v1/rectifications/{f.order_id}/findings/{f.id}"
    escalation.run_sweep(at(cal.add_working_days(old, -3)))  # the reminder, sent

    # a sweep writes the warning's notifications and "crashes" before claiming it; meanwhile the extension
    # is granted
    warning_day = cal.add_working_days(old, 1)
    due = escalation.due_findings(at(warning_day))
    escalation.notify_planned(escalation.plan_claims(due, now=at(warning_day), token="crashed"), now=at(warning_day))
    clock.set(at(warning_day, 10))
    new = cal.add_working_days(warning_day, 10)
    r = client.post(base + "/extension", json={"reason": "需采购设备", "requested_deadline": new.isoformat()},
                    headers=inst)
    assert r.status_code == 200, r.get_json()
    r = client.post(base + "/extension/decision", json={"approve": True, "comment": "同意"}, headers=county)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["overdue"] is False and r.get_json()["next_step_due"] == cal.add_working_days(
        new, -3).isoformat()

    # the warning already written (for the old deadline) stays, once, and is never recorded: the finding is no
    # longer overdue; the new deadline starts from scratch
    sweep_thrice(warning_day)
    f.reload()
    assert f.step_codes == [] and not f.overdue
    assert kinds_for(world.users["institution"]) == Counter({"rectification.reminder": 1,
                                                             "rectification.warning": 1})
    sweep_thrice(cal.add_working_days(new, -3))
    sweep_thrice(cal.add_working_days(new, 1))
    f.reload()
    assert f.step_codes == ["reminder", "warning"] and f.overdue
    assert kinds_for(world.users["institution"]) == Counter({"rectification.reminder": 2,
                                                             "rectification.warning": 2})
    assert overdue_risk(world) == 1


def test_an_unchanged_deadline_keeps_the_guard(client, login, world, clock):
    """A rejection that keeps the current deadline must not send its steps a second time."""
    cal = current_calendar()
    f = rs.findings_of(world.open([finding("A1", "major", 15)]))[0]
    reminder_day = cal.add_working_days(f.deadline, -3)
    sweep_thrice(reminder_day)
    clock.set(at(reminder_day, 10))
    base = f"/api/v1/rectifications/{f.order_id}/findings/{f.id}"
    client.post(base + "/answer", json={"description": "已整改"}, headers=login(world.users["institution"]))
    r = client.post(base + "/review", json={"decision": "reject", "comment": "不到位",
                                            "new_deadline": f.deadline.isoformat()},
                    headers=login(world.users["county"]))
    assert r.status_code == 200 and r.get_json()["next_step_due"] == cal.add_working_days(f.deadline, 1).isoformat()
    sweep_thrice(reminder_day)
    assert Finding.objects.get(id=f.id).step_codes == ["reminder"]
    assert kinds_for(world.users["institution"]) == Counter({"rectification.reminder": 1})
