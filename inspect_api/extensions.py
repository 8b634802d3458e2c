"""Flask extensions, created once and bound in :func:`inspect_api.app.create_app`."""

from __future__ import annotations

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api

from inspect_api.errors import handle_http_exception
from inspect_api.public_cache import cached
from inspect_api.schemas import ErrorSchema


class InspectApi(Api):
    """flask-smorest Api whose HTTP errors use (and document) the project's single error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):  # noqa: D102 - see class docstring
        return handle_http_exception(error)


jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, default_limits=[])


def _public_limit() -> str:
    return current_app.config["INSPECT"].get("public_rate_limit") or "300 per minute"


# One budget per client IP shared by every public page and open-data endpoint.
_public_budget = limiter.shared_limit(_public_limit, scope="public")


def public_uncached(view):
    """A public view that is not the same for every reader (a device cookie, a per-page permission): the
    shared per-IP budget only, no server-side cache."""
    return _public_budget(view)


def public_endpoint(view):
    """A public GET view: the shared per-IP budget first, then the short server-side cache."""
    return _public_budget(cached(view))
