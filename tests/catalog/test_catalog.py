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
    assert_error(client.get(f"/api/v1/checklists/{CODE}/versions/99", headers=headers), 404)
    assert_error(client.get(url), 401)


def test_office_uploads_v2_publishes_and_diffs(client, make_user, login):
    office = login(make_user("office_admin", "370300"))
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
    office = login(make_user("office_admin", "370300"))
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
    office = login(make_user("office_admin", "370300"))
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
