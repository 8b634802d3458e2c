"""Assignments and on-site inspections over HTTP (the phone's contract).

An inspection's id is its assignment's id: ``/inspections/{id}`` takes the id
the phone already has from ``/me/assignments``.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, render_template, request

from inspect_api import compression
from inspect_api.urls import public_base_url
from inspect_api.auth.access import current_session_id, current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint
from inspect_api.inspections import examples
from inspect_api.inspections import schemas as s
from inspect_api.inspections import (
    answers, assignments, bundle, checkin, corrections, office_views, photos, records, reports, signatures, submission,
    views)
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of
from inspect_api.batched import count_unless_known, page_reads, paged, read_together
from inspect_api.apidoc import conditional_get, media_types, raises

blp = Blueprint("inspections", __name__, url_prefix="/api/v1", description="检查任务与现场检查（手机端）")
# Assigned inspectors may read their institutions; assignments count as directory history.
blp.record_once(lambda _state: assignments.register_with_directory())
ASSIGNMENT_PAGE = page_of(s.AssignmentSchema)()
REGION_ASSIGNMENT_PAGE = page_of(s.RegionAssignmentSchema)()
BUNDLE = s.BundleSchema()


def _cfg() -> dict:
    return current_app.config["INSPECT"]


# --------------------------------------------------------------------------- assignments

@blp.route("/me/assignments", methods=["GET"])
@blp.doc(operationId="listMyAssignments")
@login_required("inspector")
@blp.arguments(s.MyAssignmentArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ASSIGNMENT_PAGE, example=examples.ASSIGNMENT_PAGE)
def my_assignments(filters, paging):
    """The calling inspector's assignments, newest first (filter by status and due-date range)."""
    number, size = paging["page"], paging["per_page"]
    page_read, count_read = assignments.my_assignments(current_user(), **filters).page(number, size)
    rows = read_together(page_read)[0]  # the stored fields: views read them
    # The total (when the page does not tell it) is counted in the round trip that reads the page's names.
    items, (total,) = assignments.assignment_views_with(rows, count_unless_known(count_read, rows, number, size))
    return jsonify(already_dumped(ASSIGNMENT_PAGE, {**paged(rows, total, number, size), "items": items}))


@blp.route("/assignments", methods=["GET"])
@blp.doc(operationId="listAssignments")
@login_required("office_admin")
@blp.arguments(s.RegionAssignmentArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, REGION_ASSIGNMENT_PAGE)
def region_assignments(filters, paging):
    """Assignments of the office's region subtree, newest first, each with its inspection's check-in flags,
    photo counts (reused evidence flagged) and result."""
    number, size = paging["page"], paging["per_page"]
    page_read, count_read = page_reads(assignments.region_assignments(current_user(), **filters), number, size)
    rows = read_together(page_read)[0]  # the stored fields: views read them
    # The total is counted in the round trip that reads the page's institutions, inspections and photos.
    items, total = office_views.region_assignment_views(rows, count_unless_known(count_read, rows, number, size))
    return jsonify(already_dumped(REGION_ASSIGNMENT_PAGE, {**paged(rows, total, number, size), "items": items}))


@blp.route("/assignments", methods=["POST"])
@blp.doc(operationId="createTargetedAssignment")
@login_required("office_admin")
@blp.arguments(s.TargetedAssignmentSchema)
@blp.response(201, s.AssignmentSchema)
@raises(404, "INSTITUTION_NOT_FOUND", description="机构不在本辖区")
@raises(422, "TEAM_TOO_SMALL", "TEAM_DUPLICATE_MEMBER", "TEAM_MEMBER_INVALID", "TEAM_MEMBER_CONFLICT",
        "TARGETED_REASON_REQUIRED", "CHECKLIST_NOT_FOUND", description="检查组无效、需回避或检查表不存在")
def create_targeted(body):
    """Create a targeted (专项, non-random) inspection with a reason; idempotent by ``client_id``."""
    assignment = assignments.create_targeted(current_user(), body, now=utcnow())
    return assignments.assignment_views([assignment])[0]


