"""Catalog schemas."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from checklists.spec import GRADES, METHODS, PURPOSES, SEVERITIES
from inspect_api.catalog.models import MATTER_CATEGORIES
from inspect_api.directory.schemas import DEPARTMENT, INSTITUTION_KIND
from inspect_api.schemas import DateTimeText, Either, Number, OutSchema, SharedEnum, StrictSchema

MATTER_CATEGORY = SharedEnum("MatterCategory", MATTER_CATEGORIES)
CHECKLIST_STATUS = SharedEnum("ChecklistStatus", {"draft": "草稿（可修改前的校验版本）", "published": "已发布（不可修改）"})
INSPECTION_METHOD = SharedEnum("InspectionMethod", METHODS)
SEVERITY = SharedEnum("Severity", SEVERITIES, "Finding severity, most serious first.")
GRADE = SharedEnum("Grade", GRADES, "Grades, best first: a checklist's bands take their codes and names from this "
                                    "table (checklists/spec.py).")
CHECKLIST_PURPOSE = SharedEnum("ChecklistPurpose", PURPOSES)
CHECKLIST_SOURCE = SharedEnum("ChecklistSource", {"shipped": "随系统发布", "upload": "办公室上传"},
                              "Where a catalog version (checklist or questionnaire) came from.")


# --------------------------------------------------------------------------- checklist content (checklists/README.md)

class ChecklistStandardSchema(OutSchema):
    code = fields.String(required=True, metadata={"example": "DB37/T 4086-2020"})
    title = fields.String(required=True)


class ChecklistProvenanceSchema(OutSchema):
    derived_from = fields.String(required=True)
    official_text_checked = fields.Boolean(required=True, metadata={
        "description": "false: derived by the project from the standard's structure, not checked against the "
                       "official text"})
    notes = fields.String(metadata={"description": "absent in the compact form phones download"})


class GradeBandSchema(OutSchema):
    code = fields.String(required=True, metadata={"example": "excellent"})
    name = fields.String(required=True, metadata={"example": "优秀"})
    min = Number(required=True, metadata={"description": "inclusive"})
    max = Number(required=True, metadata={"description": "exclusive, except the band whose max is 100"})


class SeverityDeadlineSchema(OutSchema):
    working_days = fields.Integer(required=True, metadata={"description": "default rectification deadline (工作日)"})
    reinspection = fields.Boolean(required=True, metadata={"description": "needs an on-site re-inspection (复查)"})


class ChecklistDeadlinesSchema(OutSchema):
    critical = fields.Nested(SeverityDeadlineSchema, required=True)
    major = fields.Nested(SeverityDeadlineSchema, required=True)
    minor = fields.Nested(SeverityDeadlineSchema, required=True)


class ChecklistDeductionSchema(OutSchema):
    code = fields.String(required=True, metadata={"description": "unique within its item; sent back in "
                                                                 "deduction_codes"})
    text = fields.String(required=True)
    points = Number(required=True, metadata={"description": "points lost each time it is chosen"})
    repeatable = fields.Boolean(metadata={"description": "may be chosen several times (每发现一处); absent = false"})


class ItemEvidenceSchema(OutSchema):
    min_photos = fields.Integer(required=True, metadata={"description": "photos a deduct/fail answer needs"})
    documents = fields.List(fields.String(), required=True, metadata={"description": "documents to look at"})


class ChecklistItemSchema(OutSchema):
    """One item, with every field the scoring engine reads."""

    id = fields.String(required=True, metadata={"description": "stable; the item_id of answers and photos"})
    text = fields.String(required=True, metadata={"description": "what to check (the item's wording)"})
    clause = fields.String(required=True, metadata={"description": "the standard's chapter it derives from"})
    method = Either(fields.String(validate=INSPECTION_METHOD), fields.List(fields.String(validate=INSPECTION_METHOD)),
                    required=True, metadata={"description": "one inspection method or a list of them"})
    points = Number(required=True)
    veto = fields.Boolean(metadata={"description": "一票否决: failing it fails the inspection; absent = false"})
    na_allowed = fields.Boolean(metadata={"description": "may be answered na (不适用); absent = false"})
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), metadata={
        "description": "the institution kinds it applies to; absent = every kind of the checklist (an item that "
                       "does not apply to the institution's kind is answered na or left out)"})
    guidance = fields.String(metadata={"description": "hint for the inspector"})
    severity = fields.String(required=True, validate=SEVERITY)
    deductions = fields.List(fields.Nested(ChecklistDeductionSchema), required=True, metadata={
        "description": "empty: the item is only pass or fail"})
    evidence = fields.Nested(ItemEvidenceSchema, required=True)


class ChecklistSectionSchema(OutSchema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    clause = fields.String()
    points = Number(required=True, metadata={"description": "the sum of its items' points"})
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)


class ChecklistContentSchema(OutSchema):
    """A checklist version's content: sections → items → deductions (format: checklists/README.md)."""

    code = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String()
    purpose = fields.String(validate=CHECKLIST_PURPOSE, metadata={
        "description": "what the checklist is used for; absent = site_inspection"})
    standard = fields.Nested(ChecklistStandardSchema, required=True)
    version = fields.Integer(required=True)
    provenance = fields.Nested(ChecklistProvenanceSchema, required=True)
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), required=True)
    points = Number(required=True, metadata={"description": "always 100"})
    bands = fields.List(fields.Nested(GradeBandSchema), required=True, metadata={"description": "grade bands"})
    deadlines = fields.Nested(ChecklistDeadlinesSchema, required=True)
    sections = fields.List(fields.Nested(ChecklistSectionSchema), required=True)


