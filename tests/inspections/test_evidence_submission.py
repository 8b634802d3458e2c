"""Photos, signatures, submission, report, corrections."""

from __future__ import annotations

import io

from inspect_api.audit.models import AuditEvent
from inspect_api.evidence.models import Evidence
from inspect_api.inspections.models import Assignment, Inspection, ItemResponse
from tests.conftest import assert_error
from tests.evidence.imagegen import huge_png, make_exif
from tests.inspections.helpers import (
    applicable_items, cid, fill_all, jpeg, photo_form, sign_all, signature_form)
from tests.inspections.test_checkin_responses import answer, check_in


def _url(world, tail=""):
    return f"/api/v1/inspections/{world.assignment.id}{tail}"


def _post_photo(client, world, headers, data, item_id=None, client_id=None, filename="photo.jpg"):
    item_id = item_id or applicable_items()[0]["id"]
    return client.post(_url(world, "/photos"), data=photo_form(data, item_id, client_id, filename), headers=headers,
                       content_type="multipart/form-data")


def test_photo_upload_is_idempotent(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    client_id = cid()
    r1 = _post_photo(client, world, h, jpeg(1), client_id=client_id)
    assert r1.status_code == 201, r1.get_json()
    r2 = _post_photo(client, world, h, jpeg(1), client_id=client_id)
    assert r2.status_code == 201 and r2.get_json()["id"] == r1.get_json()["id"]
    assert Evidence.objects(kind="photo").count() == 1
    assert AuditEvent.objects(action="inspection.photo_added").count() == 1
    thumb = client.get(r1.get_json()["urls"]["thumb"], headers=as_user(world.member_user))
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    assert client.get(r1.get_json()["urls"]["thumb"], headers=as_user(world.outsider_user)).status_code == 404


def test_photo_before_check_in_is_refused(client, world, as_user):
    assert_error(_post_photo(client, world, as_user(world.lead_user), jpeg(1)), 409, "NOT_CHECKED_IN")
    assert Evidence.objects.count() == 0


def test_text_file_renamed_jpg_is_415(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    assert_error(_post_photo(client, world, h, "这不是图片，只是文本。\n".encode() * 20, filename="evil.jpg"),
                 415, "IMAGE_TYPE_UNSUPPORTED")
    assert Evidence.objects.count() == 0


def test_truncated_jpeg_is_422(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    data = jpeg(2)
    assert_error(_post_photo(client, world, h, data[: len(data) // 2]), 422, "IMAGE_CORRUPT")
    assert Evidence.objects.count() == 0


def test_decompression_bomb_png_is_refused(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    bomb = huge_png(20000, 20000)
    assert len(bomb) < 2 * 1024 * 1024
    err = assert_error(_post_photo(client, world, h, bomb, filename="bomb.png"), 413, "IMAGE_TOO_MANY_PIXELS")
    assert err["message"]
    assert Evidence.objects.count() == 0


def test_60_mb_upload_is_413(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (60 * 1024 * 1024)
    assert_error(_post_photo(client, world, h, big), 413)
    assert Evidence.objects.count() == 0


def test_absurd_exif_gps_is_kept_out_and_flagged(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    exif = make_exif(gps=((200.0, 0.0, 0.0), "N", (500.0, 0.0, 0.0), "E"))
    r = _post_photo(client, world, h, jpeg(3, exif=exif.tobytes()))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["gps_invalid"] is True and body["latitude"] is None and body["longitude"] is None


def test_photo_for_unknown_item_is_422(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    assert_error(_post_photo(client, world, h, jpeg(1), item_id="nope"), 422, "UNKNOWN_ITEM")


def test_signature_roles(client, world, as_user):
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    check_in(client, world, lead)
    url = _url(world, "/signatures")
    form = signature_form("张建国", "lead")
    r = client.post(url, data=form, headers=lead, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    again = client.post(url, data=signature_form("张建国", "lead", client_id=form["client_id"]), headers=lead,
                        content_type="multipart/form-data")
    assert again.get_json()["evidence_id"] == r.get_json()["evidence_id"]
    assert len(Inspection.objects.get(id=world.assignment.id).signatures) == 1
    # Nobody signs for somebody else (tests/inspections/test_signatures.py has every case).
    assert_error(client.post(url, data=signature_form("赵志强", "member", inspector_id=str(world.outsider.id)),
                             headers=member, content_type="multipart/form-data"), 422, "SIGNER_NOT_SELF")
    assert_error(client.post(url, data=signature_form("张建国", "lead", inspector_id=str(world.member.id)),
                             headers=member, content_type="multipart/form-data"), 422, "SIGNER_NOT_LEAD")
    not_png = {"file": (io.BytesIO(jpeg(1)), "sig.png"), "client_id": cid(), "signer_name": "李晓梅",
               "signer_role": "member"}
    assert_error(client.post(url, data=not_png, headers=member, content_type="multipart/form-data"), 415)


def _ready(client, world, as_user, photos=True):
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    check_in(client, world, lead)
    deducted = fill_all(client, world, lead)
    if photos:
        for n, item in enumerate(deducted):
            for k in range(item["evidence"]["min_photos"]):
                r = _post_photo(client, world, member, jpeg(10 * n + k), item_id=item["id"])
                assert r.status_code == 201, r.get_json()
    sign_all(client, world, lead, member)
    return lead, member, deducted


def test_submission_lists_what_is_missing(client, world, as_user):
    lead = as_user(world.lead_user)
    check_in(client, world, lead)
    items = applicable_items()
    deducted = items[2]
    client.put(_url(world, "/responses"), json={"items": [
        answer(items[0]), answer(deducted, "deduct", codes=[deducted["deductions"][0]["code"]])]}, headers=lead)
    err = assert_error(client.post(_url(world, "/submit"), headers=lead), 422, "SUBMISSION_INCOMPLETE")
    missing = err["details"]["missing"]
    assert len(missing["unanswered_items"]) == len(items) - 2
    if deducted["evidence"]["min_photos"]:
        assert missing["photos_required"][0]["item_id"] == deducted["id"]
    assert {s["role"] for s in missing["signatures"]} == {"lead", "member", "institution_representative"}
    inspection = Inspection.objects.get(id=world.assignment.id)
    assert inspection.state == "checked_in" and inspection.submission_started_at is None
    # still writable after a refused submission
    r = client.put(_url(world, "/responses"), json={"items": [answer(items[1])]}, headers=lead)
    assert r.get_json()["applied"] == 1


def test_submit_scores_opens_order_locks_and_replays(client, world, as_user):
    lead, member, deducted = _ready(client, world, as_user)
    assert_error(client.post(_url(world, "/submit"), headers=member), 403, "NOT_TEAM_LEAD")
    r = client.post(_url(world, "/submit"), headers=lead)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "submitted"
    assert body["result"]["score"] < 100 and body["result"]["grade"] in ("excellent", "good", "pass", "fail")
    assert [f["item_id"] for f in body["findings"]] == [i["id"] for i in deducted]
    assert body["order_id"] and body["report_hash"]
    assert all(f["photo_ids"] for f in body["findings"] if f["item_id"] in {i["id"] for i in deducted
                                                                          if i["evidence"]["min_photos"]})
    # The submission hook started the publication clock.  A replay runs the hooks again, so a first request
    # that died between the state flip and the hook is healed when the phone retries.
    from inspect_api.publication.models import PublicationDeadline
    trackers = PublicationDeadline.objects(inspection_id=str(world.assignment.id))
    assert trackers.count() == 1
    trackers.delete()
    # Replay: the first result, nothing new.
    replay = client.post(_url(world, "/submit"), headers=lead)
    assert PublicationDeadline.objects(inspection_id=str(world.assignment.id)).count() == 1
    assert replay.status_code == 200
    assert replay.get_json()["order_id"] == body["order_id"] and replay.get_json()["report_hash"] == body["report_hash"]
    assert AuditEvent.objects(action="inspection.submitted").count() == 1
    from inspect_api.rectification.models import Order
    assert Order.objects(inspection_id=str(world.assignment.id)).count() == 1
    assert body["order_number"] == Order.objects.get(inspection_id=str(world.assignment.id)).number
    assert Assignment.objects.get(id=world.assignment.id).status == "submitted"
    from inspect_api.directory.models import Institution
    assert Institution.objects.get(id=world.institution.id).risk.past_findings == len(deducted)
    # Locked: answers, photos and signatures after submission are refused.
    item = applicable_items()[0]
    assert_error(client.put(_url(world, "/responses"), json={"items": [answer(item, base=1)]}, headers=lead),
                 409, "INSPECTION_LOCKED")
    assert_error(_post_photo(client, world, lead, jpeg(99)), 409, "INSPECTION_LOCKED")
    assert ItemResponse.objects.get(inspection_id=str(world.assignment.id), item_id=item["id"]).revision == 1


def test_report_and_public_verification(client, world, as_user):
    lead, _member, deducted = _ready(client, world, as_user)
    body = client.post(_url(world, "/submit"), headers=lead).get_json()
    r = client.get(_url(world, "/report"), headers=as_user(world.office_user))
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "医养结合机构监督检查报告" in html and world.institution.name in html and "张建国" in html
    assert body["report_hash"] in html and "<svg" in html and "data:image/jpeg;base64," in html
    assert deducted[0]["text"] in html
    ok = client.get(f"/p/reports/{world.assignment.id}/verify?h={body['report_hash']}")
    assert ok.status_code == 200 and "核验通过" in ok.get_data(as_text=True)
    bad = client.get(f"/p/reports/{world.assignment.id}/verify?h={'0' * 64}")
    assert bad.status_code == 200 and "核验未通过" in bad.get_data(as_text=True)
    assert world.institution.name not in bad.get_data(as_text=True)  # no facts without the right hash
    unknown = client.get("/p/reports/000000000000000000000000/verify?h=x")
    assert unknown.status_code == 200 and "核验未通过" in unknown.get_data(as_text=True)
    assert client.get(f"/p/reports/{world.assignment.id}/verify").status_code == 200
    assert_error(client.get(_url(world, "/report"), headers=as_user(world.outsider_user)), 404)


def test_report_before_submission_is_409(client, world, as_user):
    assert_error(client.get(_url(world, "/report"), headers=as_user(world.lead_user)), 409, "REPORT_NOT_READY")


def test_correction_after_submission(client, world, as_user):
    lead, member, deducted = _ready(client, world, as_user)
    first = client.post(_url(world, "/submit"), headers=lead).get_json()
    target = deducted[0]
    body = {"client_id": cid(), "reason": "复核后确认该项符合要求，现场记录有误",
            "changes": [{"item_id": target["id"], "result": "pass"}]}
    assert_error(client.post(_url(world, "/corrections"), json=body, headers=member), 403, "NOT_TEAM_LEAD")
    assert_error(client.post(_url(world, "/corrections"), json={**body, "reason": ""}, headers=lead), 422)
    r = client.post(_url(world, "/corrections"), json=body, headers=lead)
    assert r.status_code == 200, r.get_json()
    corrected = r.get_json()
    assert corrected["result"]["score"] > first["result"]["score"]
    assert len(corrected["findings"]) == len(first["findings"]) - 1
    assert corrected["report_hash"] != first["report_hash"]
    assert corrected["corrections"][0]["changes"][0]["before"]["result"] == "deduct"
    # The old report no longer verifies; the corrected one does.
    assert "核验未通过" in client.get(f"/p/reports/{world.assignment.id}/verify?h={first['report_hash']}").get_data(
        as_text=True)
    assert "核验通过" in client.get(f"/p/reports/{world.assignment.id}/verify?h={corrected['report_hash']}").get_data(
        as_text=True)
    again = client.post(_url(world, "/corrections"), json=body, headers=lead).get_json()
    assert len(again["corrections"]) == 1
    assert AuditEvent.objects(action="inspection.corrected").count() == 1


def test_correction_before_submission_is_409(client, world, as_user):
    lead = as_user(world.lead_user)
    check_in(client, world, lead)
    body = {"client_id": cid(), "reason": "更正", "changes": [{"item_id": applicable_items()[0]["id"],
                                                             "result": "pass"}]}
    assert_error(client.post(_url(world, "/corrections"), json=body, headers=lead), 409, "NOT_SUBMITTED")


def test_photo_without_file_is_422(client, world, as_user):
    h = as_user(world.lead_user)
    check_in(client, world, h)
    r = client.post(_url(world, "/photos"), data={"item_id": applicable_items()[0]["id"], "client_id": cid()},
                    headers=h, content_type="multipart/form-data")
    err = assert_error(r, 422, "VALIDATION_ERROR")
    assert err["details"]["fields"]["form"]["file"] == ["缺少必填字段"]


def test_submission_resumes_after_a_crash_without_duplicates(client, world, as_user, monkeypatch):
    """A crash after the order was opened: the retry finishes the steps; one order, one risk event."""
    from inspect_api.directory.models import Institution
    from inspect_api.inspections import submission
    from inspect_api.rectification.models import Order

    lead, _member, deducted = _ready(client, world, as_user)
    real_build = submission.build_report
    calls = {"n": 0}

    def crash_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated crash")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(submission, "build_report", crash_once)
    r = client.post(_url(world, "/submit"), headers=lead)
    assert r.status_code == 500
    half = Inspection.objects.get(id=world.assignment.id)
    assert half.state == "checked_in" and half.submission_started_at is not None and half.order_id
    # Locked while the submission is unfinished.
    assert_error(client.put(_url(world, "/responses"), json={"items": [answer(applicable_items()[0], base=1)]},
                            headers=lead), 409, "INSPECTION_LOCKED")
    r = client.post(_url(world, "/submit"), headers=lead)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "submitted" and r.get_json()["order_id"] == half.order_id
    assert Order.objects(inspection_id=str(world.assignment.id)).count() == 1
    assert Institution.objects.get(id=world.institution.id).risk.past_findings == len(deducted)
    assert AuditEvent.objects(action="inspection.submitted").count() == 1


def test_next_bundle_shows_previous_result_and_open_findings(client, world, as_user):
    from inspect_api.clock import utcnow
    from inspect_api.inspections import assignments

    lead, _member, deducted = _ready(client, world, as_user)
    first = client.post(_url(world, "/submit"), headers=lead).get_json()
    follow_up = assignments.create_assignment(
        institution_id=str(world.institution.id), region=world.institution.region,
        team=[str(world.member.id), str(world.outsider.id)], source="targeted", reason="reinspection",
        checklist_code="DB37T4086-2020", now=utcnow(), dedupe_key="reinspection:test",
        parent_order_id=first["order_id"])
    r = client.get(f"/api/v1/assignments/{follow_up.id}/bundle", headers=as_user(world.outsider_user))
    assert r.status_code == 200, r.get_json()
    bundle = r.get_json()
    assert bundle["previous_result"]["inspection_id"] == str(world.assignment.id)
    assert bundle["previous_result"]["score"] == first["result"]["score"]
    assert [f["item_id"] for f in bundle["open_findings"]] == [i["id"] for i in deducted]
    assert all(f["deadline"] and f["order_id"] == first["order_id"] for f in bundle["open_findings"])
    # Each open finding names its photos; the newly assigned inspector (not on the first team) may
    # fetch their thumbnails for offline use, but not the signatures; an unassigned one sees nothing.
    photo_ids = {f["item_id"]: f["photo_ids"] for f in first["findings"]}
    assert all([p["id"] for p in f["photos"]] == photo_ids[f["item_id"]] and f["photos"]
               for f in bundle["open_findings"])
    thumb = bundle["open_findings"][0]["photos"][0]["thumb_url"]
    r = client.get(thumb, headers=as_user(world.outsider_user))
    assert r.status_code == 200 and r.data[:2] == b"\xff\xd8"
    signature = Inspection.objects.get(id=world.assignment.id).signatures[0].evidence_id
    assert_error(client.get(f"/api/v1/photos/{signature}/display", headers=as_user(world.outsider_user)), 404)
    # Each one as the order shows it to its office; a settled finding (accepted, withdrawn) is not owed any more.
    from inspect_api.rectification.models import Finding

    office = as_user(world.office_user)
    shown = {f["id"]: f for f in client.get(f"/api/v1/rectifications/{first['order_id']}",
                                            headers=office).get_json()["findings"]}
    for f in bundle["open_findings"]:
        same = shown[f["finding_id"]]
        assert f["order_number"] == client.get(f"/api/v1/rectifications/{first['order_id']}",
                                               headers=office).get_json()["number"]
        assert {k: f[k] for k in ("item_id", "item_text", "severity", "status", "deadline", "reinspection_required")} \
            == {k: same[k] for k in ("item_id", "item_text", "severity", "status", "deadline", "reinspection_required")}
    settled = bundle["open_findings"][0]["finding_id"]
    Finding.objects(id=settled).update_one(set__status="accepted")
    again = client.get(f"/api/v1/assignments/{follow_up.id}/bundle", headers=as_user(world.outsider_user)).get_json()
    assert [f["finding_id"] for f in again["open_findings"]] == [f["finding_id"] for f in bundle["open_findings"]
                                                                 if f["finding_id"] != settled]
    Assignment.objects(id=follow_up.id).update_one(set__status="cancelled")
    assert_error(client.get(thumb, headers=as_user(world.outsider_user)), 404, "EVIDENCE_NOT_FOUND")


def test_clean_inspection_has_no_order(client, world, as_user):
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    check_in(client, world, lead)
    fill_all(client, world, lead, deduct_first=0)
    sign_all(client, world, lead, member)
    r = client.post(_url(world, "/submit"), headers=lead)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["result"]["score"] == 100.0 and body["findings"] == [] and body["order_id"] is None
    html = client.get(_url(world, "/report"), headers=lead).get_data(as_text=True)
    assert "本次检查未发现问题" in html
