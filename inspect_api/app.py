"""The Flask application factory."""

from __future__ import annotations

import contextlib
import importlib
import logging
import weakref
from datetime import timedelta
from typing import Any, Mapping

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from inspect_api import db, observability, public_cache, query_args, ratelimit_store, routing, vocabulary
from inspect_api.auth import passwords
from inspect_api.config import load_config
from inspect_api.errors import UnsupportedMediaType, register_error_handlers
from inspect_api.extensions import InspectApi, JsonProvider, jwt, limiter

log = logging.getLogger(__name__)

# One flask-smorest Blueprint per domain area; each module exposes ``blp``.
API_BLUEPRINTS = [
    "inspect_api.calendar.routes",
    "inspect_api.rectification.routes",
    "inspect_api.notify.routes",
    "inspect_api.auth.routes",
    "inspect_api.directory.routes",
    "inspect_api.catalog.routes",
    "inspect_api.evidence.routes",
    "inspect_api.inspections.routes",
    "inspect_api.draws.routes",
    "inspect_api.publication.routes",
    "inspect_api.audit.routes",
    "inspect_api.labels.routes",
    "inspect_api.ledgers.routes",
    "inspect_api.surveys.routes",
    "inspect_api.publication.map_routes",
]
# Plain Flask blueprints (HTML pages, operations) outside the OpenAPI document.
PLAIN_BLUEPRINTS = [
    "inspect_api.ops.routes",
    "inspect_api.frontends.inspector.routes",
    "inspect_api.directory.pages",
    "inspect_api.inspections.pages",
    "inspect_api.draws.pages",
    "inspect_api.publication.pages",
    "inspect_api.frontends.common.pages",
    "inspect_api.frontends.portal.pages",
    "inspect_api.frontends.console.pages",
    "inspect_api.surveys.pages",
    "inspect_api.publication.map_pages",
]

# Idempotent tasks run at every start after indexes exist ("module:function",
# each called with the config dict): regions, shipped checklists and other reference data.
STARTUP_TASKS: list[str] = [
    "inspect_api.directory.regions:ensure_regions",
    "inspect_api.catalog.service:load_shipped_checklists",
    "inspect_api.catalog.service:load_default_matters",
    "inspect_api.catalog.questionnaires:load_shipped_questionnaires",
]

# Request bodies the API understands; anything else on a write is 415.
ACCEPTED_BODY_TYPES = {
    "application/json", "multipart/form-data", "application/x-yaml", "application/yaml", "text/yaml",
    "text/csv", "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


API_TITLE = "Inspect API"
API_TITLE_ZH = "医养结合机构监管 API"
API_DESCRIPTION = (
    "医养结合机构监管 API: the 双随机、一公开 inspection and supervision backend for integrated medical and "
    "elderly-care institutions. Errors always have the shape `{\"error\": {\"code\", \"message\", \"details\"}}`; "
    "each operation lists the codes it can return. Every response carries `X-Request-ID` (send your own to "
    "correlate logs).")


def _flask_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "SECRET_KEY": cfg["secret_key"],
        "MAX_CONTENT_LENGTH": int(cfg["max_request_bytes"]),
        "JSON_AS_ASCII": False,
        # An ASCII title: client generators derive package and type names from it.
        "API_TITLE": API_TITLE,
        "API_VERSION": "v1",
        # 3.1: nullable values are plain JSON Schema (type lists, anyOf with null), as apispec writes them.
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "API_SPEC_OPTIONS": {
            "info": {"description": API_DESCRIPTION, "x-title-zh": API_TITLE_ZH},
            "servers": [{"url": str(cfg["public_base_url"]).rstrip("/"),
                         "description": "this deployment (public_base_url); paths start with /api/v1"}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                               "bearerFormat": "JWT"}}},
        },
        "JWT_SECRET_KEY": cfg["secret_key"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_COOKIE_CSRF_PROTECT": False,  # header tokens only: no random csrf claim (pairs are reproducible)
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=int(cfg["access_token_minutes"])),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=int(cfg["refresh_token_days"])),
        # A moving window: failures either side of a fixed window's edge cannot add up past the limit.
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": bool(cfg.get("rate_limits_enabled", True)),
        "INSPECT": dict(cfg),
    }


FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _body_kinds(app: Flask) -> dict[str, str]:
    """Endpoints whose body flask-smorest parses: 'json' or 'form', from each view's declared arguments."""
    kinds = {}
    for endpoint, view in app.view_functions.items():
        params = ((getattr(view, "_apidoc", None) or {}).get("arguments") or {}).get("parameters") or []
        locations = {p.get("in") for p in params}
        if "json" in locations:
            kinds[endpoint] = "json"
        elif locations & {"files", "form"}:
            kinds[endpoint] = "form"
    return kinds


def _guard_body_type():
    """Refuse writes whose body is not a type the endpoint reads (415, never a 500 or a misleading 422)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return
    kind = current_app.extensions["inspect_body_kinds"].get(request.endpoint)
    if kind == "json":
        accepted = request.is_json
    elif kind == "form":
        accepted = request.mimetype in FORM_TYPES
    else:
        accepted = request.mimetype in ACCEPTED_BODY_TYPES
    if not accepted:
        expected = "multipart/form-data" if kind == "form" else "application/json" if kind == "json" else None
        message = f"请求体类型不受支持，请使用 {expected}" if expected else "请求体类型不受支持"
        raise UnsupportedMediaType(message, code="UNSUPPORTED_MEDIA_TYPE",
                                   details={"content_type": request.mimetype, "expected": expected})


COMMANDS_HEADER = "X-DB-Commands"


def _count_commands_per_request(app: Flask) -> None:
    """Testing only: answer every request with the number of database commands it sent (round-trip budgets)."""
    from flask import g

    def start():
        g.inspect_db_frame = db.start_counting()

    def report(response):
        frame = g.pop("inspect_db_frame", None)
        if frame is not None:
            db.stop_counting(frame)
            response.headers[COMMANDS_HEADER] = str(frame["count"])
        return response

    def end(_exc):
        frame = g.pop("inspect_db_frame", None)
        if frame is not None:
            db.stop_counting(frame)

    app.before_request_funcs.setdefault(None, []).insert(0, start)  # before the limiter and the token checks
    app.after_request_funcs.setdefault(None, []).insert(0, report)  # after_request runs in reverse: this one last
    app.teardown_request(end)


class InspectFlask(Flask):
    """Flask, remembering which views and hooks are plain functions: Flask asks :mod:`inspect` whether each one
    is a coroutine function every time it calls it (ten times a small request here).  They are remembered
    weakly: a hook added for one request (``after_this_request``) is forgotten with it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: weakref.WeakSet = weakref.WeakSet()

    def ensure_sync(self, func):  # noqa: D102 - see class docstring
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # unhashable
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            with contextlib.suppress(TypeError):  # not weakly referenceable: asked each time
                self._plain_functions.add(func)
        return wrapped


class CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, minus building a signing serializer for every request that has no session
    cookie (all API requests: the API never sets one)."""

    def open_session(self, app: Flask, request):  # noqa: D102 - see class docstring
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _middleware_limits(limiter_) -> bool:
    """Does flask-limiter have limits it checks before every request (application, default, blueprint or
    meta limits, or endpoint hints)?  Unknown (another flask-limiter) counts as yes."""
    manager = getattr(limiter_, "limit_manager", None)
    try:
        return bool(manager.application_limits or manager.default_limits or manager._blueprint_limits
                    or manager._endpoint_hints or limiter_._meta_limits)
    except AttributeError:
        return True


def _check_limits_where_declared(app: Flask) -> None:
    """Run flask-limiter's before-request check only while limits that it serves exist.

    Every limit of this app decorates its view and is checked by that decorator; the before-request
    check (a fifth of a small request's time) finds nothing to do, so it is skipped until a limit of
    another kind is configured.
    """
    funcs = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    if check not in funcs:
        return

    def check_request_limit():
        if _middleware_limits(limiter):
            return check()
        return None

    funcs[funcs.index(check)] = check_request_limit


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for ``env`` (default ``INSPECT_ENV``), connecting storage and loading demo data."""
    cfg = load_config(env, overrides)
    observability.configure_logging(cfg.get("log_level", "INFO"), json_logs=bool(cfg.get("json_logs", False)))
    app = InspectFlask("inspect_api")
    app.session_interface = CookieSessions()
    routing.install(app)  # static segments win over parameters (405 / OPTIONS list the real methods)
    app.config.update(_flask_config(cfg))
    app.json = JsonProvider(app)
    app.jinja_env.filters.update(vocabulary.JINJA_FILTERS)
    app.jinja_env.globals["TIME_LABEL"] = vocabulary.TIME_LABEL

    passwords.configure(cfg["argon2_time_cost"], cfg["argon2_memory_cost"], cfg["argon2_parallelism"])
    embedded = db.connect(cfg)
    (log.warning if embedded else log.info)("store: %s", db.describe())
    # Rate-limit counters live in the same store (in the app's database, so a test database drop clears them).
    app.config["RATELIMIT_STORAGE_URI"] = ratelimit_store.storage_uri(db.client_uri())
    if not embedded:
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "database_name": cfg.get("mongodb_db") or "inspect", "counter_collection_name": "ratelimit_counters",
            "window_collection_name": "ratelimit_windows", "serverSelectionTimeoutMS": int(cfg.get("mongodb_timeout_ms") or 5000)}
    jwt.init_app(app)
    limiter.init_app(app)
    _check_limits_where_declared(app)
    if not embedded:
        _close_limiter_storage_at_exit()
    if app.config["RATELIMIT_STORAGE_URI"] == db.MEMORY_URI:
        # In-process counters belong to this app alone (tests build many). Shared counters in
        # MongoDB are never reset here: a worker (re)start must not forgive failed logins.
        limiter.reset()
    hops = int(cfg.get("trusted_proxy_hops") or 0)
    if hops:
        # Behind a load balancer: the client address comes from X-Forwarded-For, trusting only
        # the configured number of proxies, so per-IP limits count clients, not the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    api = InspectApi(app)
    app.extensions["inspect_api_spec"] = api
    register_error_handlers(app)
    observability.init_app(app, cfg.get("cors_origins") or [])
    public_cache.init_app(app)
    app.before_request(_guard_body_type)
    if cfg["env"] == "testing":
        _count_commands_per_request(app)

    for module_name in API_BLUEPRINTS:
        api.register_blueprint(importlib.import_module(module_name).blp)
    for module_name in PLAIN_BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module_name).blp)
    app.extensions["inspect_body_kinds"] = _body_kinds(app)
    query_args.init_app(app)  # undeclared query parameters → 422; empty values mean "not given"

    prepare_store(app, cfg)
    return app


def prepare_store(app: Flask, cfg: Mapping[str, Any]) -> None:
    """Make the connected store ready for ``app``: indexes, shipped reference data (upserts, safe when
    several processes start together) and, when configured, demo data into an empty database."""
    db.ensure_indexes()
    for task in STARTUP_TASKS:
        module_name, func_name = task.split(":")
        getattr(importlib.import_module(module_name), func_name)(cfg)
    if cfg.get("demo_data"):
        from inspect_api.demo import load_demo

        if _database_is_empty():
            app.extensions["inspect_demo_accounts"] = load_demo()
        else:
            log.warning("demo data not loaded: the database already holds data (it is kept as it is)")


_EXIT_HOOK = {"registered": False}


def _close_limiter_storage_at_exit() -> None:
    """Close the rate limiter's MongoDB client while the interpreter is alive: its ``__del__`` would
    otherwise connect during shutdown and print an ignored ImportError after every command."""
    import atexit

    if _EXIT_HOOK["registered"]:
        return
    _EXIT_HOOK["registered"] = True

    def close():
        storage = getattr(limiter, "_storage", None)
        client = getattr(storage, "_storage", None)
        if client is not None:
            client.close()
        elif storage is not None and hasattr(storage, "_storage"):
            storage._storage = _ClosedClient()

    atexit.register(close)


class _ClosedClient:
    """Stands in for a rate-limit client never opened, so closing it at exit does nothing."""

    def close(self) -> None:
        return None


def _database_is_empty() -> bool:
    """No accounts and no institutions: demo data goes only into an empty database."""
    from inspect_api.auth.models import User
    from inspect_api.directory.models import Institution

    return User.objects.limit(1).count(with_limit_and_skip=True) == 0 and \
        Institution.objects.limit(1).count(with_limit_and_skip=True) == 0