@blp.route("/assignments/<assignment_id>", methods=["GET"])
@blp.doc(operationId="getAssignment")
@login_required("inspector", "office_admin")
@blp.response(200, s.AssignmentSchema)
@raises(404, "ASSIGNMENT_NOT_FOUND")
def get_assignment(assignment_id):
    """One assignment (inspector of its team, or office of its region)."""
    return assignments.assignment_views([records.assignment_for(current_user(), assignment_id)])[0]


@blp.route("/assignments/<assignment_id>/bundle", methods=["GET"])
@blp.doc(operationId="getAssignmentBundle")
@login_required("inspector", "office_admin")
@blp.response(200, s.BundleSchema, example=examples.BUNDLE,
              description="检查所需的全部离线数据（检查表版本在首次获取时固定）；支持 ETag / If-None-Match 与 gzip（Accept-Encoding）")
@conditional_get
@raises(404, "ASSIGNMENT_NOT_FOUND", "INSTITUTION_NOT_FOUND")
@raises(422, "CHECKLIST_NOT_FOUND")
def get_bundle(assignment_id):
    """Everything the phone needs offline; the checklist version is pinned on first build."""
    built = bundle.bundle(current_user(), assignment_id, now=utcnow(), config=_cfg())
    checklist = built["checklist"]
    content = checklist.pop("content")  # dumped and encoded once per checklist version, not per request
    data = already_dumped(BUNDLE, built)
    key = (checklist["code"], checklist["version"], checklist["content_hash"])
    _dumped, content_json = s.checklist_content_dump(*key, content, current_app.json.compact)
    # The bundle's text with a slot where the content goes: what the ETag is taken of (the content counts by
    # its hash, beside it), and the body once the kept content is put in its place.
    text = current_app.json.compact({**data, "checklist": {**checklist, "content": _CONTENT_SLOT}})
    etag = bundle.bundle_etag(text)
    gzipped = request.accept_encodings["gzip"] > 0  # "gzip;q=0" refuses it
    headers = {"ETag": compression.coded_etag(etag, gzipped), "Cache-Control": "private, no-cache",
               "Vary": "Accept-Encoding"}
    if compression.etag_matches(etag, request.headers.get("If-None-Match")):
        return Response(status=304, headers=headers)
    content = compression.kept(("checklist", *key), lambda: content_json.encode("utf-8"))
    return _json_with_content(text, content, headers, gzipped)


# Stands for the checklist content while the rest of a bundle is encoded.  No stored text holds a control
# character (every text input refuses them), so its encoded form appears once, where the content goes.
_CONTENT_SLOT = "\x00checklist-content\x00"


def _json_with_content(text: str, content: compression.Deflated, headers: dict[str, str],
                       gzipped: bool) -> Response:
    """The bundle's JSON response: ``text`` (the bundle encoded with :data:`_CONTENT_SLOT` for its checklist
    content) with the content, encoded and compressed once per checklist version, put in the slot (a Response
    is sent as it is: nothing is dumped or encoded twice); gzip-compressed for a client that takes it."""
    before, after = text.split(current_app.json.compact(_CONTENT_SLOT), 1)
    before, after = before.encode("utf-8"), f"{after}\n".encode("utf-8")
    if gzipped:
        body = compression.gzip_of([before, content, after])
        headers = {**headers, "Content-Encoding": "gzip"}
    else:
        body = b"".join((before, content.data, after))
    return current_app.response_class(body, mimetype=current_app.json.mimetype, headers=headers)


# --------------------------------------------------------------------------- inspection

@blp.route("/inspections/<inspection_id>", methods=["GET"])
@blp.doc(operationId="getInspection")
@login_required("inspector", "office_admin")
@blp.response(200, s.InspectionSchema, example=examples.INSPECTION_SUBMITTED)
@raises(404, "ASSIGNMENT_NOT_FOUND")
def get_inspection(inspection_id):
    """The inspection record (id = assignment id) with its responses, photos, signatures and result."""
    return views.inspection_view(records.inspection_for(current_user(), inspection_id, now=utcnow()))


