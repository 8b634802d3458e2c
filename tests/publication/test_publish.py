from __future__ import annotations

from datetime import datetime, timezone

from inspect_api.audit.models import AuditEvent
from inspect_api.publication import service
from inspect_api.publication.models import PublishedResult
from inspect_api.rectification.models import Finding
from tests.conftest import assert_error


def _preview(client, headers, ins, **params):
    return client.get(f"/api/v1/inspections/{ins.id}/publication-preview", headers=headers, query_string=params)


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
    preview = _preview(client, headers, ins, photo_ids="ph-2").get_json()
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
    result = service.publish(world.office, str(ins.id), now=datetime.now(timezone.utc))
    assert result.late is True
    fresh = world.inspect("fresh", days_ago=1)
    assert service.publish(world.office, str(fresh.id), now=datetime.now(timezone.utc)).late is False
