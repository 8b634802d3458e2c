"""Ledger spot checks (台账资料抽查): the institution's uploads, the reviewers' scores, the conclusion.

Checks are created by drawing a plan of kind ``desk_review`` (``/api/v1/plans``).
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from inspect_api.apidoc import conditional_get, media_types, raises
from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint
from inspect_api.ledgers import files, review, service, uploads
from inspect_api.ledgers import schemas as s
from inspect_api.schemas import PageArgsSchema, already_dumped, paginate

blp = Blueprint("ledgers", __name__, url_prefix="/api/v1", description="台账资料抽查：资料提交、书面审查与结论")
CHECK_PAGE = s.LedgerCheckPageSchema()
CHECK = "/ledger-checks/<check_id>"
EXTENSIONS = {"pdf": "pdf", "xlsx": "xlsx", "image": "img"}
# What a stored document can be: the checked PDF and workbook types, and the photo pipeline's image types.
DOWNLOAD_TYPES = (files.PDF, files.XLSX, *sorted(files.IMAGE_TYPES))
FILE_REJECTIONS_413 = ("LEDGER_FILE_TOO_LARGE", "LEDGER_XLSX_BOMB", "IMAGE_TOO_LARGE", "IMAGE_TOO_MANY_PIXELS")
FILE_REJECTIONS_415 = ("LEDGER_FILE_TYPE_UNSUPPORTED", "LEDGER_FILE_TYPE_MISMATCH", "IMAGE_TYPE_UNSUPPORTED")
FILE_REJECTIONS_422 = ("LEDGER_FILE_EMPTY", "LEDGER_PDF_INVALID", "LEDGER_PDF_ENCRYPTED", "LEDGER_PDF_TOO_MANY_PAGES",
                       "LEDGER_PDF_ACTIVE_CONTENT", "LEDGER_XLSX_INVALID", "LEDGER_XLSX_TOO_COMPLEX",
                       "LEDGER_XLSX_ENCRYPTED", "LEDGER_XLSX_MACROS", "IMAGE_CORRUPT")


@blp.record_once
def _setup(_state):
    """Desk-review draws create ledger checks; institutions with checks are closed, not deleted."""
    service.register_with_draws()
    service.register_with_directory()


def _cfg() -> dict:
    return current_app.config["INSPECT"]


def _detail(check):
    return service.detail_view(current_user(), check)


@blp.route("/ledger-checks", methods=["GET"])
@blp.doc(operationId="listLedgerChecks")
@login_required()
@blp.arguments(s.LedgerCheckListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CHECK_PAGE)
@raises(404, "INSTITUTION_NOT_FOUND", description="institution_id 不在本辖区")
def list_checks(args, paging):
    """Checks visible to the caller (office: its region; reviewer: its teams; institution: its own), newest first."""
    page = paginate(service.listed_checks(current_user(), **args), paging["page"], paging["per_page"])
    return jsonify(already_dumped(CHECK_PAGE, {**page, "items": service.summary_views(page["items"])}))


@blp.route(CHECK, methods=["GET"])
@blp.doc(operationId="getLedgerCheck")
@login_required()
@blp.response(200, s.LedgerCheckDetailSchema)
@raises(404, "LEDGER_CHECK_NOT_FOUND")
@raises(409, "CHECKLIST_NOT_FOUND", description="该抽查所用的清单版本不存在")
def get_check(check_id):
    """The request (items, documents to upload, uploaded files), the scores and, once concluded, the result."""
    return _detail(service.check_for(current_user(), check_id))


@blp.route(CHECK + "/items/<item_id>/files", methods=["POST"])
@blp.doc(operationId="uploadLedgerFile")
@login_required("institution")
@blp.arguments(s.LedgerUploadFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.LedgerFileSchema, description="文件已保存")
@blp.alt_response(200, schema=s.LedgerFileSchema, success=True,
                  description="重试（同一 client_id）或同一项目再次上传同一文件：返回已保存的文件")
@raises(404, "LEDGER_CHECK_NOT_FOUND", "LEDGER_ITEM_NOT_FOUND")
@raises(409, "LEDGER_NOT_ACCEPTING", "CHECKLIST_NOT_FOUND", description="资料已提交或抽查已结束")
@raises(413, *FILE_REJECTIONS_413, description="文件过大或 Excel 压缩炸弹")
@raises(415, *FILE_REJECTIONS_415, description="文件类型不受支持或扩展名与内容不符")
@raises(422, "LEDGER_ITEM_NOT_APPLICABLE", "LEDGER_TOO_MANY_FILES", *FILE_REJECTIONS_422,
        description="PDF 损坏、加密、页数过多或含脚本/自动动作/嵌入文件；Excel 损坏或含宏；文件过多")
def upload_file(form, check_id, item_id):
    """Upload one document for one item (multipart ``file`` + ``client_id``; a retry returns the first result)."""
    upload = form["file"]
    record, created = uploads.upload(current_user(), check_id, item_id, data=upload.read(), name=upload.filename,
                                     client_id=form["client_id"], now=utcnow(), config=_cfg())
    return service.file_view(record), (201 if created else 200)


@blp.route(CHECK + "/files/<file_id>", methods=["GET"])
@blp.doc(operationId="downloadLedgerFile")
@login_required()
@blp.response(200, description="上传的原始文件（PDF、XLSX 或图片）")
@media_types(200, *DOWNLOAD_TYPES)
@conditional_get
@raises(404, "LEDGER_CHECK_NOT_FOUND", "LEDGER_FILE_NOT_FOUND")
def get_file(check_id, file_id):
    """Download one uploaded document as it was sent (office, reviewers, the institution); ETag and 304."""
    data, content_type, etag, record = uploads.read(current_user(), check_id, file_id)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f'attachment; filename="{record.id}.{EXTENSIONS.get(record.kind, "bin")}"',
               "Content-Security-Policy": "sandbox"}
    if headers["ETag"] in [t.strip() for t in (request.headers.get("If-None-Match") or "").split(",")]:
        return Response(status=304, headers=headers)
    return Response(data, content_type=content_type, headers=headers)


@blp.route(CHECK + "/files/<file_id>", methods=["DELETE"])
@blp.doc(operationId="deleteLedgerFile")
@login_required("institution")
@blp.response(204, description="已删除")
@raises(404, "LEDGER_CHECK_NOT_FOUND", "LEDGER_FILE_NOT_FOUND")
@raises(409, "LEDGER_NOT_ACCEPTING", description="资料已提交")
def delete_file(check_id, file_id):
    """Remove a wrong upload before submitting."""
    uploads.remove(current_user(), check_id, file_id, now=utcnow())


@blp.route(CHECK + "/submit", methods=["POST"])
@blp.doc(operationId="submitLedgerCheck")
@login_required("institution")
@blp.response(200, s.LedgerCheckDetailSchema)
@raises(404, "LEDGER_CHECK_NOT_FOUND")
@raises(409, "LEDGER_NOT_ACCEPTING", "CHECKLIST_NOT_FOUND", description="抽查已不再接收资料")
def submit(check_id):
    """The institution declares the upload complete (idempotent); after the deadline it is marked late."""
    return _detail(service.submit(current_user(), check_id, now=utcnow()))


@blp.route(CHECK + "/items/<item_id>/score", methods=["PUT"])
@blp.doc(operationId="scoreLedgerItem")
@login_required("inspector")
@blp.arguments(s.LedgerScoreInputSchema)
@blp.response(200, s.LedgerScoreSchema)
@raises(404, "LEDGER_CHECK_NOT_FOUND", "LEDGER_ITEM_NOT_FOUND")
@raises(409, "LEDGER_NOT_READY_FOR_REVIEW", "LEDGER_ALREADY_CONCLUDED", "LEDGER_CANCELLED", "SCORE_CONFLICT",
        "CHECKLIST_NOT_FOUND",
        description="尚不能审查、已完成，或评分已被他人修改（SCORE_CONFLICT，details.server 为服务器上的评分）")
@raises(422, "SCORE_INVALID", "LEDGER_ITEM_NOT_APPLICABLE", description="评分不符合清单规则（details.problems）")
def score_item(body, check_id, item_id):
    """A reviewer scores one document item (result, deduction codes, internal note) on a known revision."""
    return review.score_item(current_user(), check_id, item_id, result=body["result"],
                             deductions=body["deductions"], note=body["note"], base_revision=body["base_revision"],
                             now=utcnow())


@blp.route(CHECK + "/conclude", methods=["POST"])
@blp.doc(operationId="concludeLedgerCheck")
@login_required("inspector")
@blp.response(200, s.LedgerCheckDetailSchema)
@raises(403, "NOT_TEAM_LEAD", description="只有审查组组长可以作出结论")
@raises(404, "LEDGER_CHECK_NOT_FOUND")
@raises(409, "LEDGER_NOT_READY_FOR_REVIEW", "LEDGER_CANCELLED", "CHECKLIST_NOT_FOUND")
@raises(422, "LEDGER_SCORING_INCOMPLETE", description="还有项目未评分（details.problems）")
def conclude(check_id):
    """The lead reviewer concludes: score, findings into a rectification order, risk profile (idempotent)."""
    return _detail(review.conclude(current_user(), check_id, now=utcnow()))
