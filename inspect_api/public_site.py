"""What every public page (``/p/...``) shares, whichever package renders it.

* :func:`page_qr`: the QR code of a page's own absolute URL (the footer of
  ``public/base.html`` shows it; error pages have none);
* :class:`BadParam` and :func:`int_arg`: query parameters checked with a
  Chinese message that names the field as the reader sees it (页码, 检查期间),
  never the parameter's name;
* :func:`error_page`: the Chinese 400/404 page, without a QR code of itself.

New public pages extend ``public/base.html``, use ``static/public.css`` and
these helpers, so they look and behave like the rest of the site.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import render_template, request
from markupsafe import Markup

from inspect_api import qrcodes
from inspect_api.urls import public_base_url

#: Public pages show live rectification status: browsers always revalidate.
HEADERS = {"Cache-Control": "no-cache"}
MAX_PAGE = 100000


class BadParam(Exception):
    """A query parameter a page cannot use: ``name`` (the parameter), ``label`` (its Chinese name on the page)
    and ``message`` (a Chinese sentence that starts with the label)."""

    def __init__(self, name: str, label: str, message: str):
        super().__init__(message)
        self.name = name
        self.label = label
        self.message = message


def page_qr(path: str, params: dict | None = None) -> Markup:
    """The QR code of ``path`` (with the non-empty ``params``) as an absolute public URL."""
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return qrcodes.svg(f"{public_base_url()}{path}" + (f"?{query}" if query else ""))


def int_arg(name: str, label: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``low..high`` (``default`` when absent or empty)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not low <= int(raw) <= high:
        raise BadParam(name, label, f"{label}应为 {low}–{high} 之间的整数，收到的是“{raw[:20]}”")
    return int(raw)


def page_number() -> int:
    return int_arg("page", "页码", 1, 1, MAX_PAGE)


def error_page(status: int, title: str, message: str, **context):
    """The public error page (400/404) in Chinese; it carries no QR code (nothing there is worth sharing)."""
    return render_template("public/error.html", status=status, title=title, message=message, **context), status, \
        HEADERS


def bad_param_page(exc: BadParam):
    return error_page(400, "请求参数有误", exc.message)
