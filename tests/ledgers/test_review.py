"""Reviewing and concluding a ledger check: findings flow into the same rectification orders and ladder."""

from __future__ import annotations

from inspect_api.calendar.service import current_calendar
from inspect_api.directory.models import Institution
from inspect_api.ledgers import service as ledgers
from inspect_api.ledgers.deadlines import sweep_request_deadlines
from inspect_api.ledgers.models import LedgerCheck
from inspect_api.notify.models import Notification
from inspect_api.publication import public_reads
from inspect_api.rectification import escalation
from inspect_api.rectification.models import Finding, Order
from tests.conftest import assert_error
from tests.ledgers import docs
from tests.ledgers.conftest import at


def _items(desk, check) -> list[str]:
    body = desk.client.get(f"/api/v1/ledger-checks/{check.id}", headers=desk.office).get_json()
    return [i["item_id"] for i in body["items"] if i["applies"]]


def _submit(desk, check):
    desk.upload(check, "TZ4086-1-01", docs.pdf(), "licence.pdf")
    r = desk.client.post(f"/api/v1/ledger-checks/{check.id}/submit", headers=desk.institution(check))
    assert r.status_code == 200, r.get_json()


def test_reviewers_score_only_when_ready_and_only_their_own_checks(desk):
    check = desk.checks[0]
    assert_error(desk.score(check, "TZ4086-1-01"), 409, "LEDGER_NOT_READY_FOR_REVIEW")
    _submit(desk, check)
    r = desk.client.put(f"/api/v1/ledger-checks/{check.id}/items/TZ4086-1-01/score", headers=desk.outsider(check),
                        json={"result": "pass", "base_revision": 0})
    assert_error(r, 404, "LEDGER_CHECK_NOT_FOUND")
    r = desk.client.put(f"/api/v1/ledger-checks/{check.id}/items/TZ4086-1-01/score", headers=desk.institution(check),
                        json={"result": "pass", "base_revision": 0})
    assert_error(r, 403)
    # the institution does not see scores before the conclusion; the office does
    assert desk.score(check, "TZ4086-1-01", note="证照齐全").status_code == 200
    inst_view = desk.client.get(f"/api/v1/ledger-checks/{check.id}", headers=desk.institution(check)).get_json()
    assert all(i["score"] is None for i in inst_view["items"])
    office_view = desk.client.get(f"/api/v1/ledger-checks/{check.id}", headers=desk.office).get_json()
    assert office_view["items"][0]["score"]["note"] == "证照齐全"


def test_concurrent_scores_are_refused_with_the_servers_version(desk):
    check = desk.checks[0]
    _submit(desk, check)
    assert desk.score(check, "TZ4086-1-01", "pass", position=0).status_code == 200
    err = assert_error(desk.score(check, "TZ4086-1-01", "fail", ["a"], base=0, position=1), 409, "SCORE_CONFLICT")
    assert err["details"]["server"]["result"] == "pass" and err["details"]["revision"] == 1
    r = desk.score(check, "TZ4086-1-01", "fail", ["a"], base=1, position=1)
    assert r.status_code == 200 and r.get_json()["revision"] == 2


def test_scores_are_checked_by_the_scoring_engine(desk):
    check = desk.checks[0]
    _submit(desk, check)
    err = assert_error(desk.score(check, "TZ4086-1-01", "deduct", ["zz"]), 422, "SCORE_INVALID")
    assert err["details"]["problems"][0]["code"] == "UNKNOWN_DEDUCTION"
    assert_error(desk.score(check, "TZ4086-1-01", "deduct", []), 422, "SCORE_INVALID")
    assert_error(desk.score(check, "TZ4086-1-01", "na"), 422, "SCORE_INVALID")
    r = desk.client.put(f"/api/v1/ledger-checks/{check.id}/items/TZ4086-1-01/score", headers=desk.reviewer(check),
                        json={"result": {"$gt": ""}, "base_revision": 0})
    assert_error(r, 422)


