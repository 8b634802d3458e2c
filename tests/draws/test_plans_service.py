"""Plan service: snapshot content (weights, exclusions, loads, caps, conflicts, previous leads) and atomic transitions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from inspect_api.draws import lifecycle, plans, records
from inspect_api.draws.snapshot import build_snapshot, weight_of
from inspect_api.draws.models import Draw
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.inspections import assignments
from tests.draws import plan_fixtures as fx

RISK = {"per_past_finding": 0.1, "per_overdue_rectification": 0.5, "per_complaint": 0.25,
        "per_rejected_answer": 0.25, "max_weight": 5.0}


@pytest.fixture
def office(make_user):
    return make_user("office_admin", "370300")


def _data(**overrides):
    body = fx.plan_body(**overrides)
    body["period_start"] = date.fromisoformat(body["period_start"])
    body["period_end"] = date.fromisoformat(body["period_end"])
    body.setdefault("filters", {"statuses": ["active"], "kinds": [], "tags": []})
    return body


def test_weight_is_one_plus_increments_capped_with_six_decimals(app):
    a = fx.institution("370302", past_findings=3, overdue=1, complaints=2)
    assert weight_of(a, RISK) == "2.300000"
    b = fx.institution("370302", overdue=20)
    assert weight_of(b, RISK) == "5.000000"
    c = fx.institution("370302")
    assert weight_of(c, RISK) == "1.000000"
    d = fx.institution("370302", past_findings=1)
    assert weight_of(d, {**RISK, "per_past_finding": 0.1234567}) == "1.123457"


def test_snapshot_freezes_candidates_inspectors_conflicts_loads_and_leads(app, office):
    recent = fx.institution("370302", last_inspected_at=fx.NOW - 10 * fx.DAY)
    old = fx.institution("370302", last_inspected_at=fx.NOW - 400 * fx.DAY, complaints=4)
    forced = fx.institution("370303", last_inspected_at=fx.NOW - 5 * fx.DAY)
    fx.institution("370303", status="closed")
    fx.institution("370402")
    lead = fx.inspector("370302", load_cap=3)
    other = fx.inspector("370303", "civil_affairs")
    fx.inspector("370304", active=False)
    fx.conflict(other, old)
    assignments.create_assignment(institution_id=str(old.id), region="370302", team=[str(lead.id), str(other.id)],
                                  source="targeted", reason="complaint", checklist_code="DB37T4086-2020",
                                  now=fx.NOW - 400 * fx.DAY, dedupe_key="t1")
    plan = plans.create_plan(office, _data(exclude_inspected_within_days=30, required_departments=[],
                                           mandatory=[{"institution_id": str(forced.id), "reason": "投诉"}]),
                             now=fx.NOW)
    params, snapshot = build_snapshot(plan, now=fx.NOW, risk=RISK)
    assert params == {"ratio": "0.500000", "count": None, "min_per_stratum": 1, "team_size": 2,
                      "required_departments": [], "cross_region": False, "no_repeat_lead": True}
    ids = [i["id"] for i in snapshot["institutions"]]
    assert ids == sorted(ids) and str(recent.id) not in ids
    by_id = {i["id"]: i for i in snapshot["institutions"]}
    assert by_id[str(old.id)] == {"id": str(old.id), "region": "370302", "stratum": "370302", "weight": "2.000000",
                                  "mandatory": False}
    assert by_id[str(forced.id)]["mandatory"] is True
    assert set(by_id) == {str(old.id), str(forced.id)}
    people = {p["id"]: p for p in snapshot["inspectors"]}
    assert set(people) == {str(lead.id), str(other.id)}
    assert people[str(lead.id)] == {"id": str(lead.id), "department": "health", "region": "370302", "load": 1,
                                    "load_cap": 3}
    assert people[str(other.id)]["load_cap"] == 25
    assert snapshot["conflicts"] == [[str(other.id), str(old.id)]]
    assert snapshot["previous_leads"] == {str(old.id): str(lead.id)}
    json.dumps(snapshot)  # plain JSON


def test_strata_by_kind_and_none(app, office):
    fx.institution("370302", kind="combined")
    fx.institution("370303", kind="community_station")
    fx.inspector("370302"), fx.inspector("370303")
    plan = plans.create_plan(office, _data(stratification="kind", required_departments=[]), now=fx.NOW)
    _, snapshot = build_snapshot(plan, now=fx.NOW, risk=RISK)
    assert {i["stratum"] for i in snapshot["institutions"]} == {"combined", "community_station"}
    plan = plans.create_plan(office, _data(stratification="none", risk_weighting=False, required_departments=[]),
                             now=fx.NOW)
    _, snapshot = build_snapshot(plan, now=fx.NOW, risk=RISK)
    assert {i["stratum"] for i in snapshot["institutions"]} == {"all"}


def test_too_few_inspectors_cannot_be_committed(app, office):
    fx.institution("370302")
    fx.inspector("370302")
    plan = plans.create_plan(office, _data(required_departments=[]), now=fx.NOW)
    with pytest.raises(Unprocessable) as exc:
        lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    assert exc.value.code == "NOT_ENOUGH_INSPECTORS"


def test_required_departments_must_fit_team_and_departments(app, office):
    with pytest.raises(Unprocessable):
        plans.create_plan(office, _data(required_departments=["health", "fire", "civil_affairs"]), now=fx.NOW)
    with pytest.raises(Unprocessable):
        plans.create_plan(office, _data(departments=["civil_affairs"], required_departments=["health"]),
                          now=fx.NOW)


def test_commit_and_draw_transitions_are_conditional(app, office):
    fx.world()
    plan = plans.create_plan(office, _data(), now=fx.NOW)
    draw = lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    assert Draw.objects(plan_id=str(plan.id)).count() == 1
    with pytest.raises(Conflict):
        lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    # Another request already flipped the draw: the conditional update refuses, nothing is overwritten.
    Draw.objects(id=draw.id).update_one(set__state="drawn", set__seed="f" * 64)
    with pytest.raises(Conflict) as exc:
        lifecycle.draw_plan(office, str(plan.id), "entropy", now=fx.NOW)
    assert exc.value.code == "ALREADY_DRAWN"
    assert Draw.objects.get(id=draw.id).seed == "f" * 64


def test_other_region_gets_not_found(app, office, make_user):
    plan = plans.create_plan(office, _data(required_departments=[]), now=fx.NOW)
    other = make_user("office_admin", "370400")
    with pytest.raises(NotFound):
        plans.plan_in_scope(other, str(plan.id))
    with pytest.raises(NotFound):
        plans.plan_in_scope(office, "garbage")


def test_concurrent_draw_loses_on_the_state_condition(app, office, monkeypatch):
    """A second request that flips the draw while this one computes: only one can succeed."""
    fx.world()
    plan = plans.create_plan(office, _data(), now=fx.NOW)
    draw = lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    real_draw = lifecycle.dr1.draw

    def racing(params, snapshot, seed):
        result = real_draw(params, snapshot, seed)
        Draw.objects(id=draw.id).update_one(set__state="drawn", set__seed="e" * 64, set__public_entropy="other")
        return result

    monkeypatch.setattr(lifecycle.dr1, "draw", racing)
    with pytest.raises(Conflict) as exc:
        lifecycle.draw_plan(office, str(plan.id), "mine", now=fx.NOW)
    assert exc.value.code == "ALREADY_DRAWN"
    stored = Draw.objects.get(id=draw.id)
    assert stored.public_entropy == "other" and "result" not in json.loads(stored.record_json)
    assert assignments.assignments_for_draw(str(draw.id)).count() == 0


def test_concurrent_commit_loses_on_the_unique_sequence(app, office, monkeypatch):
    fx.world()
    plan = plans.create_plan(office, _data(), now=fx.NOW)
    real_build = lifecycle.snapshot_with_candidates

    def racing(p, *, now, risk):
        out = real_build(p, now=now, risk=risk)
        Draw(plan_id=str(plan.id), seq=1, region=plan.region, record_gz=records.pack_record("{}"), commitment="a" * 64,
             nonce="b" * 64, committed_at=now).save()
        return out

    monkeypatch.setattr(lifecycle, "snapshot_with_candidates", racing)
    with pytest.raises(Conflict) as exc:
        lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    assert exc.value.code == "PLAN_ALREADY_COMMITTED"
    assert Draw.objects(plan_id=str(plan.id)).count() == 1
    assert Draw.objects.get(plan_id=str(plan.id)).commitment == "a" * 64


def test_interrupted_draw_is_completed_by_a_retry(app, office):
    """Assignments are keyed by draw and institution: a retry after a crash creates the missing ones only."""
    fx.world()
    plan = plans.create_plan(office, _data(), now=fx.NOW)
    lifecycle.commit_plan(office, str(plan.id), now=fx.NOW, risk=RISK)
    draw = lifecycle.draw_plan(office, str(plan.id), "witness", now=fx.NOW)
    total = assignments.assignments_for_draw(str(draw.id)).count()
    first = assignments.assignments_for_draw(str(draw.id)).first()
    first.delete()
    with pytest.raises(Conflict):
        lifecycle.draw_plan(office, str(plan.id), "witness", now=fx.NOW)
    assert assignments.assignments_for_draw(str(draw.id)).count() == total
