"""Signatures only in person (issue #13 item 3): an inspector signs only as themselves, the institution's
representative on the lead's device; every signature records the uploading account and login."""

from __future__ import annotations

import pytest
from flask_jwt_extended import decode_token

from inspect_api.inspections.models import Inspection
from tests.conftest import TEST_PASSWORD, assert_error
from tests.inspections.helpers import signature_form
from tests.inspections.test_checkin_responses import check_in


def _url(world) -> str:
    return f"/api/v1/inspections/{world.assignment.id}/signatures"


def _post(client, world, headers, form):
    return client.post(_url(world), data=form, headers=headers, content_type="multipart/form-data")


def _session(client, user) -> tuple[dict, str]:
    pair = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD}).get_json()
    return {"Authorization": "Bearer " + pair["access_token"]}, decode_token(pair["access_token"])["sid"]


@pytest.fixture
def on_site(client, world, as_user):
    check_in(client, world, as_user(world.lead_user))
    return world


def test_a_member_cannot_post_the_leads_signature(client, on_site, as_user):
    """The reviewed attack: signer_role=lead with the lead's inspector_id, posted by a member."""
    w = on_site
    member = as_user(w.member_user)
    for form in (signature_form("张建国", "lead", inspector_id=str(w.lead.id)), signature_form("张建国", "lead")):
        err = assert_error(_post(client, w, member, form), 422)
        assert err["code"] in ("SIGNER_NOT_SELF", "SIGNER_NOT_LEAD")
    assert Inspection.objects.get(id=w.assignment.id).signatures == []


def test_nobody_signs_for_another_inspector(client, on_site, as_user):
    w = on_site
    lead, member = as_user(w.lead_user), as_user(w.member_user)
    assert_error(_post(client, w, lead, signature_form("李晓梅", "member", inspector_id=str(w.member.id))), 422,
                 "SIGNER_NOT_SELF")
    assert_error(_post(client, w, lead, signature_form("张建国", "member")), 422, "SIGNER_NOT_MEMBER")
    assert_error(_post(client, w, member, signature_form("李晓梅", "lead")), 422, "SIGNER_NOT_LEAD")
    assert Inspection.objects.get(id=w.assignment.id).signatures == []


def test_the_signer_and_name_come_from_the_login_not_the_form(client, on_site):
    w = on_site
    headers, sid = _session(client, w.member_user)
    r = _post(client, w, headers, signature_form("随便写的名字", "member", inspector_id=str(w.member.id)))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["inspector_id"] == str(w.member.id) and body["signer_name"] == w.member.name
    assert body["uploaded_by"] == str(w.member_user.id) and body["uploaded_session"] == sid
    # The phone may leave signer_name and inspector_id out altogether.
    lead_headers, _ = _session(client, w.lead_user)
    form = signature_form("x", "lead")
    del form["signer_name"]
    r = _post(client, w, lead_headers, form)
    assert r.status_code == 201 and r.get_json()["signer_name"] == w.lead.name


def test_the_representative_signs_on_the_leads_device_with_their_name(client, on_site):
    w = on_site
    member_headers, _ = _session(client, w.member_user)
    assert_error(_post(client, w, member_headers, signature_form("王院长", "institution_representative")), 422,
                 "REPRESENTATIVE_ON_LEAD_DEVICE")
    lead_headers, sid = _session(client, w.lead_user)
    nameless = signature_form("", "institution_representative")
    del nameless["signer_name"]
    assert_error(_post(client, w, lead_headers, nameless), 422, "SIGNER_NAME_REQUIRED")
    r = _post(client, w, lead_headers, signature_form("王院长", "institution_representative"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["signer_name"] == "王院长" and r.get_json()["inspector_id"] is None
    assert r.get_json()["uploaded_by"] == str(w.lead_user.id) and r.get_json()["uploaded_session"] == sid


def test_the_record_and_the_report_show_who_uploaded_each_signature_and_from_which_login(client, world, as_user):
    from tests.inspections.helpers import fill_all, jpeg, photo_form

    w = world
    lead, sid = _session(client, w.lead_user)
    member, member_sid = _session(client, w.member_user)
    check_in(client, w, lead)
    for n, item in enumerate(fill_all(client, w, lead)):
        for k in range(item["evidence"]["min_photos"]):
            r = client.post(f"/api/v1/inspections/{w.assignment.id}/photos", headers=member,
                            data=photo_form(jpeg(10 * n + k), item["id"]), content_type="multipart/form-data")
            assert r.status_code == 201, r.get_json()
    for headers, form in ((lead, signature_form("x", "lead", seed=1)), (member, signature_form("x", "member", seed=2)),
                          (lead, signature_form("王院长", "institution_representative", seed=3))):
        assert _post(client, w, headers, form).status_code == 201
    view = client.get(f"/api/v1/inspections/{w.assignment.id}", headers=lead).get_json()
    assert {(s["signer_role"], s["uploaded_by"], s["uploaded_session"]) for s in view["signatures"]} == {
        ("lead", str(w.lead_user.id), sid), ("member", str(w.member_user.id), member_sid),
        ("institution_representative", str(w.lead_user.id), sid)}
    assert client.post(f"/api/v1/inspections/{w.assignment.id}/submit", headers=lead).status_code == 200
    report = Inspection.objects.get(id=w.assignment.id).report
    assert {(s["role"], s["uploaded_by"], s["session_id"]) for s in report["signatures"]} == {
        ("lead", str(w.lead_user.id), sid), ("member", str(w.member_user.id), member_sid),
        ("institution_representative", str(w.lead_user.id), sid)}
    html = client.get(f"/api/v1/inspections/{w.assignment.id}/report", headers=lead).get_data(as_text=True)
    assert f"由 {w.member_user.display_name} 上传（登录 {member_sid[:8]}）" in html


def test_the_openapi_document_states_the_rule(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/inspections/{inspection_id}/signatures"]
    body = op["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    body = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
    assert "本人" in op["post"]["description"] or "themselves" in op["post"]["description"]
    assert set(body.get("required", [])) >= {"client_id", "signer_role", "file"}
    assert "signer_name" not in body.get("required", [])
