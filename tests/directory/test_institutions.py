"""Institutions: validation, scoping, filters, delete-or-close, regions."""

from __future__ import annotations

import pytest

from inspect_api.auth.models import User
from inspect_api.directory import hooks
from inspect_api.directory.hooks import register_history_check
from inspect_api.directory.institutions import find_institutions, get_institution, institution_in_scope, location_error, new_public_id, record_risk_event
from inspect_api.directory.regions import ensure_regions
from inspect_api.errors import NotFound
from inspect_api.directory.creditcode import check_character, credit_code_error
from tests.conftest import assert_error

VALID = "91350100M000100Y43"


def fields_of(err: dict) -> dict:
    """Field errors, whether raised by a schema (under the location) or by the service (flat)."""
    fields = err["details"]["fields"]
    return fields.get("json", fields)


def test_regions_loaded_at_start(client, office):
    r = client.get("/api/v1/regions", headers=office[1])
    assert r.status_code == 200
    codes = {item["code"]: item for item in r.get_json()["items"]}
    for code in ("370000", "370100", "370300", "370302", "370303", "370304", "370305", "370306", "370321",
                 "370322", "370323", "370102", "370112"):
        assert code in codes
    assert codes["370302"] == {"code": "370302", "name": "淄川区", "parent": "370300", "level": "county"}
    assert codes["370300"]["parent"] == "370000" and codes["370000"]["parent"] is None
    assert ensure_regions() == 0  # idempotent
    children = client.get("/api/v1/regions?parent=370300", headers=office[1]).get_json()["items"]
    assert [c["code"] for c in children] == ["370302", "370303", "370304", "370305", "370306", "370321",
                                             "370322", "370323"]


def test_credit_code_check_character():
    assert credit_code_error(VALID) is None
    assert credit_code_error("91110000802100433B") is None
    assert check_character(VALID[:17]) == VALID[17]
    assert "校验码" in credit_code_error(VALID[:17] + "4")
    assert "大写" in credit_code_error(VALID.lower())
    assert "18" in credit_code_error(VALID[:17])
    for letter in "IOSVZ":
        assert "不允许" in credit_code_error(VALID[:10] + letter + VALID[11:])


@pytest.mark.parametrize("code", [VALID[:17] + "4", VALID.lower(), VALID[:17], VALID + "0",
                                  VALID[:8] + "I" + VALID[9:], VALID[:8] + "O" + VALID[9:],
                                  VALID[:8] + "S" + VALID[9:], VALID[:8] + "V" + VALID[9:],
                                  VALID[:8] + "Z" + VALID[9:]])
def test_bad_credit_codes_refused(client, office, code):
    r = client.post("/api/v1/institutions", headers=office[1],
                    json={"name": "某机构", "credit_code": code, "kind": "combined", "region": "370302"})
    err = assert_error(r, 422, "CREDIT_CODE_INVALID")
    assert "credit_code" in fields_of(err)


def test_duplicate_credit_code_against_store(client, office, new_institution):
    first = new_institution()
    r = client.post("/api/v1/institutions", headers=office[1],
                    json={"name": "另一机构", "credit_code": first["credit_code"], "kind": "combined",
                          "region": "370303"})
    assert_error(r, 409, "CREDIT_CODE_TAKEN")


def test_unknown_kind_and_region(client, office, codes):
    body = {"name": "某机构", "credit_code": codes(), "kind": "spa", "region": "370302"}
    err = assert_error(client.post("/api/v1/institutions", headers=office[1], json=body), 422)
    assert "kind" in fields_of(err)
    body |= {"kind": "combined", "region": "370399"}
    assert_error(client.post("/api/v1/institutions", headers=office[1], json=body), 422, "REGION_UNKNOWN")


@pytest.mark.parametrize("location", [{"lat": 91, "lon": 118}, {"lat": -90.5, "lon": 118},
                                      {"lat": 36.7, "lon": 180.01}, {"lat": 36.7, "lon": -181}])
