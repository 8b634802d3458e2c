"""Storage: MongoDB through mongoengine, or the embedded in-memory stand-in.

``MONGODB_URI`` set → a real server (a replica set in production).  Unset →
mongomock, with one loud warning that nothing is persisted.  Indexes are
declared in each document's ``meta`` and ensured at start; files live in
GridFS.

Transactions: mongoengine 0.29 cannot bind a session to document operations,
so multi-document changes (a submission creating findings and an order, a
draw creating assignments) are written as idempotent, resumable steps: each
step is keyed by a deterministic id or guarded by an atomic conditional
update, and the final state flip happens last.  A retry after a crash
completes the missing steps and never duplicates one.  That is safe on both
the stand-in and a replica set, with or without a transaction.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

import gridfs
import mongoengine
from mongoengine.connection import get_db

log = logging.getLogger(__name__)

_state: dict[str, Any] = {"embedded": None, "fs": None}


def connect(config: dict[str, Any]) -> bool:
    """Connect the default alias; return True when the embedded store is used."""
    mongoengine.disconnect_all()
    _state["fs"] = None
    uri = config.get("mongodb_uri") or ""
    name = config.get("mongodb_db") or "inspect"
    if uri:
        mongoengine.connect(host=uri, db=name, tz_aware=True, uuidRepresentation="standard",
                            serverSelectionTimeoutMS=5000)
        _state["embedded"] = False
    else:
        import mongomock
        import mongomock.gridfs

        mongomock.gridfs.enable_gridfs_integration()
        mongoengine.connect(db=name, mongo_client_class=mongomock.MongoClient, tz_aware=True,
                            uuidRepresentation="standard")
        _state["embedded"] = True
        log.warning("!!! EMBEDDED IN-MEMORY STORE: no MONGODB_URI set, data is NOT persisted and is lost on exit !!!")
    return bool(_state["embedded"])


def is_embedded() -> bool:
    return bool(_state["embedded"])


def database():
    """The pymongo Database of the default connection."""
    return get_db()


def files() -> gridfs.GridFS:
    """GridFS bucket for photos, signatures and their derivatives."""
    if _state["fs"] is None:
        _state["fs"] = gridfs.GridFS(get_db(), collection="files")
    return _state["fs"]


def ping() -> bool:
    """True when the database answers."""
    try:
        get_db().command("ping")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        log.warning("database ping failed", exc_info=True)
        return False


def all_documents() -> Iterable[type]:
    """Every concrete mongoengine Document class that has been imported."""
    seen: list[type] = []
    stack = list(mongoengine.Document.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls._meta.get("abstract") and cls not in seen:
            seen.append(cls)
    return seen


def ensure_indexes() -> None:
    """Create the indexes every document declares in its ``meta``."""
    for cls in all_documents():
        cls.ensure_indexes()
