"""Directory endpoints: institutions, inspectors, conflicts of interest, regions, imports/exports, QR codes.

Deleting an institution or inspector removes it only when it has no
history; otherwise the institution is closed (status ``closed``) or the
inspector deactivated, and the answer says which (``outcome``).
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.directory import imports
from inspect_api.directory import schemas as s
from inspect_api.directory import conflicts, inspectors, institutions, qr, regions, views
from inspect_api.errors import BadRequest, PayloadTooLarge
from inspect_api.extensions import Blueprint
from inspect_api.qrcodes import png
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of, paginate
from inspect_api.directory.spreadsheets import XLSX_MIME
from inspect_api.apidoc import media_types, raises

blp = Blueprint("directory", __name__, url_prefix="/api/v1", description="名录库：机构、检查人员、回避关系、行政区划")
INSTITUTION_PAGE = page_of(s.InstitutionSchema)()
INSPECTOR_PAGE = page_of(s.InspectorSchema)()


def _link_check(role, region, institution_id, inspector_id):
    """Registered for auth: validates the directory link of a user an office creates."""
    try:
        office = current_user()
    except Exception:  # noqa: BLE001 - outside a request there is no office; the user's region bounds the check
        office = None
    inspectors.check_user_link(role, region, institution_id, inspector_id, office=office)


def _on_register(state):
    state.app.extensions.__setitem__("inspect_user_link_check", _link_check)


blp.record_once(_on_register)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                      "X-Content-Type-Options": "nosniff",
                                                      "Cache-Control": "no-store"})


def _upload() -> tuple[bytes, str | None, str | None]:
    cap = int(current_app.config["INSPECT"]["max_import_bytes"])
    if request.content_length and request.content_length > cap + 64 * 1024:
        raise PayloadTooLarge(f"导入文件不能超过 {cap // (1024 * 1024)} MB", code="IMPORT_TOO_LARGE")
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("请以 multipart/form-data 上传文件，字段名为 file", code="IMPORT_FILE_MISSING")
    data = upload.read(cap + 1)
    if len(data) > cap:
        raise PayloadTooLarge(f"导入文件不能超过 {cap // (1024 * 1024)} MB", code="IMPORT_TOO_LARGE")
    return data, upload.filename, upload.mimetype


# --------------------------------------------------------------------------- regions

@blp.route("/regions", methods=["GET"])
@blp.doc(operationId="listRegions")
@login_required()
@blp.arguments(s.RegionListArgsSchema, location="query")
@blp.response(200, s.RegionListSchema)
def list_regions(args):
    """Administrative divisions (province → city → county), ordered by code."""
    items = regions.list_regions(**args)
    return {"items": items, "total": len(items)}


# --------------------------------------------------------------------------- institutions

@blp.route("/institutions", methods=["GET"])
@blp.doc(operationId="listInstitutions")
@login_required("office_admin", "institution")
@blp.arguments(s.InstitutionListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, INSTITUTION_PAGE)
def list_institutions(filters, paging):
    """Institutions of the office's region subtree (an institution account sees only its own)."""
    page = institutions.institutions_page(current_user(), paging["page"], paging["per_page"], **filters)
    return jsonify(already_dumped(INSTITUTION_PAGE, {**page, "items": views.institution_views(page["items"])},
                                  source=page))


@blp.route("/institutions", methods=["POST"])
@blp.doc(operationId="createInstitution")
@login_required("office_admin")
@blp.arguments(s.InstitutionCreateSchema)
@blp.response(201, s.InstitutionSchema)
@raises(403, "REGION_OUT_OF_SCOPE")
@raises(409, "CREDIT_CODE_TAKEN", description="统一社会信用代码已登记")
@raises(422, "CREDIT_CODE_INVALID", "LICENCE_DATES_INVALID", "LOCATION_OUT_OF_RANGE", "REGION_UNKNOWN")
def create_institution(body):
    """Register an institution (credit code checked against GB 32100-2015)."""
    return institutions.create_institution(current_user(), body, now=utcnow())


@blp.route("/institutions/import-template.xlsx", methods=["GET"])
@blp.doc(operationId="getInstitutionImportTemplate")
@login_required("office_admin")
@blp.response(200, description="导入模板（中文表头）")
@media_types(200, XLSX_MIME)
def institution_template():
    """Import template with Chinese headers and a sheet explaining each column."""
    return _download(imports.template_xlsx("institutions"), XLSX_MIME, "institutions-template.xlsx")


@blp.route("/institutions/export.xlsx", methods=["GET"])
@blp.doc(operationId="exportInstitutionsXlsx")
@login_required("office_admin")
@blp.arguments(s.InstitutionListArgsSchema, location="query")
@blp.response(200, description="当前筛选结果")
@media_types(200, XLSX_MIME)
def export_institutions_xlsx(filters):
    """The filtered list as XLSX (same columns as the import; formula-like cells neutralised)."""
    listed = institutions.listed_institutions(institutions.institutions_query(current_user(), **filters).documents())
    return _download(imports.export("institutions", listed, "xlsx"), XLSX_MIME, "institutions.xlsx")


