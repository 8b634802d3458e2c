"""Desk-review plans: the same dr1 draw and public record; targets become ledger checks with reviewer teams."""

from __future__ import annotations

import json

from inspect_api.calendar.service import current_calendar
from inspect_api.draws import dr1
from inspect_api.inspections.models import Assignment
from inspect_api.ledgers.models import LedgerCheck
from inspect_api.notify.models import Notification
from tests.conftest import assert_error
from tests.draws import plan_fixtures as fx
from tests.ledgers.conftest import DRAWN_ON


def test_drawn_targets_become_ledger_checks_with_reviewer_teams(desk):
    record = desk.client.get(f"/api/v1/public/draws/{desk.draw['id']}/record.json")
    assert record.status_code == 200
    data = json.loads(record.get_data(as_text=True))
    assert data["algorithm"] == "dr1" and data["plan"]["kind"] == "desk_review"
    assert list(dr1.verify(data)) == []  # anyone can re-run the draw from the public record
    targets = data["result"]["targets"]
    assert len(targets) == 3 and len(desk.checks) == 3
    assert {c.institution_id for c in desk.checks} == set(targets)
    for check in desk.checks:
        assert check.team == data["result"]["teams"][check.institution_id]
        assert check.state == "requested" and check.checklist_code == "DB37T4086-2020-TZ"
    # no inspection assignments: a desk review is not a site visit
    assert Assignment.objects(draw_id=desk.draw["id"]).count() == 0


def test_request_deadline_counts_working_days_and_the_institution_is_told(desk):
    check = desk.checks[0]
    assert check.deadline == current_calendar().add_working_days(DRAWN_ON, 10)
    r = desk.client.get(f"/api/v1/ledger-checks/{check.id}", headers=desk.institution(check))
    assert r.status_code == 200
    body = r.get_json()
    assert body["deadline"] == "2026-12-04" and body["state"] == "requested"
    applicable = [i for i in body["items"] if i["applies"]]
    assert len(applicable) == 20 and all(i["documents"] for i in applicable)
    assert all(i["score"] is None and i["files"] == [] for i in body["items"])
    notes = Notification.objects(kind="ledger.requested", data__ledger_check_id=str(check.id))
    assert notes.count() == 1 and "2026-12-04" in notes.first().body


def test_recusal_applies_to_reviewers(app, client, make_user, login, clock):
    world = fx.world()
    office = login(make_user("office_admin", "370300", username="city_office"))
    # every inspector but two has a conflict with the first institution: those two must review it
    target = world["institutions"][0]
    free = world["inspectors"][:2]
    for person in world["inspectors"][2:]:
        fx.conflict(person, target)
    body = fx.plan_body(kind="desk_review", matters=["YY-06"], ratio=None, count=1, stratification="none",
                        required_departments=[], mandatory=[{"institution_id": str(target.id), "reason": "投诉较多"}])
    plan = client.post("/api/v1/plans", json=body, headers=office).get_json()
    assert client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office).status_code == 201
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert r.status_code == 200, r.get_json()
    check = LedgerCheck.objects.get(institution_id=str(target.id))
    assert set(check.team) == {str(p.id) for p in free}


def test_plan_checklist_must_fit_the_plan_kind(desk):
    bad = fx.plan_body(kind="desk_review", checklist_code="DB37T4086-2020", matters=["YY-06"])
    err = assert_error(desk.client.post("/api/v1/plans", json=bad, headers=desk.office), 422, "PLAN_CATALOG_INVALID")
    assert "checklist_code" in err["details"]["fields"]
    bad = fx.plan_body(checklist_code="DB37T4086-2020-TZ")  # a site plan with the desk-review checklist
    assert_error(desk.client.post("/api/v1/plans", json=bad, headers=desk.office), 422, "PLAN_CATALOG_INVALID")


def test_community_stations_get_the_community_ledger_checklist(app, client, make_user, login, clock):
    office = login(make_user("office_admin", "370300", username="city_office"))
    stations = [fx.institution("370302", kind="community_station") for _ in range(2)]
    for region in ("370302", "370303", "370304"):
        fx.inspector(region)
    body = fx.plan_body(kind="desk_review", matters=["YY-06"], ratio="1", stratification="none",
                        required_departments=[])
    plan = client.post("/api/v1/plans", json=body, headers=office).get_json()
    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    codes = {c.checklist_code for c in LedgerCheck.objects(institution_id__in=[str(s.id) for s in stations])}
    assert codes == {"DB37T4087-2020-TZ"}


def test_amendment_replaces_a_reviewer_until_scoring_starts(desk):
    check = desk.checks[0]
    replaced = check.team[1]
    r = desk.client.post(f"/api/v1/plans/{desk.plan['id']}/amendments", headers=desk.office,
                         json={"institution_id": check.institution_id, "inspector_id": replaced, "reason": "病假"})
    assert r.status_code == 201, r.get_json()
    check.reload()
    assert replaced not in check.team and len(check.team) == 2
    # once a reviewer scored, the team is fixed
    desk.client.post(f"/api/v1/ledger-checks/{check.id}/submit", headers=desk.institution(check))
    assert desk.score(check, "TZ4086-1-01").status_code == 200
    r = desk.client.post(f"/api/v1/plans/{desk.plan['id']}/amendments", headers=desk.office,
                         json={"institution_id": check.institution_id, "inspector_id": check.team[1],
                               "reason": "回避"})
    assert_error(r, 409, "INSPECTION_ALREADY_STARTED")


def test_cancelling_the_plan_cancels_unreviewed_checks(desk):
    r = desk.client.post(f"/api/v1/plans/{desk.plan['id']}/cancel", json={"reason": "计划调整"}, headers=desk.office)
    assert r.status_code == 200, r.get_json()
    assert {c.reload().state for c in desk.checks} == {"cancelled"}
    check = desk.checks[0]
    r = desk.upload(check, "TZ4086-1-01", b"%PDF-", "a.pdf")
    assert_error(r, 409, "LEDGER_NOT_ACCEPTING")
