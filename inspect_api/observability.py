"""Request ids, JSON logs, Prometheus metrics, security headers and CORS.

Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else
a new one) that is logged with each line and returned in the response header.
Metrics live in a private registry served at ``/metrics``, only to configured
scrapers (:func:`is_scraper`: the ``metrics_bearer_token`` or an address in
``metrics_allow_from``; neither configured = closed, 403).  Under gunicorn
each worker is a process with its own registry, so when
``PROMETHEUS_MULTIPROC_DIR`` is set (the compose stack sets it for the API)
every process writes its samples to files in that directory and ``/metrics``
aggregates all of them with ``MultiProcessCollector``: one scrape sees every
worker.  The directory must be emptied before the server starts (gunicorn's
``on_starting`` hook does it) and dead workers are marked by ``child_exit``
(``deploy/gunicorn.conf.py``).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pythonjsonlogger.json import JsonFormatter

from inspect_api.errors import Forbidden

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_DIR_ENV):  # multiprocess mode writes a file per process there from the first metric on
    os.makedirs(os.environ[MULTIPROC_DIR_ENV], exist_ok=True)

REGISTRY = CollectorRegistry()
REQUEST_LATENCY = Histogram("inspect_http_request_seconds", "HTTP request latency by endpoint",
                            ["method", "endpoint", "status"], registry=REGISTRY,
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SWEEP_DURATION = Histogram("inspect_sweep_seconds", "Escalation sweep duration", registry=REGISTRY,
                           buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120))
NOTIFICATION_FAILURES = Counter("inspect_notification_delivery_failures_total",
                                "Notification deliveries that failed", ["channel"], registry=REGISTRY)
PHOTO_PIPELINE = Histogram("inspect_photo_pipeline_seconds", "Photo pipeline time per upload", registry=REGISTRY,
                           buckets=(0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5))


def metrics_registry() -> CollectorRegistry:
    """What to expose: every process's samples in multiprocess mode, else this process's registry."""
    if os.environ.get(MULTIPROC_DIR_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _scraper_networks(entries) -> tuple:
    """``metrics_allow_from`` as networks (an address is a /32 or /128); a bad entry stops the start."""
    from inspect_api.config import ConfigError

    networks = []
    for entry in entries or []:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ConfigError(f"metrics_allow_from: {entry!r} is not an IP address or network") from None
    return tuple(networks)


def is_scraper() -> bool:
    """Is the caller a configured metrics scraper (bearer token, or an allowed client address)?"""
    cfg = current_app.config["INSPECT"]
    token = str(cfg.get("metrics_bearer_token") or "")
    presented = request.headers.get("Authorization", "")
    if token and presented.startswith("Bearer ") and hmac.compare_digest(
            presented[len("Bearer "):].strip().encode(), token.encode()):
        return True
    networks = current_app.extensions.get("inspect_scraper_networks") or ()
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def configure_logging(level: str, json_logs: bool) -> None:
    """Root logging: JSON lines with the request id (or plain text for development)."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    if json_logs:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                           rename_fields={"asctime": "time", "levelname": "level"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask, cors_origins: list[str]) -> None:
    allowed = set(cors_origins or [])
    app.extensions["inspect_scraper_networks"] = _scraper_networks(app.config["INSPECT"].get("metrics_allow_from"))

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        if request.method == "OPTIONS" and request.headers.get("Origin") in allowed:
            return Response(status=204)
        return None

    latency_series: dict[tuple[str, str, int], Any] = {}  # labelled histogram children, looked up once each

    @app.after_request
    def _finish(response: Response) -> Response:
        req = request._get_current_object()  # one context look-up, not one per attribute
        ctx = g._get_current_object()
        headers = response.headers
        headers["X-Request-ID"] = getattr(ctx, "request_id", "-")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            for key, value in HTML_SECURITY_HEADERS.items():
                headers.setdefault(key, value)
        origin = req.headers.get("Origin")
        if origin and origin in allowed:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Origin"]))
            headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, If-None-Match, X-Request-ID"
            headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            headers["Access-Control-Expose-Headers"] = "ETag, X-Request-ID, Retry-After"
            headers["Access-Control-Max-Age"] = "600"
        started = getattr(ctx, "request_started", None)
        if started is not None:
            key = (req.method, req.url_rule.rule if req.url_rule is not None else "unmatched", response.status_code)
            series = latency_series.get(key)
            if series is None:
                series = latency_series[key] = REQUEST_LATENCY.labels(key[0], key[1], str(key[2]))
            series.observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        if not is_scraper():
            raise Forbidden("监控指标仅向已配置的采集端开放（令牌或地址白名单）", code="SCRAPER_ONLY")
        return Response(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})
