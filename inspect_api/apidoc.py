"""The API contract beyond each route's own decorators, written once for every operation.

Mobile and web teams generate their clients from ``/api/v1/openapi.json``, so
the document must say everything a response can be.  :class:`ContractPlugin`
(an apispec plugin, installed by :class:`inspect_api.extensions.InspectApi`)
completes every operation:

- every 4xx/5xx it can answer is documented with the single error shape and
  the codes it can return (``x-error-codes`` on the response, and a list in the
  operation's description): the standard ones follow from what the operation
  is (secured → 401, role-restricted → 403, anything → 422 for an undeclared
  query parameter, has a body → 400/409/413/415 (409: a write that meets a
  unique index), rate limited → 429, anything → 500/503), the domain ones are
  declared on the route with :func:`raises`;
- every response declares ``X-Request-ID``; rate-limited operations declare
  the rate-limit headers and ``Retry-After``; operations marked
  :func:`conditional_get` take ``If-None-Match``, send ``ETag`` and answer 304;
- every optional query parameter admits an empty value (``allowEmptyValue``:
  it means "not given"), and a text one states that control characters are
  refused (``pattern``), as :mod:`inspect_api.query_args` does;
- every list page is the shared ``PageInfo`` component plus its ``items``;
- every :class:`~inspect_api.schemas.SharedEnum` is one schema component,
  referenced by the inputs and outputs that use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from inspect_api.schemas import Computed, DateText, DateTimeText, Either, NoControlCharacters, SharedEnum

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Texts without C0 control characters (inspect_api.schemas.NoControlCharacters, inspect_api.query_args); a
# multi-line text keeps tab and line breaks.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f]*$"
NO_CONTROL_CHARACTERS_MULTILINE = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Codes every operation of a kind can answer, whatever the route does.
UNAUTHORIZED_CODES = ("UNAUTHORIZED", "TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED")
STATUS_DESCRIPTIONS = {
    304: "未修改：If-None-Match 与当前 ETag 相同，无响应体 (not modified)",
    400: "请求无效 (bad request)",
    401: "未登录或令牌无效、过期、已吊销 (not logged in, or the token is invalid, expired or revoked)",
    403: "无权执行此操作 (forbidden)",
    404: "不存在或不在调用者的范围内 (not found, or outside the caller's scope)",
    409: "与当前状态冲突 (conflicts with the current state)",
    413: "请求体过大 (payload too large)",
    415: "请求体类型不受支持 (unsupported media type)",
    422: "请求内容校验未通过 (validation failed)",
    429: "请求过于频繁 (rate limited); see Retry-After",
    500: "服务器内部错误 (internal error)",
    503: "数据库暂不可用，请稍后重试 (the database is unreachable; retry later)",
}

HEADERS = {
    "X-Request-ID": {"description": "The request's id, in every log line about it: the caller's own X-Request-ID "
                                    "when it sent a sane one, else a new one.", "schema": {"type": "string"}},
    "ETag": {"description": "Strong validator of this representation; send it back in If-None-Match.",
             "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before the limit admits another request.",
                    "schema": {"type": "integer"}},
    "X-RateLimit-Limit": {"description": "Requests the current window admits.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window resets (Unix seconds).", "schema": {"type": "integer"}},
}
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")

IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "The ETag (or ETags, comma-separated) the client holds; a match answers 304 "
                                "with no body."}

PAGE_INFO = {
    "type": "object",
    "description": "The page part of every list: the list's own page schema adds its `items` (stable order).",
    "properties": {
        "total": {"type": "integer", "minimum": 0, "description": "items in the whole list"},
        "page": {"type": "integer", "minimum": 1, "description": "this page's number (from 1)"},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "description": "page size asked for"},
    },
    "required": ["total", "page", "per_page"],
}
# Validation messages: field name (or list position) → Chinese messages, nested as the input is.
FIELD_MESSAGES = {
    "type": "object",
    "description": "Per-field messages: a list of Chinese messages, or the same shape one level down.",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                       {"$ref": "#/components/schemas/FieldMessages"}]},
}
# Any JSON value (``JsonObject`` fields): one schema with every type, arrays and objects of itself.
JSON_VALUE = {
    "description": "Any JSON value: text, number, boolean, null, or an array or object of JSON values.",
    "type": ["string", "number", "boolean", "null", "array", "object"],
    # Array items are left open: a generated TypeScript type cannot refer to itself through an array of an
    # indexed type (TS2502), while through an object's values it can.
    "items": {"description": "a JSON value (as JsonValue)"},
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
}


# --------------------------------------------------------------------------- route decorators

def _manual_doc(func: Callable) -> dict[str, Any]:
    """The manual part of a view's flask-smorest doc (merged into its operation)."""
    apidoc = func.__dict__.setdefault("_apidoc", {})
    return apidoc.setdefault("manual_doc", {})


