"""Plans and draws over the HTTP API: lifecycle, bad input, scoping, public record and verification."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_api.draws import records
from inspect_api.draws.models import Draw
from inspect_api.inspections.models import Assignment
from tests.conftest import assert_error
from tests.draws import plan_fixtures as fx

REPO_ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ bad input

def test_team_size_one_is_refused(client, office, w):
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(team_size=1), headers=office), 422)


@pytest.mark.parametrize("ratio", ["0", "0.000000", "1.5", "2", "-0.1", "0.1234567", "abc"])
def test_ratio_outside_zero_one_is_refused(client, office, w, ratio):
    err = assert_error(client.post("/api/v1/plans", json=fx.plan_body(ratio=ratio), headers=office), 422)
    assert "ratio" in err["details"]["fields"]["json"]


def test_ratio_one_and_count_are_accepted_but_not_both(client, office, w):
    assert fx.create_plan(client, office, ratio="1")["ratio"] == "1.000000"
    assert fx.create_plan(client, office, ratio=None, count=3)["count"] == 3
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(count=3), headers=office), 422)
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(ratio=None), headers=office), 422)


def test_filter_matching_nothing_cannot_be_committed(client, office, w):
    plan = fx.create_plan(client, office, filters={"kinds": ["township_two_in_one"]})
    err = assert_error(client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office), 422, "NO_CANDIDATES")
    assert err["details"] == {}
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=office).get_json()["state"] == "draft"
    assert Draw.objects.count() == 0


def test_mandatory_targets_outside_scope_or_filters_are_refused(client, office, w):
    outside = str(w["outside"].id)
    err = assert_error(client.post("/api/v1/plans", headers=office, json=fx.plan_body(
        mandatory=[{"institution_id": outside, "reason": "投诉较多"}])), 422, "MANDATORY_OUT_OF_SCOPE")
    assert err["details"]["institution_id"] == outside
    wrong_kind = next(i for i in w["institutions"] if i.kind == "care_home_clinic")
    assert_error(client.post("/api/v1/plans", headers=office, json=fx.plan_body(
        filters={"kinds": ["combined"]}, mandatory=[{"institution_id": str(wrong_kind.id), "reason": "复查"}])),
        422, "MANDATORY_OUT_OF_SCOPE")
    assert_error(client.post("/api/v1/plans", headers=office, json=fx.plan_body(
        mandatory=[{"institution_id": "nonexistent", "reason": "复查"}])), 422, "MANDATORY_OUT_OF_SCOPE")
    assert_error(client.post("/api/v1/plans", headers=office, json=fx.plan_body(
        mandatory=[{"institution_id": str(w["institutions"][0].id)}])), 422)


def test_drawing_an_uncommitted_plan_is_refused(client, office, w):
    plan = fx.create_plan(client, office)
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office),
                 409, "PLAN_NOT_COMMITTED")


def test_drawing_twice_is_refused(client, office, w):
    plan, drawn = fx.drawn_plan(client, office)
    again = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": "另一个随机源"}, headers=office)
    assert_error(again, 409, "ALREADY_DRAWN")
    record = json.loads(Draw.objects.get(id=drawn["id"]).record_json)
    assert record["public_entropy"] == fx.ENTROPY
    assert Assignment.objects(draw_id=drawn["id"]).count() == len(drawn["targets"])


@pytest.mark.parametrize("body", [{}, {"public_entropy": ""}, {"public_entropy": "x" * 257},
                                  {"public_entropy": None}, {"public_entropy": "   "}])
def test_entropy_missing_or_too_long_is_refused(client, office, w, body):
    plan, _ = fx.committed_plan(client, office)
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json=body, headers=office), 422)
    assert Draw.objects.get(plan_id=plan["id"]).state == "committed"


def test_entropy_of_256_characters_is_accepted_verbatim(client, office, w):
    plan, _ = fx.committed_plan(client, office)
    entropy = "开" * 256
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": entropy}, headers=office)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["public_entropy"] == entropy


def test_inspector_cannot_start_a_draw(client, office, w, make_user, login):
    plan, _ = fx.committed_plan(client, office)
    inspector = login(make_user("inspector", "370300", inspector_id=str(w["inspectors"][0].id)))
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                             headers=inspector), 403, "ROLE_FORBIDDEN")
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(), headers=inspector), 403)
    assert_error(client.get("/api/v1/plans", headers=inspector), 403)
    assert Draw.objects.get(plan_id=plan["id"]).state == "committed"


def test_office_of_another_region_cannot_read_the_plan(client, office, w, make_user, login):
    plan, drawn = fx.drawn_plan(client, office)
    other = login(make_user("office_admin", "370400"))
    assert_error(client.get(f"/api/v1/plans/{plan['id']}", headers=other), 404, "PLAN_NOT_FOUND")
    assert_error(client.get(f"/api/v1/draws/{drawn['id']}", headers=other), 404, "DRAW_NOT_FOUND")
    assert_error(client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=other), 404)
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "x"}, headers=other), 404)
    assert client.get("/api/v1/plans", headers=other).get_json()["total"] == 0
    county = login(make_user("office_admin", "370302"))
    assert_error(client.get(f"/api/v1/plans/{plan['id']}", headers=county), 404)


def test_plan_region_outside_office_scope_is_refused(client, office, w, make_user, login):
    county = login(make_user("office_admin", "370302"))
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(region="370300"), headers=county), 403)
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(filters={"region_prefix": "3704"}),
                             headers=office), 422, "PLAN_FILTER_OUT_OF_SCOPE")


def test_unknown_fields_are_refused(client, office, w):
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(colour="red"), headers=office), 422)


def test_draw_that_cannot_fill_a_team_names_the_institution_and_stores_nothing(client, office, w):
    target = w["institutions"][0]
    for person in w["inspectors"]:
        if person.department == "health":
            fx.conflict(person, target)
    plan, committed = fx.committed_plan(client, office, ratio="1")
    err = assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                                   headers=office), 422, "TEAM_UNFILLABLE")
    assert err["details"]["institution_id"] == str(target.id)
    draw = Draw.objects.get(id=committed["id"])
    assert draw.state == "committed" and draw.seed is None
    assert "nonce" not in json.loads(draw.record_json)
    assert Assignment.objects.count() == 0
    # The failed attempt is public: another try with other entropy on this commitment is never silent.
    public = client.get(f"/api/v1/public/draws/{committed['id']}").get_json()
    (attempt,) = public["failed_attempts"]
    assert attempt["public_entropy"] == fx.ENTROPY and attempt["code"] == "TEAM_UNFILLABLE"
    assert target.name in attempt["message"] and len(attempt["seed"]) == 64
    page = client.get(f"/p/draws/{committed['id']}").get_data(as_text=True)
    assert "失败的抽取尝试" in page and fx.ENTROPY in page
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": "另一个随机源"},
                             headers=office), 422, "TEAM_UNFILLABLE")
    assert len(client.get(f"/api/v1/public/draws/{committed['id']}").get_json()["failed_attempts"]) == 2


# ------------------------------------------------------------------ lifecycle

def test_end_to_end_lifecycle(client, office, w):
    plan = fx.create_plan(client, office, departments=["health", "civil_affairs"],
                          mandatory=[{"institution_id": str(w["institutions"][5].id), "reason": "投诉较多"}])
    assert plan["state"] == "draft" and plan["actions"] == ["update", "commit", "delete"]
    r = client.patch(f"/api/v1/plans/{plan['id']}", json={"name": "改名后的计划"}, headers=office)
    assert r.status_code == 200 and r.get_json()["name"] == "改名后的计划"

    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    committed = r.get_json()
    assert committed["state"] == "committed" and len(committed["commitment"]) == 64
    assert committed["nonce"] is None and committed["seed"] is None and committed["targets"] == []
    assert committed["candidates"] == 12 and committed["inspectors"] == 8
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=office).get_json()["actions"] == ["draw", "cancel"]
    assert_error(client.patch(f"/api/v1/plans/{plan['id']}", json={"name": "x"}, headers=office), 409)
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office), 409, "PLAN_ALREADY_COMMITTED")

    # Published before the draw, without the nonce.
    public = client.get("/api/v1/public/draws").get_json()
    assert public["total"] == 1 and public["items"][0]["commitment"] == committed["commitment"]
    pre = client.get(f"/api/v1/public/draws/{committed['id']}/record.json")
    assert pre.status_code == 200 and "nonce" not in json.loads(pre.data) and "result" not in json.loads(pre.data)
    assert_error(client.get(f"/api/v1/draws/{committed['id']}/verify", headers=office), 409, "DRAW_NOT_DRAWN")

    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert r.status_code == 200, r.get_json()
    drawn = r.get_json()
    assert drawn["state"] == "drawn" and len(drawn["nonce"]) == 64 and len(drawn["seed"]) == 64
    assert drawn["commitment"] == committed["commitment"]
    # 50% of 12 with one per county at least: 6 targets, the mandatory one among them.
    assert len(drawn["targets"]) == 6
    assert str(w["institutions"][5].id) in [t["institution_id"] for t in drawn["targets"]]
    for target in drawn["targets"]:
        assert len(target["team"]) == 2 and target["team"][0]["department"] == "health"
        assert all(m["name"] and m["certificate_no"] for m in target["team"])
        assert target["name"]
    after = client.get(f"/api/v1/plans/{plan['id']}", headers=office).get_json()
    assert after["state"] == "drawn" and after["actions"] == ["amend", "cancel"]

    assignments = {a.institution_id: a for a in Assignment.objects(draw_id=drawn["id"])}
    assert len(assignments) == 6
    for target in drawn["targets"]:
        a = assignments[target["institution_id"]]
        assert a.team == [m["id"] for m in target["team"]]
        assert a.source == "draw" and a.random and a.plan_id == plan["id"]
        assert a.dedupe_key == f"draw:{drawn['id']}:{target['institution_id']}"
        assert a.checklist_code == "DB37T4086-2020" and a.matters == ["YY-01", "YY-02"]

    r = client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office)
    assert r.status_code == 200 and r.get_json() == {"ok": True, "differences": []}
    listed = client.get(f"/api/v1/plans/{plan['id']}/draws", headers=office).get_json()
    assert [d["id"] for d in listed] == [drawn["id"]]
    assert client.get("/api/v1/draws", headers=office).get_json()["total"] == 1


def _verify_clean(path: Path, *, no_site: bool) -> subprocess.CompletedProcess:
    """Run the stdlib verifier on ``path``: ``-I``, or ``-I -S`` (no site-packages at all, so nothing
    installed can be imported; only the repository is put on ``sys.path``)."""
    if not no_site:
        return subprocess.run([sys.executable, "-I", "-m", "inspect_api.draws.verify", str(path)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120)
    code = (
        "import sys, runpy\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        f"sys.argv = ['verify', {str(path)!r}]\n"
        "try:\n"
        "    runpy.run_module('inspect_api.draws.verify', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    code = exc.code or 0\n"
        "else:\n"
        "    code = 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'werkzeug', 'mongoengine', 'pymongo', 'bson', 'marshmallow'))\n"
        "assert not heavy, heavy\n"
        "sys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("no_site", [False, True], ids=["isolated", "isolated-no-site-packages"])
def test_record_exported_from_api_verifies_in_clean_interpreter(client, office, w, tmp_path, no_site):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    r = client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": target["institution_id"], "inspector_id": target["team"][1]["id"], "reason": "因病请假"})
    assert r.status_code == 201, r.get_json()
    r = client.get(f"/api/v1/draws/{drawn['id']}/record.json", headers=office)
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.data == client.get(f"/api/v1/public/draws/{drawn['id']}/record.json").data
    path = tmp_path / "record.json"
    path.write_bytes(r.data)
    ok = _verify_clean(path, no_site=no_site)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().splitlines()[-1] == "OK"

    record = json.loads(r.data)
    victim = record["result"]["targets"][0]
    team = record["result"]["teams"][victim]
    spare = next(i["id"] for i in record["snapshot"]["inspectors"] if i["id"] not in team)
    record["result"]["teams"][victim] = [team[0], spare]
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    bad = _verify_clean(path, no_site=no_site)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert victim in bad.stdout + bad.stderr


def test_record_edited_after_the_draw_fails_verify_naming_the_field(client, office, w):
    _, drawn = fx.drawn_plan(client, office)
    draw = Draw.objects.get(id=drawn["id"])
    record = json.loads(draw.record_json)
    record["public_entropy"] = record["public_entropy"] + "!"
    Draw.objects(id=draw.id).update_one(set__record_gz=records.pack_record(json.dumps(record, ensure_ascii=False)))
    body = client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json()
    assert body["ok"] is False
    assert "seed" in " ".join(body["differences"])

    record = json.loads(draw.record_json)
    first = record["result"]["targets"][0]
    record["snapshot"]["institutions"] = [dict(i, weight="3.000000") if i["id"] == first else i
                                          for i in record["snapshot"]["institutions"]]
    Draw.objects(id=draw.id).update_one(set__record_gz=records.pack_record(json.dumps(record, ensure_ascii=False)))
    body = client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json()
    assert body["ok"] is False and "commitment" in " ".join(body["differences"])


def test_amendment_replaces_member_records_it_and_updates_the_assignment(client, office, w):
    plan, drawn = fx.drawn_plan(client, office)
    target = drawn["targets"][0]
    replaced = target["team"][1]["id"]
    r = client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office,
                    json={"institution_id": target["institution_id"], "inspector_id": replaced, "reason": "因病请假"})
    assert r.status_code == 201, r.get_json()
    amended = r.get_json()
    assert amended["state"] == "amended"
    [entry] = amended["amendments"]
    assert entry["replaced"] == replaced and entry["reason"] == "因病请假" and entry["number"] == 1
    new_team = next(t for t in amended["targets"] if t["institution_id"] == target["institution_id"])["team"]
    assert replaced not in [m["id"] for m in new_team] and entry["replacement"] in [m["id"] for m in new_team]
    assert new_team[0]["id"] == target["team"][0]["id"]
    a = Assignment.objects.get(dedupe_key=f"draw:{drawn['id']}:{target['institution_id']}")
    assert a.team == [m["id"] for m in new_team]
    assert a.team_names == [m["name"] for m in new_team]  # the names stored with the team follow it
    assert client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json()["ok"] is True
    # the replaced person is not in this team any more
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": target["institution_id"], "inspector_id": replaced, "reason": "x"}), 422,
        "AMEND_NOT_IN_TEAM")
    assert entry["replaced_name"] == target["team"][1]["name"] and entry["replacement_name"]
    html = client.get(f"/p/draws/{drawn['id']}").get_data(as_text=True)
    assert "因病请假" in html and entry["replacement_name"] in html
    assert "淄博市（370300）" in html  # the scope shown by name, with its code
    # a second amendment on the same institution is number 2 and still verifies
    r = client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": target["institution_id"], "inspector_id": entry["replacement"], "reason": "发现利害关系"})
    assert r.status_code == 201, r.get_json()
    assert [a["number"] for a in r.get_json()["amendments"]] == [1, 2]
    assert client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json()["ok"] is True


def test_amending_an_undrawn_plan_is_refused(client, office, w):
    plan, _ = fx.committed_plan(client, office)
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": str(w["institutions"][0].id), "inspector_id": str(w["inspectors"][0].id),
        "reason": "x"}), 409, "PLAN_NOT_DRAWN")


def test_cancel_then_recommit_creates_a_new_commitment(client, office, w):
    plan, drawn = fx.drawn_plan(client, office)
    r = client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "名录数据有误，重新抽取"}, headers=office)
    assert r.status_code == 200, r.get_json()
    cancelled = r.get_json()
    assert cancelled["state"] == "cancelled" and cancelled["cancel_reason"] == "名录数据有误，重新抽取"
    assert {a.status for a in Assignment.objects(draw_id=drawn["id"])} == {"cancelled"}
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                             headers=office), 409, "PLAN_NOT_COMMITTED")
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "again"}, headers=office), 409)

    r = client.patch(f"/api/v1/plans/{plan['id']}", json={"ratio": "0.25"}, headers=office)
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    assert r.get_json()["actions"] == ["update", "commit"]  # committed once: no longer deletable
    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    second = r.get_json()
    assert second["id"] != drawn["id"] and second["seq"] == 2 and second["commitment"] != drawn["commitment"]
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": "新的见证随机源"}, headers=office)
    assert r.status_code == 200
    # the old record stays public with its cancellation
    old = client.get(f"/api/v1/public/draws/{drawn['id']}").get_json()
    assert old["state"] == "cancelled" and old["cancel_reason"] == "名录数据有误，重新抽取"
    assert json.loads(client.get(f"/api/v1/public/draws/{drawn['id']}/record.json").data)["cancellation"][
        "reason"] == "名录数据有误，重新抽取"
    assert client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json()["ok"] is True
    assert client.get("/api/v1/public/draws").get_json()["total"] == 2


def test_cancel_before_draw_and_delete_rules(client, office, w):
    plan, committed = fx.committed_plan(client, office)
    assert_error(client.delete(f"/api/v1/plans/{plan['id']}", headers=office), 409, "PLAN_NOT_DELETABLE")
    r = client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "计划调整"}, headers=office)
    assert r.status_code == 200 and r.get_json()["nonce"] is None
    assert_error(client.post(f"/api/v1/plans/{plan['id']}/cancel", json={}, headers=office), 422)
    draft = fx.create_plan(client, office)
    assert client.delete(f"/api/v1/plans/{draft['id']}", headers=office).status_code == 204
    assert_error(client.get(f"/api/v1/plans/{draft['id']}", headers=office), 404)


# ------------------------------------------------------------------ public pages and open data

def test_public_pages_show_commitment_result_recipe_and_escape(client, office, w):
    plan, committed = fx.committed_plan(client, office, name="<script>alert(1)</script>抽查")
    html = client.get(f"/p/draws/{committed['id']}").get_data(as_text=True)
    assert committed["commitment"] in html and "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html and "<svg" in html
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": "<b>见证</b>"}, headers=office)
    drawn = r.get_json()
    page = client.get(f"/p/draws/{drawn['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "&lt;b&gt;见证&lt;/b&gt;" in html and drawn["seed"] in html and drawn["nonce"] in html
    assert "python3 verify.py record.json" in html and "/p/verify.py" in html
    assert f"/api/v1/public/draws/{drawn['id']}/record.json" in html
    for target in drawn["targets"]:
        assert target["team"][0]["certificate_no"] in html
    listing = client.get("/p/draws").get_data(as_text=True)
    assert f"/p/draws/{drawn['id']}" in listing
    assert client.get("/p/draws/000000000000000000000000").status_code == 404
    assert client.get("/p/draws/not-an-id").status_code == 404
    assert_error(client.get("/api/v1/public/draws/not-an-id"), 404)


def test_public_list_is_paginated_and_filters_by_region(client, office, w):
    for i in range(3):
        fx.committed_plan(client, office, name=f"计划{i}")
    page = client.get("/api/v1/public/draws?per_page=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert client.get("/api/v1/public/draws?per_page=2&page=2").get_json()["items"][0]["plan_name"] == "计划0"
    assert client.get("/api/v1/public/draws?region=370400").get_json()["total"] == 0
    assert client.get("/api/v1/public/draws?region=370300").get_json()["total"] == 3


def test_draft_plans_are_not_public(client, office, w):
    fx.create_plan(client, office)
    assert client.get("/api/v1/public/draws").get_json()["total"] == 0
