"""Uploads of a ledger check: PDF, XLSX and images accepted once; every bad file refused and nothing stored."""

from __future__ import annotations

import hashlib

import pytest

from inspect_api import db
from inspect_api.evidence.models import Evidence
from inspect_api.ledgers.models import LedgerFile
from tests.conftest import assert_error
from tests.ledgers import docs

ITEM = "TZ4086-1-01"


def test_a_pdf_an_xlsx_and_a_photo_are_stored_once_by_hash(desk):
    check = desk.checks[0]
    pdf = docs.pdf(3)
    r = desk.upload(check, ITEM, pdf, "许可证.pdf", client_id="c-1")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["kind"] == "pdf" and body["pages"] == 3 and body["sha256"] == hashlib.sha256(pdf).hexdigest()
    # a retry of the same upload, and the same bytes under another client id: still one file
    assert desk.upload(check, ITEM, pdf, "许可证.pdf", client_id="c-1").get_json()["id"] == body["id"]
    assert desk.upload(check, ITEM, pdf, "again.pdf", client_id="c-2").get_json()["id"] == body["id"]
    assert LedgerFile.objects(check_id=str(check.id)).count() == 1
    # the same bytes for another check's item are kept once in GridFS
    other = desk.checks[1]
    assert desk.upload(other, ITEM, pdf, "x.pdf").status_code == 201
    assert len(list(db.files().find({"filename": body["sha256"]}))) == 1

    r = desk.upload(check, "TZ4086-2-03", docs.xlsx(), "培训签到.xlsx")
    assert r.status_code == 201 and r.get_json()["kind"] == "xlsx" and r.get_json()["sheets"] == ["培训签到"]
    r = desk.upload(check, "TZ4086-2-03", docs.jpeg(), "签到照片.jpg")
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    assert photo["kind"] == "image" and photo["evidence_id"]
    evidence = Evidence.objects.get(id=photo["evidence_id"])  # through the photo pipeline: display + thumbnail
    assert evidence.owner_type == "ledger_check" and evidence.display_file and evidence.thumb_file

    detail = desk.client.get(f"/api/v1/ledger-checks/{check.id}", headers=desk.office).get_json()
    files = {i["item_id"]: i["files"] for i in detail["items"]}
    assert len(files[ITEM]) == 1 and len(files["TZ4086-2-03"]) == 2
    download = desk.client.get(files[ITEM][0]["url"], headers=desk.reviewer(check))
    assert download.status_code == 200 and download.data == pdf
    assert download.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("name,data,status,code", [
    ("js.pdf", docs.pdf_with_javascript(), 422, "LEDGER_PDF_ACTIVE_CONTENT"),
    ("launch.pdf", docs.pdf_with_open_action(docs.launch_action()), 422, "LEDGER_PDF_ACTIVE_CONTENT"),
    ("attached.pdf", docs.pdf_with_attachment(), 422, "LEDGER_PDF_ACTIVE_CONTENT"),
    ("locked.pdf", docs.encrypted_pdf(), 422, "LEDGER_PDF_ENCRYPTED"),
    ("archive.pdf", docs.zip_archive(), 415, "LEDGER_FILE_TYPE_UNSUPPORTED"),
    ("long.pdf", docs.pdf(200), 422, "LEDGER_PDF_TOO_MANY_PAGES"),
    ("bomb.xlsx", docs.xlsx_bomb(), 413, "LEDGER_XLSX_BOMB"),
    ("sheet.pdf", docs.xlsx(), 415, "LEDGER_FILE_TYPE_MISMATCH"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", 422, "LEDGER_PDF_INVALID"),
    ("notes.txt", "纯文本台账".encode(), 415, "LEDGER_FILE_TYPE_UNSUPPORTED"),
])
def test_bad_files_are_refused_and_nothing_is_stored(desk, name, data, status, code):
    check = desk.checks[0]
    before = len(list(db.files().find({})))
    err = assert_error(desk.upload(check, ITEM, data, name), status, code)
    assert err["message"]
    assert LedgerFile.objects(check_id=str(check.id)).count() == 0
    assert len(list(db.files().find({}))) == before


def test_a_plain_destination_open_action_is_a_view_setting_and_accepted(desk):
    r = desk.upload(desk.checks[0], ITEM, docs.pdf_with_open_action(docs.fit_destination()), "fit.pdf")
    assert r.status_code == 201, r.get_json()


def test_size_cap_and_files_per_item(app, desk):
    check = desk.checks[0]
    app.config["INSPECT"]["ledgers"] = {**app.config["INSPECT"].get("ledgers", {}), "max_file_bytes": 2000,
                                        "max_files_per_item": 2}
    assert_error(desk.upload(check, ITEM, docs.pdf(30), "big.pdf"), 413, "LEDGER_FILE_TOO_LARGE")
    assert desk.upload(check, ITEM, docs.pdf(1), "a.pdf").status_code == 201
    assert desk.upload(check, ITEM, docs.pdf(2), "b.pdf").status_code == 201
    assert_error(desk.upload(check, ITEM, docs.pdf(3), "c.pdf"), 422, "LEDGER_TOO_MANY_FILES")


def test_who_may_upload_and_where(desk):
    check, other = desk.checks[0], desk.checks[1]
    assert_error(desk.upload(check, ITEM, docs.pdf(), "a.pdf", headers=desk.institution(other)), 404,
                 "LEDGER_CHECK_NOT_FOUND")
    assert_error(desk.upload(check, ITEM, docs.pdf(), "a.pdf", headers=desk.reviewer(check)), 403)
    assert_error(desk.upload(check, ITEM, docs.pdf(), "a.pdf", headers=desk.office), 403)
    assert_error(desk.upload(check, "NO-SUCH-ITEM", docs.pdf(), "a.pdf"), 404, "LEDGER_ITEM_NOT_FOUND")
    r = desk.client.post(f"/api/v1/ledger-checks/{check.id}/items/{ITEM}/files", data={"client_id": "x"},
                         content_type="multipart/form-data", headers=desk.institution(check))
    assert_error(r, 422, "VALIDATION_ERROR")
    assert r.get_json()["error"]["details"]["fields"]["form"]["file"]


def test_a_wrong_upload_is_removed_before_submitting_and_nothing_changes_after(desk):
    check = desk.checks[0]
    first = desk.upload(check, ITEM, docs.pdf(), "wrong.pdf").get_json()
    r = desk.client.delete(f"/api/v1/ledger-checks/{check.id}/files/{first['id']}", headers=desk.institution(check))
    assert r.status_code == 204
    kept = desk.upload(check, ITEM, docs.pdf(4), "right.pdf").get_json()
    r = desk.client.post(f"/api/v1/ledger-checks/{check.id}/submit", headers=desk.institution(check))
    assert r.status_code == 200 and r.get_json()["state"] == "submitted" and r.get_json()["late"] is False
    assert_error(desk.upload(check, ITEM, docs.pdf(5), "late.pdf"), 409, "LEDGER_NOT_ACCEPTING")
    r = desk.client.delete(f"/api/v1/ledger-checks/{check.id}/files/{kept['id']}", headers=desk.institution(check))
    assert_error(r, 409, "LEDGER_NOT_ACCEPTING")
    assert LedgerFile.objects(check_id=str(check.id)).count() == 1