@blp.route("/inspections/<inspection_id>/check-in", methods=["POST"])
@blp.doc(operationId="checkIn")
@login_required("inspector")
@blp.arguments(s.CheckInSchema)
@blp.response(200, s.InspectionSchema, example=examples.INSPECTION_CHECKED_IN)
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "INSPECTION_LOCKED")
@raises(422, "CHECKIN_TOKEN_INVALID", "CHECKIN_TOKEN_REVOKED", "CHECKIN_WRONG_INSTITUTION", "CHECKLIST_NOT_FOUND",
        description="二维码无效或已作废")
def check_in(body, inspection_id):
    """Check in with the scanned QR token and GPS; beyond the radius the check-in is accepted but flagged."""
    inspection = checkin.check_in(current_user(), inspection_id, body, now=utcnow(),
                                  radius_m=float(_cfg().get("checkin_radius_m", checkin.DEFAULT_RADIUS_M)))
    return views.inspection_view(inspection, with_responses=False)


@blp.route("/inspections/<inspection_id>/responses", methods=["PUT"])
@blp.doc(operationId="syncResponses")
@login_required("inspector")
@blp.arguments(s.ResponseBatchSchema)
@blp.response(200, s.BatchResultSchema, example=examples.BATCH_RESULT)
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "NOT_CHECKED_IN", "INSPECTION_LOCKED", description="尚未签到或已提交锁定")
@raises(422, "RESPONSES_INVALID", "CHECKLIST_NOT_FOUND", description="项目或扣分代码无效（整批未保存）")
def sync_responses(body, inspection_id):
    """Batch sync of item responses; per item ``applied``, ``duplicate`` or ``conflict``."""
    return answers.sync_responses(current_user(), inspection_id, body["items"], now=utcnow())


@blp.route("/inspections/<inspection_id>/photos", methods=["POST"])
@blp.doc(operationId="uploadInspectionPhoto")
@login_required("inspector")
@blp.arguments(s.PhotoFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.PhotoSchema, example=examples.PHOTO)
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "NOT_CHECKED_IN", "INSPECTION_LOCKED", "CLIENT_ID_REUSED")
@raises(413, "IMAGE_TOO_LARGE", "IMAGE_TOO_MANY_PIXELS", description="文件过大")
@raises(415, "IMAGE_TYPE_UNSUPPORTED", description="不是支持的图片格式")
@raises(422, "IMAGE_CORRUPT", "UNKNOWN_ITEM", "CHECKLIST_NOT_FOUND", description="图片损坏或像素过多")
def upload_photo(form, inspection_id):
    """Upload one photo for an item (multipart: file, item_id, client_id); a retry returns the first result."""
    photo = photos.add_photo(current_user(), inspection_id, form["file"].read(), item_id=form["item_id"],
                             client_id=str(form["client_id"]), now=utcnow(), config=_cfg())
    return _photo_view(photo)


def _photo_view(photo) -> dict:
    base = f"/api/v1/photos/{photo.id}"
    return {"id": str(photo.id), "item_id": photo.item_id, "client_id": photo.client_id, "sha256": photo.sha256,
            "reused": bool(photo.reused), "captured_at": photo.captured_at, "latitude": photo.latitude,
            "longitude": photo.longitude, "gps_invalid": bool(photo.gps_invalid), "distance_m": photo.distance_m,
            "position_flags": list(photo.position_flags or []), "width": photo.width,
            "height": photo.height,
            "urls": {v: f"{base}/{v}" for v in ("thumb", "display", "original")}}


