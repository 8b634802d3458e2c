"""Every response the test suite sees is checked against the operation's documented response.

Installed on every test app (``tests/conftest.py``: ``app_factory``; the authz
and fuzz apps too) as an ``after_request`` hook, so it sees test-client calls
and live loopback servers alike.  For a request that matched a documented
operation it checks: the status is documented for that operation; a body has
a documented media type; a JSON body validates against the documented schema
(formats included: ``date-time``, ``date``, ``uuid`` ...); an error's code is
one the operation lists for that status (``x-error-codes``); an ``ETag`` is
sent only where the response declares it.  Mismatches are collected and the
autouse fixture in ``tests/conftest.py`` fails the test that caused them.

Validators are compiled once per (operation, status, media type) and process.
"""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

import jsonschema_rs
from flask import Flask, Response, current_app, request
from flask_smorest.spec.plugins import FlaskPlugin

from inspect_api.schemas import DUMPED_CHECK

JSON_TYPES = ("application/json",)
violations: list[str] = []
_lock = threading.Lock()
_state: dict[str, Any] = {"doc": None, "validators": {}, "views": {}}


def install(app: Flask) -> Flask:
    """Check every response of ``app`` against its document (see the module docstring), and every body a view
    sends as already dumped against its schema's dump."""
    if _state["doc"] is None:
        _state["doc"] = app.extensions["inspect_api_spec"].spec.to_dict()
    app.after_request(_check)
    app.extensions[DUMPED_CHECK] = _check_dumped
    return app


def _check_dumped(schema, data, source=None) -> None:
    """A body built in its schema's dumped form (``inspect_api.schemas.already_dumped``) is what the schema's
    dump of it (or of the object it was built from) would be: the same keys, values and types."""
    again = schema.dump(data if source is None else source)
    if again != data or _types(again) != _types(data):
        _record(f"{request.method} {request.path} ({_view_name()}): the body sent as already dumped differs "
                f"from {type(schema).__name__}'s dump of {'it' if source is None else 'its source'}")


def _types(value) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def take_violations() -> list[str]:
    """The mismatches seen since the last call (and forget them)."""
    with _lock:
        found = list(violations)
        violations.clear()
    return found


def _record(message: str) -> None:
    with _lock:
        violations.append(message)


def _validator(key: tuple, schema: dict[str, Any]):
    validator = _state["validators"].get(key)
    if validator is None:
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
                "components": _state["doc"]["components"]}
        validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
        _state["validators"][key] = validator
    return validator


def _view_name() -> str:
    view = current_app.view_functions.get(request.endpoint)
    return f"{view.__module__}.{view.__name__}" if view else request.endpoint or "?"


def _check(response: Response) -> Response:
    rule = request.url_rule
    if rule is None or request.method in ("HEAD", "OPTIONS"):
        return response
    path = FlaskPlugin.flaskpath2openapi(rule.rule)
    operation = (_state["doc"]["paths"].get(path) or {}).get(request.method.lower())
    if operation is None:
        return response  # not an API operation (public pages, ops, the document itself)
    where = f"{request.method} {path} ({operation.get('operationId')}, {_view_name()})"
    try:
        _check_response(where, operation, response)
    except Exception as exc:  # noqa: BLE001 - a checker bug is reported, never turned into a 500
        _record(f"{where}: the contract check failed: {exc!r}")
    return response


def _check_response(where: str, operation: dict[str, Any], response: Response) -> None:
    status = str(response.status_code)
    documented = operation["responses"].get(status)
    if documented is None:
        hint = (f" declare it with @raises({status}, \"CODE\")" if response.status_code >= 400
                else " document it with @blp.response / @blp.alt_response")
        _record(f"{where}: answered {status}, which is not documented;{hint}")
        return
    if "ETag" in response.headers and "ETag" not in documented.get("headers", {}):
        _record(f"{where}: sends ETag on {status} without declaring it (mark the route @conditional_get)")
    if response.is_streamed or response.direct_passthrough or response.status_code in (204, 304):
        return  # werkzeug sends no body with 204 and 304, whatever the view returned
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    content = documented.get("content") or {}
    if not body:
        return
    if not content:
        _record(f"{where}: answered {status} with a body, but the response documents none")
        return
    mimetype = response.mimetype
    if mimetype not in content:
        _record(f"{where}: answered {status} as {mimetype}; documented: {sorted(content)}")
        return
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        return  # JSON and its structured suffixes (application/geo+json) are validated; other bodies are bytes
    try:
        data = json.loads(body)
    except ValueError:
        _record(f"{where}: answered {status} with a body that is not JSON")
        return
    schema = content[mimetype].get("schema")
    if schema:
        errors = list(_validator((where, status, mimetype), schema).iter_errors(data))
        for error in errors[:5]:
            location = "/".join(str(p) for p in error.instance_path) or "(root)"
            _record(f"{where}: {status} body at {location}: {error.message}")
    if response.status_code >= 400 and isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
        declared = documented.get("x-error-codes") or []
        if code not in declared:
            _record(f"{where}: answered {status} {code}, which the operation does not list: add "
                    f"@raises({status}, \"{code}\") to the route")
