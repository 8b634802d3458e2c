"""Directory schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from inspect_api.directory.models import (CONFLICT_REASONS, DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES,
                                          SERVICE_TAGS)
from inspect_api.schemas import OutSchema, StrictSchema

REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")
OBJECT_ID = validate.Regexp(r"^[0-9a-f]{24}$", error="应为 24 位十六进制编号")


class LocationSchema(StrictSchema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90, error="纬度应在 -90 到 90 之间"),
                       metadata={"description": "WGS-84 latitude"})
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180, error="经度应在 -180 到 180 之间"),
                       metadata={"description": "WGS-84 longitude"})


class LicenceSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(("medical_licence", "medical_filing", "care_filing",
                                                                  "other")))
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class InstitutionPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    credit_code = fields.String(validate=validate.Length(min=1, max=64),
                                metadata={"description": "统一社会信用代码 (GB 32100-2015, check character verified)"})
    kind = fields.String(validate=validate.OneOf(tuple(INSTITUTION_KINDS)))
    tags = fields.List(fields.String(validate=validate.OneOf(SERVICE_TAGS)))
    region = fields.String(validate=REGION)
    address = fields.String(allow_none=True, validate=validate.Length(max=256))
    location = fields.Nested(LocationSchema, allow_none=True)
    licences = fields.List(fields.Nested(LicenceSchema))
    care_beds = fields.Integer(validate=validate.Range(min=0, max=100000))
    medical_beds = fields.Integer(validate=validate.Range(min=0, max=100000))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    status = fields.String(validate=validate.OneOf(tuple(INSTITUTION_STATUSES)))
    complaint_count = fields.Integer(validate=validate.Range(min=0, max=1000000),
                                     metadata={"description": "office-maintained complaint count (投诉)"})


class InstitutionCreateSchema(InstitutionPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    credit_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(tuple(INSTITUTION_KINDS)))
    region = fields.String(required=True, validate=REGION)


class InstitutionListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    q = fields.String(validate=validate.Length(max=64), metadata={"description": "name contains"})
    region = fields.String(validate=REGION, metadata={"description": "region subtree (code prefix)"})
    kind = fields.String(validate=validate.OneOf(tuple(INSTITUTION_KINDS)))
    tag = fields.String(validate=validate.OneOf(SERVICE_TAGS))
    status = fields.String(validate=validate.OneOf(tuple(INSTITUTION_STATUSES)))


class RiskProfileSchema(OutSchema):
    past_findings = fields.Integer()
    overdue_rectifications = fields.Integer()
    rejected_answers = fields.Integer()
    last_inspected_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class LicenceOutSchema(OutSchema):
    kind = fields.String(required=True)
    number = fields.String(required=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class InstitutionSchema(OutSchema):
    id = fields.String(required=True)
    public_id = fields.String(required=True)
    public_url = fields.Method("get_public_url")
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.Method("get_kind_label")
    tags = fields.List(fields.String())
    region = fields.String(required=True)
    address = fields.String(allow_none=True)
    location = fields.Method("get_location", metadata={"description": "{lat, lon} or null"})
    licences = fields.List(fields.Nested(LicenceOutSchema))
    care_beds = fields.Integer()
    medical_beds = fields.Integer()
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    status = fields.String(required=True)
    complaint_count = fields.Integer()
    risk = fields.Nested(RiskProfileSchema, allow_none=True)
    qr_version = fields.Integer()
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)

    def get_public_url(self, obj):
        from inspect_api.directory.service import public_url

        return public_url(obj)

    def get_kind_label(self, obj):
        return INSTITUTION_KINDS.get(obj.kind)

    def get_location(self, obj):
        from inspect_api.directory.service import point_latlon

        latlon = point_latlon(obj.location)
        return {"lat": latlon[0], "lon": latlon[1]} if latlon else None


class DeleteOutcomeSchema(OutSchema):
    outcome = fields.String(required=True, metadata={"description": "deleted, closed (institution) or deactivated "
                                                                     "(inspector): entries with history are kept"})
    id = fields.String(required=True)


class InspectorPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=64))
    certificate_no = fields.String(validate=validate.Regexp(r"^\S{1,32}$", error="不超过 32 位且不含空格"),
                                   metadata={"description": "执法证号 (unique)"})
    department = fields.String(validate=validate.OneOf(tuple(DEPARTMENTS)))
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
    department = fields.String(required=True, validate=validate.OneOf(tuple(DEPARTMENTS)))
    region = fields.String(required=True, validate=REGION)


class InspectorListArgsSchema(StrictSchema):
    class Meta:
        unknown = ma.EXCLUDE

    q = fields.String(validate=validate.Length(max=64))
    region = fields.String(validate=REGION)
    department = fields.String(validate=validate.OneOf(tuple(DEPARTMENTS)))
    qualification = fields.String(validate=validate.Length(max=32))
    active = fields.Boolean()


class InspectorSchema(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    certificate_no = fields.String(required=True)
    department = fields.String(required=True)
    department_label = fields.Method("get_department_label")
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
        return DEPARTMENTS.get(obj.department)


class ConflictCreateSchema(StrictSchema):
    inspector_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    institution_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.OneOf(tuple(k for k in CONFLICT_REASONS)))
    source = fields.String(validate=validate.OneOf(("office", "declared")))
    note = fields.String(validate=validate.Length(max=256))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ConflictPatchSchema(StrictSchema):
    """Editable fields of a recorded conflict (the inspector and institution are fixed)."""

    reason = fields.String(validate=validate.OneOf(tuple(k for k in CONFLICT_REASONS)))
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
    reason = fields.String(required=True)
    reason_label = fields.Method("get_reason_label")
    source = fields.String(required=True)
    note = fields.String(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    region = fields.String(required=True)
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)

    def get_reason_label(self, obj):
        return CONFLICT_REASONS.get(obj.reason)


class RegionSchema(OutSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent = fields.String(allow_none=True)
    level = fields.String(required=True)


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
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "XLSX, or CSV in UTF-8 (BOM optional) or GB18030"})


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
