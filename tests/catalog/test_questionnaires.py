"""Questionnaires in the catalog: shipped versions, province uploads as drafts, publication, lookup by kind."""

from __future__ import annotations

import json

from inspect_api.catalog import questionnaires
from tests.conftest import assert_error


def _doc(version: int = 2, **changes) -> dict:
    from checklists import questionnaires as fmt

    doc = fmt.load_questionnaire(next(p for p in fmt.shipped_questionnaires() if p.name == "SURVEY-INST.yaml"))
    doc = dict(doc, version=version, **changes)
    return doc


def test_shipped_questionnaires_are_published_and_found_by_kind(app):
    assert questionnaires.for_kind("combined").code == "SURVEY-INST"
    assert questionnaires.for_kind("community_station").code == "SURVEY-COMM"
    assert questionnaires.load_shipped_questionnaires() == []  # already loaded at start


def test_a_province_office_uploads_and_publishes_a_new_version(client, make_user, login):
    province = login(make_user("office_admin", "370000"))
    city = login(make_user("office_admin", "370300"))
    body = json.dumps(_doc(title="医养结合机构服务满意度测评问卷（2027 版）"), ensure_ascii=False)
    assert_error(client.post("/api/v1/questionnaires", data=body, content_type="application/json", headers=city),
                 403, "PROVINCE_OFFICE_REQUIRED")
    r = client.post("/api/v1/questionnaires", data=body, content_type="application/json", headers=province)
    assert r.status_code == 201 and r.get_json()["status"] == "draft"
    assert questionnaires.for_kind("combined").version == 1  # drafts are not used
    other = json.dumps(_doc(title="另一版"), ensure_ascii=False)
    assert_error(client.post("/api/v1/questionnaires", data=other, content_type="application/json",
                             headers=province), 409, "QUESTIONNAIRE_VERSION_EXISTS")
    r = client.post("/api/v1/questionnaires/SURVEY-INST/versions/2/publish", headers=province)
    assert r.status_code == 200 and r.get_json()["status"] == "published"
    assert questionnaires.for_kind("combined").version == 2
    listed = client.get("/api/v1/questionnaires", headers=city).get_json()["items"]
    assert {q["code"]: q["latest_version"] for q in listed} == {"SURVEY-COMM": 1, "SURVEY-INST": 2}
    got = client.get("/api/v1/questionnaires/SURVEY-INST/versions/2", headers=city).get_json()
    assert got["content"]["title"] == "医养结合机构服务满意度测评问卷（2027 版）"


def test_invalid_uploads_list_every_problem(client, make_user, login):
    province = login(make_user("office_admin", "370000"))
    bad = _doc(scale=["好", "坏"], kinds=["hotel"])
    err = assert_error(client.post("/api/v1/questionnaires", data=json.dumps(bad, ensure_ascii=False),
                                   content_type="application/json", headers=province), 422, "QUESTIONNAIRE_INVALID")
    assert {p["path"] for p in err["details"]["problems"]} >= {"scale", "kinds[0]"}
    r = client.post("/api/v1/questionnaires", data="a: &x 1\nb: *x\n", content_type="application/yaml",
                    headers=province)
    assert_error(r, 422, "QUESTIONNAIRE_INVALID")
    assert_error(client.post("/api/v1/questionnaires", data="x", content_type="text/plain", headers=province), 415)
