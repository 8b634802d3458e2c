"""What the in-process store (mongomock) is given so that it behaves, and costs, more like a server.

Installed once per process by :func:`install` when the app connects to the in-process store: atomic writes
across threads, primary-key lookups by key, cheaper copies of the documents a read returns, and pages that
copy only their own documents.
"""

from __future__ import annotations

import threading
from datetime import datetime

from bson import ObjectId

_MEMORY_LOCK = threading.RLock()


def _lock_memory_writes() -> None:
    """Make mongomock's writes atomic with respect to each other (it is not, across threads).

    mongomock runs a conditional update or a unique-index check and the write as separate Python
    steps, so two threads can both pass (4 threads x 300 ``$inc`` on one counter returned duplicates).
    One process-wide lock around every write path gives the in-process store the atomicity a server
    gives one document; reads stay unlocked.
    """
    from mongomock import collection

    if getattr(collection.Collection, "_inspect_locked", False):
        return
    for name in ("_insert", "_update", "_find_and_modify", "_delete", "bulk_write"):
        original = getattr(collection.Collection, name)

        def locked(self, *args, __original=original, **kwargs):
            with _MEMORY_LOCK:
                return __original(self, *args, **kwargs)

        locked.__name__ = name
        setattr(collection.Collection, name, locked)
    collection.Collection._inspect_locked = True


def _primary_key_lookups() -> None:
    """Let mongomock serve a filter on ``_id`` alone (equality, or ``$in`` of ObjectIds) from its documents
    by key, as a server serves it from the primary key, instead of testing every document in Python.

    Every authenticated request reads its user by id, and lists read their institutions and inspectors by
    ids, so on this store their cost grew with the collection.  The documents found still pass mongomock's
    own filter; ``$in`` answers in ``_id`` order (a server's index order); anything else scans as before.
    """
    from mongomock import collection
    from mongomock.filtering import filter_applies

    if getattr(collection.Collection, "_inspect_primary_key", False):
        return
    scan = collection.Collection._iter_documents

    def keys_of(spec) -> list | None:
        if not isinstance(spec, dict) or len(spec) != 1 or "_id" not in spec:
            return None
        value = spec["_id"]
        if isinstance(value, ObjectId):
            return [value]
        if isinstance(value, dict) and list(value) == ["$in"] and isinstance(value["$in"], (list, tuple)) \
                and all(isinstance(v, ObjectId) for v in value["$in"]):
            return sorted(set(value["$in"]))
        return None

    def iter_documents(self, filter):  # noqa: A002 - mongomock's name
        keys = keys_of(filter)
        if keys is None:
            return scan(self, filter)
        store = self._store
        store._remove_expired_documents()
        found = []
        with store._rwlock.reader():
            for key in keys:
                document = store._documents.get(key)
                if document is not None and filter_applies(filter, document):
                    found.append(document)
        return iter(found)

    collection.Collection._iter_documents = iter_documents
    collection.Collection._inspect_primary_key = True


# Values a read hands out as they are (immutable); anything else is copied as mongomock copies it.
_ATOMIC = frozenset({str, int, float, bool, type(None), bytes, ObjectId})


def _cheaper_copies() -> None:
    """Copy the documents a read returns in one pass per step, without ``copy.copy`` on immutable values.

    mongomock copies every returned document field by field (``copy.copy`` on each value, even strings), then
    copies it again to make its datetimes timezone-aware: most of the cost of a read of a few documents.  The
    replacements return the same values (a new dict or list for every dict or list, aware datetimes) and hand
    anything unusual to mongomock's own functions.
    """
    from mongomock import collection, helpers

    if getattr(collection, "_inspect_cheaper_copies", False):
        return
    copy_field, make_aware = collection._copy_field, helpers.make_datetime_timezone_aware_in_document

    def copied(obj, container):
        kind = type(obj)
        if kind in _ATOMIC:
            return obj
        if kind is dict:
            new = container()
            for key, value in obj.items():
                new[key] = copied(value, container)
            return new
        if kind is list:
            return [copied(item, container) for item in obj]
        return copy_field(obj, container)

    def aware(value):
        kind = type(value)
        if kind in _ATOMIC:
            return value
        if kind is dict:
            return {key: aware(item) for key, item in value.items()}
        if kind is list:
            return [aware(item) for item in value]
        if kind is datetime:
            return value.replace(tzinfo=helpers.utc)
        return make_aware(value)

    collection._copy_field = copied
    helpers.make_datetime_timezone_aware_in_document = aware
    collection._inspect_cheaper_copies = True


def _pages_copy_their_page() -> None:
    """A cursor with a limit copies no document past its page (a server returns only the page).

    mongomock filters and sorts the stored documents themselves, then copied every match before it applied the
    skip and the limit: the first page of a list of 20,000 copied 20,000 documents (now: its 20; a later page
    also copies the pages before it).  Cursors without a limit,
    and every other use of a cursor (counts, ``distinct``, indexing), keep mongomock's own path.
    """
    import itertools

    from mongomock import collection, helpers

    if getattr(collection.Cursor, "_inspect_pages", False):
        return
    compute = collection.Cursor._compute_results

    def compute_results(self, with_limit_and_skip=False):
        limit = self._limit
        if not with_limit_and_skip or not limit or self._results:
            return compute(self, with_limit_and_skip)
        key = (self._factory, self._skip, limit)
        page = getattr(self, "_inspect_page", None)
        if page is None or page[0] != key:
            found = itertools.islice(self._factory(), self._skip, self._skip + abs(limit))
            if self.collection.codec_options.tz_aware:
                found = (helpers.make_datetime_timezone_aware_in_document(x) for x in found)
            page = (key, list(found))
            self._inspect_page = page
        return page[1]

    collection.Cursor._compute_results = compute_results
    collection.Cursor._inspect_pages = True


def install() -> None:
    """Everything above, once per process."""
    _lock_memory_writes()
    _primary_key_lookups()
    _cheaper_copies()
    _pages_copy_their_page()
