"""The full demo seed: inspections in every state, and every demo assignment has a checklist for its kind."""

from __future__ import annotations

from inspect_api.scoping import prefix_range
from inspect_api.catalog import service as catalog
from inspect_api.demo import DEMO_PASSWORD, load_demo
from inspect_api.directory.models import Institution
from inspect_api.inspections.models import Assignment


def test_demo_seed_holds_inspections_assigned_checked_in_and_submitted(client, login):
    load_demo()
    insp01 = login("insp01", DEMO_PASSWORD)
    page = client.get("/api/v1/me/assignments?per_page=100", headers=insp01).get_json()
    states = {}
    for item in page["items"]:
        r = client.get(f"/api/v1/inspections/{item['id']}", headers=insp01)
        assert r.status_code == 200, r.get_json()
        states.setdefault(r.get_json()["state"], []).append(r.get_json())
    assert {"assigned", "checked_in", "submitted"} <= set(states)
    assert any(i["responses"] for i in states["checked_in"])  # answers in progress
    submitted = [i for i in states["submitted"] if i["photos"] and i["findings"] and i["order_id"]]
    assert submitted and all(i["report_hash"] and len(i["signatures"]) == 3 for i in submitted)


def test_demo_assignments_use_a_checklist_covering_the_institution_kind(client, login):
    load_demo()
    office = login("office", DEMO_PASSWORD)
    kinds = {str(i.id): i.kind for i in Institution.objects}
    drawn = Assignment.objects(source="draw")
    seeded = Assignment.objects(__raw__={"dedupe_key": prefix_range("demo:inspections:")})
    assert drawn.count() and seeded.count() == 3
    for assignment in list(drawn) + list(seeded):
        r = client.get(f"/api/v1/assignments/{assignment.id}/bundle", headers=office)
        assert r.status_code == 200, r.get_json()
        checklist = catalog.latest_version(r.get_json()["checklist"]["code"])
        kind = kinds[assignment.institution_id]
        assert kind in checklist.content["kinds"], (assignment.checklist_code, kind)
    # the demo candidates include community stations: the draw gives them DB37/T 4087 (deterministic,
    # whichever institutions the random draw picked); a desk-review draw its ledger checklist
    expected = {"site": "DB37T4087-2020", "desk_review": "DB37T4087-2020-TZ"}
    for draw in client.get("/api/v1/draws", headers=office).get_json()["items"]:
        record = client.get(f"/api/v1/draws/{draw['id']}/record.json", headers=office).get_json()
        kind = record["plan"].get("kind", "site")
        assert record["plan"]["checklists_by_kind"]["community_station"] == expected[kind]
    # the demo plans name real, active catalog matters
    for plan in client.get("/api/v1/plans", headers=office).get_json()["items"]:
        for code in plan["matters"]:
            matter = catalog.get_matter(code)
            assert matter is not None and matter.active, code
