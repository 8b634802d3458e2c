"""Checklist catalog and matters endpoints (phones fetch versions with ETag/304)."""

from __future__ import annotations

import functools

from flask import Response, current_app, request

from inspect_api import compression
from inspect_api.auth.access import current_user, login_required
from inspect_api.catalog import questionnaires
from inspect_api.catalog import schemas as s
from inspect_api.catalog import service
from inspect_api.clock import utcnow
from inspect_api.errors import UnsupportedMediaType
from inspect_api.extensions import Blueprint, public_endpoint
from inspect_api.apidoc import conditional_get, raises

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="检查清单与抽查事项清单")

UPLOAD_TYPES = {"application/json", "application/x-yaml", "application/yaml", "text/yaml"}


def catalog_writer(view):
    """Below ``login_required``: only province offices write the catalog (checked before the body is read)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        service.require_catalog_writer(current_user())
        return view(*args, **kwargs)

    return wrapper


@blp.route("/checklists", methods=["GET"])
@blp.doc(operationId="listChecklists")
@login_required()
@blp.response(200, s.ChecklistListSchema)
def list_checklists():
    """Checklists and their versions (offices also see drafts)."""
    return {"items": service.list_checklists(current_user())}


@blp.route("/checklists", methods=["POST"])
@blp.doc(operationId="uploadChecklistVersion")
@login_required("office_admin")
@catalog_writer
@blp.doc(requestBody={"required": True, "description": "检查清单文档（YAML 或 JSON，格式见 checklists/README.md）",
                      "content": {"application/yaml": {"schema": {"type": "string"}},
                                  "application/json": {"schema": {"$ref": "#/components/schemas/ChecklistContent"}}}})
@blp.response(201, s.ChecklistVersionSummarySchema, description="新版本已保存为草稿")
@blp.alt_response(200, schema=s.ChecklistVersionSummarySchema, success=True,
                  description="同一版本、同一内容已存在：返回已存的版本（重复上传是幂等的）")
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室（如 370000）可以维护检查清单和抽查事项")
@raises(409, "CHECKLIST_VERSION_EXISTS", description="同一版本号已存在且内容不同")
@raises(413, "CHECKLIST_TOO_LARGE")
@raises(422, "CHECKLIST_INVALID", description="清单校验未通过（details.problems 列出全部问题）")
def upload_checklist():
    """Upload a new checklist version as a draft (validated; republishing other content is refused)."""
    if request.mimetype not in UPLOAD_TYPES:
        raise UnsupportedMediaType("请以 application/yaml 或 application/json 上传清单", code="UNSUPPORTED_MEDIA_TYPE")
    cfg = current_app.config["INSPECT"]
    version, created = service.upload(current_user(), request.get_data(cache=False),
                                      max_bytes=int(cfg["max_checklist_bytes"]), now=utcnow())
    return version, (201 if created else 200)


@blp.route("/checklists/<code>/versions/<int:version>", methods=["GET"])
@blp.doc(operationId="getChecklistVersion")
@login_required()
@blp.response(200, s.CompactChecklistVersionSchema,
              description="精简 JSON，供手机离线使用；支持 ETag / If-None-Match 与 gzip（Accept-Encoding）")
@conditional_get
@raises(404, "CHECKLIST_NOT_FOUND")
def get_checklist_version(code, version):
    """One checklist version, compact for phones; ETag is the content hash (``-gzip`` added for the gzip-coded
    body), 304 when unchanged in either coding."""
    stored = service.visible_version(current_user(), code, version)
    etag = f'"{stored.content_hash}"'
    gzipped = request.accept_encodings["gzip"] > 0  # "gzip;q=0" refuses it
    headers = {"ETag": compression.coded_etag(etag, gzipped), "Cache-Control": "private, max-age=86400",
               "Vary": "Accept-Encoding, Authorization"}
    if compression.etag_matches(etag, request.headers.get("If-None-Match")):
        return Response(status=304, headers=headers)
    if gzipped:
        body = service.compact_gzip(stored)
        headers["Content-Encoding"] = "gzip"
    else:
        body = service.compact_json(stored)
    return Response(body, content_type="application/json; charset=utf-8", headers=headers)


@blp.route("/checklists/<code>/versions/<int:version>/publish", methods=["POST"])
@blp.doc(operationId="publishChecklistVersion")
@login_required("office_admin")
@catalog_writer
@blp.response(200, s.ChecklistVersionSummarySchema)
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室（如 370000）可以维护检查清单和抽查事项")
@raises(404, "CHECKLIST_NOT_FOUND")
def publish_checklist_version(code, version):
    """Publish a draft version; from then on it is immutable."""
    return service.publish(current_user(), code, version, now=utcnow())


@blp.route("/checklists/<code>/diff", methods=["GET"])
@blp.doc(operationId="diffChecklistVersions")
@login_required()
@blp.arguments(s.ChecklistDiffArgsSchema, location="query")
@blp.response(200, s.ChecklistDiffSchema)
@raises(404, "CHECKLIST_NOT_FOUND")
def diff_checklist(args, code):
    """Items added, removed and changed between two versions (?from=1&to=2)."""
    return service.diff(current_user(), code, args["from_version"], args["to_version"])


@blp.route("/questionnaires", methods=["GET"])
@blp.doc(operationId="listQuestionnaires")
@login_required()
@blp.response(200, s.QuestionnaireListSchema)
def list_questionnaires():
    """Satisfaction questionnaires (满意度测评问卷) and their versions (offices also see drafts)."""
    return {"items": questionnaires.list_questionnaires(current_user())}


@blp.route("/questionnaires", methods=["POST"])
@blp.doc(operationId="uploadQuestionnaireVersion")
@login_required("office_admin")
@catalog_writer
@blp.doc(requestBody={"required": True, "description": "满意度问卷（YAML 或 JSON，格式见 checklists/README.md）",
                      "content": {"application/yaml": {"schema": {"type": "string"}},
                                  "application/json": {"schema": {"$ref": "#/components/schemas/QuestionnaireContent"}}}})
@blp.response(201, s.QuestionnaireVersionSummarySchema, description="新版本已保存为草稿")
@blp.alt_response(200, schema=s.QuestionnaireVersionSummarySchema, success=True,
                  description="同一版本、同一内容已存在：返回已存的版本（重复上传是幂等的）")
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室可以维护满意度问卷")
@raises(409, "QUESTIONNAIRE_VERSION_EXISTS", description="同一版本号已存在且内容不同")
@raises(413, "QUESTIONNAIRE_TOO_LARGE")
@raises(422, "QUESTIONNAIRE_INVALID", description="问卷校验未通过（details.problems 列出全部问题）")
def upload_questionnaire():
    """Upload a new questionnaire version as a draft (validated; other content under a used version is refused)."""
    if request.mimetype not in UPLOAD_TYPES:
        raise UnsupportedMediaType("请以 application/yaml 或 application/json 上传问卷", code="UNSUPPORTED_MEDIA_TYPE")
    cfg = current_app.config["INSPECT"]
    version, created = questionnaires.upload(current_user(), request.get_data(cache=False),
                                             max_bytes=int(cfg["max_checklist_bytes"]), now=utcnow())
    return version, (201 if created else 200)


@blp.route("/questionnaires/<code>/versions/<int:version>", methods=["GET"])
@blp.doc(operationId="getQuestionnaireVersion")
@login_required()
@blp.response(200, s.QuestionnaireVersionSchema)
@raises(404, "QUESTIONNAIRE_NOT_FOUND")
def get_questionnaire_version(code, version):
    """One questionnaire version with its content."""
    return questionnaires.visible_version(current_user(), code, version)


@blp.route("/questionnaires/<code>/versions/<int:version>/publish", methods=["POST"])
@blp.doc(operationId="publishQuestionnaireVersion")
@login_required("office_admin")
@catalog_writer
@blp.response(200, s.QuestionnaireVersionSummarySchema)
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室可以维护满意度问卷")
@raises(404, "QUESTIONNAIRE_NOT_FOUND")
def publish_questionnaire_version(code, version):
    """Publish a draft questionnaire version; from then on it is immutable and new answers use it."""
    return questionnaires.publish(current_user(), code, version, now=utcnow())


@blp.route("/matters", methods=["GET"])
@blp.doc(operationId="listMatters")
@login_required()
@blp.arguments(s.MatterListArgsSchema, location="query")
@blp.response(200, s.MatterSchema(many=True))
def list_matters(args):
    """The list of random-inspection matters (抽查事项清单)."""
    return service.list_matters(**args)


@blp.route("/matters", methods=["POST"])
@blp.doc(operationId="createMatter")
@login_required("office_admin")
@catalog_writer
@blp.arguments(s.MatterCreateSchema)
@blp.response(201, s.MatterSchema)
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室（如 370000）可以维护检查清单和抽查事项")
@raises(409, "MATTER_CODE_TAKEN")
@raises(422, "CHECKLIST_NOT_FOUND")
def create_matter(body):
    """Add a matter."""
    return service.create_matter(current_user(), body, now=utcnow())


@blp.route("/matters/<code>", methods=["GET"])
@blp.doc(operationId="getMatter")
@login_required()
@blp.response(200, s.MatterSchema)
@raises(404, "MATTER_NOT_FOUND")
def get_matter(code):
    """One matter."""
    return service.matter_or_404(code)


@blp.route("/matters/<code>", methods=["PATCH"])
@blp.doc(operationId="updateMatter")
@login_required("office_admin")
@catalog_writer
@blp.arguments(s.MatterUpdateSchema)
@blp.response(200, s.MatterSchema)
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室（如 370000）可以维护检查清单和抽查事项")
@raises(404, "MATTER_NOT_FOUND")
@raises(422, "CHECKLIST_NOT_FOUND")
def update_matter(body, code):
    """Edit a matter."""
    return service.update_matter(current_user(), code, body, now=utcnow())


@blp.route("/matters/<code>", methods=["DELETE"])
@blp.doc(operationId="retireMatter")
@login_required("office_admin")
@catalog_writer
@blp.response(200, s.MatterSchema)
@raises(403, "PROVINCE_OFFICE_REQUIRED", description="仅省级办公室（如 370000）可以维护检查清单和抽查事项")
@raises(404, "MATTER_NOT_FOUND")
def retire_matter(code):
    """Retire (deactivate) a matter; plans that used it keep their reference."""
    return service.retire_matter(current_user(), code, now=utcnow())


@blp.route("/public/matters", methods=["GET"])
@blp.doc(operationId="listPublicMatters")
@public_endpoint
@blp.arguments(s.MatterListArgsSchema, location="query")
@blp.response(200, s.MatterSchema(many=True))
def public_matters(args):
    """Public: the active random-inspection matters."""
    args["active"] = True
    return service.list_matters(**args)