@blp.route("/inspections/<inspection_id>/signatures", methods=["POST"])
@blp.doc(operationId="uploadSignature")
@login_required("inspector")
@blp.arguments(s.SignatureFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.SignatureSchema, example=examples.SIGNATURE)
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "NOT_CHECKED_IN", "INSPECTION_LOCKED", "CLIENT_ID_REUSED")
@raises(413, "IMAGE_TOO_LARGE", "IMAGE_TOO_MANY_PIXELS")
@raises(415, "IMAGE_TYPE_UNSUPPORTED")
@raises(422, "IMAGE_CORRUPT", "SIGNER_NOT_SELF", "SIGNER_NOT_LEAD", "SIGNER_NOT_MEMBER", "SIGNER_INVALID",
        "REPRESENTATIVE_ON_LEAD_DEVICE", "SIGNER_NAME_REQUIRED",
        description="不能代他人签名；机构代表须在组长设备上签名并填写姓名")
def upload_signature(form, inspection_id):
    """A signature made in person (PNG strokes); idempotent by ``client_id``.

    Team members sign only as themselves, on their own device: the signer is the inspector of the
    calling account (``lead`` for the team lead, ``member`` for the others) and the stored name is
    theirs in the directory.  The institution's representative signs on the lead's device
    (``institution_representative``, uploaded by the lead, with ``signer_name``).  Each signature
    records the uploading account and the login it came from.
    """
    return signatures.add_signature(current_user(), inspection_id, form["file"].read(),
                                    client_id=str(form["client_id"]), signer_name=form.get("signer_name"),
                                    signer_role=form["signer_role"], inspector_id=form.get("inspector_id"),
                                    session_id=current_session_id(), now=utcnow(), config=_cfg())


@blp.route("/inspections/<inspection_id>/submit", methods=["POST"])
@blp.doc(operationId="submitInspection")
@login_required("inspector")
@blp.response(200, s.InspectionSchema, example=examples.INSPECTION_SUBMITTED)
@raises(403, "NOT_TEAM_LEAD", description="只有组长可以提交")
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "NOT_CHECKED_IN")
@raises(422, "SUBMISSION_INCOMPLETE", "SCORING_FAILED", "CHECKLIST_NOT_FOUND", description="记录不完整：details.missing 列出缺项")
def submit(inspection_id):
    """Submit (lead only, idempotent): score, findings, rectification order, lock."""
    inspection = submission.submit(current_user(), inspection_id, now=utcnow(), config=_cfg())
    return views.inspection_view(inspection)


@blp.route("/inspections/<inspection_id>/corrections", methods=["POST"])
@blp.doc(operationId="correctInspection")
@login_required("inspector")
@blp.arguments(s.CorrectionSchema)
@blp.response(200, s.InspectionSchema)
@raises(403, "NOT_TEAM_LEAD")
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "ASSIGNMENT_CANCELLED", "NOT_SUBMITTED")
@raises(422, "RESPONSES_INVALID", "SCORING_FAILED", "CHECKLIST_NOT_FOUND")
def correct(body, inspection_id):
    """A recorded correction of a submitted inspection by the lead (with reason; re-scores; audited)."""
    inspection = corrections.correct(current_user(), inspection_id, body, now=utcnow(), config=_cfg())
    return views.inspection_view(inspection)


@blp.route("/inspections/<inspection_id>/report", methods=["GET"])
@blp.doc(operationId="getInspectionReport")
@login_required("inspector", "office_admin")
@blp.response(200, description="可打印的中文检查报告（HTML，含核验二维码）")
@media_types(200, "text/html")
@raises(404, "ASSIGNMENT_NOT_FOUND")
@raises(409, "REPORT_NOT_READY")
def report(inspection_id):
    """Printable Chinese HTML report with a QR code to the public hash verification page."""
    inspection = reports.report_for(current_user(), inspection_id, now=utcnow())
    html = render_report(inspection)
    return Response(html, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache", "X-Report-Hash": inspection.report_hash or ""})


def render_report(inspection) -> str:
    from inspect_api import qrcodes

    base = public_base_url()
    verify_url = f"{base}/p/reports/{inspection.id}/verify?h={inspection.report_hash}"
    return render_template("inspections/report.html", r=inspection.report, inspection=inspection,
                           images=reports.report_images(inspection),
                           verify_url=verify_url, qr=qrcodes.svg(verify_url, box_size=4),
                           role_names={"lead": "组长", "member": "组员",
                                       "institution_representative": "机构代表"})
