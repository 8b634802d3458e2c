"""A JSON body's booleans and numbers are taken only with the JSON type the document gives them.

marshmallow alone would take ``0``/``1``, ``"yes"`` or ``"true"`` for a boolean, ``"5"`` or ``5.5`` (cut to 5)
for an integer and ``"1.5"`` for a number; the document, which clients are generated from and fuzzers check
against, allows none of them.  Every such property of every JSON request body in the document (nested objects
and list items too) is sent with each wrong type, once per operation, and must be refused with 422 naming it.
(Checklists and questionnaires, uploaded as documents, are checked by the checklists library, which names the
path among its problems.)
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import assert_error
from tests.openapi.document import operations

WRONG = {"boolean": (0, 1, "true", "yes"), "integer": ("5", 5.5, True), "number": ("1.5", True, "x")}
ROLES = (("office_admin", "370000"), ("inspector", "370302"), ("institution", "370302"))
SOME_ID = "65f0c0ffee0123456789abcd"


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _type(schema: dict[str, Any]) -> str | None:
    """A schema's JSON type, the non-null one of a nullable type (``["integer", "null"]``)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def typed_properties(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Iterator[tuple[list, str]]:
    """(path of keys and list indexes, JSON type) of every boolean, integer or number property under
    ``schema``, through nested objects and arrays (a list item is at index 0)."""
    schema = _resolve(doc, schema)
    if depth > 6:
        return
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(doc, prop)
        kind = _type(prop)
        if kind in WRONG:
            yield [name], kind
        elif kind == "object" or "properties" in prop:
            for inner, found in typed_properties(doc, prop, depth + 1):
                yield [name, *inner], found
        elif kind == "array" and isinstance(prop.get("items"), dict):
            item = _resolve(doc, prop["items"])
            if _type(item) in WRONG:
                yield [name, 0], _type(item)
            for inner, found in typed_properties(doc, item, depth + 1):
                yield [name, 0, *inner], found


def _body(path: list, value: Any) -> Any:
    """A body holding only ``value`` at ``path``."""
    head, *rest = path
    inner = value if not rest else _body(rest, value)
    return [inner] if isinstance(head, int) else {head: inner}


def _errors_at(details: dict[str, Any], path: list) -> Any:
    node = details.get("fields", {}).get("json", {})
    for key in path:
        node = node.get(str(key), {}) if isinstance(node, dict) else {}
    return node


def _content_path(path: list) -> str:
    """A path as the checklists library names it (``sections[0].items[0].veto``)."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".")


def _cases(doc: dict[str, Any]) -> Iterator[tuple[str, str, list, str]]:
    for method, path, op in operations(doc):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            for where, kind in typed_properties(doc, content["application/json"]["schema"]):
                yield method, path, where, kind


def test_the_document_has_typed_body_properties(doc):
    """The walk below finds what it is meant to check (a walk that found nothing would pass vacuously)."""
    found = {(method, path, ".".join(map(str, where))): kind for method, path, where, kind in _cases(doc)}
    assert found[("PUT", "/api/v1/calendar/overrides", "items.0.working")] == "boolean"
    assert len(found) >= 20, sorted(found)


def test_booleans_and_numbers_of_json_bodies_refuse_other_json_types(doc, client, make_user, login):
    headers = [login(make_user(role, region)) for role, region in ROLES]
    checked = 0
    for method, path, where, kind in _cases(doc):
        url = path.replace("{", "").replace("}", "")
        url = "/".join(SOME_ID if part.endswith("_id") else part for part in url.split("/"))
        for value in WRONG[kind]:
            for auth in headers:
                r = client.open(url, method=method, json=_body(where, value), headers=auth)
                if r.status_code not in (401, 403):
                    break
            where_text = ".".join(map(str, where))
            assert r.status_code == 422, \
                f"{method} {path} {where_text}={value!r}: {r.status_code} {r.get_data(as_text=True)[:300]}"
            error = assert_error(r, 422)
            if error["code"] == "VALIDATION_ERROR":
                assert _errors_at(error["details"], where), (method, path, where_text, error)
            else:  # a checklist or questionnaire, validated by the checklists library: its problems name paths
                assert {p["path"] for p in error["details"]["problems"]} >= {_content_path(where)}, error
            checked += 1
    assert checked >= 150


@pytest.fixture(scope="module")
def doc():
    from inspect_api.app import create_app

    return create_app("testing").test_client().get("/api/v1/openapi.json").get_json()
