"""Shared marshmallow pieces: the strict base schema, paging and error schemas, shared enums, text dates."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Iterable, Mapping

import marshmallow as ma
from flask_smorest.fields import Upload
from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from mongoengine.queryset import QuerySet
from werkzeug.datastructures import FileStorage

from inspect_api.batched import count_unless_known, page_reads, paged, read_together
from inspect_api.clock import isoformat
from inspect_api.db import as_stored

# C0 control characters (U+0000-U+001F) have no place in text people enter: they break exports
# (XLSX refuses them) and hide in names.  Multi-line fields keep tab and line breaks (CR LF too).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f]")
CONTROL_CHARACTERS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Free-text fields that may span lines; any other field with ``metadata={"multiline": True}`` too.
MULTILINE_FIELDS = frozenset({"note", "text", "description", "comment", "reason", "reason_note", "legal_basis",
                              "body"})


def control_character_error(value: str, *, multiline: bool = False) -> str | None:
    """The Chinese message for the first control character in ``value``, or None when it has none."""
    found = (CONTROL_CHARACTERS_MULTILINE if multiline else CONTROL_CHARACTERS).search(value)
    if found is None:
        return None
    return f"不能包含控制字符（U+{ord(found.group()):04X}）" + ("" if multiline else "，也不能换行或含制表符")


class NoControlCharacters(validate.Validator):
    """Refuses C0 control characters (tab and line breaks allowed when ``multiline``)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        message = control_character_error(value, multiline=self.multiline) if isinstance(value, str) else None
        if message:
            raise ValidationError(message)
        return value


def _guard_text(field: fields.Field, multiline: bool) -> None:
    if isinstance(field, fields.String):
        field.validators = [*field.validators, NoControlCharacters(multiline)]
    elif isinstance(field, fields.List):
        _guard_text(field.inner, multiline)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            _guard_text(inner, multiline)
    elif isinstance(field, fields.Dict):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                _guard_text(inner, multiline)


class StrictSchema(Schema):
    """Base for input schemas: unknown fields are refused, not ignored, and no text field takes C0
    control characters (422 naming the field; multi-line fields keep tab and line breaks)."""

    class Meta:
        unknown = RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        multiline = field_obj.metadata.get("multiline", field_name in MULTILINE_FIELDS)
        _guard_text(field_obj, bool(multiline))


class OutSchema(Schema):
    """Base for output schemas."""

    class Meta:
        ordered = True


class SharedEnum(validate.OneOf):
    """A closed vocabulary (e.g. institution kinds): validates like ``OneOf`` and is documented once, as the
    schema component ``name``, which every field using it (input or output) references.

    ``choices`` is a code → Chinese name mapping or a plain sequence of codes.  On an output field the
    validator only documents the values (marshmallow does not validate on dump).
    """

    registry: dict[str, "SharedEnum"] = {}

    def __init__(self, name: str, choices: Mapping[str, str] | Iterable[str], description: str = ""):
        names = dict(choices) if isinstance(choices, Mapping) else {}
        super().__init__(tuple(choices), labels=list(names.values()) or None)
        self.name = name
        self.names = names
        self.description = description
        known = SharedEnum.registry.setdefault(name, self)
        if list(known.choices) != list(self.choices):
            raise ValueError(f"SharedEnum {name!r} is declared twice with different values")


class DateTimeText(fields.String):
    """A timestamp as ISO 8601 text in UTC (``...Z``), from a datetime or from text a service already wrote
    that way; documented as ``date-time``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value) if isinstance(value, datetime) else super()._serialize(value, attr, obj, **kwargs)


class DateText(fields.String):
    """A business date as ``YYYY-MM-DD``, from a date or from text a service already wrote that way;
    documented as ``date``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime):  # a DateField some stores hand back as a datetime
            value = value.date()
        return value.isoformat() if isinstance(value, date) else super()._serialize(value, attr, obj, **kwargs)


class Either(fields.Raw):
    """A value of one of several shapes (e.g. one code or a list of codes, as the checklist format allows),
    passed through as it is; documented as ``anyOf`` the alternatives."""

    def __init__(self, *alternatives: fields.Field, **kwargs):
        self.alternatives = alternatives
        super().__init__(**kwargs)


class Computed(fields.Function):
    """A value computed from the object being dumped (``compute(obj)``), documented as the field ``shape``
    describes (e.g. a list of a shared enum's codes), since a plain ``Function`` field has no type."""

    def __init__(self, compute, shape: fields.Field, **kwargs):
        self.shape = shape
        super().__init__(serialize=compute, **kwargs)


