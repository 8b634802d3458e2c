"""Flask extensions, created once and bound in :func:`inspect_api.app.create_app`."""

from __future__ import annotations

import flask_smorest
from flask import current_app
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from inspect_api.apidoc import ContractMarshmallowPlugin, ContractPlugin, conditional_get, rate_limited
from inspect_api.errors import handle_http_exception
from inspect_api.public_cache import cached
from inspect_api.schemas import ErrorSchema


class InspectApi(Api):
    """flask-smorest Api whose HTTP errors use (and document) the project's single error shape, and whose
    document is completed by :class:`~inspect_api.apidoc.ContractPlugin` (errors, headers, pages, enums)."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, *args, **kwargs):
        kwargs["marshmallow_plugin"] = ContractMarshmallowPlugin()
        kwargs["extra_plugins"] = [*(kwargs.get("extra_plugins") or ()), ContractPlugin()]
        super()._init_spec(*args, **kwargs)

    def _register_pagination_header(self):
        """Lists carry their page in the body (``PageInfo``); flask-smorest's pagination header is not used."""

    def handle_http_exception(self, error):  # noqa: D102 - see class docstring
        return handle_http_exception(error)


class MultipartParser(FlaskParser):
    """``form`` arguments also see the request's files, so a multipart form's file part is a field of the same
    schema as its other parts: validated (``FilePart``, required or not) and documented with them."""

    def load_form(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint whose forms carry their files (for routes taking multipart uploads)."""

    ARGUMENTS_PARSER = MultipartParser()


jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, default_limits=[])


def _public_limit() -> str:
    return current_app.config["INSPECT"].get("public_rate_limit") or "300 per minute"


# One budget per client IP shared by every public page and open-data endpoint.
_public_budget = limiter.shared_limit(_public_limit, scope="public")


def public_uncached(view):
    """A public view that is not the same for every reader (a device cookie, a per-page permission): the
    shared per-IP budget only (documented as rate limited), no server-side cache."""
    return rate_limited(_public_budget(view))


def public_endpoint(view):
    """A public GET view: the shared per-IP budget first, then the short server-side cache (which sends an
    ETag with every 200 and answers a matching If-None-Match with 304)."""
    return conditional_get(rate_limited(_public_budget(cached(view))))
