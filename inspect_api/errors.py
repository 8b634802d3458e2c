"""The single error shape of the API and the domain exceptions behind it.

Every error answers ``{"error": {"code", "message", "details"}}``: a stable
upper-case code for programs, a Chinese message for people, never a stack
trace.  Services raise :class:`DomainError` subclasses; they know no HTTP
beyond the status class each error maps to.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the caller can act on; ``status`` says which HTTP class it maps to."""

    status = 400
    code = "BAD_REQUEST"
    message = "请求无效"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        if status is not None:
            self.status = status
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(DomainError):
    status, code, message = 400, "BAD_REQUEST", "请求无效"


class Unauthorized(DomainError):
    status, code, message = 401, "UNAUTHORIZED", "未登录或登录已失效"


class Forbidden(DomainError):
    status, code, message = 403, "FORBIDDEN", "没有执行此操作的权限"


class NotFound(DomainError):
    status, code, message = 404, "NOT_FOUND", "资源不存在"


class Conflict(DomainError):
    status, code, message = 409, "CONFLICT", "与当前状态冲突"


class PayloadTooLarge(DomainError):
    status, code, message = 413, "PAYLOAD_TOO_LARGE", "上传内容过大"


class UnsupportedMediaType(DomainError):
    status, code, message = 415, "UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"


class Unprocessable(DomainError):
    status, code, message = 422, "UNPROCESSABLE", "请求内容无法处理"


_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "请求无效"),
    401: ("UNAUTHORIZED", "未登录或登录已失效"),
    403: ("FORBIDDEN", "没有执行此操作的权限"),
    404: ("NOT_FOUND", "资源不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    406: ("NOT_ACCEPTABLE", "无法提供所请求的格式"),
    409: ("CONFLICT", "与当前状态冲突"),
    412: ("PRECONDITION_FAILED", "前置条件不满足"),
    413: ("PAYLOAD_TOO_LARGE", "上传内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
    422: ("VALIDATION_ERROR", "请求参数校验失败"),
    428: ("PRECONDITION_REQUIRED", "缺少前置条件"),
    429: ("TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试"),
    500: ("INTERNAL_ERROR", "服务器内部错误，请稍后再试"),
    503: ("SERVICE_UNAVAILABLE", "服务暂不可用"),
}

# marshmallow / webargs messages, translated for people.
_FIELD_MESSAGES = {
    "Missing data for required field.": "缺少必填字段",
    "Unknown field.": "不允许的字段",
    "Field may not be null.": "字段不能为空",
    "Not a valid string.": "应为字符串",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为布尔值",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Invalid input type.": "输入类型无效",
    "Not a valid datetime.": "应为 ISO 8601 日期时间",
    "Not a valid date.": "应为 ISO 8601 日期",
    "Not a valid UUID.": "应为 UUID",
    "Not a valid email address.": "邮箱格式无效",
    "Invalid value.": "取值无效",
    "Invalid JSON body.": "JSON 格式错误",
    "Shorter than minimum length {min}.": "长度不足",
}


def translate_messages(messages: Any) -> Any:
    """Recursively translate known marshmallow messages to Chinese."""
    if isinstance(messages, dict):
        return {str(k): translate_messages(v) for k, v in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [translate_messages(m) for m in messages]
    if isinstance(messages, str):
        if messages in _FIELD_MESSAGES:
            return _FIELD_MESSAGES[messages]
        if messages.startswith("Must be one of"):
            return "取值不在允许范围内：" + messages.split(":", 1)[-1].strip()
        if messages.startswith("Length must be") or messages.startswith("Shorter than") or messages.startswith("Longer than"):
            return "长度不符合要求（" + messages + "）"
        if messages.startswith("Must be greater") or messages.startswith("Must be less"):
            return "数值超出范围（" + messages + "）"
        return messages
    return messages


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None):
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(exc: HTTPException):
    """Render any werkzeug/flask-smorest HTTP error in the single shape."""
    status = exc.code or 500
    code, message = _HTTP_CODES.get(status, ("HTTP_%d" % status, "请求失败"))
    details: dict[str, Any] = {}
    data = getattr(exc, "data", None) or {}
    if status in (400, 422) and "messages" in data:
        messages = data["messages"]
        if status == 400 and any("Invalid JSON body." in str(v) for v in messages.values()):
            code, message = "MALFORMED_JSON", "请求体不是合法的 JSON"
        details = {"fields": translate_messages(messages)}
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        retry = getattr(exc, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(int(retry))
    return error_response(status, code, message, details, headers)


def handle_domain_error(exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    code, message = _HTTP_CODES[500]
    return error_response(500, code, message)


def handle_duplicate_key(exc: Exception):
    """Safety net: a unique index refused a write that no service turned into its own answer (409, never 500).

    Services answer duplicates themselves where the write is idempotent (the first result) or has a
    specific code; this catches a race nobody foresaw, e.g. two requests creating the same thing at once.
    """
    log.warning("duplicate key on %s %s: %s", request.method, request.path, str(exc).split(", full error")[0][:300])
    return error_response(409, "DUPLICATE", "记录已存在（可能与并发提交的请求重复），请刷新后重试")


def _bulk_write_error(exc: Exception):
    """A bulk write refused only for duplicate keys (code 11000) is a 409; anything else stays a 500."""
    errors = (getattr(exc, "details", None) or {}).get("writeErrors") or []
    if errors and all(e.get("code") == 11000 for e in errors):
        return handle_duplicate_key(exc)
    return handle_unexpected(exc)


def handle_database_unavailable(exc: Exception):
    """The database does not answer (down, failing over, unreachable): 503 in the error shape.

    pymongo reconnects by itself, so the next request after the server is back succeeds.
    """
    log.error("database unavailable on %s %s: %s", request.method, request.path, str(exc).split("\n")[0][:300])
    return error_response(503, "DATABASE_UNAVAILABLE", "数据库暂时无法访问，请稍后再试", headers={"Retry-After": "5"})


def register_error_handlers(app: Flask) -> None:
    from mongoengine.errors import NotUniqueError
    from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError

    app.register_error_handler(NotUniqueError, handle_duplicate_key)
    app.register_error_handler(DuplicateKeyError, handle_duplicate_key)
    app.register_error_handler(BulkWriteError, _bulk_write_error)
    # ConnectionFailure covers AutoReconnect, NetworkTimeout and ServerSelectionTimeoutError.
    app.register_error_handler(ConnectionFailure, handle_database_unavailable)
    app.register_error_handler(ServerSelectionTimeoutError, handle_database_unavailable)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
