"""Flask extensions, created once and bound in :func:`inspect_api.app.create_app`."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import flask_smorest
import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended.config import config as jwt_config
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
import jwt as pyjwt
from marshmallow import ValidationError
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from inspect_api.apidoc import ContractMarshmallowPlugin, ContractPlugin, conditional_get, rate_limited
from inspect_api.errors import handle_http_exception
from inspect_api.public_cache import cached
from inspect_api.schemas import ErrorSchema, json_type_errors


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


def loads_json(text: str | bytes):
    """``json.loads``, where a body nested deeper than the parser can follow, or a number with more digits
    than Python converts, is malformed JSON (``JSONDecodeError``: 400) like any other, not an internal error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "?", 0) from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError(str(exc), "?", 0) from None


_COMPACT = {"separators": (",", ":")}
# Types orjson would encode otherwise than Flask does: handed to Flask's ``default`` (HTTP dates, dataclasses).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON as the API sends it: UTF-8 text unescaped, keys in the order they were built.  Request
    bodies are read through :func:`loads_json`; compact JSON (every response, and :meth:`compact`) is written
    with orjson: the same text as the standard library's, several times faster on the nested lists the API sends.

    What orjson refuses (integers past 64 bits, keys that are not text, nesting past 254 levels, unpaired
    surrogates, types Flask's ``default`` does not know) is encoded by the standard library as before, and so
    is every other form (indented, sorted, ASCII-only).  Floats are written in their shortest form (``1e16``, not
    ``1e+16``); NaN and the infinities, which are not JSON, become ``null``."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):  # noqa: D102 - see class docstring
        return loads_json(s) if not kwargs else super().loads(s, **kwargs)

    def dumps(self, obj, **kwargs):  # noqa: D102 - see class docstring
        if kwargs != _COMPACT or self.ensure_ascii or self.sort_keys:
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=_ORJSON_OPTIONS).decode("utf-8")
        except (orjson.JSONEncodeError, TypeError):
            return super().dumps(obj, **kwargs)

    def compact(self, obj) -> str:
        """``obj`` as the compact JSON a response carries (see the class docstring)."""
        return self.dumps(obj, **_COMPACT)


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser, held to the document: a JSON body's booleans and numbers must have those JSON
    types (422 naming the field, as any invalid value), not text or 0/1 that marshmallow would convert; a body
    too deeply nested or with a number too long to convert is malformed JSON (400), as in :func:`loads_json`; and
    ``form`` arguments also see the request's files, so a multipart form's file part is a field of the same
    schema as its other parts: validated (``FilePart``, required or not) and documented with them."""

    def load_form(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        data = req.get_data(cache=True)
        try:
            return loads_json(data.decode("utf-8"))
        except UnicodeDecodeError as exc:  # as webargs' own parse_json reports it
            raise json.JSONDecodeError(f"Bytes decoding error : {exc.reason}", doc=str(exc.object),
                                       pos=exc.start) from exc

    def pre_load(self, location_data, *, schema, req, location):  # noqa: D102 - see class docstring
        if location == "json":
            errors = json_type_errors(schema, location_data)
            if errors:
                raise ValidationError(errors)
        return location_data


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint whose forms carry their files (for routes taking multipart uploads), and whose
    argument schemas are built once, when the route is declared (webargs builds a schema given as a class
    again for every request)."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema, *args, **kwargs):  # noqa: D102 - see class docstring
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class VerifiedTokenJWTManager(JWTManager):
    """flask-jwt-extended whose verified access tokens are remembered per process until they expire.

    Every authenticated request presents the same token for its lifetime; verifying it (base64 and HMAC
    through PyJWT, twice per request in flask-jwt-extended) cost more than the rest of a small request.
    A token is only remembered after the library accepted it, under its exact text and the verifying key
    and options; a remembered token is returned only while its ``exp``/``nbf``/``iat`` still hold as PyJWT
    checks them, else the library decides (and raises its own errors).  The user, token version and
    session are still checked on every request by the user loader.

    A remembered token's header is remembered too: after verifying, the library parses the header of the
    token once more on every request (:func:`remembered_header`), and PyJWT 2.15 checks every character of
    the whole token in Python to do it (70 us a request here).
    """

    MAX_TOKENS = 4096

    def __init__(self, app=None, add_context_processor: bool = False) -> None:
        self._verified: dict[tuple, dict] = {}
        self._headers: dict[str, dict] = {}
        self._verified_lock = threading.Lock()
        super().__init__(app, add_context_processor)

    def header_of(self, encoded_token: str) -> dict | None:
        """The header of a token this process verified and remembers (a copy), else None."""
        header = self._headers.get(encoded_token)
        return dict(header) if header is not None else None

    @staticmethod
    def _still_valid(claims: dict, leeway: float) -> bool:
        now = datetime.now(tz=timezone.utc).timestamp()  # PyJWT's clock, so a frozen clock in tests agrees
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        return (isinstance(exp, (int, float)) and exp > now - leeway
                and (nbf is None or nbf <= now + leeway) and (iat is None or iat <= now + leeway))

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if csrf_value or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        leeway = jwt_config.leeway
        key = (encoded_token, jwt_config.decode_key, tuple(jwt_config.decode_algorithms), leeway,
               str(jwt_config.decode_audience), jwt_config.decode_issuer, jwt_config.verify_sub)
        claims = self._verified.get(key)
        if claims is not None and self._still_valid(claims, leeway):
            return dict(claims)
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if "exp" in claims:  # only tokens that end are remembered
            header = pyjwt.get_unverified_header(encoded_token)  # a pure function of the token's text
            with self._verified_lock:
                if len(self._verified) >= self.MAX_TOKENS:
                    self._verified.clear()
                    self._headers.clear()
                self._verified[key] = dict(claims)
                self._headers[encoded_token] = header
        return claims


def remembered_header(encoded_token: str) -> dict:
    """flask-jwt-extended's ``get_unverified_jwt_headers`` for its request check, which calls it right after
    the token was verified: the remembered header of a token verified before, else the library's own parse."""
    header = jwt.header_of(encoded_token)
    return header if header is not None else _library_header(encoded_token)


_library_header = view_decorators.get_unverified_jwt_headers
view_decorators.get_unverified_jwt_headers = remembered_header


jwt = VerifiedTokenJWTManager()
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
