"""A short server-side cache for public pages and open data (anonymous GETs, same for everyone).

A poster's QR code or a published notice can bring many readers at once; each
public response already tells browsers and proxies ``Cache-Control: public,
max-age=60``, so keeping a rendered 200 for a few seconds
(``public_cache_seconds``, 0 turns it off) spares the store.  Entries are
bounded by count and bytes and kept per process (stateless API processes each
keep their own).

A state change must show at once in every process, so entries are keyed by a
*public generation*: one counter document in MongoDB, read once per cached
request (a primary-key read) and bumped by every successful API write that can
change public content (every write except those in ``NO_PUBLIC_EFFECT``:
logins, field work on a phone, drafts, previews) and by an escalation sweep
that applied steps.  A bump in any process makes every process's entries
unreachable; they age out by the LRU bounds and the TTL.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from flask import Response, current_app, request

from inspect_api import db

GENERATION_COLLECTION = "public_generation"
GENERATION_ID = "public"

# Writes that never change what the public site shows (by endpoint); every other successful
# write bumps the generation (a new endpoint invalidates by default).
NO_PUBLIC_EFFECT = frozenset({
    "auth.login", "auth.refresh", "auth.logout", "auth.change_password", "auth.create_user",
    "auth.deactivate_user", "auth.reactivate_user", "auth.reset_password", "notify.mark_read",
    "inspections.create_targeted", "inspections.check_in", "inspections.sync_responses",
    "inspections.upload_photo", "inspections.upload_signature", "rectification.upload_photo",
    "publication.preview", "publication.create_notice", "publication.update_notice",
    "draws.create_plan", "draws.update_plan", "draws.delete_plan",
    "directory.create_conflict", "directory.update_conflict", "directory.delete_conflict", "directory.reissue_qr",
    "calendar.put_overrides",
})


def generation() -> int:
    """The current public generation (0 before the first change)."""
    found = db.database()[GENERATION_COLLECTION].find_one({"_id": GENERATION_ID}, {"n": 1})
    return int(found["n"]) if found else 0


def bump() -> None:
    """Public content changed: every process's cached public responses are stale from now on."""
    db.database()[GENERATION_COLLECTION].update_one({"_id": GENERATION_ID}, {"$inc": {"n": 1}}, upsert=True)

KEPT_HEADERS = ("ETag", "Cache-Control", "Access-Control-Allow-Origin", "Content-Disposition", "Last-Modified")
MAX_ENTRY_BYTES = 1 << 20


@dataclass(frozen=True)
class Entry:
    expires: float
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]


class PublicCache:
    """Rendered 200 responses by URL, each kept for ``ttl`` seconds (LRU within the bounds)."""

    def __init__(self, ttl: float, *, max_entries: int = 512, max_bytes: int = 32 << 20,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_entries, self.max_bytes, self.clock = ttl, max_entries, max_bytes, clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self.clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, response: Response) -> None:
        if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return
        body = response.get_data()
        if len(body) > MAX_ENTRY_BYTES:
            return
        entry = Entry(self.clock() + self.ttl, response.status_code, body, response.content_type or "",
                      tuple((k, response.headers[k]) for k in KEPT_HEADERS if k in response.headers))
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += len(body)
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        self._bytes -= len(self._entries.pop(key).body)


def init_app(app) -> None:
    app.extensions["public_cache"] = PublicCache(float(app.config["INSPECT"].get("public_cache_seconds") or 0))
    app.after_request(_after_write)


def _after_write(response: Response) -> Response:
    """A successful write that may change public content bumps the generation (when caching is on)."""
    cache: PublicCache | None = current_app.extensions.get("public_cache")
    if (cache is not None and cache.ttl > 0 and request.method in ("POST", "PUT", "PATCH", "DELETE")
            and 200 <= response.status_code < 300 and request.endpoint not in NO_PUBLIC_EFFECT):
        bump()
    return response


def _not_modified(etag: str | None) -> bool:
    presented = [t.strip() for t in request.headers.get("If-None-Match", "").split(",") if t.strip()]
    return bool(etag) and (etag in presented or "*" in presented or f"W/{etag}" in presented)


def _response(entry: Entry) -> Response:
    headers = {**dict(entry.headers), "X-Cache": "HIT"}
    if _not_modified(headers.get("ETag")):
        return Response(status=304, headers=headers)
    return Response(entry.body, status=entry.status, headers=headers, content_type=entry.content_type)


def cached(view):
    """A public GET view with a validator and the cache: every 200 carries an ETag (a matching
    If-None-Match answers 304), and is kept for ``public_cache_seconds`` when that is above 0."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache: PublicCache | None = current_app.extensions.get("public_cache")
        use_cache = cache is not None and cache.ttl > 0 and request.method in ("GET", "HEAD")
        if use_cache:
            key = f"{generation()}|{request.url}"
            entry = cache.get(key)
            if entry is not None:
                return _response(entry)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return response
        if "ETag" not in response.headers:
            response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        if use_cache:
            cache.put(key, response)
        if _not_modified(response.headers.get("ETag")):
            return Response(status=304, headers={k: response.headers[k] for k in KEPT_HEADERS
                                                 if k in response.headers})
        return response

    return wrapper
