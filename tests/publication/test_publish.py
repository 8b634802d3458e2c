from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inspect_api.audit.models import AuditEvent
from inspect_api.errors import Unprocessable
from inspect_api.publication import results
from inspect_api.publication.models import PublishedResult
from inspect_api.rectification.models import Finding
from tests.conftest import assert_error


def _preview(client, headers, ins, **body):
    return client.post(f"/api/v1/inspections/{ins.id}/publication-preview", headers=headers, json=body)


def test_preview_shows_exactly_what_becomes_public_redacted(client, world, as_user):
    ins = world.inspect("a")
    r = _preview(client, as_user(world.office), ins)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    snap = body["snapshot"]
    assert snap["institution"]["name"] == world.institution.name
    assert snap["institution"]["public_id"] == world.institution.public_id
    assert [t["name"] for t in snap["team"]] == ["张建国", "李晓梅"]
    assert all(t["certificate_no"] for t in snap["team"])
    assert snap["score"] == 86.5 and snap["grade"] == "good" and snap["grade_name"] == "良好"
    assert snap["matters"] and snap["inspected_on"]
    text = str(body)
    for secret in ("370302195001011234", "13805331234", "张秀英"):
        assert secret not in text
    # photos stay private unless chosen
    assert all(f["photo_ids"] == [] for f in snap["findings"])
    assert body["available_photo_ids"] == ["ph-1", "ph-2"]
    assert body["rectification"]["counts"]["total"] == 2
    assert body["published"] is False and body["deadline"]


def test_publish_freezes_the_preview_and_shows_in_open_data(client, world, as_user):
    ins = world.inspect("a")
    headers = as_user(world.office)
    preview = _preview(client, headers, ins, photo_ids=["ph-2"]).get_json()
    assert preview["snapshot"]["findings"][1]["photo_ids"] == ["ph-2"]
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={"photo_ids": ["ph-2"]}, headers=headers)
    assert r.status_code == 201, r.get_json()
    published = PublishedResult.objects.get(inspection_id=str(ins.id))
    assert published.snapshot == preview["snapshot"]
    assert published.photo_ids == ["ph-2"]
    assert AuditEvent.objects(action="publication.result_published", target_id=str(published.id)).count() == 1
    data = client.get("/api/v1/public/results").get_json()
    assert data["total"] == 1 and data["items"][0]["id"] == str(published.id)
    assert data["items"][0]["institution"]["name"] == world.institution.name


def test_publishing_unsubmitted_inspection_is_refused(client, world, as_user):
    ins = world.inspect("draft", state="checked_in")
    headers = as_user(world.office)
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=headers), 409,
                 "INSPECTION_NOT_SUBMITTED")
    assert_error(_preview(client, headers, ins), 409, "INSPECTION_NOT_SUBMITTED")
    assert PublishedResult.objects.count() == 0


def test_publishing_twice_is_409(client, world, as_user):
    ins = world.inspect("a")
    headers = as_user(world.office)
    assert client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=headers).status_code == 201
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=headers), 409,
                 "ALREADY_PUBLISHED")
    assert PublishedResult.objects.count() == 1


def test_other_region_office_gets_404(client, world, as_user):
    ins = world.inspect("a")
    headers = as_user(world.other_office)
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=headers), 404)
    assert_error(_preview(client, headers, ins), 404)
    assert_error(client.post("/api/v1/inspections/not-an-id/publish", json={}, headers=headers), 404)
    assert PublishedResult.objects.count() == 0


def test_county_office_of_the_region_may_publish(client, world, as_user):
    ins = world.inspect("a")
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=as_user(world.county_office))
    assert r.status_code == 201


def test_roles_and_login_required(client, world, as_user):
    ins = world.inspect("a")
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={}), 401)
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=as_user(world.inspector_user)),
                 403)


def test_photo_not_in_inspection_is_refused_and_unknown_fields_too(client, world, as_user):
    ins = world.inspect("a")
    headers = as_user(world.office)
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={"photo_ids": ["other"]},
                             headers=headers), 422, "PHOTO_NOT_IN_INSPECTION")
    assert_error(client.post(f"/api/v1/inspections/{ins.id}/publish", json={"everything": True},
                             headers=headers), 422)


def test_published_page_follows_rectification_progress(client, world, as_user):
    ins = world.inspect("a")
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=as_user(world.office))
    rid = r.get_json()["id"]
    before = client.get(f"/api/v1/public/results/{rid}").get_json()
    assert [f["rectification"]["status"] for f in before["findings"]] == ["open", "open"]
    Finding.objects(order_id=ins.order_id, seq=1).update_one(set__status="accepted")
    after = client.get(f"/api/v1/public/results/{rid}").get_json()
    assert [f["rectification"]["status"] for f in after["findings"]] == ["accepted", "open"]
    assert after["rectification"]["counts"]["accepted"] == 1
    page = client.get(f"/p/results/{rid}").get_data(as_text=True)
    assert "已整改" in page


