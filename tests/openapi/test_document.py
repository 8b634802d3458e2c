"""The OpenAPI document is a contract clients can be generated from (issue #19).

Each test names one property a client generator relies on; a failure says
which operation or schema breaks it and what to add.
"""

from __future__ import annotations

import json
import re

import jsonschema_rs
import pytest

from inspect_api.directory.models import CONFLICT_REASONS, DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES
from inspect_api.draws.models import DRAW_STATES, PLAN_STATES, STRATIFICATIONS
from inspect_api.inspections.models import ASSIGNMENT_SOURCES, ASSIGNMENT_STATUSES, INSPECTION_STATES, RESULTS
from inspect_api.publication.models import NOTICE_STATUSES
from inspect_api.rectification.models import FINDING_STATUSES, ORDER_STATUSES
from inspect_api.schemas import SharedEnum
from tests.openapi.document import operations

DATE_NAMES = re.compile(r"(_at|_on|_date|^(period|valid|date)_(from|to|until)|^date|^deadline|^due|^at)$")
PHONE_OPERATIONS = ("login", "listMyAssignments", "getAssignmentBundle", "checkIn", "syncResponses",
                    "uploadInspectionPhoto", "uploadSignature", "submitInspection", "getInspection")


@pytest.fixture(scope="module")
def doc():
    from inspect_api.app import create_app

    return create_app("testing").test_client().get("/api/v1/openapi.json").get_json()


