"""Assignments and on-site inspections over HTTP (the phone's contract).

An inspection's id is its assignment's id: ``/inspections/{id}`` takes the id
the phone already has from ``/me/assignments``.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_smorest import Blueprint

from inspect_api.urls import public_base_url
from inspect_api.auth.access import current_session_id, current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.inspections import schemas as s
from inspect_api.inspections import service, signatures
from inspect_api.schemas import PageArgsSchema, page_of, paginate

blp = Blueprint("inspections", __name__, url_prefix="/api/v1", description="检查任务与现场检查（手机端）")
# Assigned inspectors may read their institutions; assignments count as directory history.
blp.record_once(lambda _state: service.register_with_directory())
ASSIGNMENT_PAGE = page_of(s.AssignmentSchema)


def _cfg() -> dict:
    return current_app.config["INSPECT"]


# --------------------------------------------------------------------------- assignments

@blp.route("/me/assignments", methods=["GET"])
@login_required("inspector")
@blp.arguments(s.MyAssignmentArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ASSIGNMENT_PAGE)
def my_assignments(filters, paging):
    """The calling inspector's assignments, newest first (filter by status and due-date range)."""
    page = paginate(service.my_assignments(current_user(), **filters), paging["page"], paging["per_page"])
    page["items"] = service.assignment_views(page["items"])
    return page


@blp.route("/assignments", methods=["GET"])
@login_required("office_admin")
@blp.arguments(s.RegionAssignmentArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ASSIGNMENT_PAGE)
def region_assignments(filters, paging):
    """Assignments of the office's region subtree, newest first."""
    page = paginate(service.region_assignments(current_user(), **filters), paging["page"], paging["per_page"])
    page["items"] = service.assignment_views(page["items"])
    return page


@blp.route("/assignments", methods=["POST"])
@login_required("office_admin")
@blp.arguments(s.TargetedAssignmentSchema)
@blp.response(201, s.AssignmentSchema)
@blp.alt_response(404, description="机构不在本辖区")
@blp.alt_response(422, description="检查组无效、需回避或检查表不存在")
def create_targeted(body):
    """Create a targeted (专项, non-random) inspection with a reason; idempotent by ``client_id``."""
    assignment = service.create_targeted(current_user(), body, now=utcnow())
    return service.assignment_views([assignment])[0]


@blp.route("/assignments/<assignment_id>", methods=["GET"])
@login_required("inspector", "office_admin")
@blp.response(200, s.AssignmentSchema)
def get_assignment(assignment_id):
    """One assignment (inspector of its team, or office of its region)."""
    return service.assignment_views([service.assignment_for(current_user(), assignment_id)])[0]


@blp.route("/assignments/<assignment_id>/bundle", methods=["GET"])
@login_required("inspector", "office_admin")
@blp.response(200, s.BundleSchema, description="ETag; If-None-Match → 304")
@blp.alt_response(304, description="未修改")
def get_bundle(assignment_id):
    """Everything the phone needs offline; the checklist version is pinned on first build."""
    data = s.BundleSchema().dump(service.bundle(current_user(), assignment_id, now=utcnow(), config=_cfg()))
    etag = service.bundle_etag(data)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in [t.strip() for t in (request.headers.get("If-None-Match") or "").split(",")]:
        return Response(status=304, headers=headers)
    return data, 200, headers


# --------------------------------------------------------------------------- inspection

@blp.route("/inspections/<inspection_id>", methods=["GET"])
@login_required("inspector", "office_admin")
@blp.response(200, s.InspectionSchema)
def get_inspection(inspection_id):
    """The inspection record (id = assignment id) with its responses, photos, signatures and result."""
    return service.inspection_view(service.inspection_for(current_user(), inspection_id, now=utcnow()))


