"""Plan inputs checked against the catalog, risk weights, the stored record's format and size guard."""

from __future__ import annotations

import hashlib
import json

from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.catalog.models import ChecklistVersion, Matter
from inspect_api.clock import utcnow
from inspect_api.draws import records
from inspect_api.draws.snapshot import build_snapshot, risk_settings
from inspect_api.draws.models import Draw, Plan
from inspect_api.inspections.models import Assignment
from tests.conftest import TEST_PASSWORD, assert_error
from tests.draws import plan_fixtures as fx



def _commit(client, office, plan):
    return client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)


# ------------------------------------------------------------------ matters and checklist from the catalog

def test_matters_and_checklist_must_come_from_the_catalog(client, office, w):
    body = fx.plan_body(matters=["YY-99", "YY-01", "YY-01", "YY-01 医疗服务质量"], checklist_code="NO-SUCH-LIST")
    err = assert_error(client.post("/api/v1/plans", json=body, headers=office), 422, "PLAN_CATALOG_INVALID")
    fields = err["details"]["fields"]
    assert sorted(fields["matters"]) == ["0", "2", "3"]
    assert "YY-99" in fields["matters"]["0"][0] and "重复" in fields["matters"]["2"][0]
    assert "NO-SUCH-LIST" in fields["checklist_code"][0]
    assert Plan.objects.count() == 0
    plan = fx.create_plan(client, office, matters=["YY-01", "YY-04"], checklist_code="DB37T4087-2020")
    assert plan["matters"] == ["YY-01", "YY-04"]
    err = assert_error(client.patch(f"/api/v1/plans/{plan['id']}", json={"matters": ["YY-42"]}, headers=office),
                       422, "PLAN_CATALOG_INVALID")
    assert list(err["details"]["fields"]) == ["matters"]


def test_retired_matter_and_unpublished_checklist_are_refused(client, office, w):
    plan = fx.create_plan(client, office, matters=["YY-02"])
    Matter.objects(code="YY-02").update(set__active=False)  # retired after the plan was written
    err = assert_error(_commit(client, office, plan), 422, "PLAN_CATALOG_INVALID")
    assert "已停用" in err["details"]["fields"]["matters"]["0"][0]
    assert Draw.objects.count() == 0
    assert_error(client.post("/api/v1/plans", json=fx.plan_body(matters=["YY-02"]), headers=office), 422)
    ChecklistVersion.objects(code="DB37T4087-2020").update(set__status="draft")
    err = assert_error(client.post("/api/v1/plans", json=fx.plan_body(matters=["YY-01"], checklist_code="DB37T4087-2020"),
                                   headers=office), 422, "PLAN_CATALOG_INVALID")
    assert list(err["details"]["fields"]) == ["checklist_code"]


# ------------------------------------------------------------------ risk weights

def test_rejected_answers_raise_the_weight_capped(client, office, w):
    a = fx.institution("370302", rejected=2)
    b = fx.institution("370302", rejected=3, complaints=1)
    c = fx.institution("370302", rejected=100)
    plan = fx.create_plan(client, office)
    r = _commit(client, office, plan)
    assert r.status_code == 201, r.get_json()
    record = client.get(f"/api/v1/draws/{r.get_json()['id']}/record.json", headers=office).get_json()
    weights = {i["id"]: i["weight"] for i in record["snapshot"]["institutions"]}
    # default.toml: per_rejected_answer = 0.25, per_complaint = 0.25, max_weight = 5.0
    assert weights[str(a.id)] == "1.500000"
    assert weights[str(b.id)] == "2.000000"
    assert weights[str(c.id)] == "5.000000"
    assert weights[str(w["institutions"][0].id)] == "1.000000"


def test_per_rejected_answer_is_configurable(app_factory):
    app = app_factory(risk={"per_rejected_answer": 0.4, "max_weight": 2.0})
    with app.app_context():
        client = app.test_client()
        fx.world()
        inst = fx.institution("370302", rejected=2)
        capped = fx.institution("370302", rejected=5)
        User(username="o1", password_hash=passwords.hash_password(TEST_PASSWORD), role="office_admin",
             region="370300", display_name="o1", created_at=utcnow()).save()
        token = client.post("/api/v1/auth/login", json={"username": "o1", "password": TEST_PASSWORD}).get_json()
        headers = {"Authorization": "Bearer " + token["access_token"]}
        committed = _commit(client, headers, fx.create_plan(client, headers)).get_json()
        record = client.get(f"/api/v1/draws/{committed['id']}/record.json", headers=headers).get_json()
        weights = {i["id"]: i["weight"] for i in record["snapshot"]["institutions"]}
        assert weights[str(inst.id)] == "1.800000" and weights[str(capped.id)] == "2.000000"