def raises(status: int, *codes: str, description: str | None = None) -> Callable:
    """Declare error codes a route can answer with ``status`` (besides the standard ones); stackable."""
    if not 400 <= status <= 599 or not codes:
        raise ValueError("raises(status, *codes): a 4xx/5xx status and at least one code")

    def decorator(func: Callable) -> Callable:
        entry = _manual_doc(func).setdefault("x-error-codes", {}).setdefault(str(status), {"codes": []})
        entry["codes"] = list(dict.fromkeys([*entry["codes"], *codes]))
        if description:
            entry["description"] = description
        return func

    return decorator


def conditional_get(func: Callable) -> Callable:
    """Document a GET answered with ``ETag`` that honours ``If-None-Match`` with a 304."""
    _manual_doc(func)["x-conditional"] = True
    return func


def rate_limited(func: Callable) -> Callable:
    """Document an operation behind a rate limit (429 with Retry-After; rate-limit headers)."""
    _manual_doc(func)["x-rate-limited"] = True
    return func


def media_types(status: int, *types: str) -> Callable:
    """Declare the media types a non-JSON response may have (documented as binary, or as text for ``text/*``);
    the first one given to ``@blp.response(content_type=...)`` is among them."""

    def decorator(func: Callable) -> Callable:
        entry = _manual_doc(func).setdefault("x-media-types", {}).setdefault(str(status), [])
        entry.extend(t for t in types if t not in entry)
        return func

    return decorator


# --------------------------------------------------------------------------- the plugin

def shared_enum_ref(self, field, ret: dict[str, Any], **_kwargs) -> dict[str, Any]:
    """apispec attribute function: a field validated by a SharedEnum references its component."""
    enum = next((v for v in field.validators if isinstance(v, SharedEnum)), None)
    if enum is None:
        return {}
    register_enum(self.spec, enum)
    for key in ("type", "enum", "format"):
        ret.pop(key, None)
    ref = {"$ref": f"#/components/schemas/{enum.name}"}
    return {"anyOf": [ref, {"type": "null"}]} if field.allow_none else ref


def no_control_pattern(self, field, ret: dict[str, Any], **_kwargs) -> dict[str, Any]:
    """apispec attribute function: a text field of an input schema refuses control characters
    (:class:`~inspect_api.schemas.NoControlCharacters`); its document says so with a ``pattern``, unless a
    pattern or a closed list of values already says more."""
    guard = next((v for v in field.validators if isinstance(v, NoControlCharacters)), None)
    if guard is None or {"pattern", "enum", "$ref", "anyOf"} & set(ret):
        return {}
    return {"pattern": NO_CONTROL_CHARACTERS_MULTILINE if guard.multiline else NO_CONTROL_CHARACTERS}


def either_any_of(self, field, ret: dict[str, Any], **_kwargs) -> dict[str, Any]:
    """apispec attribute function: an Either field is ``anyOf`` its alternatives."""
    if not isinstance(field, Either):
        return {}
    ret.pop("type", None)
    return {"anyOf": [self.field2property(alternative) for alternative in field.alternatives]}


def computed_shape(self, field, ret: dict[str, Any], **_kwargs) -> dict[str, Any]:
    """apispec attribute function: a Computed field is documented as the field describing its value."""
    if not isinstance(field, Computed):
        return {}
    return self.field2property(field.shape)


