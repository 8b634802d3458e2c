"""Absolute public URLs (QR codes, links in records and notifications)."""

from __future__ import annotations

from flask import current_app


def public_base_url() -> str:
    """The configured ``public_base_url`` without a trailing slash."""
    return str(current_app.config["INSPECT"].get("public_base_url") or "").rstrip("/")


def public_url(path: str) -> str:
    """``path`` (starting with ``/``) made absolute with the public base URL."""
    return public_base_url() + path