# ------------------------------------------------------------------ a team that cannot be filled

def test_unfillable_team_names_the_institution_by_name(client, office, w):
    target = w["institutions"][0]
    for person in w["inspectors"]:
        if person.department == "health":
            fx.conflict(person, target)
    plan = fx.create_plan(client, office, ratio="1")
    assert _commit(client, office, plan).status_code == 201
    err = assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                                   headers=office), 422, "TEAM_UNFILLABLE")
    assert target.name in err["message"] and str(target.id) in err["message"]
    assert err["details"]["institution_id"] == str(target.id)
    assert err["details"]["institution_name"] == target.name
    assert err["details"]["counts"]["conflict"] == 5


# ------------------------------------------------------------------ the stored record

def test_record_is_stored_compact_and_hashes_do_not_depend_on_the_text(client, office, w):
    plan = fx.create_plan(client, office)
    committed = _commit(client, office, plan).get_json()
    drawn = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                        headers=office).get_json()
    text = Draw.objects.get(id=drawn["id"]).record_json
    assert "\n" not in text and ", " not in text and '": ' not in text
    record = json.loads(text)
    assert text == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    # DESIGN §5 steps 1–3, computed here from the fields, never from the stored text
    canonical = json.dumps({"algorithm": record["algorithm"], "params": record["params"],
                            "snapshot": record["snapshot"]}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
    commitment = hashlib.sha256(canonical + b":" + record["nonce"].encode()).hexdigest()
    assert commitment == record["commitment"] == committed["commitment"]
    seed = hashlib.sha256((commitment + ":" + fx.ENTROPY).encode("utf-8")).hexdigest()
    assert seed == record["seed"]
    # the same record stored indented verifies alike: the format is not part of any hash
    Draw.objects(id=drawn["id"]).update_one(
        set__record_gz=records.pack_record(json.dumps(record, ensure_ascii=False, indent=1)))
    assert client.get(f"/api/v1/draws/{drawn['id']}/verify", headers=office).get_json() == {
        "ok": True, "differences": []}


def test_record_too_large_is_refused_at_commit(client, office, w, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1024)
    plan = fx.create_plan(client, office)
    err = assert_error(_commit(client, office, plan), 422, "DRAW_RECORD_TOO_LARGE")
    assert "缩小" in err["message"]
    assert err["details"]["max_bytes"] == 1024 and err["details"]["bytes"] > 1024
    assert err["details"]["candidates"] == 12
    assert Draw.objects.count() == 0
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=office).get_json()["state"] == "draft"


def test_commit_counts_the_result_the_draw_will_add(client, office, w, monkeypatch):
    """A committed record that fits, but whose drawn record would not, is refused at commit already."""
    plan = fx.create_plan(client, office, ratio="1")
    params, snapshot = build_snapshot(Plan.objects.get(id=plan["id"]), now=fx.NOW,
                                      risk=risk_settings())
    committed_alone = 2000 + len(records.pack_record(json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))))
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", committed_alone + 1000)  # 12 targets need ~2 kB more
    assert_error(_commit(client, office, plan), 422, "DRAW_RECORD_TOO_LARGE")
    assert Draw.objects.count() == 0


def test_record_too_large_at_draw_stores_nothing(client, office, w, monkeypatch):
    plan = fx.create_plan(client, office)
    committed = _commit(client, office, plan).get_json()
    stored = len(Draw.objects.get(id=committed["id"]).record_gz)
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", stored + 64)
    err = assert_error(client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                                   headers=office), 422, "DRAW_RECORD_TOO_LARGE")
    assert err["details"]["max_bytes"] == stored + 64
    draw = Draw.objects.get(id=committed["id"])
    assert draw.state == "committed" and draw.seed is None and "result" not in json.loads(draw.record_json)
    assert Assignment.objects.count() == 0
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 15 * 1024 * 1024)
    assert client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY},
                       headers=office).status_code == 200


def test_the_limit_leaves_room_below_mongodb_s_16_mib():
    assert 15 * 1024 * 1024 < records.MAX_RECORD_BYTES <= int(15.5 * 1024 * 1024) < 16 * 1024 * 1024
