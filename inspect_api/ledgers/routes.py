"""Ledger spot checks (台账资料抽查): the institution's uploads, the reviewers' scores, the conclusion.

Checks are created by drawing a plan of kind ``desk_review`` (``/api/v1/plans``).
"""

from __future__ import annotations

from flask import Response, current_app, request
from flask_smorest import Blueprint

from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.errors import Unprocessable
from inspect_api.ledgers import review, service, uploads
from inspect_api.ledgers import schemas as s
from inspect_api.schemas import PageArgsSchema, paginate

blp = Blueprint("ledgers", __name__, url_prefix="/api/v1", description="台账资料抽查：资料提交、书面审查与结论")
CHECK = "/ledger-checks/<check_id>"
EXTENSIONS = {"pdf": "pdf", "xlsx": "xlsx", "image": "img"}


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
@login_required()
@blp.arguments(s.LedgerCheckListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.LedgerCheckPageSchema)
def list_checks(args, paging):
    """Checks visible to the caller (office: its region; reviewer: its teams; institution: its own), newest first."""
    page = paginate(service.list_checks(current_user(), **args), paging["page"], paging["per_page"])
    page["items"] = [service.summary_view(c) for c in page["items"]]
    return page


@blp.route(CHECK, methods=["GET"])
@login_required()
@blp.response(200, s.LedgerCheckDetailSchema)
def get_check(check_id):
    """The request (items, documents to upload, uploaded files), the scores and, once concluded, the result."""
    return _detail(service.check_for(current_user(), check_id))


@blp.route(CHECK + "/items/<item_id>/files", methods=["POST"])
@login_required("institution")
@blp.arguments(s.LedgerUploadFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.LedgerFileSchema)
@blp.alt_response(409, description="资料已提交或抽查已结束")
@blp.alt_response(413, description="文件过大或 Excel 压缩炸弹")
@blp.alt_response(415, description="文件类型不受支持或扩展名与内容不符")
@blp.alt_response(422, description="PDF 损坏、加密、页数过多或含脚本/自动动作/嵌入文件；Excel 损坏或含宏")
def upload_file(form, check_id, item_id):
    """Upload one document for one item (multipart ``file`` + ``client_id``; a retry returns the first result)."""
    upload = request.files.get("file")
    if upload is None:
        raise Unprocessable("缺少文件 file", code="FILE_REQUIRED", details={"fields": {"file": ["缺少必填字段"]}})
    record, created = uploads.upload(current_user(), check_id, item_id, data=upload.read(), name=upload.filename,
                                     client_id=form["client_id"], now=utcnow(), config=_cfg())
    return service.file_view(record), (201 if created else 200)


@blp.route(CHECK + "/files/<file_id>", methods=["GET"])
@login_required()
@blp.response(200, content_type="application/octet-stream", description="上传的原始文件")
@blp.alt_response(404, description="不存在或无权查看")
def get_file(check_id, file_id):
    """Download one uploaded document as it was sent (office, reviewers, the institution)."""
    data, content_type, etag, record = uploads.read(current_user(), check_id, file_id)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f'attachment; filename="{record.id}.{EXTENSIONS.get(record.kind, "bin")}"',
               "Content-Security-Policy": "sandbox"}
    return Response(data, content_type=content_type, headers=headers)


@blp.route(CHECK + "/files/<file_id>", methods=["DELETE"])
@login_required("institution")
@blp.response(204)
@blp.alt_response(409, description="资料已提交")
def delete_file(check_id, file_id):
    """Remove a wrong upload before submitting."""
    uploads.remove(current_user(), check_id, file_id, now=utcnow())


@blp.route(CHECK + "/submit", methods=["POST"])
@login_required("institution")
@blp.response(200, s.LedgerCheckDetailSchema)
@blp.alt_response(409, description="抽查已不再接收资料")
def submit(check_id):
    """The institution declares the upload complete (idempotent); after the deadline it is marked late."""
    return _detail(service.submit(current_user(), check_id, now=utcnow()))


@blp.route(CHECK + "/items/<item_id>/score", methods=["PUT"])
@login_required("inspector")
@blp.arguments(s.LedgerScoreInputSchema)
@blp.response(200, s.LedgerScoreSchema)
@blp.alt_response(409, description="尚不能审查、已完成，或评分已被他人修改（SCORE_CONFLICT，附服务器上的评分）")
def score_item(body, check_id, item_id):
    """A reviewer scores one document item (result, deduction codes, internal note) on a known revision."""
    return review.score_item(current_user(), check_id, item_id, result=body["result"],
                             deductions=body["deductions"], note=body["note"], base_revision=body["base_revision"],
                             now=utcnow())


@blp.route(CHECK + "/conclude", methods=["POST"])
@login_required("inspector")
@blp.response(200, s.LedgerCheckDetailSchema)
@blp.alt_response(422, description="还有项目未评分")
def conclude(check_id):
    """The lead reviewer concludes: score, findings into a rectification order, risk profile (idempotent)."""
    return _detail(review.conclude(current_user(), check_id, now=utcnow()))
