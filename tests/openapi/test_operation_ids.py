"""Every operation has an explicit, unique, camelCase ``operationId`` declared on its route.

Generated clients name their functions after operationIds; without them the
names follow paths and change when a path does.  A new route without one fails
here with the line to add.
"""

from __future__ import annotations

import re

from flask_smorest.spec.plugins import FlaskPlugin

from tests.openapi.document import operations

OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]{2,63}$")


def _views(app) -> dict[tuple[str, str], str]:
    """(METHOD, OpenAPI path) → ``module.function`` of the view that serves it."""
    out = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out[(method, FlaskPlugin.flaskpath2openapi(rule.rule))] = f"{view.__module__}.{view.__name__}"
    return out


def _suggestion(method: str, path: str) -> str:
    """A camelCase name from the method and the path's literal segments, as a starting point."""
    verb = {"GET": "get", "POST": "create", "PUT": "set", "PATCH": "update", "DELETE": "delete"}[method]
    words = [w for seg in path.removeprefix("/api/v1/").split("/") if not seg.startswith("{")
             for w in re.split(r"[^A-Za-z0-9]+", seg) if w]
    return verb + "".join(w[:1].upper() + w[1:] for w in words)


def test_every_operation_has_a_unique_meaningful_operation_id(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    views = _views(app)
    problems, seen = [], {}
    for method, path, op in operations(doc):
        where = views.get((method, path), "?")
        op_id = op.get("operationId")
        if not op_id:
            problems.append(f"{method} {path} ({where}) has no operationId: add "
                            f"@blp.doc(operationId=\"{_suggestion(method, path)}\") right under its @blp.route "
                            "(a stable verbNoun name; clients are generated from it)")
        elif not OPERATION_ID.match(op_id):
            problems.append(f"{method} {path} ({where}): operationId {op_id!r} is not lowerCamelCase")
        elif op_id in seen:
            problems.append(f"{method} {path} ({where}): operationId {op_id!r} is already used by {seen[op_id]}; "
                            "choose a distinct name")
        else:
            seen[op_id] = f"{method} {path}"
    assert not problems, "\n".join(problems)


def test_the_phone_operations_keep_their_names(app):
    """Names the mobile clients are built on; renaming one breaks every generated client."""
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    names = {op["operationId"]: (method, path) for method, path, op in operations(doc)}
    assert names["login"] == ("POST", "/api/v1/auth/login")
    assert names["listMyAssignments"] == ("GET", "/api/v1/me/assignments")
    assert names["getAssignmentBundle"] == ("GET", "/api/v1/assignments/{assignment_id}/bundle")
    assert names["checkIn"] == ("POST", "/api/v1/inspections/{inspection_id}/check-in")
    assert names["syncResponses"] == ("PUT", "/api/v1/inspections/{inspection_id}/responses")
    assert names["uploadInspectionPhoto"] == ("POST", "/api/v1/inspections/{inspection_id}/photos")
    assert names["uploadSignature"] == ("POST", "/api/v1/inspections/{inspection_id}/signatures")
    assert names["submitInspection"] == ("POST", "/api/v1/inspections/{inspection_id}/submit")
    assert names["getInspectionReport"] == ("GET", "/api/v1/inspections/{inspection_id}/report")
    assert names["listInstitutions"] == ("GET", "/api/v1/institutions")
    assert names["listRectificationOrders"] == ("GET", "/api/v1/rectifications")
    assert names["answerFinding"] == ("POST", "/api/v1/rectifications/{order_id}/findings/{finding_id}/answer")
