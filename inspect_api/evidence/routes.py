"""Reading stored evidence variants (thumbnail, display, original)."""

from __future__ import annotations

from flask import Response, request

from inspect_api.auth.access import current_user, login_required
from inspect_api.evidence import service
from inspect_api.apidoc import conditional_get, media_types, raises
from inspect_api.extensions import Blueprint

blp = Blueprint("evidence", __name__, url_prefix="/api/v1", description="照片与签名证据")


@blp.route("/photos/<evidence_id>/<any(thumb, display, original):variant>", methods=["GET"])
@blp.doc(operationId="getPhotoVariant")
@login_required()
@blp.response(200, description="图片字节：thumb、display 为 JPEG（签名为 PNG）；original 为上传原件（JPEG、PNG、WebP 或 HEIC）")
@media_types(200, "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
@conditional_get
@raises(404, "EVIDENCE_NOT_FOUND", description="不存在或无权查看")
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
