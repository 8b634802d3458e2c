"""Absolute public URLs (QR codes, links in records and notifications)."""

from __future__ import annotations

from flask import current_app, has_request_context, request

FALLBACK_BASE_URL = "http://127.0.0.1:8000"


def public_base_url() -> str:
    """The configured ``public_base_url`` without a trailing slash.

    Empty (development) means the address actually served: ``serve`` fills it in with its
    host and port; otherwise the current request's host, or the default port outside a request.
    """
    configured = str(current_app.config["INSPECT"].get("public_base_url") or "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return FALLBACK_BASE_URL


def public_url(path: str) -> str:
    """``path`` (starting with ``/``) made absolute with the public base URL."""
    return public_base_url() + path
