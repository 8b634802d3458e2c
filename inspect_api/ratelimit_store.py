"""The rate limiter's MongoDB storage, spending as few round trips per request as the limits allow.

``limits``' MongoDB storage reads a moving window with one command, records a
hit with another, and reads the window again for the ``X-RateLimit-*``
headers.  This subclass keeps what it read or wrote during the current request
(in the request's WSGI environ, so nothing outlives the request):

- a hit is a ``findAndModify`` that returns the window it wrote, so the
  headers cost no further command;
- a window read twice in a request (tested, then shown in the headers) is
  read once;
- :func:`read_together` reads the windows of several limits of one view in
  a single command before the limiter tests them (login: per account and per
  address), together with one further keyed read the view needs (login: the
  user, :func:`joined_rows`).

The limits themselves are unchanged: the same moving windows, the same
conditional ``$push`` that refuses a hit past the limit on the server.
"""

from __future__ import annotations

import datetime
import functools
import time
from typing import Callable

from flask import has_request_context, request
from limits import parse
from limits.storage import MongoDBStorage
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from inspect_api import batched, db
from inspect_api.batched import Read

SCHEME_PREFIX = "inspect+"
_ENVIRON_KEY = "inspect.ratelimit_windows"
_JOINED_KEY = "inspect.ratelimit_joined"


def storage_uri(client_uri: str) -> str:
    """The rate limiter's storage URI for a database URI (this module's storage for a wire URI)."""
    return SCHEME_PREFIX + client_uri if client_uri.startswith("mongodb") else client_uri


def _memo() -> dict[str, list[float]] | None:
    """The windows known in this request (key → entries), or None outside a request."""
    if not has_request_context():
        return None
    return request.environ.setdefault(_ENVIRON_KEY, {})


def _window(entries: list[float], expiry: int) -> tuple[float, int]:
    """(start of the moving window, entries in it) as ``limits`` computes them on the server."""
    now = time.time()
    live = [e for e in entries if e >= now - expiry]
    return (min(live), len(live)) if live else (now, 0)


class RequestScopedMongoDBStorage(MongoDBStorage):
    """``limits``' MongoDB storage whose reads and hits within one request share their results (module docstring)."""

    STORAGE_SCHEME = [SCHEME_PREFIX + "mongodb", SCHEME_PREFIX + "mongodb+srv"]

    def __init__(self, uri: str, **options):
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)

    def prefetch(self, keys: list[str], joined: Read | None = None) -> list[dict] | None:
        """Read these windows in one command and keep them for the rest of the request; ``joined``, a keyed
        read of the app's database, goes in the same command and its rows are returned."""
        memo = _memo()
        missing = [k for k in dict.fromkeys(keys) if memo is not None and k not in memo]
        if not missing and joined is None:
            return None
        windows = Read(self.windows.name, {"_id": {"$in": missing}}, projection={"entries": 1}) if missing else None
        if joined is not None and self.windows.database.name == db.database().name:
            rows, joined_rows = batched.read_together(windows, joined)
        else:
            rows = list(self.windows.find(windows.filter, windows.projection)) if windows else []
            joined_rows = None
        found = {doc["_id"]: doc.get("entries") or [] for doc in rows or []}
        for key in missing:
            memo[key] = found.get(key, [])
        return joined_rows

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        memo = _memo()
        if memo is None:
            return super().get_moving_window(key, limit, expiry)
        if key not in memo:
            self.prefetch([key])
        return _window(memo[key], expiry)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """The library's conditional push, answered with the window it wrote (no read for the headers)."""
        if amount > limit:
            return False
        memo = _memo()
        timestamp = time.time()
        expire_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expiry)
        try:
            doc = self.windows.find_one_and_update(
                {"_id": key, f"entries.{limit - amount}": {"$not": {"$gte": timestamp - expiry}}},
                {"$push": {"entries": {"$each": [timestamp] * amount, "$position": 0, "$slice": limit}},
                 "$set": {"expireAt": expire_at}},
                projection={"entries": 1}, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # the window is full: the filter missed and the upsert met the key
            if memo is not None:
                memo.pop(key, None)
            return False
        if memo is not None:
            memo[key] = (doc or {}).get("entries") or []
        return True


def read_together(limiter, *limits: tuple[Callable[[], str], Callable[[], str]],
                  joined: Callable[[], Read | None] | None = None):
    """Decorate a view (above its ``limiter.limit`` decorators) so that the windows of these
    ``(limit value, key function)`` pairs are read in one command before the limiter tests them.

    The keys are built as flask-limiter builds them for a view's own limits (scope: the endpoint).
    ``joined`` builds one further keyed read from the request (or None), sent in the same command; the view
    finds its rows with :func:`joined_rows`.  On any other storage the windows are read as the limiter reads
    them and ``joined`` is not sent (the view reads for itself).
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            storage = getattr(limiter.limiter, "storage", None) if limiter.enabled else None
            if isinstance(storage, RequestScopedMongoDBStorage):
                extra = joined() if joined is not None else None
                rows = storage.prefetch([parse(limit()).key_for(key(), request.endpoint) for limit, key in limits],
                                        extra)
                if extra is not None and rows is not None:
                    request.environ[_JOINED_KEY] = (extra, rows)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def joined_rows(read: Read) -> list[dict] | None:
    """The rows :func:`read_together` read for ``read`` in this request, or None when it did not."""
    found = request.environ.get(_JOINED_KEY) if has_request_context() else None
    return found[1] if found is not None and found[0] == read else None