@blp.route("/institutions/export.csv", methods=["GET"])
@blp.doc(operationId="exportInstitutionsCsv")
@login_required("office_admin")
@blp.arguments(s.InstitutionListArgsSchema, location="query")
@blp.response(200, description="当前筛选结果（UTF-8 BOM）")
@media_types(200, "text/csv")
def export_institutions_csv(filters):
    """The filtered list as CSV in UTF-8 with BOM (formula-like cells neutralised)."""
    listed = institutions.listed_institutions(institutions.institutions_query(current_user(), **filters).documents())
    return _download(imports.export("institutions", listed, "csv"), "text/csv; charset=utf-8", "institutions.csv")


@blp.route("/institutions/import", methods=["POST"])
@blp.doc(operationId="importInstitutions")
@login_required("office_admin")
@blp.arguments(s.ImportArgsSchema, location="query")
@blp.arguments(s.ImportFileSchema, location="files")
@blp.response(200, s.ImportReportSchema)
@raises(403, "REGION_OUT_OF_SCOPE", description="文件中有本辖区以外的记录（未写入）")
@raises(413, "IMPORT_TOO_LARGE", description="文件过大")
@raises(422, "IMPORT_COLUMNS_MISSING", "IMPORT_EMPTY", "IMPORT_ENCODING_INVALID", "IMPORT_FORMAT_UNSUPPORTED",
        "IMPORT_NOT_SPREADSHEET", "IMPORT_ROWS_INVALID", "IMPORT_TOO_MANY_ROWS", description="文件无法读取，或有行错误（未写入）")
def import_institutions(args, _files):
    """Import XLSX/CSV: ``dry_run=1`` reports every row error; otherwise all rows or none, upsert by credit code."""
    data, filename, mimetype = _upload()
    return imports.run_import(current_user(), "institutions", data, filename=filename, mimetype=mimetype,
                              dry_run=args["dry_run"], now=utcnow())


@blp.route("/institutions/<institution_id>", methods=["GET"])
@blp.doc(operationId="getInstitution")
@login_required("office_admin", "institution", "inspector")
@blp.response(200, s.InstitutionSchema)
@raises(404, "INSTITUTION_NOT_FOUND")
def get_institution(institution_id):
    """One institution in scope."""
    return institutions.institution_in_scope(current_user(), institution_id)


@blp.route("/institutions/<institution_id>", methods=["PATCH"])
@blp.doc(operationId="updateInstitution")
@login_required("office_admin")
@blp.arguments(s.InstitutionPatchSchema)
@blp.response(200, s.InstitutionSchema)
@raises(403, "REGION_OUT_OF_SCOPE")
@raises(404, "INSTITUTION_NOT_FOUND")
@raises(409, "CREDIT_CODE_TAKEN")
@raises(422, "CREDIT_CODE_INVALID", "LICENCE_DATES_INVALID", "LOCATION_OUT_OF_RANGE", "REGION_UNKNOWN")
def update_institution(body, institution_id):
    """Change fields of an institution of the region."""
    return institutions.update_institution(current_user(), institution_id, body, now=utcnow())


@blp.route("/institutions/<institution_id>", methods=["DELETE"])
@blp.doc(operationId="deleteInstitution")
@login_required("office_admin")
@blp.response(200, s.DeleteOutcomeSchema)
@raises(404, "INSTITUTION_NOT_FOUND")
def delete_institution(institution_id):
    """Delete an institution without history; one with history is closed instead (``outcome``)."""
    outcome, institution = institutions.delete_institution(current_user(), institution_id, now=utcnow())
    return {"outcome": outcome, "id": str(institution.id)}