def _walk(node, path=""):
    """(json path, schema-ish dict) for every mapping in ``node``."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _schema_validator(doc, schema):
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def test_info_servers_and_version(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"].isascii() and re.match(r"^[A-Za-z][A-Za-z0-9 ]+$", doc["info"]["title"])
    assert doc["info"]["x-title-zh"] == "医养结合机构监管 API" and "医养结合" in doc["info"]["description"]
    assert doc["servers"] and doc["servers"][0]["url"].startswith("http")


def test_every_error_response_has_the_error_body_and_its_codes(doc):
    problems = []
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if not status.isdigit() or int(status) < 400:
                continue
            where = f"{method} {path} {status}"
            schema = (response.get("content") or {}).get("application/json", {}).get("schema")
            if schema != {"$ref": "#/components/schemas/Error"}:
                problems.append(f"{where}: no Error body")
            codes = response.get("x-error-codes") or []
            if not codes:
                problems.append(f"{where}: no error codes; declare them with @raises({status}, \"CODE\", ...)")
            for code in codes:
                if not re.match(r"^[A-Z][A-Z0-9_]+$", code) or f"`{code}`" not in op["description"]:
                    problems.append(f"{where}: code {code} is not listed in the operation's description")
        if "500" not in op["responses"]:
            problems.append(f"{method} {path}: 500 is not documented")
        if op.get("security") and "401" not in op["responses"]:
            problems.append(f"{method} {path}: secured but 401 is not documented")
    assert not problems, "\n".join(problems)


def test_no_untyped_payloads(doc):
    """No free-form objects (``additionalProperties: {}``) and no property without a type."""
    problems = []
    for path, node in _walk(doc["components"]["schemas"]):
        if node.get("additionalProperties") == {}:
            problems.append(f"{path}: additionalProperties {{}} (a free-form object)")
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            if not any(k in prop for k in ("type", "$ref", "anyOf", "allOf", "oneOf")):
                problems.append(f"{path}/properties/{name}: no type")
    assert not problems, "\n".join(problems)


def test_dates_and_times_have_a_format(doc):
    problems = []
    for path, node in _walk(doc["components"]["schemas"]):
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict) or not DATE_NAMES.search(name):
                continue
            types = prop.get("type")
            types = types if isinstance(types, list) else [types]
            if "string" in types and prop.get("format") not in ("date", "date-time"):
                problems.append(f"{path}/properties/{name}: a date or time without format")
    assert not problems, "\n".join(problems)


def test_nullable_nested_objects_are_references(doc):
    """3.1: a nullable object is ``anyOf [$ref, null]``, never an empty object alternative."""
    assert '"nullable"' not in json.dumps(doc)
    for path, node in _walk(doc["components"]["schemas"]):
        for alternative in node.get("anyOf") or []:
            assert alternative.get("type") != "object" or alternative.get("properties"), f"{path}: empty object"
    institution = doc["components"]["schemas"]["Institution"]["properties"]
    assert institution["risk"] == {"anyOf": [{"$ref": "#/components/schemas/RiskProfile"}, {"type": "null"}]}


def test_shared_enums_are_components_used_by_inputs_and_outputs(doc):
    schemas = doc["components"]["schemas"]
    for name, enum in SharedEnum.registry.items():
        assert schemas.get(name, {}).get("enum") == list(enum.choices), f"{name} is not its enum component"
    value_sets = {tuple(sorted(e.choices)): name for name, e in SharedEnum.registry.items()}
    inline = [path for path, node in _walk(doc) if "enum" in node and tuple(sorted(node["enum"])) in value_sets
              and not re.match(r"^/components/schemas/[A-Za-z]+$", path)]
    assert not inline, f"inline copies of shared enums: {inline}"
    ref = {"$ref": "#/components/schemas/InstitutionKind"}
    assert schemas["InstitutionCreate"]["properties"]["kind"] == ref
    assert schemas["Institution"]["properties"]["kind"] == ref
    assert schemas["BundleInstitution"]["properties"]["kind"] == ref
    assert schemas["ChecklistContent"]["properties"]["kinds"]["items"] == ref
    assert schemas["ChecklistItem"]["properties"]["severity"] == {"$ref": "#/components/schemas/Severity"}
    assert schemas["Finding"]["properties"]["severity"] == {"$ref": "#/components/schemas/Severity"}


@pytest.mark.parametrize(("enum", "values"), [
    ("InstitutionKind", INSTITUTION_KINDS), ("InstitutionStatus", INSTITUTION_STATUSES), ("Department", DEPARTMENTS),
    ("ConflictReason", CONFLICT_REASONS), ("AssignmentStatus", ASSIGNMENT_STATUSES),
    ("AssignmentSource", ASSIGNMENT_SOURCES), ("InspectionState", INSPECTION_STATES), ("ItemResult", RESULTS),
    ("PlanState", PLAN_STATES), ("DrawState", DRAW_STATES), ("Stratification", STRATIFICATIONS),
    ("OrderStatus", ORDER_STATUSES), ("FindingStatus", FINDING_STATUSES), ("NoticeStatus", NOTICE_STATUSES),
])
def test_shared_enums_hold_the_models_values(enum, values):
    assert sorted(SharedEnum.registry[enum].choices) == sorted(values)


def test_one_page_shape(doc):
    schemas = doc["components"]["schemas"]
    assert "PaginationMetadata" not in schemas
    pages = [name for name, schema in schemas.items() if name.endswith("Page")]
    assert len(pages) >= 10
    for name in pages:
        assert schemas[name]["allOf"][0] == {"$ref": "#/components/schemas/PageInfo"}, name
    for name, schema in schemas.items():
        props = schema.get("properties") or {}
        assert not {"items", "total", "page", "per_page"} <= set(props), f"{name} copies the page shape"


def test_uploads_require_their_file_part(doc):
    uploads = {("POST", "/api/v1/inspections/{inspection_id}/photos"),
               ("POST", "/api/v1/inspections/{inspection_id}/signatures"),
               ("POST", "/api/v1/rectifications/{order_id}/findings/{finding_id}/photos"),
               ("POST", "/api/v1/institutions/import"), ("POST", "/api/v1/inspectors/import"),
               ("POST", "/api/v1/ledger-checks/{check_id}/items/{item_id}/files")}
    seen = set()
    for method, path, op in operations(doc):
        content = (op.get("requestBody") or {}).get("content", {})
        if "multipart/form-data" not in content:
            continue
        seen.add((method, path))
        ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][ref]
        assert schema["properties"]["file"] == {"type": "string", "format": "binary",
                                                "description": schema["properties"]["file"]["description"]}
        assert "file" in schema["required"], f"{method} {path}: the file part is not required"
    assert seen == uploads


def test_downloads_declare_their_media_types(doc):
    expected = {
        "/api/v1/photos/{evidence_id}/{variant}": {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"},
        "/api/v1/institutions/{institution_id}/qr.png": {"image/png"},
        "/api/v1/institutions/export.csv": {"text/csv"},
        "/api/v1/institutions/export.xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        "/api/v1/inspectors/import-template.xlsx": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        "/api/v1/public/results.csv": {"text/csv"},
        "/api/v1/inspections/{inspection_id}/report": {"text/html"},
        "/api/v1/draws/{draw_id}/record.json": {"application/json"},
        "/api/v1/public/draws/{draw_id}/record.json": {"application/json"},
        "/api/v1/public/notices.csv": {"text/csv"},
        "/api/v1/surveys/results.csv": {"text/csv"},
        "/api/v1/public/map.geojson": {"application/geo+json"},
        "/api/v1/ledger-checks/{check_id}/files/{file_id}": {
            "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/jpeg",
            "image/png", "image/webp", "image/heic", "image/heif"},
    }
    for path, types in expected.items():
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        assert set(content) == types, path
        for media_type, entry in content.items():
            assert "schema" in entry, (path, media_type)
    record = doc["paths"]["/api/v1/public/draws/{draw_id}/record.json"]["get"]["responses"]["200"]["content"]
    assert record["application/json"]["schema"] == {"$ref": "#/components/schemas/DrawRecord"}
    geojson = doc["paths"]["/api/v1/public/map.geojson"]["get"]["responses"]["200"]["content"]
    assert geojson["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/Map"}
    variant = next(p for p in doc["paths"]["/api/v1/photos/{evidence_id}/{variant}"]["parameters"]
                   if p["name"] == "variant")
    assert variant["schema"]["enum"] == ["thumb", "display", "original"]


def test_headers_are_declared_where_they_are_sent(doc):
    conditional = {"getAssignmentBundle", "getChecklistVersion", "getPhotoVariant", "listPublicResults",
                   "getPublicResult", "exportPublicResultsCsv", "listPublicInstitutions", "getPublicInstitution",
                   "listPublicNotices", "getPublicNotice", "listPublicDraws", "getPublicDraw", "getPublicDrawRecord",
                   "listPublicMatters", "exportPublicNoticesCsv", "getMapGeojson", "downloadLedgerFile"}
    found = set()
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if status.isdigit():
                assert "X-Request-ID" in response.get("headers", {}), f"{method} {path} {status}"
        if {"$ref": "#/components/parameters/If-None-Match"} in op.get("parameters", []):
            found.add(op["operationId"])
            assert "304" in op["responses"] and "ETag" in op["responses"]["200"]["headers"], op["operationId"]
        if "429" in op["responses"]:
            assert "Retry-After" in op["responses"]["429"]["headers"]
            success = next(s for s in op["responses"] if s.startswith("2"))
            assert "X-RateLimit-Remaining" in op["responses"][success]["headers"]
    assert found == conditional
    assert "429" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_phone_operations_have_examples_that_match_their_schemas(doc):
    by_id = {op["operationId"]: op for _m, _p, op in operations(doc)}
    for op_id in PHONE_OPERATIONS:
        op = by_id[op_id]
        success = next(r for s, r in op["responses"].items() if s.startswith("2"))
        media = success["content"]["application/json"]
        assert "example" in media, f"{op_id} has no response example"
        errors = [e.message for e in _schema_validator(doc, media["schema"]).iter_errors(media["example"])]
        assert not errors, (op_id, errors[:5])
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            for media_type, media in (response.get("content") or {}).items():
                if "example" in media and "schema" in media:
                    errors = list(_schema_validator(doc, media["schema"]).iter_errors(media["example"]))
                    assert not errors, (method, path, status, errors[0].message)
