"""End to end over real HTTP: a server on loopback, a client that behaves like the phone.

Log in, list assignments, fetch the bundle (304 on repeat), check in with the
scanned QR payload, sync answers in two batches (one replayed), upload photos
(one retried), sign, submit (replayed), fetch the report and verify its hash;
the rectification order exists with the right deadlines and nothing is
duplicated.
"""

from __future__ import annotations

import io
import threading
import uuid
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
import requests
from werkzeug.serving import make_server

from inspect_api.calendar.service import current_calendar
from inspect_api.clock import SHANGHAI
from inspect_api.workdays import business_date
from inspect_api.directory import qr
from inspect_api.evidence.models import Evidence
from inspect_api.inspections.models import Inspection, ItemResponse, ResponseWrite
from inspect_api.rectification.models import Finding, Order
from tests.inspections.helpers import PASSWORD, ZIBO, applicable_items, build_world, jpeg, signature_png


CHECKLIST_DEADLINES = {"critical": 5, "major": 15, "minor": 30}  # DB37T4086-2020 deadlines (working days)


@pytest.fixture
def live(app_factory):
    app = app_factory()
    with app.app_context():
        world = build_world(prefix="e2e_")
        qr_payload = qr.qr_payload(world.institution)
        items = applicable_items(world.institution.kind)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, world, qr_payload, items
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _phone(base: str, username: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    return s


def _nth_working_day_after(start: date, n: int) -> date:
    """Independent check of the deadline rule: the n-th official working day after ``start``."""
    d, count = start, 0
    while count < n:
        d += timedelta(days=1)
        if chinese_calendar.is_workday(d):
            count += 1
    return d


def _answer(item, result="pass", codes=None):
    return {"client_id": str(uuid.uuid4()), "item_id": item["id"], "base_revision": 0,
            "client_updated_at": datetime.now(SHANGHAI).isoformat(), "result": result,
            "deduction_codes": codes or [], "note": "现场核查" if result != "pass" else None}


def test_phone_inspection_end_to_end(live):
    base, app, world, qr_payload, items = live
    lead = _phone(base, world.lead_user.username)
    member = _phone(base, world.member_user.username)

    # Assignments and the offline bundle (ETag / 304).
    mine = lead.get(f"{base}/api/v1/me/assignments", params={"status": "assigned"}, timeout=30)
    assert mine.status_code == 200, mine.text
    assignment = mine.json()["items"][0]
    assert assignment["institution_name"] == world.institution.name
    aid = assignment["id"]
    bundle = lead.get(f"{base}/api/v1/assignments/{aid}/bundle", timeout=30)
    assert bundle.status_code == 200, bundle.text
    etag = bundle.headers["ETag"]
    assert lead.get(f"{base}/api/v1/assignments/{aid}/bundle", headers={"If-None-Match": etag},
                    timeout=30).status_code == 304
    data = bundle.json()
    assert data["checklist"]["version"] == 1 and data["inspection"]["state"] == "assigned"
    code = data["inspection"]["code"]

    # Check in on site.
    r = lead.post(f"{base}/api/v1/inspections/{aid}/check-in", json={
        "client_id": str(uuid.uuid4()), "qr_token": qr_payload, "latitude": ZIBO[0] + 0.0003,
        "longitude": ZIBO[1], "accuracy_m": 8.5, "captured_at": datetime.now(SHANGHAI).isoformat()}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["checkin"]["flagged"] is False

    # Answers in two batches from two phones; the first batch is replayed (lost response).
    deducted = [i for i in items if not i.get("veto")][:3]
    answers = [_answer(i, "deduct", [i["deductions"][0]["code"]]) if i in deducted else _answer(i) for i in items]
    half = len(answers) // 2
    first = lead.put(f"{base}/api/v1/inspections/{aid}/responses", json={"items": answers[:half]}, timeout=30)
    assert first.status_code == 200 and first.json()["applied"] == half, first.text
    replay = lead.put(f"{base}/api/v1/inspections/{aid}/responses", json={"items": answers[:half]}, timeout=30)
    assert replay.json()["duplicate"] == half and replay.json()["applied"] == 0
    assert [o["revision"] for o in replay.json()["outcomes"]] == [o["revision"] for o in first.json()["outcomes"]]
    second = member.put(f"{base}/api/v1/inspections/{aid}/responses", json={"items": answers[half:]}, timeout=30)
    assert second.status_code == 200 and second.json()["applied"] == len(answers) - half, second.text

    # Photos for each finding as its evidence rule asks; one upload retried after a "timeout".
    uploads = 0
    retried_id = None
    for n, item in enumerate(deducted):
        for k in range(max(1, item["evidence"]["min_photos"])):
            client_id = str(uuid.uuid4())
            payload = jpeg(100 + 10 * n + k)
            form = {"item_id": item["id"], "client_id": client_id}
            r = member.post(f"{base}/api/v1/inspections/{aid}/photos", data=form,
                            files={"file": ("IMG_0001.jpg", io.BytesIO(payload), "image/jpeg")}, timeout=60)
            assert r.status_code == 201, r.text
            uploads += 1
            if retried_id is None:
                again = member.post(f"{base}/api/v1/inspections/{aid}/photos", data=form,
                                    files={"file": ("IMG_0001.jpg", io.BytesIO(payload), "image/jpeg")}, timeout=60)
                assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
                retried_id = r.json()["id"]

    # Signatures: both inspectors and the institution's representative.
    for phone, name, role, seed in ((lead, world.lead.name, "lead", 1), (member, world.member.name, "member", 2),
                                    (lead, "王院长", "institution_representative", 3)):
        r = phone.post(f"{base}/api/v1/inspections/{aid}/signatures",
                       data={"client_id": str(uuid.uuid4()), "signer_name": name, "signer_role": role},
                       files={"file": ("sig.png", io.BytesIO(signature_png(seed)), "image/png")}, timeout=30)
        assert r.status_code == 201, r.text

    # Submit (the member may not), then replay.
    assert member.post(f"{base}/api/v1/inspections/{aid}/submit", timeout=30).status_code == 403
    submitted = lead.post(f"{base}/api/v1/inspections/{aid}/submit", timeout=60)
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["state"] == "submitted" and len(result["findings"]) == len(deducted)
    replayed = lead.post(f"{base}/api/v1/inspections/{aid}/submit", timeout=60)
    assert replayed.status_code == 200
    assert replayed.json()["report_hash"] == result["report_hash"]
    assert replayed.json()["order_id"] == result["order_id"]

    # Report and its public verification.
    report = lead.get(f"{base}/api/v1/inspections/{aid}/report", timeout=30)
    assert report.status_code == 200 and "text/html" in report.headers["Content-Type"]
    assert code in report.text and world.institution.name in report.text and result["report_hash"] in report.text
    verify = requests.get(f"{base}/p/reports/{aid}/verify", params={"h": result["report_hash"]}, timeout=30)
    assert verify.status_code == 200 and "核验通过" in verify.text

    # The order exists once, with the right deadlines; nothing was duplicated.
    with app.app_context():
        inspection = Inspection.objects.get(id=aid)
        assert Order.objects(inspection_id=aid).count() == 1
        order = Order.objects.get(inspection_id=aid)
        assert str(order.id) == result["order_id"]
        findings = list(Finding.objects(order_id=str(order.id)).order_by("seq"))
        assert [f.item_id for f in findings] == [i["id"] for i in deducted]
        start = business_date(inspection.submitted_at)
        calendar = current_calendar()
        by_item = {i["id"]: i for i in items}
        for f in findings:
            assert f.deadline_working_days == CHECKLIST_DEADLINES[by_item[f.item_id]["severity"]]
            assert f.deadline == calendar.add_working_days(start, f.deadline_working_days), (f.item_id, f.deadline)
            if f.deadline.year <= 2026:  # independent check on the official calendar where it has data
                assert f.deadline == _nth_working_day_after(start, f.deadline_working_days)
            assert calendar.is_working_day(f.deadline)
        assert ItemResponse.objects(inspection_id=aid).count() == len(items)
        assert ResponseWrite.objects(inspection_id=aid).count() == len(items)
        assert Evidence.objects(owner_type="inspection", owner_id=aid, kind="photo").count() == uploads
        assert Evidence.objects(owner_type="inspection", owner_id=aid, kind="signature").count() == 3
        assert len(inspection.signatures) == 3
        # Submission started the 20-working-day publication clock (no sweep needed).
        from inspect_api.publication.models import PublicationDeadline
        tracker = PublicationDeadline.objects.get(inspection_id=aid)
        assert tracker.deadline == calendar.add_working_days(start, 20) and tracker.published_at is None
