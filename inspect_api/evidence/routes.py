"""Reading stored evidence variants (thumbnail, display, original)."""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from inspect_api.auth.access import current_user, login_required
from inspect_api.evidence import service

blp = Blueprint("evidence", __name__, url_prefix="/api/v1", description="照片与签名证据")


@blp.route("/photos/<evidence_id>/<variant>", methods=["GET"])
@blp.doc(operationId="getPhotoVariant")
@login_required()
@blp.response(200, content_type="image/jpeg", description="图片字节；original 为上传原件")
@blp.alt_response(304, description="未修改")
@blp.alt_response(404, description="不存在或无权查看")
def photo_variant(evidence_id, variant):
    """One variant of a photo or signature: thumb, display or original (scoped; cacheable, immutable)."""
    evidence = service.readable(current_user(), evidence_id)
    data, content_type, etag = service.variant_bytes(evidence, variant)
    quoted = f'"{etag}"'
    headers = {"ETag": quoted, "Cache-Control": "private, max-age=31536000, immutable",
               "X-Content-Type-Options": "nosniff"}
    if variant == "original":
        headers["Content-Disposition"] = f'attachment; filename="{evidence.id}-original"'
    if request.headers.get("If-None-Match") == quoted:
        return Response(status=304, headers=headers)
    return Response(data, content_type=content_type, headers=headers)