@blp.route("/inspections/<inspection_id>/check-in", methods=["POST"])
@login_required("inspector")
@blp.arguments(s.CheckInSchema)
@blp.response(200, s.InspectionSchema)
@blp.alt_response(422, description="二维码无效或已作废")
def check_in(body, inspection_id):
    """Check in with the scanned QR token and GPS; beyond the radius the check-in is accepted but flagged."""
    inspection = service.check_in(current_user(), inspection_id, body, now=utcnow(),
                                  radius_m=float(_cfg().get("checkin_radius_m", service.DEFAULT_RADIUS_M)))
    return service.inspection_view(inspection, with_responses=False)


@blp.route("/inspections/<inspection_id>/responses", methods=["PUT"])
@login_required("inspector")
@blp.arguments(s.ResponseBatchSchema)
@blp.response(200, s.BatchResultSchema)
@blp.alt_response(409, description="尚未签到或已提交锁定")
@blp.alt_response(422, description="项目或扣分代码无效（整批未保存）")
def sync_responses(body, inspection_id):
    """Batch sync of item responses; per item ``applied``, ``duplicate`` or ``conflict``."""
    return service.sync_responses(current_user(), inspection_id, body["items"], now=utcnow())


@blp.route("/inspections/<inspection_id>/photos", methods=["POST"])
@login_required("inspector")
@blp.arguments(s.PhotoFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.PhotoSchema)
@blp.alt_response(413, description="文件过大")
@blp.alt_response(415, description="不是支持的图片格式")
@blp.alt_response(422, description="图片损坏或像素过多")
def upload_photo(form, inspection_id):
    """Upload one photo for an item (multipart: file, item_id, client_id); a retry returns the first result."""
    photo = service.add_photo(current_user(), inspection_id, form["file"].read(), item_id=form["item_id"],
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
@login_required("inspector")
@blp.arguments(s.SignatureFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.SignatureSchema)
@blp.alt_response(409, description="尚未签到、已提交锁定或任务已取消")
@blp.alt_response(422, description="不能代他人签名（SIGNER_NOT_SELF / SIGNER_NOT_LEAD / SIGNER_NOT_MEMBER）；"
                                   "机构代表须在组长设备上签名（REPRESENTATIVE_ON_LEAD_DEVICE）并填写姓名")
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
@login_required("inspector")
@blp.response(200, s.InspectionSchema)
@blp.alt_response(403, description="只有组长可以提交")
@blp.alt_response(422, description="记录不完整：details.missing 列出缺项")
def submit(inspection_id):
    """Submit (lead only, idempotent): score, findings, rectification order, lock."""
    inspection = service.submit(current_user(), inspection_id, now=utcnow(), config=_cfg())
    return service.inspection_view(inspection)


@blp.route("/inspections/<inspection_id>/corrections", methods=["POST"])
@login_required("inspector")
@blp.arguments(s.CorrectionSchema)
@blp.response(200, s.InspectionSchema)
def correct(body, inspection_id):
    """A recorded correction of a submitted inspection by the lead (with reason; re-scores; audited)."""
    inspection = service.correct(current_user(), inspection_id, body, now=utcnow(), config=_cfg())
    return service.inspection_view(inspection)


@blp.route("/inspections/<inspection_id>/report", methods=["GET"])
@login_required("inspector", "office_admin")
@blp.response(200, content_type="text/html", description="可打印的中文检查报告")
def report(inspection_id):
    """Printable Chinese HTML report with a QR code to the public hash verification page."""
    inspection = service.report_for(current_user(), inspection_id, now=utcnow())
    html = render_report(inspection)
    return Response(html, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache", "X-Report-Hash": inspection.report_hash or ""})


def render_report(inspection) -> str:
    from inspect_api import qrcodes

    base = public_base_url()
    verify_url = f"{base}/p/reports/{inspection.id}/verify?h={inspection.report_hash}"
    return render_template("inspections/report.html", r=inspection.report, inspection=inspection,
                           images=service.report_images(inspection),
                           verify_url=verify_url, qr=qrcodes.svg(verify_url, box_size=4),
                           severity_names={"critical": "严重", "major": "较重", "minor": "一般"},
                           role_names={"lead": "组长", "member": "组员",
                                       "institution_representative": "机构代表"})