def test_result_without_findings_publishes_with_no_order(client, world, as_user):
    ins = world.inspect("clean", findings=[], score=98.0, grade="excellent")
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=as_user(world.office))
    assert r.status_code == 201
    assert r.get_json()["rectification"]["summary"] == "无需整改"


def test_late_publication_is_marked(app, world):
    ins = world.inspect("old", days_ago=60)
    result = results.publish(world.office, str(ins.id), now=datetime.now(timezone.utc))
    assert result.late is True
    fresh = world.inspect("fresh", days_ago=1)
    assert results.publish(world.office, str(fresh.id), now=datetime.now(timezone.utc)).late is False


# --------------------------------------------------------------------------- office-controlled redaction

PLAIN_NAME_NOTE = "入住老人张秀英护理记录缺3天，其子张建军称已补记"


def _with_plain_name(world, key="names"):
    from inspect_api.publication.builders import finding

    return world.inspect(key, findings=[finding("4086-1-1", "未按规定公示医疗机构执业许可证", note="院长称正在办理"),
                                        finding("4086-2-3", "张秀英的护理记录不完整", severity="minor",
                                                note=PLAIN_NAME_NOTE, photo_ids=["ph-1"])])


def test_notes_are_left_out_unless_the_office_chooses_them(client, world, as_user):
    ins = _with_plain_name(world)
    headers = as_user(world.office)
    body = _preview(client, headers, ins).get_json()
    assert [f["note"] for f in body["snapshot"]["findings"]] == [None, None]
    assert body["include_notes"] is False and body["redact_terms_count"] == 0
    assert "张建军" not in str(body)
    with_notes = _preview(client, headers, ins, include_notes=True).get_json()
    assert with_notes["snapshot"]["findings"][1]["note"] == PLAIN_NAME_NOTE
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=headers)
    assert r.status_code == 201 and all(f["note"] is None for f in r.get_json()["findings"])
    assert PublishedResult.objects.get(inspection_id=str(ins.id)).include_notes is False


def test_redact_terms_are_masked_everywhere_and_the_audit_counts_them(client, world, as_user):
    ins = _with_plain_name(world)
    headers = as_user(world.office)
    choices = {"redact_terms": ["张秀英", " 张建军 ", "张秀英"], "include_notes": True}
    preview = _preview(client, headers, ins, **choices).get_json()
    finding = preview["snapshot"]["findings"][1]
    assert finding["item_text"] == "张**的护理记录不完整"
    assert finding["note"] == "入住老人张**护理记录缺3天，其子张**称已补记"
    assert finding["deductions"] == ["张**的护理记录不完整"] and preview["findings"][1]["note"] == finding["note"]
    assert finding["item_id"] == "4086-2-3" and finding["photo_ids"] == []
    assert preview["redact_terms_count"] == 2
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json=choices, headers=headers)
    assert r.status_code == 201, r.get_json()
    published = PublishedResult.objects.get(inspection_id=str(ins.id))
    assert published.snapshot == preview["snapshot"]  # the preview showed exactly this
    public = client.get(f"/api/v1/public/results/{published.id}").get_data(as_text=True)
    page = client.get(f"/p/results/{published.id}").get_data(as_text=True)
    for text in (public, page):
        assert "张秀英" not in text and "张建军" not in text and "张**" in text
    assert "redact_terms" not in public
    event = AuditEvent.objects.get(action="publication.result_published", target_id=str(published.id))
    assert event.data["redact_terms_count"] == 2 and event.data["include_notes"] is True
    assert "张秀英" not in str(event.data) and "张建军" not in str(event.data)