@blp.route("/institutions/<institution_id>/qr.png", methods=["GET"])
@blp.doc(operationId="getInstitutionQrCode")
@login_required("office_admin", "institution")
@blp.response(200, description="签到二维码（公开页面地址 + 签名令牌）")
@media_types(200, "image/png")
@raises(404, "INSTITUTION_NOT_FOUND")
def institution_qr(institution_id):
    """PNG QR code of the public page URL carrying the signed check-in token."""
    institution = institutions.institution_in_scope(current_user(), institution_id)
    return Response(png(qr.qr_payload(institution)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@blp.route("/institutions/<institution_id>/qr/reissue", methods=["POST"])
@blp.doc(operationId="reissueInstitutionQrCode")
@login_required("office_admin", "institution")
@blp.response(200, s.InstitutionSchema)
@raises(404, "INSTITUTION_NOT_FOUND")
def reissue_qr(institution_id):
    """Re-issue the poster: the QR version goes up and every older check-in token is refused."""
    return qr.reissue_qr(current_user(), institution_id, utcnow())


@blp.route("/institutions/<institution_id>/poster-link", methods=["GET"])
@blp.doc(operationId="getInstitutionPosterLink")
@login_required("office_admin", "institution")
@blp.response(200, s.PosterLinkSchema)
@raises(404, "INSTITUTION_NOT_FOUND")
def poster_link(institution_id):
    """A link to the printable poster page, valid for an hour (the poster shows the check-in token)."""
    institution = institutions.institution_in_scope(current_user(), institution_id)
    url = f"{qr.public_url(institution)}/poster?k={qr.poster_key(institution)}"
    return {"url": url, "expires_in": qr.POSTER_LINK_SECONDS, "qr_version": institution.qr_version}


# --------------------------------------------------------------------------- inspectors

@blp.route("/inspectors", methods=["GET"])
@blp.doc(operationId="listInspectors")
@login_required("office_admin", "inspector")
@blp.arguments(s.InspectorListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, INSPECTOR_PAGE)
def list_inspectors(filters, paging):
    """Inspectors of the office's region subtree (an inspector account sees only its own record)."""
    page = paginate(inspectors.list_inspectors(current_user(), **filters), paging["page"], paging["per_page"])
    return jsonify(already_dumped(INSPECTOR_PAGE, {**page, "items": views.inspector_views(page["items"])},
                                  source=page))


@blp.route("/inspectors", methods=["POST"])
@blp.doc(operationId="createInspector")
@login_required("office_admin")
@blp.arguments(s.InspectorCreateSchema)
@blp.response(201, s.InspectorSchema)
@raises(403, "REGION_OUT_OF_SCOPE")
@raises(409, "CERTIFICATE_TAKEN", description="执法证号已登记")
@raises(422, "EMPLOYMENT_INSTITUTION_UNKNOWN", "REGION_UNKNOWN")
def create_inspector(body):
    """Register an inspector; employment history creates conflicts of interest automatically."""
    return inspectors.create_inspector(current_user(), body, now=utcnow())


@blp.route("/inspectors/import-template.xlsx", methods=["GET"])
@blp.doc(operationId="getInspectorImportTemplate")
@login_required("office_admin")
@blp.response(200, description="导入模板（中文表头）")
@media_types(200, XLSX_MIME)
def inspector_template():
    """Import template with Chinese headers."""
    return _download(imports.template_xlsx("inspectors"), XLSX_MIME, "inspectors-template.xlsx")


@blp.route("/inspectors/export.xlsx", methods=["GET"])
@blp.doc(operationId="exportInspectorsXlsx")
@login_required("office_admin")
@blp.arguments(s.InspectorListArgsSchema, location="query")
@blp.response(200, description="当前筛选结果")
@media_types(200, XLSX_MIME)
def export_inspectors_xlsx(filters):
    """The filtered list as XLSX."""
    query = inspectors.list_inspectors(current_user(), **filters)
    return _download(imports.export("inspectors", query.no_cache(), "xlsx"), XLSX_MIME, "inspectors.xlsx")


@blp.route("/inspectors/export.csv", methods=["GET"])
@blp.doc(operationId="exportInspectorsCsv")
@login_required("office_admin")
@blp.arguments(s.InspectorListArgsSchema, location="query")
@blp.response(200, description="当前筛选结果（UTF-8 BOM）")
@media_types(200, "text/csv")
def export_inspectors_csv(filters):
    """The filtered list as CSV in UTF-8 with BOM."""
    query = inspectors.list_inspectors(current_user(), **filters)
    return _download(imports.export("inspectors", query.no_cache(), "csv"), "text/csv; charset=utf-8", "inspectors.csv")


@blp.route("/inspectors/import", methods=["POST"])
@blp.doc(operationId="importInspectors")
@login_required("office_admin")
@blp.arguments(s.ImportArgsSchema, location="query")
@blp.arguments(s.ImportFileSchema, location="files")
@blp.response(200, s.ImportReportSchema)
@raises(403, "REGION_OUT_OF_SCOPE", description="文件中有本辖区以外的记录（未写入）")
@raises(413, "IMPORT_TOO_LARGE", description="文件过大")
@raises(422, "IMPORT_COLUMNS_MISSING", "IMPORT_EMPTY", "IMPORT_ENCODING_INVALID", "IMPORT_FORMAT_UNSUPPORTED",
        "IMPORT_NOT_SPREADSHEET", "IMPORT_ROWS_INVALID", "IMPORT_TOO_MANY_ROWS", description="文件无法读取，或有行错误（未写入）")
def import_inspectors(args, _files):
    """Import XLSX/CSV; upsert by certificate number, all rows or none."""
    data, filename, mimetype = _upload()
    return imports.run_import(current_user(), "inspectors", data, filename=filename, mimetype=mimetype,
                              dry_run=args["dry_run"], now=utcnow())


@blp.route("/inspectors/<inspector_id>", methods=["GET"])
@blp.doc(operationId="getInspector")
@login_required("office_admin", "inspector")
@blp.response(200, s.InspectorSchema)
@raises(404, "INSPECTOR_NOT_FOUND")
def get_inspector(inspector_id):
    """One inspector in scope (an inspector account: only its own record)."""
    return inspectors.inspector_in_scope(current_user(), inspector_id)


@blp.route("/inspectors/<inspector_id>", methods=["PATCH"])
@blp.doc(operationId="updateInspector")
@login_required("office_admin")
@blp.arguments(s.InspectorPatchSchema)
@blp.response(200, s.InspectorSchema)
@raises(403, "REGION_OUT_OF_SCOPE")
@raises(404, "INSPECTOR_NOT_FOUND")
@raises(409, "CERTIFICATE_TAKEN")
@raises(422, "EMPLOYMENT_INSTITUTION_UNKNOWN", "REGION_UNKNOWN")
def update_inspector(body, inspector_id):
    """Change an inspector; a changed employment history adds or removes its automatic conflicts."""
    return inspectors.update_inspector(current_user(), inspector_id, body, now=utcnow())


@blp.route("/inspectors/<inspector_id>", methods=["DELETE"])
@blp.doc(operationId="deleteInspector")
@login_required("office_admin")
@blp.response(200, s.DeleteOutcomeSchema)
@raises(404, "INSPECTOR_NOT_FOUND")
def delete_inspector(inspector_id):
    """Delete an inspector without history; one with history is deactivated instead (``outcome``)."""
    outcome, inspector = inspectors.delete_inspector(current_user(), inspector_id, now=utcnow())
    return {"outcome": outcome, "id": str(inspector.id)}


# --------------------------------------------------------------------------- conflicts of interest

@blp.route("/conflicts", methods=["GET"])
@blp.doc(operationId="listConflicts")
@login_required("office_admin")
@blp.arguments(s.ConflictListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.ConflictSchema))
def list_conflicts(filters, paging):
    """Conflicts of interest (回避) of institutions in the office's region."""
    page = paginate(conflicts.list_conflicts(current_user(), **filters), paging["page"], paging["per_page"])
    page["items"] = views.conflict_views(page["items"])
    return page


@blp.route("/conflicts", methods=["POST"])
@blp.doc(operationId="createConflict")
@login_required("office_admin")
@blp.arguments(s.ConflictCreateSchema)
@blp.response(201, s.ConflictSchema)
@raises(404, "INSPECTOR_NOT_FOUND", "INSTITUTION_NOT_FOUND")
@raises(409, "CONFLICT_EXISTS")
@raises(422, "CONFLICT_DATES_INVALID")
def create_conflict(body):
    """Record a conflict of interest between an inspector and an institution of the region."""
    return views.conflict_view(conflicts.create_conflict(current_user(), body, now=utcnow()))


@blp.route("/conflicts/<conflict_id>", methods=["GET"])
@blp.doc(operationId="getConflict")
@login_required("office_admin")
@blp.response(200, s.ConflictSchema)
@raises(404, "CONFLICT_NOT_FOUND")
def get_conflict(conflict_id):
    """One conflict of interest of an institution in the office's region."""
    return views.conflict_view(conflicts.conflict_in_scope(current_user(), conflict_id))


@blp.route("/conflicts/<conflict_id>", methods=["PATCH"])
@blp.doc(operationId="updateConflict")
@login_required("office_admin")
@blp.arguments(s.ConflictPatchSchema)
@blp.response(200, s.ConflictSchema)
@raises(404, "CONFLICT_NOT_FOUND")
@raises(409, "CONFLICT_FROM_EMPLOYMENT", "CONFLICT_EXISTS", description="由任职经历自动生成的回避关系不能直接修改，或同一理由的回避关系已存在")
@raises(422, "CONFLICT_DATES_INVALID")
def update_conflict(body, conflict_id):
    """Change the reason, validity period or note (not the inspector or institution)."""
    return views.conflict_view(conflicts.update_conflict(current_user(), conflict_id, body, now=utcnow()))


@blp.route("/conflicts/<conflict_id>", methods=["DELETE"])
@blp.doc(operationId="deleteConflict")
@login_required("office_admin")
@blp.response(204)
@raises(404, "CONFLICT_NOT_FOUND")
@raises(409, "CONFLICT_FROM_EMPLOYMENT")
def delete_conflict(conflict_id):
    """Remove a recorded conflict (automatic ones go with their employment history entry)."""
    conflicts.delete_conflict(current_user(), conflict_id, now=utcnow())
