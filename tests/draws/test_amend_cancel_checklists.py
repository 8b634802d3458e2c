"""Draws meet inspections: amendments before/after check-in, cancelled assignments, checklists chosen by kind."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from inspect_api.catalog.models import ChecklistVersion
from inspect_api.directory.institutions import get_institution
from inspect_api.directory.qr import qr_payload
from inspect_api.draws.models import Draw, Plan
from inspect_api.inspections.models import Assignment, Inspection
from tests.conftest import assert_error
from tests.draws import plan_fixtures as fx
from tests.inspections.helpers import applicable_items, signature_form



def _accounts(make_user, login, ids):
    """Log in an inspector account for each directory inspector id."""
    return {i: login(make_user("inspector", "370300", inspector_id=i)) for i in ids}


def _checkin_body(institution_id):
    inst = get_institution(institution_id)
    return {"client_id": str(uuid.uuid4()), "qr_token": qr_payload(inst), "latitude": 36.8,
            "longitude": 118.05, "accuracy_m": 10.0, "captured_at": datetime.now(timezone.utc).isoformat()}


def _amend(client, office, plan, iid, inspector_id, reason="因病请假"):
    return client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office,
                       json={"institution_id": iid, "inspector_id": inspector_id, "reason": reason})


# ------------------------------------------------------------------ amendments and the inspection's team

def test_amendment_before_check_in_updates_assignment_and_inspection_teams(client, office, w, make_user, login):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    iid, lead, member = target["institution_id"], target["team"][0]["id"], target["team"][1]["id"]
    heads = _accounts(make_user, login, [lead, member])
    # the lead opens the bundle: the inspection exists, still "assigned"
    assignment = Assignment.objects.get(draw_id=drawn["id"], institution_id=iid)
    assert client.get(f"/api/v1/assignments/{assignment.id}/bundle", headers=heads[lead]).status_code == 200
    r = _amend(client, office, plan, iid, lead, "新发现利害关系")
    assert r.status_code == 201, r.get_json()
    new_lead = r.get_json()["amendments"][0]["replacement"]
    assignment.reload()
    assert assignment.team == [new_lead, member]
    assert Inspection.objects.get(id=assignment.id).team == [new_lead, member]
    heads.update(_accounts(make_user, login, [new_lead]))
    bundle = client.get(f"/api/v1/assignments/{assignment.id}/bundle", headers=heads[new_lead])
    assert bundle.status_code == 200 and bundle.get_json()["team"][0]["inspector_id"] == new_lead
    assert_error(client.get(f"/api/v1/inspections/{assignment.id}", headers=heads[lead]), 404)
    # the new lead leads: it checks in (and would be the one to submit)
    r = client.post(f"/api/v1/inspections/{assignment.id}/check-in", json=_checkin_body(iid), headers=heads[new_lead])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["team"] == [new_lead, member]


def test_amendment_after_check_in_is_refused_and_stores_nothing(client, office, w, make_user, login):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    iid, lead, member = target["institution_id"], target["team"][0]["id"], target["team"][1]["id"]
    heads = _accounts(make_user, login, [lead, member])
    assignment = Assignment.objects.get(draw_id=drawn["id"], institution_id=iid)
    r = client.post(f"/api/v1/inspections/{assignment.id}/check-in", json=_checkin_body(iid), headers=heads[lead])
    assert r.status_code == 200, r.get_json()
    record_before = Draw.objects.get(id=drawn["id"]).record_json

    for replaced in (lead, member):
        err = assert_error(_amend(client, office, plan, iid, replaced), 409, "INSPECTION_ALREADY_STARTED")
        assert err["details"]["inspection_state"] == "checked_in"
    draw = Draw.objects.get(id=drawn["id"])
    assert draw.record_json == record_before and draw.state == "drawn" and draw.amendment_count == 0
    assert Plan.objects.get(id=plan["id"]).state == "drawn"
    assert Assignment.objects.get(id=assignment.id).team == [lead, member]
    assert Inspection.objects.get(id=assignment.id).team == [lead, member]
    # the team on site keeps working
    assert client.get(f"/api/v1/inspections/{assignment.id}", headers=heads[lead]).status_code == 200
    # other institutions of the same draw can still be amended
    other = drawn["targets"][1]
    assert _amend(client, office, plan, other["institution_id"], other["team"][1]["id"]).status_code == 201


def test_amendment_after_submission_is_refused(client, office, w, make_user, login):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    iid, lead, member = target["institution_id"], target["team"][0]["id"], target["team"][1]["id"]
    assignment = Assignment.objects.get(draw_id=drawn["id"], institution_id=iid)
    # the state a finished submission leaves (the full submission flow is tested in tests/inspections)
    Assignment.objects(id=assignment.id).update_one(set__status="submitted")
    Inspection(id=assignment.id, code="ZB-2026-999999", institution_id=iid, region=assignment.region,
               team=[lead, member], checklist_code="DB37T4086-2020", checklist_version=1, state="submitted",
               created_at=fx.NOW, updated_at=fx.NOW).save(force_insert=True)
    assert_error(_amend(client, office, plan, iid, member), 409, "INSPECTION_ALREADY_STARTED")
    assert Inspection.objects.get(id=assignment.id).team == [lead, member]
    assert Assignment.objects.get(id=assignment.id).team == [lead, member]
    assert Draw.objects.get(id=drawn["id"]).amendment_count == 0


# ------------------------------------------------------------------ cancelled plans

def test_assignments_of_a_cancelled_plan_answer_but_refuse_work(client, office, w, make_user, login):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    iid, lead = target["institution_id"], target["team"][0]["id"]
    heads = _accounts(make_user, login, [lead])
    assignment = Assignment.objects.get(draw_id=drawn["id"], institution_id=iid)
    r = client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "名录数据有误"}, headers=office)
    assert r.status_code == 200, r.get_json()

    bundle = client.get(f"/api/v1/assignments/{assignment.id}/bundle", headers=heads[lead])
    assert bundle.status_code == 200 and bundle.get_json()["assignment"]["status"] == "cancelled"
    view = client.get(f"/api/v1/inspections/{assignment.id}", headers=heads[lead])
    assert view.status_code == 200 and view.get_json()["assignment_status"] == "cancelled"
    assert not Inspection.objects(id=assignment.id).first()  # reading a cancelled task starts nothing
    assert_error(client.post(f"/api/v1/inspections/{assignment.id}/check-in", json=_checkin_body(iid),
                             headers=heads[lead]), 409, "ASSIGNMENT_CANCELLED")
    assert Assignment.objects.get(id=assignment.id).status == "cancelled"


# ------------------------------------------------------------------ the checklist follows the institution's kind

def _community_world():
    stations = [fx.institution(region, kind="community_station", name=f"社区医养服务站{n}")
                for n, region in enumerate(("370302", "370303"))]
    return stations


def test_community_stations_get_the_community_checklist_and_can_be_submitted(client, office, w, make_user, login):
    stations = _community_world()
    plan, drawn = fx.drawn_plan(client, office, ratio="1", checklist_code="DB37T4086-2020")
    record = client.get(f"/api/v1/draws/{drawn['id']}/record.json", headers=office).get_json()
    assert record["plan"]["checklists_by_kind"] == {"care_home_clinic": "DB37T4086-2020",
                                                    "combined": "DB37T4086-2020",
                                                    "community_station": "DB37T4087-2020"}
    codes = {a.institution_id: a.checklist_code for a in Assignment.objects(draw_id=drawn["id"])}
    for station in stations:
        assert codes[str(station.id)] == "DB37T4087-2020"
    assert {codes[str(i.id)] for i in w["institutions"]} == {"DB37T4086-2020"}

    # a community station's inspection scores and submits (it failed with SCORING_FAILED before)
    station = stations[0]
    target = next(t for t in drawn["targets"] if t["institution_id"] == str(station.id))
    lead, member = target["team"][0]["id"], target["team"][1]["id"]
    heads = _accounts(make_user, login, [lead, member])
    aid = Assignment.objects.get(draw_id=drawn["id"], institution_id=str(station.id)).id
    bundle = client.get(f"/api/v1/assignments/{aid}/bundle", headers=heads[lead]).get_json()
    assert bundle["checklist"]["code"] == "DB37T4087-2020"
    assert client.post(f"/api/v1/inspections/{aid}/check-in", json=_checkin_body(str(station.id)),
                       headers=heads[lead]).status_code == 200
    items = applicable_items("community_station", "DB37T4087-2020")
    batch = [{"client_id": str(uuid.uuid4()), "item_id": i["id"], "base_revision": 0,
              "client_updated_at": "2026-11-23T09:40:00+08:00", "result": "pass", "deduction_codes": []}
             for i in items]
    r = client.put(f"/api/v1/inspections/{aid}/responses", json={"items": batch}, headers=heads[lead])
    assert r.status_code == 200, r.get_json()
    for headers, form in ((heads[lead], signature_form("组长", "lead", seed=1)),
                          (heads[member], signature_form("组员", "member", seed=2)),
                          (heads[lead], signature_form("站长", "institution_representative", seed=3))):
        r = client.post(f"/api/v1/inspections/{aid}/signatures", data=form, headers=headers,
                        content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/inspections/{aid}/submit", headers=heads[lead])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "submitted" and r.get_json()["result"]["score"] == 100.0


def test_kind_no_published_checklist_covers_is_refused_at_commit_naming_it(client, office, w):
    station = _community_world()[0]
    ChecklistVersion.objects(code="DB37T4087-2020").update(set__status="draft")  # not published (any more)
    r = client.post("/api/v1/plans", json=fx.plan_body(ratio="1", matters=["YY-01"]), headers=office)
    assert r.status_code == 201, r.get_json()
    err = assert_error(client.post(f"/api/v1/plans/{r.get_json()['id']}/commit", headers=office), 422,
                       "CHECKLIST_KIND_NOT_COVERED")
    assert station.name in err["message"]
    assert err["details"]["kinds"] == ["community_station"]
    assert {i["id"] for i in err["details"]["institutions"]} == {str(i.id) for i in _stations()}
    assert Draw.objects.count() == 0 and Plan.objects.get(id=r.get_json()["id"]).state == "draft"
    # filtering the kind out makes the plan committable
    r = client.post("/api/v1/plans", json=fx.plan_body(ratio="1", filters={"kinds": ["combined"]}), headers=office)
    assert client.post(f"/api/v1/plans/{r.get_json()['id']}/commit", headers=office).status_code == 201


def _stations():
    from inspect_api.directory.models import Institution

    return Institution.objects(kind="community_station")