def register_enum(spec: APISpec, enum: SharedEnum) -> None:
    """Add the enum's component once; two different vocabularies may not share a name."""
    values = list(enum.choices)
    existing = spec.components.schemas.get(enum.name)
    if existing is not None:
        if existing.get("enum") != values:
            raise ValueError(f"SharedEnum {enum.name!r} is declared twice with different values: "
                             f"{existing.get('enum')} and {values}")
        return
    schema: dict[str, Any] = {"type": "string", "enum": values}
    if enum.names:
        labels = "; ".join(f"`{code}` {name}" for code, name in enum.names.items())
        schema["description"] = (enum.description + " " if enum.description else "") + labels
        schema["x-enum-descriptions"] = list(enum.names.values())
    elif enum.description:
        schema["description"] = enum.description
    spec.components.schema(enum.name, schema)


class ContractMarshmallowPlugin(MarshmallowPlugin):
    """The marshmallow plugin with the project's field conversions, installed before any schema is converted
    (flask-smorest registers its error schema as the spec is created): shared enums as references, ``Either``
    as ``anyOf``, ``Computed`` as the field it computes, text dates with their formats."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.converter.add_attribute_function(shared_enum_ref)
        self.converter.add_attribute_function(no_control_pattern)
        self.converter.add_attribute_function(either_any_of)
        self.converter.add_attribute_function(computed_shape)
        self.converter.map_to_openapi_type(DateTimeText, "string", "date-time")
        self.converter.map_to_openapi_type(DateText, "string", "date")


class ContractPlugin(BasePlugin):
    """Completes every operation with the project-wide parts of the contract (see the module docstring)."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec
        for name, header in HEADERS.items():
            spec.components.header(name, header)
        spec.components.parameter("If-None-Match", "header", dict(IF_NONE_MATCH))
        spec.components.schema("PageInfo", PAGE_INFO)
        spec.components.schema("FieldMessages", FIELD_MESSAGES)
        spec.components.schema("JsonValue", JSON_VALUE)

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        """A ``page_of`` schema becomes ``allOf`` of ``PageInfo`` and its items."""
        schema = kwargs.get("schema")
        schema_cls = schema if isinstance(schema, type) else type(schema)
        if getattr(schema_cls, "page_item_schema", None) is None or "properties" not in definition:
            return None
        items = definition["properties"]["items"]
        definition.clear()
        definition["allOf"] = [{"$ref": "#/components/schemas/PageInfo"},
                               {"type": "object", "properties": {"items": items}, "required": ["items"]}]
        return None

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if method in HTTP_METHODS:
                complete_operation(method, path or "", operation)
                self._optional_body(operation)

    def _optional_body(self, operation: dict[str, Any]) -> None:
        """A body none of whose fields is required may be left out (it reads as ``{}``): say so."""
        body = operation.get("requestBody")
        if not isinstance(body, dict):
            return
        schemas = self.spec.components.schemas
        for media in (body.get("content") or {}).values():
            schema = media.get("schema") or {}
            ref = schema.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                schema = schemas.get(ref.rsplit("/", 1)[-1], {})
            if schema.get("required") or schema.get("type") != "object":
                return
        body["required"] = False


