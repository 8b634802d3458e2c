"""Checklist catalog served to phones, uploads, publish and diff; matters."""

from __future__ import annotations

import copy
import gzip
import json

from checklists import tools
from checklists.loader import load_checklist

from tests.conftest import assert_error

CODE = "DB37T4086-2020"


def _shipped(code: str = CODE) -> dict:
    for path in tools.shipped_checklists():
        content = load_checklist(path)
        if content["code"] == code:
            return content
    raise AssertionError(f"shipped checklist {code} missing")


def test_shipped_checklists_are_loaded_once(client, make_user, login):
    from inspect_api.catalog import service
    assert service.load_shipped_checklists() == []  # already loaded at start
    headers = login(make_user("inspector", "370302"))
    body = client.get("/api/v1/checklists", headers=headers).get_json()
    codes = {c["code"]: c for c in body["items"]}
    assert CODE in codes and codes[CODE]["latest_version"] == 1


def test_phone_fetch_etag_304_and_gzip(client, make_user, login):
    headers = login(make_user("inspector", "370302"))
    url = f"/api/v1/checklists/{CODE}/versions/1"
    r = client.get(url, headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["code"] == CODE and body["version"] == 1 and body["checklist"]["sections"]
    etag = r.headers["ETag"]
    assert etag.strip('"') == body["content_hash"]
    assert client.get(url, headers=headers | {"If-None-Match": etag}).status_code == 304
    zipped = client.get(url, headers=headers | {"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == body
    assert zipped.headers["ETag"] == etag[:-1] + '-gzip"'  # another representation: its own strong tag
    for held in (etag, zipped.headers["ETag"]):  # either revalidates in either coding
        for coding, tag in (("gzip", zipped.headers["ETag"]), ("identity", etag)):
            r = client.get(url, headers=headers | {"Accept-Encoding": coding, "If-None-Match": held})
            assert r.status_code == 304 and r.headers["ETag"] == tag
    again = client.get(url, headers=headers | {"Accept-Encoding": "br, gzip;q=0.5"})  # compressed once, kept
    assert again.headers["Content-Encoding"] == "gzip" and again.data == zipped.data
    refused = client.get(url, headers=headers | {"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and refused.get_json() == body
    assert_error(client.get(f"/api/v1/checklists/{CODE}/versions/99", headers=headers), 404)
    assert_error(client.get(url), 401)


def test_office_uploads_v2_publishes_and_diffs(client, make_user, login):
    office = login(make_user("office_admin", "370000"))
    inspector = login(make_user("inspector", "370302"))
    v2 = copy.deepcopy(_shipped())
    v2["version"] = 2
    first_item = v2["sections"][0]["items"][0]
    first_item["text"] = first_item["text"] + "（修订）"
    removed = v2["sections"][0]["items"].pop()
    moved_points = removed["points"]
    first_item["points"] = first_item["points"] + moved_points
    r = client.post("/api/v1/checklists", headers=office, data=json.dumps(v2, ensure_ascii=False),
                    content_type="application/json")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "draft"
    # Drafts are invisible to phones until published.
    assert_error(client.get(f"/api/v1/checklists/{CODE}/versions/2", headers=inspector), 404)
    assert client.post(f"/api/v1/checklists/{CODE}/versions/2/publish", headers=office).get_json()["status"] == \
        "published"
    assert client.get(f"/api/v1/checklists/{CODE}/versions/2", headers=inspector).status_code == 200
    diff = client.get(f"/api/v1/checklists/{CODE}/diff?from=1&to=2", headers=office).get_json()
    assert diff["removed"] == [removed["id"]]
    assert [c["id"] for c in diff["changed"]] == [first_item["id"]]
    # Same content again is a no-op; other content under the same version is refused.
    again = client.post("/api/v1/checklists", headers=office, data=json.dumps(v2, ensure_ascii=False),
                        content_type="application/json")
    assert again.status_code == 200
    v2["title"] = "另一个标题"
    assert_error(client.post("/api/v1/checklists", headers=office, data=json.dumps(v2, ensure_ascii=False),
                             content_type="application/json"), 409, "CHECKLIST_VERSION_EXISTS")


def test_bad_uploads(client, make_user, login):
    office = login(make_user("office_admin", "370000"))
    bad = copy.deepcopy(_shipped())
    bad["version"] = 3
    bad["sections"][0]["items"][0]["points"] += 5  # points no longer add up
    err = assert_error(client.post("/api/v1/checklists", headers=office, data=json.dumps(bad),
                                   content_type="application/json"), 422, "CHECKLIST_INVALID")
    assert err["details"]["problems"]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    assert_error(client.post("/api/v1/checklists", headers=office, data=bomb, content_type="application/yaml"), 422)
    assert_error(client.post("/api/v1/checklists", headers=office, data="!!python/object/apply:os.system ['id']",
                             content_type="application/yaml"), 422)
    assert_error(client.post("/api/v1/checklists", headers=office, data=b"a: " + b"x" * (2 * 1024 * 1024),
                             content_type="application/yaml"), 413)
    assert_error(client.post("/api/v1/checklists", headers=office, data="x", content_type="text/csv"), 415)
    inspector = login(make_user("inspector", "370302"))
    assert_error(client.post("/api/v1/checklists", headers=inspector, data="{}", content_type="application/json"),
                 403)


def test_matters_crud_and_public_list(client, make_user, login):
    office = login(make_user("office_admin", "370000"))
    public = client.get("/api/v1/public/matters").get_json()
    assert any(m["code"] == "YY-01" for m in public)
    body = {"code": "YY-99", "name": "测试事项", "legal_basis": "《测试条例》", "department": "health",
            "category": "general", "checklist_code": CODE}
    assert client.post("/api/v1/matters", headers=office, json=body).status_code == 201
    assert_error(client.post("/api/v1/matters", headers=office, json=body), 409)
    assert_error(client.post("/api/v1/matters", headers=office, json=body | {"code": "YY-98",
                                                                           "checklist_code": "NOPE"}), 422)
    r = client.patch("/api/v1/matters/YY-99", headers=office, json={"category": "key"})
    assert r.get_json()["category"] == "key"
    assert client.delete("/api/v1/matters/YY-99", headers=office).get_json()["active"] is False
    assert all(m["code"] != "YY-99" for m in client.get("/api/v1/public/matters").get_json())
    assert_error(client.post("/api/v1/matters", headers=login(make_user("inspector", "370302")),
                             json=body | {"code": "YY-97"}), 403)


def _v2_json() -> str:
    v2 = copy.deepcopy(_shipped())
    v2["version"] = 2
    v2["title"] = v2["title"] + "（修订）"
    return json.dumps(v2, ensure_ascii=False)


def test_only_province_offices_write_the_catalog(client, make_user, login):
    from inspect_api.catalog.models import ChecklistVersion, Matter

    province = login(make_user("office_admin", "370000"))
    draft = client.post("/api/v1/checklists", headers=province, data=_v2_json(), content_type="application/json")
    assert draft.status_code == 201 and draft.get_json()["status"] == "draft"
    stored = ChecklistVersion.objects.count()
    matter = {"code": "YY-99", "name": "测试事项", "legal_basis": "《测试条例》", "department": "health",
              "category": "general", "checklist_code": CODE}
    for region in ("370300", "370302"):  # a city office and a county office
        office = login(make_user("office_admin", region))
        v3 = json.loads(_v2_json()) | {"version": 3}
        assert_error(client.post("/api/v1/checklists", headers=office, data=json.dumps(v3, ensure_ascii=False),
                                 content_type="application/json"), 403, "PROVINCE_OFFICE_REQUIRED")
        assert_error(client.post(f"/api/v1/checklists/{CODE}/versions/2/publish", headers=office), 403,
                     "PROVINCE_OFFICE_REQUIRED")
        assert_error(client.post("/api/v1/matters", headers=office, json=matter), 403, "PROVINCE_OFFICE_REQUIRED")
        # Refused before the body is read: an empty body is still a 403, not a 422.
        assert_error(client.post("/api/v1/matters", headers=office, json={}), 403, "PROVINCE_OFFICE_REQUIRED")
        assert_error(client.patch("/api/v1/matters/YY-01", headers=office, json={"category": "general"}), 403,
                     "PROVINCE_OFFICE_REQUIRED")
        assert_error(client.delete("/api/v1/matters/YY-01", headers=office), 403, "PROVINCE_OFFICE_REQUIRED")
        # Reads stay open to every office (drafts included).
        assert client.get("/api/v1/checklists", headers=office).status_code == 200
        assert client.get(f"/api/v1/checklists/{CODE}/versions/2", headers=office).status_code == 200
        assert client.get(f"/api/v1/checklists/{CODE}/diff?from=1&to=2", headers=office).status_code == 200
        assert client.get("/api/v1/matters/YY-01", headers=office).status_code == 200
    assert ChecklistVersion.objects.count() == stored
    assert ChecklistVersion.objects.get(code=CODE, version=2).status == "draft"
    yy01 = Matter.objects.get(code="YY-01")
    assert yy01.active is True and yy01.category == "key"
    assert Matter.objects(code="YY-99").first() is None
    # The province office publishes; new assignments pin what it published.
    assert client.post(f"/api/v1/checklists/{CODE}/versions/2/publish", headers=province).get_json()["status"] == \
        "published"


def test_demo_province_account_maintains_the_catalog(app, client):
    from inspect_api.auth import demo as auth_demo
    from inspect_api.clock import utcnow
    from inspect_api.demo import DEMO_PASSWORD, DemoContext

    ctx = DemoContext(now=utcnow())
    auth_demo.seed(ctx)
    assert {"username": "province", "password": DEMO_PASSWORD, "role": "office_admin"}.items() <= \
        next(a for a in ctx.accounts if a["username"] == "province").items()
    token = client.post("/api/v1/auth/login", json={"username": "province", "password": DEMO_PASSWORD})
    headers = {"Authorization": "Bearer " + token.get_json()["access_token"]}
    assert client.get("/api/v1/me", headers=headers).get_json()["region"] == "370000"
    r = client.patch("/api/v1/matters/YY-03", headers=headers, json={"category": "key"})
    assert r.status_code == 200 and r.get_json()["category"] == "key"
    city = client.post("/api/v1/auth/login", json={"username": "office", "password": DEMO_PASSWORD})
    assert_error(client.delete("/api/v1/matters/YY-03",
                               headers={"Authorization": "Bearer " + city.get_json()["access_token"]}), 403,
                 "PROVINCE_OFFICE_REQUIRED")


def _upload_problems(client, headers, mutate) -> list[dict]:
    from inspect_api.catalog.models import ChecklistVersion

    doc = json.loads(_v2_json())
    mutate(doc)
    before = ChecklistVersion.objects.count()
    r = client.post("/api/v1/checklists", headers=headers, data=json.dumps(doc, ensure_ascii=False),
                    content_type="application/json")
    err = assert_error(r, 422, "CHECKLIST_INVALID")
    assert ChecklistVersion.objects.count() == before
    return err["details"]["problems"]


def test_huge_integers_in_an_upload_are_refused_not_500(client, make_user, login):
    office = login(make_user("office_admin", "370000"))
    huge = 10 ** 20

    def at(problems, path):
        return [p["message"] for p in problems if p["path"] == path]

    problems = _upload_problems(client, office, lambda d: d.update(version=huge))
    assert any("1000000" in m for m in at(problems, "version")), problems

    def photos(d):
        d["sections"][0]["items"][0]["evidence"]["min_photos"] = huge
    problems = _upload_problems(client, office, photos)
    assert any("50" in m for m in at(problems, "sections[0].items[0].evidence.min_photos")), problems

    def days(d):
        d["deadlines"]["minor"]["working_days"] = huge
    problems = _upload_problems(client, office, days)
    assert any("365" in m for m in at(problems, "deadlines.minor.working_days")), problems

    def points(d):
        d["sections"][0]["items"][0]["points"] = huge
        d["sections"][0]["items"][0]["deductions"][0]["points"] = huge
        d["bands"][0]["min"] = huge
    problems = _upload_problems(client, office, points)
    assert any("100" in m for m in at(problems, "sections[0].items[0].points")), problems
    assert any("100" in m for m in at(problems, "sections[0].items[0].deductions[0].points")), problems
    assert any("100" in m for m in at(problems, "bands[0].min")), problems

    problems = _upload_problems(client, office, lambda d: d.update(version=-huge))
    assert at(problems, "version"), problems
    # Beyond Python's int conversion limit the parser itself refuses the number.
    text = _v2_json().replace('"version": 2', '"version": ' + "9" * 5000)
    assert_error(client.post("/api/v1/checklists", headers=office, data=text, content_type="application/json"),
                 422, "CHECKLIST_INVALID")
    # At the bounds the upload is accepted.
    def at_bounds(d):
        d["version"] = 1_000_000
        d["deadlines"]["minor"]["working_days"] = 365
        d["sections"][0]["items"][0]["evidence"]["min_photos"] = 50
    doc = json.loads(_v2_json())
    at_bounds(doc)
    r = client.post("/api/v1/checklists", headers=office, data=json.dumps(doc, ensure_ascii=False),
                    content_type="application/json")
    assert r.status_code == 201, r.get_json()
