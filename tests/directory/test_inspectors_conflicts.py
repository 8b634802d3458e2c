"""Inspectors, conflicts of interest (回避), user links and the demo directory."""

from __future__ import annotations

from datetime import date

from inspect_api.auth.models import User
from inspect_api.directory.conflicts import conflict_pairs
from inspect_api.directory.inspectors import find_inspectors, get_inspector, inspector_for_user
from inspect_api.directory.institutions import institution_in_scope, point_latlon
from inspect_api.directory.models import Conflict, Inspector
from tests.conftest import TEST_PASSWORD, assert_error


def make_inspector(client, headers, **fields):
    body = {"name": "王建国", "certificate_no": "37030210001", "department": "health", "region": "370302"} | fields
    r = client.post("/api/v1/inspectors", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_employment_history_creates_and_removes_conflicts(client, office, new_institution):
    h = office[1]
    a, b = new_institution(name="甲"), new_institution(name="乙", region="370303")
    insp = make_inspector(client, h, employment_history=[a["id"]])
    rows = client.get(f"/api/v1/conflicts?inspector_id={insp['id']}", headers=h).get_json()["items"]
    assert [(c["institution_id"], c["reason"], c["source"]) for c in rows] == [(a["id"], "employment",
                                                                                 "employment_history")]
    assert rows[0]["region"] == "370302"
    client.patch(f"/api/v1/inspectors/{insp['id']}", headers=h, json={"employment_history": [a["id"], b["id"]]})
    assert conflict_pairs([insp["id"]]) == {(insp["id"], a["id"]), (insp["id"], b["id"])}
    assert_error(client.delete(f"/api/v1/conflicts/{rows[0]['id']}", headers=h), 409, "CONFLICT_FROM_EMPLOYMENT")
    r = client.patch(f"/api/v1/inspectors/{insp['id']}", headers=h, json={"employment_history": [b["id"]]})
    assert r.status_code == 200
    assert conflict_pairs([insp["id"]]) == {(insp["id"], b["id"])}
    assert Conflict.objects(inspector_id=insp["id"]).count() == 1
    assert_error(client.patch(f"/api/v1/inspectors/{insp['id']}", headers=h,
                              json={"employment_history": ["0" * 24]}), 422, "EMPLOYMENT_INSTITUTION_UNKNOWN")


def test_office_conflicts_and_validity_dates(client, office, new_institution):
    h = office[1]
    inst = new_institution()
    insp = make_inspector(client, h)
    body = {"inspector_id": insp["id"], "institution_id": inst["id"], "reason": "relative",
            "valid_from": "2026-01-01", "valid_until": "2026-12-31", "note": "配偶在该机构"}
    r = client.post("/api/v1/conflicts", headers=h, json=body)
    assert r.status_code == 201 and r.get_json()["source"] == "office"
    assert (r.get_json()["inspector_name"], r.get_json()["institution_name"]) == ("王建国", inst["name"])
    listed = client.get("/api/v1/conflicts", headers=h).get_json()["items"]
    assert [(c["inspector_name"], c["institution_name"]) for c in listed] == [("王建国", inst["name"])]
    assert_error(client.post("/api/v1/conflicts", headers=h, json=body), 409, "CONFLICT_EXISTS")
    assert conflict_pairs(institution_ids=[inst["id"]], on=date(2026, 6, 1)) == {(insp["id"], inst["id"])}
    assert conflict_pairs(institution_ids=[inst["id"]], on=date(2027, 1, 1)) == set()
    assert conflict_pairs(institution_ids=[inst["id"]], on=date(2025, 12, 31)) == set()
    assert conflict_pairs(inspector_ids=["other"]) == set()
    bad = body | {"reason": "declared", "valid_from": "2026-05-01", "valid_until": "2026-04-01"}
    assert_error(client.post("/api/v1/conflicts", headers=h, json=bad), 422, "CONFLICT_DATES_INVALID")
    assert_error(client.post("/api/v1/conflicts", headers=h, json=body | {"reason": "grudge"}), 422)
    r = client.delete(f"/api/v1/conflicts/{r.get_json()['id']}", headers=h)
    assert r.status_code == 204
    assert conflict_pairs() == set()


def test_conflicts_list_the_current_names_after_a_rename(client, office, new_institution):
    """A conflict stores both names (the list reads no directory); a rename rewrites them, and a conflict stored
    before names were kept is named by a look-up."""
    h = office[1]
    inst = new_institution(name="旧名养老院")
    insp = make_inspector(client, h, name="李四")
    r = client.post("/api/v1/conflicts", headers=h, json={"inspector_id": insp["id"], "institution_id": inst["id"],
                                                          "reason": "relative"})
    assert r.status_code == 201
    stored = Conflict.objects.get(id=r.get_json()["id"])
    assert (stored.inspector_name, stored.institution_name) == ("李四", "旧名养老院")
    assert client.patch(f"/api/v1/institutions/{inst['id']}", headers=h, json={"name": "新名医养中心"}).status_code == 200
    assert client.patch(f"/api/v1/inspectors/{insp['id']}", headers=h, json={"name": "李思"}).status_code == 200
    listed = client.get("/api/v1/conflicts", headers=h).get_json()["items"]
    assert [(c["inspector_name"], c["institution_name"]) for c in listed] == [("李思", "新名医养中心")]
    Conflict.objects(id=stored.id).update(unset__inspector_name=True, unset__institution_name=True)
    listed = client.get("/api/v1/conflicts", headers=h).get_json()["items"]
    assert [(c["inspector_name"], c["institution_name"]) for c in listed] == [("李思", "新名医养中心")]


def test_conflicts_are_region_scoped(client, office, county_office, new_institution):
    other = new_institution(region="370303")
    insp = make_inspector(client, office[1], region="370303")
    c = client.post("/api/v1/conflicts", headers=office[1], json={"inspector_id": insp["id"],
                                                                  "institution_id": other["id"],
                                                                  "reason": "other"}).get_json()
    assert client.get("/api/v1/conflicts", headers=county_office[1]).get_json()["total"] == 0
    assert_error(client.delete(f"/api/v1/conflicts/{c['id']}", headers=county_office[1]), 404)
    assert_error(client.post("/api/v1/conflicts", headers=county_office[1],
                             json={"inspector_id": insp["id"], "institution_id": other["id"], "reason": "declared"}),
                 404)


def test_inspector_validation_and_scope(client, office, county_office, make_user, login):
    h = office[1]
    own = make_inspector(client, h)
    assert_error(client.post("/api/v1/inspectors", headers=h, json={"name": "重复", "certificate_no": "37030210001",
                                                                   "department": "health", "region": "370302"}),
                 409, "CERTIFICATE_TAKEN")
    assert_error(client.post("/api/v1/inspectors", headers=h, json={"name": "x", "certificate_no": "1",
                                                                   "department": "police", "region": "370302"}), 422)
    assert_error(client.post("/api/v1/inspectors", headers=h, json={"name": "x", "certificate_no": "2",
                                                                   "department": "health", "region": "379999"}),
                 422, "REGION_UNKNOWN")
    far = make_inspector(client, h, certificate_no="37030320001", region="370303", department="fire")
    ch = county_office[1]
    assert_error(client.get(f"/api/v1/inspectors/{far['id']}", headers=ch), 404, "INSPECTOR_NOT_FOUND")
    assert [i["id"] for i in client.get("/api/v1/inspectors", headers=ch).get_json()["items"]] == [own["id"]]
    assert_error(client.post("/api/v1/inspectors", headers=ch, json={"name": "x", "certificate_no": "3",
                                                                    "department": "health", "region": "370303"}),
                 403, "REGION_OUT_OF_SCOPE")
    names = client.get("/api/v1/inspectors?department=fire", headers=h).get_json()["items"]
    assert [i["id"] for i in names] == [far["id"]]
    # an inspector account reads only its own record and cannot write
    user = make_user("inspector", "370302", username="insp_self", inspector_id=own["id"])
    ih = login(user)
    assert client.get(f"/api/v1/inspectors/{own['id']}", headers=ih).status_code == 200
    assert_error(client.get(f"/api/v1/inspectors/{far['id']}", headers=ih), 404)
    assert [i["id"] for i in client.get("/api/v1/inspectors", headers=ih).get_json()["items"]] == [own["id"]]
    assert_error(client.patch(f"/api/v1/inspectors/{own['id']}", headers=ih, json={"name": "x"}), 403)
    assert_error(client.get("/api/v1/conflicts", headers=ih), 403)


def test_delete_inspector_or_deactivate(client, office, make_user, new_institution):
    h = office[1]
    inst = new_institution()
    plain = make_inspector(client, h, certificate_no="A1", employment_history=[inst["id"]])
    linked = make_inspector(client, h, certificate_no="A2")
    make_user("inspector", "370302", username="linked_insp", inspector_id=linked["id"])
    assert client.delete(f"/api/v1/inspectors/{plain['id']}", headers=h).get_json()["outcome"] == "deleted"
    assert Conflict.objects(inspector_id=plain["id"]).count() == 0
    assert client.delete(f"/api/v1/inspectors/{linked['id']}", headers=h).get_json()["outcome"] == "deactivated"
    assert client.get(f"/api/v1/inspectors/{linked['id']}", headers=h).get_json()["active"] is False
    assert [str(i.id) for i in find_inspectors(region_prefix="370300")] == []
    assert [str(i.id) for i in find_inspectors(region_prefix="370300", active=None)] == [linked["id"]]


def test_find_inspectors_and_inspector_for_user(client, office, make_user):
    h = office[1]
    a = make_inspector(client, h, certificate_no="B1", department="health", region="370302")
    b = make_inspector(client, h, certificate_no="B2", department="civil_affairs", region="370303", name="李秀英")
    assert {str(i.id) for i in find_inspectors(region_prefix="370300")} == {a["id"], b["id"]}
    assert [str(i.id) for i in find_inspectors(departments=["civil_affairs"])] == [b["id"]]
    assert [str(i.id) for i in find_inspectors(region_prefix="370302", ids=[a["id"], b["id"]])] == [a["id"]]
    assert get_inspector("junk") is None
    user = make_user("inspector", "370303", username="li", inspector_id=b["id"])
    assert str(inspector_for_user(user).id) == b["id"]
    assert Inspector.objects.get(id=b["id"]).user_id == str(user.id)  # linked when the account is saved
    assert inspector_for_user(make_user("office_admin", "370300", username="boss2")) is None


def test_user_link_check_when_office_creates_accounts(client, office, county_office, new_institution):
    h = office[1]
    inst = new_institution(region="370303")
    insp = make_inspector(client, h, region="370303", certificate_no="C1")

    def create(headers, **body):
        base = {"username": body.pop("username"), "password": TEST_PASSWORD, "region": "370303"}
        return client.post("/api/v1/users", headers=headers, json=base | body)

    assert_error(create(h, username="user1", role="institution"), 422, "LINK_REQUIRED")
    assert_error(create(h, username="user2", role="institution", institution_id="0" * 24), 404,
                 "INSTITUTION_NOT_FOUND")
    assert_error(create(h, username="user3", role="institution", institution_id=inst["id"], region="370302"), 422,
                 "LINK_REGION_MISMATCH")
    assert_error(create(county_office[1], username="user4", role="institution", institution_id=inst["id"],
                        region="370302"), 404, "INSTITUTION_NOT_FOUND")
    assert_error(create(h, username="user5", role="office_admin", institution_id=inst["id"]), 422, "LINK_NOT_ALLOWED")
    assert create(h, username="inst_ok", role="institution", institution_id=inst["id"]).status_code == 201
    r = create(h, username="insp_ok", role="inspector", inspector_id=insp["id"])
    assert r.status_code == 201
    assert Inspector.objects.get(id=insp["id"]).user_id == r.get_json()["id"]
    assert_error(create(h, username="insp_again", role="inspector", inspector_id=insp["id"]), 409,
                 "INSPECTOR_ALREADY_LINKED")


def test_demo_directory(app):
    from inspect_api.auth import demo as auth_demo
    from inspect_api.clock import utcnow
    from inspect_api.demo import DemoContext
    from inspect_api.directory import demo
    from inspect_api.directory.creditcode import is_valid
    from inspect_api.directory.models import INSTITUTION_KINDS, Institution

    ctx = DemoContext(now=utcnow())
    auth_demo.seed(ctx)
    demo.seed(ctx)
    institutions, inspectors = ctx.data["institutions"], ctx.data["inspectors"]
    assert len(institutions) == 60 and len(inspectors) == 24
    assert {i.kind for i in institutions} == set(INSTITUTION_KINDS)
    assert {i.region for i in institutions} == {"370302", "370303", "370304"}
    assert all(is_valid(i.credit_code) for i in institutions)
    for inst in institutions:
        lat, lon = point_latlon(inst.location)
        assert 36.5 <= lat <= 36.9 and 117.8 <= lon <= 118.1
    assert sum(1 for i in institutions if i.risk.past_findings) >= 3
    assert sum(1 for i in institutions if i.complaint_count) >= 3
    assert {i.department for i in inspectors} >= {"health", "civil_affairs", "medical_insurance"}
    assert Conflict.objects(source="employment_history").count() >= 3 and Conflict.objects(source="office").count()
    for n in range(1, 7):
        user = User.objects.get(username=f"insp{n:02d}")
        assert inspector_for_user(user) is not None and inspector_for_user(user).user_id == str(user.id)
    for n in range(1, 4):
        user = User.objects.get(username=f"inst{n:02d}")
        assert institution_in_scope(user, user.institution_id)
    demo.seed(DemoContext(now=utcnow()))  # idempotent
    assert Institution.objects.count() == 60 and Inspector.objects.count() == 24