class JsonObject(fields.Dict):
    """An object of any JSON values, for a record whose shape depends on its kind (an audit event's facts);
    documented as an object of the shared ``JsonValue`` schema (see :mod:`inspect_api.apidoc`), not as a
    free-form object."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("additionalProperties", {"$ref": "#/components/schemas/JsonValue"})
        super().__init__(keys=fields.String(), **kwargs)


class FilePart(Upload):
    """A file part of a multipart form (``string``/``binary`` in the document): a form field of the same name
    that is not a file is refused like a missing one."""

    default_error_messages = {"invalid": "应为上传的文件"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


class Number(fields.Raw):
    """A number passed through as it is (an integer stays an integer: checklist points are exact)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("type", "number")
        super().__init__(**kwargs)


# JSON types a body's values must have, by the field that loads them: marshmallow also takes 0/1, "yes" or
# "true" for a boolean, "5" or 5.5 (cut to 5) for an integer and "1.5" for a number, which the document (the
# contract) does not allow.
def _json_type_ok(field: fields.Field, value: Any) -> bool:
    if isinstance(field, fields.Boolean):
        return isinstance(value, bool)
    if isinstance(value, bool):  # a bool is an int in Python, never a number in JSON
        return not isinstance(field, (fields.Number, Number))
    if isinstance(field, fields.Integer):
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(field, (fields.Number, Number)):
        return isinstance(value, (int, float))
    return True


def json_type_errors(schema: Schema, data: Any) -> dict:
    """The values of a parsed JSON body ``data`` whose JSON type is not the one ``schema`` declares for them
    (a boolean, an integer or a number, inside nested objects and lists too), as marshmallow's error messages
    by field; empty when every value has its declared type.  ``null`` and values of other kinds are left to
    the schema's own loading."""
    if not isinstance(data, Mapping):
        return {}
    by_key = {field.data_key or name: field for name, field in schema.load_fields.items()}
    errors: dict = {}
    for key, value in data.items():
        field = by_key.get(key)
        if field is not None and value is not None:
            found = _field_type_errors(field, value)
            if found:
                errors[key] = found
    return errors


def _field_type_errors(field: fields.Field, value: Any) -> Any:
    if isinstance(field, fields.Nested):
        if field.many and isinstance(value, list):
            return {i: e for i, item in enumerate(value) if (e := json_type_errors(field.schema, item))}
        return json_type_errors(field.schema, value)
    if isinstance(field, fields.List) and isinstance(value, list):
        return {i: e for i, item in enumerate(value)
                if item is not None and (e := _field_type_errors(field.inner, item))}
    if isinstance(field, fields.Tuple) and isinstance(value, list):
        return {i: e for i, (inner, item) in enumerate(zip(field.tuple_fields, value))
                if item is not None and (e := _field_type_errors(inner, item))}
    if isinstance(field, fields.Dict) and field.value_field is not None and isinstance(value, Mapping):
        return {k: e for k, item in value.items()
                if item is not None and (e := _field_type_errors(field.value_field, item))}
    if _json_type_ok(field, value):
        return None
    return [field.error_messages.get("invalid", "Not a valid number.")]