class CompactChecklistSchema(ChecklistContentSchema):
    """The compact form phones download: no provenance notes, default-valued item fields left out."""

    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the full checklist"})


class CompactChecklistVersionSchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=CHECKLIST_STATUS)
    content_hash = fields.String(required=True)
    checklist = fields.Nested(CompactChecklistSchema, required=True)


# --------------------------------------------------------------------------- versions and diffs

class ChecklistVersionSummarySchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    standard = fields.String(allow_none=True)
    purpose = fields.String(dump_default="site_inspection",
                            validate=CHECKLIST_PURPOSE)
    status = fields.String(required=True, validate=CHECKLIST_STATUS)
    content_hash = fields.String(required=True)
    item_count = fields.Integer(allow_none=True)
    source = fields.String(validate=CHECKLIST_SOURCE)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class ChecklistSchema(OutSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    purpose = fields.String(validate=CHECKLIST_PURPOSE)
    latest_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(ChecklistVersionSummarySchema), required=True)


class ChecklistListSchema(OutSchema):
    items = fields.List(fields.Nested(ChecklistSchema), required=True)


class ChecklistDiffArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    from_version = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


class ChangedItemSchema(OutSchema):
    id = fields.String(required=True)
    fields = fields.List(fields.String(), required=True)


class ChecklistDiffSchema(OutSchema):
    code = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    changed = fields.List(fields.Nested(ChangedItemSchema), required=True)


class MatterSchema(OutSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    legal_basis = fields.String(required=True)
    department = fields.String(required=True, validate=DEPARTMENT)
    category = fields.String(required=True, validate=MATTER_CATEGORY)
    checklist_code = fields.String(required=True)
    active = fields.Boolean(required=True)


class MatterCreateSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{2,32}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    department = fields.String(required=True, validate=DEPARTMENT)
    category = fields.String(required=True, validate=MATTER_CATEGORY)
    checklist_code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MatterUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    legal_basis = fields.String(validate=validate.Length(min=1, max=1000))
    department = fields.String(validate=DEPARTMENT)
    category = fields.String(validate=MATTER_CATEGORY)
    checklist_code = fields.String(validate=validate.Length(min=1, max=64))
    active = fields.Boolean()


class MatterListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    category = fields.String(validate=MATTER_CATEGORY)
    department = fields.String(validate=DEPARTMENT)
    active = fields.Boolean()


# --------------------------------------------------------------------------- questionnaires (checklists/questionnaires.py)

class QuestionnaireQuestionSchema(OutSchema):
    id = fields.String(required=True, metadata={"description": "stable; the key of an answer"})
    text = fields.String(required=True)


class QuestionnaireCommentSchema(OutSchema):
    """The one optional free-text comment."""

    prompt = fields.String(required=True)
    max_length = fields.Integer(required=True)


class QuestionnaireContentSchema(OutSchema):
    """A questionnaire version's content (format: checklists/README.md, "Questionnaires")."""

    code = fields.String(required=True)
    title = fields.String(required=True)
    version = fields.Integer(required=True)
    provenance = fields.Nested(ChecklistProvenanceSchema, required=True)
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), required=True,
                        metadata={"description": "the institution kinds that answer it"})
    intro = fields.String(metadata={"description": "shown above the questions"})
    scale = fields.List(fields.String(), required=True, validate=validate.Length(equal=5),
                        metadata={"description": "the five answers' labels, for scores 1 to 5"})
    questions = fields.List(fields.Nested(QuestionnaireQuestionSchema), required=True)
    comment = fields.Nested(QuestionnaireCommentSchema, required=True)


class QuestionnaireVersionSummarySchema(OutSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), required=True)
    status = fields.String(required=True, validate=CHECKLIST_STATUS)
    content_hash = fields.String(required=True)
    question_count = fields.Integer(allow_none=True)
    source = fields.String(validate=CHECKLIST_SOURCE)
    created_at = DateTimeText(required=True)
    published_at = DateTimeText(allow_none=True)


class QuestionnaireSchema(OutSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    kinds = fields.List(fields.String(validate=INSTITUTION_KIND), required=True)
    latest_version = fields.Integer(required=True, allow_none=True)
    versions = fields.List(fields.Nested(QuestionnaireVersionSummarySchema), required=True)


class QuestionnaireListSchema(OutSchema):
    items = fields.List(fields.Nested(QuestionnaireSchema), required=True)


class QuestionnaireVersionSchema(QuestionnaireVersionSummarySchema):
    content = fields.Nested(QuestionnaireContentSchema, required=True)