def test_conclusion_opens_a_rectification_order_that_escalates_like_site_findings(desk):
    check = desk.checks[0]
    _submit(desk, check)
    items = _items(desk, check)
    assert_error(desk.client.post(f"/api/v1/ledger-checks/{check.id}/conclude", headers=desk.reviewer(check)), 422,
                 "LEDGER_SCORING_INCOMPLETE")
    for item_id in items:
        if item_id == "TZ4086-6-02":  # emergency plans and drills: never drilled
            assert desk.score(check, item_id, "deduct", ["c"], note="近半年未演练").status_code == 200
        elif item_id == "TZ4086-2-04":
            assert desk.score(check, item_id, "fail", ["a"]).status_code == 200
        else:
            assert desk.score(check, item_id).status_code == 200
    assert_error(desk.client.post(f"/api/v1/ledger-checks/{check.id}/conclude", headers=desk.reviewer(check, 1)),
                 403, "NOT_TEAM_LEAD")
    institution = Institution.objects.get(id=check.institution_id)
    past = institution.risk.past_findings
    desk.clock.set(at(check.deadline, 15))
    r = desk.client.post(f"/api/v1/ledger-checks/{check.id}/conclude", headers=desk.reviewer(check))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "concluded" and body["score"] == 92.5 and body["grade"] == "excellent"
    assert body["finding_count"] == 2 and body["order_id"]
    # a replay returns the same conclusion
    again = desk.client.post(f"/api/v1/ledger-checks/{check.id}/conclude", headers=desk.reviewer(check)).get_json()
    assert again["order_id"] == body["order_id"]
    assert Institution.objects.get(id=check.institution_id).risk.past_findings == past + 2

    order = Order.objects.get(id=body["order_id"])
    assert order.source == "ledger_check" and order.inspection_id == f"ledger:{check.id}"
    assert order.lead_inspector_id == check.team[0]
    findings = {f.item_id: f for f in Finding.objects(order_id=str(order.id))}
    assert set(findings) == {"TZ4086-6-02", "TZ4086-2-04"}
    calendar = current_calendar()
    concluded_on = check.reload().deadline
    assert findings["TZ4086-2-04"].deadline == calendar.add_working_days(concluded_on, 10)  # major: 10 days
    # the institution sees the order like any other, and its public profile counts the open findings
    r = desk.client.get(f"/api/v1/rectifications/{order.id}", headers=desk.institution(check))
    assert r.status_code == 200 and r.get_json()["source"] == "ledger_check"
    assert public_reads.institution_counts(check.institution_id)["open_findings"] == 2
    # the same ladder: the first overdue working day warns, and the finding is a notice candidate
    overdue_day = calendar.add_working_days(findings["TZ4086-2-04"].deadline, 1)
    escalation.run_sweep(at(overdue_day, 9))
    finding = Finding.objects.get(id=findings["TZ4086-2-04"].id)
    assert finding.overdue and "warning" in finding.step_codes
    office = desk.client.get("/api/v1/notices/candidates?period_from=2026-11-01&period_to=2027-03-31",
                             headers=desk.office).get_json()["items"]
    assert any(c["finding_id"] == str(finding.id) and c["preselected"] for c in office)
    # the result is public on the institution's profile, without notes
    public = ledgers.public_checks(check.institution_id)
    assert public[0]["score"] == 92.5 and public[0]["finding_count"] == 2
    assert "近半年未演练" not in str(public)
    profile = desk.client.get(f"/p/institutions/{institution.public_id}").get_data(as_text=True)
    assert "台账资料抽查" in profile and check.code in profile


def test_a_ledger_finding_needs_no_site_reinspection(desk):
    check = desk.checks[0]
    _submit(desk, check)
    for item_id in _items(desk, check):
        desk.score(check, item_id, "fail" if item_id == "TZ4086-1-01" else "pass", ["a"] if item_id == "TZ4086-1-01" else [])
    order_id = desk.client.post(f"/api/v1/ledger-checks/{check.id}/conclude",
                                headers=desk.reviewer(check)).get_json()["order_id"]
    finding = Finding.objects.get(order_id=order_id)
    Finding.objects(id=finding.id).update_one(set__severity="critical")
    r = desk.client.post(f"/api/v1/rectifications/{order_id}/findings/{finding.id}/reinspection", json={},
                         headers=desk.office)
    assert_error(r, 422, "REINSPECTION_NOT_APPLICABLE")


def test_a_missed_document_deadline_escalates_on_the_same_ladder(desk):
    check = desk.checks[0]
    calendar = current_calendar()
    deadline = check.deadline
    institution = Institution.objects.get(id=check.institution_id)
    overdue_before = institution.risk.overdue_rectifications
    reminder_day = calendar.add_working_days(deadline, -3)
    for hour in (9, 9, 15):  # repeated sweeps record a step once
        sweep_request_deadlines(at(reminder_day, hour))
    check.reload()
    assert check.step_codes == ["reminder"] and check.level == "reminder"
    reminders = Notification.objects(kind="ledger.step", data__ledger_check_id=str(check.id))
    assert reminders.count() == len(ledgers.recipients("institution", check))
    assert "提交期限临近" in reminders.first().title
    # a sweep after downtime catches up every missed step, each once
    sweep_request_deadlines(at(calendar.add_working_days(deadline, 6), 9))
    check.reload()
    assert check.step_codes == ["reminder", "warning", "department"] and check.overdue
    sweep_request_deadlines(at(calendar.add_working_days(deadline, 7), 9))
    assert Institution.objects.get(id=check.institution_id).risk.overdue_rectifications == overdue_before + 1
    warned = Notification.objects(kind="ledger.step", data__ledger_check_id=str(check.id), data__step="warning")
    assert {n.user_id for n in warned} >= set(ledgers.recipients("lead_inspector", check))
    # the late submission stops the ladder and is marked late
    desk.clock.set(at(calendar.add_working_days(deadline, 8), 10))
    _submit(desk, check)
    check.reload()
    assert check.late and check.next_step_due is None
    sweep_request_deadlines(at(calendar.add_working_days(deadline, 12), 9))
    assert LedgerCheck.objects.get(id=check.id).step_codes == ["reminder", "warning", "department"]


def test_reviewers_may_review_an_unsubmitted_check_after_its_deadline(desk):
    check = desk.checks[0]
    desk.clock.set(at(current_calendar().add_working_days(check.deadline, 1), 10))
    assert desk.score(check, "TZ4086-1-01", "fail", ["a"]).status_code == 200


def test_listing_is_scoped(desk):
    check = desk.checks[0]
    mine = desk.client.get("/api/v1/ledger-checks", headers=desk.institution(check)).get_json()
    assert [c["id"] for c in mine["items"]] == [str(check.id)]
    reviewer = desk.client.get("/api/v1/ledger-checks", headers=desk.reviewer(check)).get_json()
    assert str(check.id) in {c["id"] for c in reviewer["items"]}
    office = desk.client.get("/api/v1/ledger-checks", headers=desk.office).get_json()
    assert office["total"] == 3
    far = desk.client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    assert far.status_code in (401, 422)