class PageArgsSchema(Schema):
    """``?page=&per_page=`` (per_page capped at 100)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ProblemSchema(OutSchema):
    """One problem of a refused document or batch; which keys appear depends on the refusal."""

    class Meta:
        unknown = ma.INCLUDE

    code = fields.String(metadata={"description": "the problem's code (e.g. UNKNOWN_ITEM, MISSING_RESPONSE)"})
    message = fields.String(metadata={"description": "Chinese message"})
    message_zh = fields.String(metadata={"description": "Chinese message (scoring problems)"})
    item = fields.String(allow_none=True, metadata={"description": "checklist item id (scoring problems)"})
    item_id = fields.String(metadata={"description": "checklist item id"})
    deduction_codes = fields.List(fields.String())
    source = fields.String(metadata={"description": "checklist validation: the document"})
    path = fields.String(metadata={"description": "checklist validation: zero-based path in the document"})
    inspector_id = fields.String()
    problem = fields.String(validate=SharedEnum("TeamMemberProblem", {"not_found": "检查人员不存在",
                                                                      "inactive": "检查人员已停用"}),
                            metadata={"description": "team problems (TEAM_MEMBER_INVALID)"})


class PhotosRequiredSchema(OutSchema):
    item_id = fields.String(required=True)
    required = fields.Integer(required=True, metadata={"description": "photos the item's evidence rule asks for"})
    uploaded = fields.Integer(required=True)


class SignatureMissingSchema(OutSchema):
    role = fields.String(required=True, metadata={"description": "lead | member | institution_representative"})
    inspector_id = fields.String(allow_none=True)


class SubmissionMissingSchema(OutSchema):
    """What blocks a submission; absent keys block nothing."""

    unanswered_items = fields.List(fields.String(), metadata={"description": "applicable items without an answer"})
    photos_required = fields.List(fields.Nested(PhotosRequiredSchema))
    signatures = fields.List(fields.Nested(SignatureMissingSchema))


class ErrorDetailsSchema(OutSchema):
    """What an error's ``details`` may hold; which keys appear depends on the code (others may be added,
    each documented where the code is)."""

    class Meta:
        unknown = ma.INCLUDE

    fields_ = fields.Dict(data_key="fields", metadata={
        "description": "VALIDATION_ERROR and other per-field refusals: field name (or list position) → Chinese "
                       "messages, nested the way the input is (webargs puts the location first: json, query, form)",
        "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                           {"$ref": "#/components/schemas/FieldMessages"}]}})
    problems = fields.List(fields.Nested(ProblemSchema), metadata={
        "description": "every problem found (checklist validation, scoring, invalid answers, team members)"})
    missing = Either(fields.Nested(SubmissionMissingSchema), fields.List(fields.String()), metadata={
        "description": "SUBMISSION_INCOMPLETE: what still blocks submission; IMPORT_COLUMNS_MISSING: the columns"})
    required_roles = fields.List(fields.String(), metadata={"description": "ROLE_FORBIDDEN: roles that may call"})
    content_type = fields.String(allow_none=True, metadata={"description": "UNSUPPORTED_MEDIA_TYPE: the type sent"})
    expected = Either(fields.String(allow_none=True), fields.List(fields.String()), metadata={
        "description": "UNSUPPORTED_MEDIA_TYPE: the type to send (null: none); IMPORT_COLUMNS_MISSING: every column"})
    state = fields.String(metadata={"description": "the object's current state, for state conflicts"})


class ErrorDetailSchema(OutSchema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code (UPPER_SNAKE); "
                                                                 "each operation lists the codes it can return"})
    message = fields.String(required=True, metadata={"description": "Chinese message for people"})
    details = fields.Nested(ErrorDetailsSchema, required=True)


class ErrorSchema(OutSchema):
    """The single error shape of every 4xx and 5xx answer."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def page_of(item_schema: type[Schema], name: str | None = None) -> type[Schema]:
    """A page schema ``{items, total, page, per_page}`` around ``item_schema``.

    Documented as the shared ``PageInfo`` component (total, page, per_page) plus its ``items``
    (see :mod:`inspect_api.apidoc`), so every list has one page shape.
    """
    cls_name = name or f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    return type(cls_name, (OutSchema,), {
        "page_item_schema": item_schema,
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    })


# The key under which a test app keeps its check of :func:`already_dumped` bodies (tests/openapi/contract.py).
DUMPED_CHECK = "inspect_api.already_dumped_check"


def already_dumped(schema: Schema, data: Any, *, source: Any = None) -> Any:
    """``data``, which a service built in ``schema``'s dumped form (text ids, dates and timestamps; only the
    schema's keys), to be sent as it is: dumping it through marshmallow again cost more than building it.

    The schema stays the response's contract and document; a test app checks on every such response that a
    dump would not change it: a dump of ``source`` when given (the object ``data`` was built from, for a
    schema whose fields take only objects, such as timestamps), else of ``data`` itself.
    """
    check = current_app.extensions.get(DUMPED_CHECK)
    if check is not None:
        check(schema, data, source)
    return data


def paginate(query: QuerySet | list, page: int, per_page: int) -> dict[str, Any]:
    """Slice a list or a queryset (already in a stable order) into a page dict.

    A queryset's page is read as stored, and its total only when the page does not tell it; each row is read
    as its document would be (:func:`~inspect_api.db.as_stored`): lists only read, and building documents was
    most of their cost."""
    if isinstance(query, list):
        return {"items": query[(page - 1) * per_page: page * per_page], "total": len(query), "page": page,
                "per_page": per_page}
    if query._none or query._empty:
        return {"items": [], "total": 0, "page": page, "per_page": per_page}
    page_read, count_read = page_reads(query, page, per_page)
    rows = read_together(page_read)[0]
    count = count_unless_known(count_read, rows, page, per_page)
    total = read_together(count)[0] if count is not None else None
    only = _included(query)
    return paged([as_stored(query._document, row, only) for row in rows], total, page, per_page)


def _included(query: QuerySet) -> frozenset[str] | None:
    """The fields a queryset reads by ``only(...)``, whole or some of their keys (rows are read as those alone,
    not with the defaults of the others); None when it reads every field or excludes some."""
    loaded = query._loaded_fields.as_dict()
    if not loaded or any(value != 1 for value in loaded.values()):
        return None
    read = {key.split(".", 1)[0] for key in loaded}
    return frozenset(name for name, field in query._document._fields.items() if field.db_field in read)