def _standard_errors(method: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    """The error codes an operation answers because of what it is, by status."""
    codes: dict[int, list[str]] = {500: ["INTERNAL_ERROR"], 503: ["DATABASE_UNAVAILABLE"]}
    if operation.get("security"):
        codes[401] = list(UNAUTHORIZED_CODES)
        if operation.get("x-roles"):
            codes[403] = ["ROLE_FORBIDDEN"]
    body = operation.get("requestBody")
    codes[422] = ["VALIDATION_ERROR"]  # every operation refuses query parameters it does not declare
    if method in ("post", "put", "patch"):
        codes[409] = ["DUPLICATE"]  # a write that meets a unique index (two requests racing)
        codes[413] = ["PAYLOAD_TOO_LARGE"]
        codes[415] = ["UNSUPPORTED_MEDIA_TYPE"]
        content = (body or {}).get("content", {})
        if "application/json" in content:
            codes[400] = ["MALFORMED_JSON"]
        if "multipart/form-data" in content:
            codes[400] = ["BAD_REQUEST"]
    if operation.get("x-rate-limited"):
        codes[429] = ["TOO_MANY_REQUESTS"]
    return codes


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _declare_media_types(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    """Media types from ``@media_types``; a non-JSON body without a schema is binary (or text for ``text/*``)."""
    for status, types in operation.pop("x-media-types", {}).items():
        content = responses.setdefault(status, {"description": "OK"}).setdefault("content", {})
        for media_type in types:
            content.setdefault(media_type, {})
    for response in responses.values():
        for media_type, entry in ((response.get("content") or {}) if isinstance(response, dict) else {}).items():
            if "json" not in media_type and "schema" not in entry:
                entry["schema"] = ({"type": "string"} if media_type.startswith("text/")
                                   else {"type": "string", "format": "binary"})


def _error_codes(method: str, operation: dict[str, Any], responses: dict[str, Any],
                 rate_limited_op: bool) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Codes by status (standard, then declared with ``@raises``) and the declared descriptions."""
    codes = _standard_errors(method, {**operation, "x-rate-limited": rate_limited_op})
    descriptions: dict[int, str] = {}
    for status, entry in operation.pop("x-error-codes", {}).items():
        codes[int(status)] = list(dict.fromkeys([*codes.get(int(status), []), *entry["codes"]]))
        if entry.get("description"):
            descriptions[int(status)] = entry["description"]
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            codes.setdefault(int(status), [])  # documented without codes: tests/openapi names the fix
            if isinstance(response, dict) and response.get("description") and int(status) not in descriptions:
                descriptions[int(status)] = response["description"]
    return codes, descriptions




def _document_query_rules(param: dict[str, Any]) -> None:
    """What ``inspect_api.query_args`` does to every query parameter, in its document: an empty value means "not
    given" (an HTML form's "any"), and a text value may not hold a control character."""
    if not param.get("required"):
        param["allowEmptyValue"] = True
    schema = param.get("schema")
    if isinstance(schema, dict) and schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
        schema["pattern"] = NO_CONTROL_CHARACTERS


def complete_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    """Add the standard and declared error responses, headers and conditional-GET parts to one operation."""
    responses = {str(status): response for status, response in operation.get("responses", {}).items()}
    _declare_media_types(operation, responses)
    conditional = operation.pop("x-conditional", False)
    rate_limited_op = operation.pop("x-rate-limited", False)
    if not operation.get("x-roles"):
        operation.pop("x-roles", None)  # any logged-in user
    codes_by_status, descriptions = _error_codes(method, operation, responses, rate_limited_op)

    common_headers = ["X-Request-ID", *(RATE_LIMIT_HEADERS if rate_limited_op else ())]
    for status, codes in sorted(codes_by_status.items()):
        text = descriptions.get(status) or STATUS_DESCRIPTIONS.get(status, "error")
        responses[str(status)] = {
            "description": f"{text}. Codes: " + (", ".join(f"`{c}`" for c in codes) or "(undeclared)"),
            "headers": _header_refs(*common_headers, *(("Retry-After",) if status == 429 else ())),
            "content": {"application/json": {"schema": ERROR_REF}},
            "x-error-codes": codes,
        }
    for param in operation.get("parameters") or []:
        if isinstance(param, dict) and param.get("in") == "query":
            _document_query_rules(param)
    if conditional:
        operation.setdefault("parameters", []).append("If-None-Match")  # a registered component
        responses["304"] = {"description": STATUS_DESCRIPTIONS[304], "headers": _header_refs("ETag", *common_headers)}
    for status, response in responses.items():
        if status.isdigit() and int(status) < 400 and status != "304" and isinstance(response, dict):
            response.setdefault("headers", {}).update(
                _header_refs(*(("ETag",) if conditional else ()), *common_headers))
    operation["responses"] = dict(sorted(responses.items(), key=lambda kv: (not kv[0].isdigit(), kv[0])))

    parts = [operation["description"]] if operation.get("description") else []
    if operation.get("x-roles"):
        parts.append("Roles: " + ", ".join(f"`{r}`" for r in operation["x-roles"]) + ".")
    parts.append("Error codes:\n" + "\n".join(f"- {status}: " + ", ".join(f"`{c}`" for c in codes)
                                               for status, codes in sorted(codes_by_status.items())))
    operation["description"] = "\n\n".join(parts)
