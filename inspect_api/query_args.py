"""Query strings: parameters an endpoint does not read are refused; an empty value means "not given".

Every endpoint declares the query parameters it reads: flask-smorest views
through their query schemas (``@blp.arguments(Schema, location="query")``;
an endpoint often has two, its filters and ``PageArgsSchema``, so the check
is made here over their union rather than by each schema), plain views (the
public HTML pages, operations) with :func:`accepts_query`.  Anything else in
the query string answers 422 naming the parameters, on public endpoints too
(after authentication on views that need a login, before anything else on
public ones),
so that an operator-like key (``region[$ne]=``) or a typo is never silently
ignored and junk parameters cannot multiply public cache entries.  Public
HTML pages answer with their Chinese error page and a link to the page
without the refused parameters.  Static files take no input and are exempt.

A value holding a C0 control character is refused the same way (as in
every text field of a body, see ``inspect_api.schemas.StrictSchema``).  A
parameter given empty (``?period=``, which an HTML form sends for "any") is
dropped before parsing: an empty filter means no filter.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode

from flask import Flask, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from inspect_api.errors import Unprocessable
from inspect_api.public_site import error_page
from inspect_api.schemas import control_character_error

EXTENSION_KEY = "inspect_query_params"


def accepts_query(*names: str) -> Callable:
    """Declare the query parameters a plain (non flask-smorest) view reads."""

    def decorate(view):
        view._query_params = frozenset(names)  # type: ignore[attr-defined]
        return view

    return decorate


class _AnyName(frozenset):
    """Every name: the query parameters of a front-end shell page (its script reads them, the API it calls
    validates them)."""

    def __contains__(self, name: object) -> bool:
        return True


ANY = _AnyName()


def accepts_any_query(view):
    """Declare a front-end shell page: any query parameter is passed to its script (control characters are
    still refused)."""
    view._query_params = ANY  # type: ignore[attr-defined]
    return view


def _schema_names(schema) -> set[str]:
    instance = schema() if isinstance(schema, type) else schema
    return {field.data_key or name for name, field in instance.fields.items() if not field.dump_only}


def declared_params(view) -> frozenset[str]:
    """The query parameters ``view`` reads (none unless declared)."""
    declared = getattr(view, "_query_params", None)
    if declared is not None:
        return declared
    params = ((getattr(view, "_apidoc", None) or {}).get("arguments") or {}).get("parameters") or []
    names: set[str] = set()
    for param in params:
        if param.get("in") == "query":
            names |= _schema_names(param["schema"])
    return frozenset(names)


def _is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def _refusal_page(refused: list[str], message: str):
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in refused]
    clean = request.path + ("?" + urlencode(kept) if kept else "")
    return error_page(422, "链接参数有误", message, link=clean, link_text="打开不带这些参数的本页面")


def check_query() -> object | None:
    """Drop empty values and refuse undeclared parameters (422) of the current request's view."""
    if request.url_rule is None or not request.args or _is_static(request.endpoint or ""):
        return None
    known = current_app.extensions[EXTENSION_KEY]
    allowed = known.get(request.endpoint)
    if allowed is None:  # a view registered after start: read its declaration once
        allowed = known[request.endpoint] = declared_params(current_app.view_functions[request.endpoint])
    unknown = sorted({key for key in request.args if key not in allowed})
    if unknown:
        if request.path.startswith("/p/"):
            return _refusal_page(unknown, f"链接中含有本页面不使用的参数：{'、'.join(unknown)}。")
        raise Unprocessable(f"不支持的查询参数：{'、'.join(unknown)}", code="VALIDATION_ERROR",
                            details={"fields": {"query": {key: ["不允许的字段"] for key in unknown}}})
    bad = {key: control_character_error(value) for key, value in request.args.items(multi=True)
           if control_character_error(value)}
    if bad:
        if request.path.startswith("/p/"):
            return _refusal_page(sorted(bad), f"参数 {'、'.join(sorted(bad))} 含有控制字符。")
        raise Unprocessable(f"查询参数 {'、'.join(sorted(bad))} 含有控制字符", code="VALIDATION_ERROR",
                            details={"fields": {"query": {key: [message] for key, message in bad.items()}}})
    pairs = list(request.args.items(multi=True))
    given = [(key, value) for key, value in pairs if value != ""]
    if len(given) != len(pairs):
        request.args = ImmutableMultiDict(given)  # werkzeug caches ``args``; every parser reads this copy
    return None


def _check_public() -> object | None:
    """``before_request``: views behind ``login_required`` are checked there, after authentication."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_login_required", False):
        return None
    return check_query()


def init_app(app: Flask) -> None:
    """Call after every blueprint is registered: record each endpoint's parameters, install the check."""
    app.extensions[EXTENSION_KEY] = {endpoint: declared_params(view)
                                     for endpoint, view in app.view_functions.items()}
    app.before_request(_check_public)