def test_a_correction_refresh_applies_the_same_redaction_choices(client, world, as_user):
    from inspect_api.inspections.models import Correction, Inspection

    ins = _with_plain_name(world)
    client.post(f"/api/v1/inspections/{ins.id}/publish", json={"redact_terms": ["张秀英"], "include_notes": True},
                headers=as_user(world.office))
    findings = [dict(f) for f in ins.findings]
    findings[1]["note"] = "更正：老人张秀英的护理记录缺2天"
    Inspection.objects(id=ins.id).update_one(set__findings=findings, push__corrections=Correction(
        client_id="c-1", at=world.now, by=str(world.lead.id), reason="张秀英家属补交了记录", score_before=86.5,
        score_after=88.0))
    ins.reload()
    results.on_inspection_corrected(ins, world.now)
    snap = PublishedResult.objects.get(inspection_id=str(ins.id)).snapshot
    assert snap["findings"][1]["note"] == "更正：老人张**的护理记录缺2天"
    assert snap["corrections"][0]["reason"] == "张**家属补交了记录"
    assert "张秀英" not in str(snap)

    # a result published without notes stays without them after a correction
    other = _with_plain_name(world, "other")
    client.post(f"/api/v1/inspections/{other.id}/publish", json={}, headers=as_user(world.office))
    Inspection.objects(id=other.id).update_one(push__corrections=Correction(
        client_id="c-2", at=world.now, by=str(world.lead.id), reason="笔误", score_before=86.5, score_after=86.5))
    other.reload()
    results.on_inspection_corrected(other, world.now)
    snap = PublishedResult.objects.get(inspection_id=str(other.id)).snapshot
    assert snap["corrections"] and all(f["note"] is None for f in snap["findings"])


def test_bad_redaction_choices_are_refused(client, world, as_user):
    ins = _with_plain_name(world)
    headers = as_user(world.office)
    url = f"/api/v1/inspections/{ins.id}/publish"
    for terms in (["张"], ["   "], ["x" * 51], [f"名字{i}" for i in range(51)], "张秀英", [1]):
        assert_error(client.post(url, json={"redact_terms": terms}, headers=headers), 422)
    assert_error(client.post(url, json={"include_notes": "perhaps"}, headers=headers), 422)
    assert_error(_preview(client, headers, ins, redact_terms=["张"]), 422)
    assert PublishedResult.objects.count() == 0
    with pytest.raises(Unprocessable):
        results.publish(world.office, str(ins.id), redact_terms=["  张  "], now=world.now)


def test_openapi_documents_the_redaction_choices(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    publish = spec["components"]["schemas"]["Publish"]["properties"]
    assert publish["redact_terms"]["type"] == "array" and publish["redact_terms"]["maxItems"] == 50
    assert publish["redact_terms"]["items"]["minLength"] == 2 and publish["include_notes"]["default"] is False
    body = spec["paths"]["/api/v1/inspections/{inspection_id}/publication-preview"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/Publish")  # one schema for both
    assert "get" not in spec["paths"]["/api/v1/inspections/{inspection_id}/publication-preview"]


def test_an_office_revises_what_a_published_result_shows(client, world, as_user):
    ins = _with_plain_name(world, "revise")
    office = as_user(world.office)
    url = f"/api/v1/inspections/{ins.id}/publication"
    assert_error(client.put(url, json={}, headers=office), 409, "RESULT_NOT_PUBLISHED")
    published = client.post(f"/api/v1/inspections/{ins.id}/publish", json={"include_notes": True,
                                                                           "photo_ids": ["ph-1"]}, headers=office)
    assert published.status_code == 201, published.get_json()
    result_id = published.get_json()["id"]
    before = client.get(f"/api/v1/public/results/{result_id}").get_data(as_text=True)
    assert "张建军" in before  # the name in the note was not caught by the rules

    for headers, status in (({}, 401), (as_user(world.other_office), 404), (as_user(world.inspector_user), 403)):
        assert_error(client.put(url, json={"redact_terms": ["张建军"]}, headers=headers), status)
    assert_error(client.put(url, json={"redact_terms": ["张"]}, headers=office), 422)
    assert_error(client.put(url, json={"photo_ids": ["not-this-inspection"]}, headers=office), 422)

    r = client.put(url, json={"redact_terms": ["张建军", "张秀英"], "include_notes": True}, headers=office)
    assert r.status_code == 200, r.get_json()
    after = client.get(f"/api/v1/public/results/{result_id}")
    text = after.get_data(as_text=True)
    assert "张建军" not in text and "张秀英" not in text and "张**" in text
    body = after.get_json()
    assert body["score"] == published.get_json()["score"]
    assert body["published_at"][:19] == published.get_json()["published_at"][:19]  # stored to the millisecond
    assert all(not f["photo_ids"] for f in body["findings"])  # the photo is no longer chosen
    assert client.get(f"/p/results/{result_id}/photos/ph-1").status_code == 404
    stored = PublishedResult.objects.get(id=result_id)
    assert stored.redact_terms == ["张建军", "张秀英"] and stored.revised_at is not None
    event = AuditEvent.objects.get(action="publication.result_revised", target_id=result_id)
    assert event.data["redact_terms_count"] == 2 and "张建军" not in str(event.data)
