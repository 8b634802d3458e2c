"""Directory schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, pre_dump, validate

from inspect_api.directory.models import (CONFLICT_REASONS, DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES,
                                          SERVICE_TAGS)
from inspect_api.schemas import FilePart, OutSchema, SharedEnum, StrictSchema

REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")
OBJECT_ID = validate.Regexp(r"^[0-9a-f]{24}$", error="应为 24 位十六进制编号")

INSTITUTION_KIND = SharedEnum("InstitutionKind", INSTITUTION_KINDS)
INSTITUTION_STATUS = SharedEnum("InstitutionStatus", INSTITUTION_STATUSES)
SERVICE_TAG = SharedEnum("ServiceTag", SERVICE_TAGS, "Service model tags (服务模式).")
DEPARTMENT = SharedEnum("Department", DEPARTMENTS)
CONFLICT_REASON = SharedEnum("ConflictReason", CONFLICT_REASONS)
CONFLICT_SOURCE = SharedEnum("ConflictSource", {"employment_history": "任职经历（自动生成）", "declared": "本人申报",
                                                "office": "办公室登记"},
                             "employment_history records follow the inspector's employment history and cannot be "
                             "edited directly.")
LICENCE_KIND = SharedEnum("LicenceKind", {"medical_licence": "医疗机构执业许可证", "medical_filing": "医疗机构备案",
                                          "care_filing": "养老机构备案", "other": "其他证照"})
REGION_LEVEL = SharedEnum("RegionLevel", {"province": "省", "city": "市", "county": "区县"})
DELETE_OUTCOME = SharedEnum("DeletionOutcome", {"deleted": "已删除（无历史记录）", "closed": "机构有历史记录，已关闭",
                                                "deactivated": "检查人员有历史记录，已停用"})


class LocationSchema(StrictSchema):
    """A WGS-84 point; in answers, null when the institution has no location on file."""

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90, error="纬度应在 -90 到 90 之间"),
                       metadata={"description": "WGS-84 latitude"})
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180, error="经度应在 -180 到 180 之间"),
                       metadata={"description": "WGS-84 longitude"})

    @pre_dump
    def _from_point(self, point, **_kwargs):
        """Answers hold the stored GeoJSON point ``{type, coordinates: [lon, lat]}``."""
        from inspect_api.directory.institutions import point_latlon

        latlon = point_latlon(point) if not isinstance(point, dict) or "coordinates" in point else None
        return {"lat": latlon[0], "lon": latlon[1]} if latlon else point


class LicenceSchema(StrictSchema):
    kind = fields.String(required=True, validate=LICENCE_KIND)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class InstitutionPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    credit_code = fields.String(validate=validate.Length(min=1, max=64),
                                metadata={"description": "统一社会信用代码 (GB 32100-2015, check character verified)"})
    kind = fields.String(validate=INSTITUTION_KIND)
    tags = fields.List(fields.String(validate=SERVICE_TAG))
    region = fields.String(validate=REGION)
    address = fields.String(allow_none=True, validate=validate.Length(max=256))
    location = fields.Nested(LocationSchema, allow_none=True)
    licences = fields.List(fields.Nested(LicenceSchema))
    care_beds = fields.Integer(validate=validate.Range(min=0, max=100000))
    medical_beds = fields.Integer(validate=validate.Range(min=0, max=100000))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    status = fields.String(validate=INSTITUTION_STATUS)
    complaint_count = fields.Integer(validate=validate.Range(min=0, max=1000000),
                                     metadata={"description": "office-maintained complaint count (投诉)"})


class InstitutionCreateSchema(InstitutionPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    credit_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    region = fields.String(required=True, validate=REGION)


class InstitutionListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    q = fields.String(validate=validate.Length(max=64), metadata={"description": "name contains"})
    region = fields.String(validate=REGION, metadata={"description": "region subtree (code prefix)"})
    kind = fields.String(validate=INSTITUTION_KIND)
    tag = fields.String(validate=SERVICE_TAG)
    status = fields.String(validate=INSTITUTION_STATUS)


class RiskProfileSchema(OutSchema):
    past_findings = fields.Integer()
    overdue_rectifications = fields.Integer()
    rejected_answers = fields.Integer()
    last_inspected_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class LicenceOutSchema(OutSchema):
    kind = fields.String(required=True, validate=LICENCE_KIND)
    number = fields.String(required=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class InstitutionSchema(OutSchema):
    id = fields.String(required=True)
    public_id = fields.String(required=True)
    public_url = fields.Method("get_public_url", required=True,
                               metadata={"type": "string", "description": "the public profile page"})
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    kind = fields.String(required=True, validate=INSTITUTION_KIND)
    kind_label = fields.Method("get_kind_label", required=True, metadata={"type": "string"})
    tags = fields.List(fields.String(validate=SERVICE_TAG))
    region = fields.String(required=True)
    address = fields.String(allow_none=True)
    location = fields.Nested(LocationSchema, required=True, allow_none=True)
    licences = fields.List(fields.Nested(LicenceOutSchema))
    care_beds = fields.Integer()
    medical_beds = fields.Integer()
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    status = fields.String(required=True, validate=INSTITUTION_STATUS)
    complaint_count = fields.Integer()
    risk = fields.Nested(RiskProfileSchema, allow_none=True)
    qr_version = fields.Integer()
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)

    def get_public_url(self, obj):
        from inspect_api.directory.qr import public_url

        return public_url(obj)

    def get_kind_label(self, obj):
        return INSTITUTION_KINDS.get(obj.kind, obj.kind)


class DeleteOutcomeSchema(OutSchema):
    outcome = fields.String(required=True, validate=DELETE_OUTCOME,
                            metadata={"description": "entries with history are kept (closed or deactivated)"})
    id = fields.String(required=True)


class InspectorPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=64))
    certificate_no = fields.String(validate=validate.Regexp(r"^\S{1,32}$", error="不超过 32 位且不含空格"),
                                   metadata={"description": "执法证号 (unique)"})
    department = fields.String(validate=DEPARTMENT)
    region = fields.String(validate=REGION)
    qualifications = fields.List(fields.String(validate=validate.Length(min=1, max=32)))
    active = fields.Boolean()
    load_cap = fields.Integer(validate=validate.Range(min=1, max=10000))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    employment_history = fields.List(fields.String(validate=OBJECT_ID),
                                     metadata={"description": "institution ids worked at; each creates a conflict"})


class InspectorCreateSchema(InspectorPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    certificate_no = fields.String(required=True, validate=validate.Regexp(r"^\S{1,32}$", error="不超过 32 位且不含空格"))
    department = fields.String(required=True, validate=DEPARTMENT)
    region = fields.String(required=True, validate=REGION)


class InspectorListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    q = fields.String(validate=validate.Length(max=64))
    region = fields.String(validate=REGION)
    department = fields.String(validate=DEPARTMENT)
    qualification = fields.String(validate=validate.Length(max=32))
    active = fields.Boolean()


class InspectorSchema(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    certificate_no = fields.String(required=True)
    department = fields.String(required=True, validate=DEPARTMENT)
    department_label = fields.Method("get_department_label", required=True, metadata={"type": "string"})
    region = fields.String(required=True)
    qualifications = fields.List(fields.String())
    active = fields.Boolean()
    load_cap = fields.Integer()
    user_id = fields.String(allow_none=True)
    employment_history = fields.List(fields.String())
    phone = fields.String(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)

    def get_department_label(self, obj):
        return DEPARTMENTS.get(obj.department, obj.department)


class ConflictCreateSchema(StrictSchema):
    inspector_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    institution_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=CONFLICT_REASON)
    source = fields.String(validate=validate.OneOf(("office", "declared")),
                           metadata={"description": "office | declared (employment_history entries are automatic)"})
    note = fields.String(validate=validate.Length(max=256))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ConflictPatchSchema(StrictSchema):
    """Editable fields of a recorded conflict (the inspector and institution are fixed)."""

    reason = fields.String(validate=CONFLICT_REASON)
    note = fields.String(allow_none=True, validate=validate.Length(max=256))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ConflictListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    inspector_id = fields.String(validate=validate.Length(max=64))
    institution_id = fields.String(validate=validate.Length(max=64))


class ConflictSchema(OutSchema):
    id = fields.String(required=True)
    inspector_id = fields.String(required=True)
    inspector_name = fields.String(allow_none=True)
    institution_id = fields.String(required=True)
    institution_name = fields.String(allow_none=True)
    reason = fields.String(required=True, validate=CONFLICT_REASON)
    reason_label = fields.Method("get_reason_label", required=True, metadata={"type": "string"})
    source = fields.String(required=True, validate=CONFLICT_SOURCE)
    note = fields.String(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    region = fields.String(required=True)
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)

    def get_reason_label(self, obj):
        return CONFLICT_REASONS.get(obj.reason, obj.reason)


class RegionSchema(OutSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent = fields.String(allow_none=True)
    level = fields.String(required=True, validate=REGION_LEVEL)


class RegionListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    parent = fields.String(validate=REGION)
    within = fields.String(validate=REGION, metadata={"description": "only this region's subtree"})


class RegionListSchema(OutSchema):
    items = fields.List(fields.Nested(RegionSchema), required=True)
    total = fields.Integer(required=True)


class ImportArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    dry_run = fields.Boolean(load_default=False, metadata={"description": "validate only, write nothing"})


class ImportFileSchema(ma.Schema):
    file = FilePart(required=True, metadata={"description": "XLSX, or CSV in UTF-8 (BOM optional) or GB18030"})


class RowErrorSchema(OutSchema):
    row = fields.Integer(required=True, metadata={"description": "row number as the spreadsheet shows it"})
    column = fields.String(required=True)
    message = fields.String(required=True)
    code = fields.String(required=True)


class ImportReportSchema(OutSchema):
    dry_run = fields.Boolean(required=True)
    rows = fields.Integer(required=True)
    valid = fields.Boolean(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowErrorSchema), required=True)


class PosterLinkSchema(OutSchema):
    url = fields.String(required=True, metadata={"description": "printable poster page, valid for an hour"})
    expires_in = fields.Integer(required=True)
    qr_version = fields.Integer(required=True)