def test_location_out_of_range(client, office, codes, location):
    body = {"name": "某机构", "credit_code": codes(), "kind": "combined", "region": "370302", "location": location}
    err = assert_error(client.post("/api/v1/institutions", headers=office[1], json=body), 422)
    assert "location" in fields_of(err)


def test_location_range_in_service():
    assert location_error(36.7, 118.0) is None
    assert location_error(90.1, 0) and location_error(0, -180.5)
    assert location_error("x", 1) == "经纬度应为数字"


def test_county_office_cannot_read_or_write_another_county(client, office, county_office, new_institution, codes):
    other = new_institution(region="370303", name="张店区某机构")
    own = new_institution(region="370302")
    headers = county_office[1]
    assert_error(client.get(f"/api/v1/institutions/{other['id']}", headers=headers), 404, "INSTITUTION_NOT_FOUND")
    assert_error(client.patch(f"/api/v1/institutions/{other['id']}", headers=headers, json={"name": "x"}), 404)
    assert_error(client.delete(f"/api/v1/institutions/{other['id']}", headers=headers), 404)
    listed = client.get("/api/v1/institutions", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [own["id"]]
    assert client.get("/api/v1/institutions?region=370303", headers=headers).get_json()["total"] == 0
    body = {"name": "越界机构", "credit_code": codes("370303"), "kind": "combined", "region": "370303"}
    assert_error(client.post("/api/v1/institutions", headers=headers, json=body), 403, "REGION_OUT_OF_SCOPE")
    assert_error(client.patch(f"/api/v1/institutions/{own['id']}", headers=headers, json={"region": "370303"}),
                 403, "REGION_OUT_OF_SCOPE")


def test_institution_user_sees_only_its_own(client, make_user, login, new_institution):
    mine = new_institution(name="自己的机构")
    other = new_institution(name="别人的机构")
    user = make_user("institution", "370302", username="inst_user", institution_id=mine["id"])
    headers = login(user)
    assert client.get(f"/api/v1/institutions/{mine['id']}", headers=headers).status_code == 200
    assert_error(client.get(f"/api/v1/institutions/{other['id']}", headers=headers), 404)
    assert_error(client.get(f"/api/v1/institutions/{other['id']}/qr.png", headers=headers), 404)
    assert [i["id"] for i in client.get("/api/v1/institutions", headers=headers).get_json()["items"]] == [mine["id"]]
    assert_error(client.patch(f"/api/v1/institutions/{mine['id']}", headers=headers, json={"name": "x"}), 403)
    assert_error(client.get("/api/v1/inspectors", headers=headers), 403)


def test_inspector_role_cannot_list_institutions(client, make_user, login, new_institution):
    inst = new_institution()
    headers = login(make_user("inspector", "370302", username="insp_x"))
    assert_error(client.get("/api/v1/institutions", headers=headers), 403, "ROLE_FORBIDDEN")
    # Only institutions it is assigned to are readable (tests/inspections); this one is not.
    assert_error(client.get(f"/api/v1/institutions/{inst['id']}", headers=headers), 404)
    with pytest.raises(NotFound):
        institution_in_scope(User(role="inspector", region="370302"), inst["id"])


def test_filters_and_paging(client, office, new_institution):
    new_institution(name="张店区甲医养中心", region="370303", kind="combined", tags=["医中延养"])
    new_institution(name="张店区乙护理站", region="370303", kind="care_home_clinic", tags=["养中融医"])
    new_institution(name="博山区丙卫生院", region="370304", kind="township_two_in_one", tags=["医养协同"],
                    status="suspended")
    h = office[1]

    def names(query):
        return [i["name"] for i in client.get("/api/v1/institutions" + query, headers=h).get_json()["items"]]

    assert names("?q=护理") == ["张店区乙护理站"]
    assert sorted(names("?region=370303")) == ["张店区乙护理站", "张店区甲医养中心"]
    assert names("?kind=township_two_in_one") == ["博山区丙卫生院"]
    assert names("?tag=医中延养") == ["张店区甲医养中心"]
    assert names("?status=suspended") == ["博山区丙卫生院"]
    page = client.get("/api/v1/institutions?per_page=2&page=2", headers=h).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert_error(client.get("/api/v1/institutions?kind=spa", headers=h), 422)


def test_patch_and_delete_or_close(client, office, new_institution):
    h = office[1]
    plain = new_institution(name="待删除机构")
    used = new_institution(name="有投诉机构")
    r = client.patch(f"/api/v1/institutions/{used['id']}", headers=h,
                     json={"complaint_count": 2, "contact_phone": "0533-1234567"})
    assert r.status_code == 200 and r.get_json()["complaint_count"] == 2
    assert_error(client.patch(f"/api/v1/institutions/{used['id']}", headers=h, json={"public_id": "X"}), 422)
    r = client.delete(f"/api/v1/institutions/{plain['id']}", headers=h)
    assert r.get_json() == {"outcome": "deleted", "id": plain["id"]}
    assert_error(client.get(f"/api/v1/institutions/{plain['id']}", headers=h), 404)
    r = client.delete(f"/api/v1/institutions/{used['id']}", headers=h)
    assert r.get_json()["outcome"] == "closed"
    assert client.get(f"/api/v1/institutions/{used['id']}", headers=h).get_json()["status"] == "closed"


def test_history_hooks_keep_entries(client, office, new_institution):
    inst = new_institution()
    calls = []

    def check(kind, obj_id):
        calls.append((kind, obj_id))
        return obj_id == inst["id"]

    register_history_check(check)
    try:
        assert client.delete(f"/api/v1/institutions/{inst['id']}", headers=office[1]).get_json()["outcome"] == "closed"
    finally:
        hooks._HISTORY_CHECKS.remove(check)
    assert ("institution", inst["id"]) in calls


def test_read_functions(app, new_institution):
    a = new_institution(region="370302", kind="combined", tags=["医中延养"])
    b = new_institution(region="370303", kind="community_station", status="suspended")
    assert get_institution("not-an-id") is None and get_institution("0" * 24) is None
    assert get_institution(a["id"]).name
    assert [str(i.id) for i in find_institutions(region_prefix="370300")] == [a["id"], b["id"]]
    assert [str(i.id) for i in find_institutions(region_prefix="3703", kinds=["community_station"])] == [b["id"]]
    assert [str(i.id) for i in find_institutions(region_prefix="370302", tags=["医中延养"])] == [a["id"]]
    assert [str(i.id) for i in find_institutions(region_prefix="37", statuses=["active"])] == [a["id"]]
    assert [str(i.id) for i in find_institutions(region_prefix="37", ids=[b["id"], "bad"])] == [b["id"]]


def test_record_risk_event_is_atomic_increment(app, new_institution):
    from datetime import datetime, timezone

    inst = new_institution()
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    record_risk_event(inst["id"], past_findings=2, inspected_at=datetime(2026, 2, 1, tzinfo=timezone.utc),
                      now=now)
    record_risk_event(inst["id"], past_findings=1, overdue_rectifications=1, rejected_answers=1,
                      inspected_at=datetime(2026, 1, 1, tzinfo=timezone.utc), now=now)
    risk = get_institution(inst["id"]).risk
    assert (risk.past_findings, risk.overdue_rectifications, risk.rejected_answers) == (3, 1, 1)
    assert risk.last_inspected_at.replace(tzinfo=timezone.utc) == datetime(2026, 2, 1, tzinfo=timezone.utc)
    record_risk_event("bad-id", past_findings=1, now=now)  # ignored, no error


def test_public_ids_are_short_unique_and_unambiguous(app):
    ids = {new_public_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 8 and not set(i) & set("01IOL") for i in ids)


def test_create_is_audited(client, office, new_institution):
    from inspect_api.audit.models import AuditEvent

    inst = new_institution()
    event = AuditEvent.objects(action="institution.create").first()
    assert event.target_id == inst["id"] and event.actor_name == "city_office"
