"""What the in-process store (mongomock) is given so that it behaves, and costs, more like a server.

Installed once per process by :func:`install` when the app connects to the in-process store: atomic writes
across threads, primary-key lookups by key, plain filters and sorts decided without mongomock's general
machinery (same answers), indexes (equalities, string ranges, sorted pages walked in order), collections
opened once, and cheaper copies of the documents a read returns (:mod:`inspect_api.memory_copies`).
"""

from __future__ import annotations

import bisect
import operator
import threading
from datetime import datetime

from bson import ObjectId

from inspect_api import memory_copies

_MEMORY_LOCK = threading.RLock()


def _lock_memory_writes() -> None:
    """Make mongomock's writes atomic with respect to each other (it is not, across threads).

    mongomock runs a conditional update or a unique-index check and the write as separate Python
    steps, so two threads can both pass (4 threads x 300 ``$inc`` on one counter returned duplicates).
    One process-wide lock around every write path gives the in-process store the atomicity a server
    gives one document; reads stay unlocked.  Every write also counts as a change of its collection's
    documents (see :func:`_index`).
    """
    from mongomock import collection, store

    if getattr(collection.Collection, "_inspect_locked", False):
        return
    for name in ("_insert", "_update", "_find_and_modify", "_delete", "bulk_write"):
        original = getattr(collection.Collection, name)

        def locked(self, *args, __original=original, **kwargs):
            with _MEMORY_LOCK:
                try:
                    return __original(self, *args, **kwargs)
                finally:
                    _changed(self._store)  # an update changes its stored document in place

        locked.__name__ = name
        setattr(collection.Collection, name, locked)
    for name in ("__setitem__", "__delitem__", "drop"):  # also what expiry (TTL) and drops do to a store
        original = getattr(store.CollectionStore, name)

        def changing(self, *args, __original=original, **kwargs):
            try:
                return __original(self, *args, **kwargs)
            finally:
                _changed(self)

        changing.__name__ = name
        setattr(store.CollectionStore, name, changing)
    collection.Collection._inspect_locked = True


def _changed(store) -> None:
    """Count a change of a collection's documents: the indexes built before it are stale (:func:`_index`)."""
    store._inspect_version = getattr(store, "_inspect_version", 0) + 1


def primary_keys(spec) -> list | None:
    """The ObjectIds a filter on ``_id`` alone names (equality, or ``$in``), in ``_id`` order; None otherwise."""
    if not isinstance(spec, dict) or len(spec) != 1 or "_id" not in spec:
        return None
    value = spec["_id"]
    if isinstance(value, ObjectId):
        return [value]
    if isinstance(value, dict) and list(value) == ["$in"] and isinstance(value["$in"], (list, tuple)) \
            and all(isinstance(v, ObjectId) for v in value["$in"]):
        return sorted(set(value["$in"]))
    return None


def _primary_key_lookups() -> None:
    """Let mongomock serve a filter on ``_id`` alone (equality, or ``$in`` of ObjectIds) from its documents
    by key, as a server serves it from the primary key, instead of testing every document in Python.

    Every authenticated request reads its user by id, and lists read their institutions and inspectors by
    ids, so on this store their cost grew with the collection.  A document is stored under its own ``_id``, so
    the one found under a key the filter names is one the filter matches (mongomock testing it again compared
    every ObjectId of the ``$in`` with it); ``$in`` answers in ``_id`` order (a server's index order); anything
    else scans as before.  ``find_one`` of one ObjectId key returns its document without building a cursor.
    """
    from mongomock import collection

    if getattr(collection.Collection, "_inspect_primary_key", False):
        return
    scan = collection.Collection._iter_documents

    def iter_documents(self, filter):  # noqa: A002 - mongomock's name
        keys = primary_keys(filter)
        if keys is None:
            plain = compile_filter(filter)
            if plain is None:
                return scan(self, filter)
            found = _candidates(self._store, plain)
            if found is None:
                documents = list(self._store.documents)
            elif found[1]:
                return iter(found[0])
            else:
                documents = found[0]
            return (document for document in documents if matches(plain, filter, document))
        store = self._store
        store._remove_expired_documents()
        found = []
        with store._rwlock.reader():
            for key in keys:
                document = store._documents.get(key)
                if document is not None:
                    found.append(document)
        return iter(found)

    find_one = collection.Collection.find_one

    def find_one_by_key(self, filter=None, *args, **kwargs):  # noqa: A002 - mongomock's name
        """``find_one({"_id": oid})`` (every authenticated request reads its user so) without building a cursor:
        the stored document of that key, copied and made aware as a cursor would; anything else as before."""
        if args or kwargs or type(filter) is not dict or len(filter) != 1 or type(filter.get("_id")) is not ObjectId:
            return find_one(self, filter, *args, **kwargs)
        store = self._store
        store._remove_expired_documents()
        with store._rwlock.reader():
            document = store._documents.get(filter["_id"])
        if document is None:
            return None
        copy = memory_copies.copied_aware if self.codec_options.tz_aware else memory_copies.copied
        return copy(document, self.codec_options.document_class)

    collection.Collection._iter_documents = iter_documents
    collection.Collection.find_one = find_one_by_key
    collection.Collection._inspect_primary_key = True


_MISSING = object()
_KEYS = (str, ObjectId)  # the value types a plain filter compares (ids, codes, region prefixes, states)
_RANGES = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}
# Stored values that equal no str or ObjectId and fall outside their ranges (mongomock brackets by type).
_OTHERS = frozenset({int, float, bool, type(None), datetime, dict, bytes})
_NEGATIONS = ("$ne", "$nin")  # tests that a missing field, or a value of another type, passes


def compile_filter(spec) -> list | None:
    """A filter of top-level fields each equal to, ``$in``, ``$nin``, ``$ne`` or in a range of strings or
    ObjectIds, or equal or not to a flag (True, False) or to null, as ``[(field, [(op, value), ...]), ...]``;
    None for anything else (mongomock decides those)."""
    if type(spec) is not dict:
        return None
    tests = []
    for field, condition in spec.items():
        if type(field) is not str or field.startswith("$") or "." in field:
            return None
        if type(condition) in _KEYS or type(condition) is bool or condition is None:
            tests.append((field, [("$eq", condition)]))
            continue
        if type(condition) is not dict or not condition:
            return None
        if len(condition) > 1 and ("$ne" in condition or "$nin" in condition):
            return None  # mongomock reads a negation beside others its own way
        ops = []
        for op, value in condition.items():
            if op in ("$in", "$nin"):
                if type(value) not in (list, tuple) or not all(type(v) in _KEYS for v in value):
                    return None
                ops.append((op, frozenset(value)))
            elif (op == "$ne" or op in _RANGES) and type(value) in _KEYS \
                    or op == "$ne" and (type(value) is bool or value is None):
                ops.append((op, value))
            else:
                return None
        tests.append((field, ops))
    return tests


_NUMBERS = (bool, int, float)


def _decide(op: str, value, stored):
    """Whether one stored value passes one test: True, False, or None where mongomock must decide."""
    kind = type(stored)
    if value is None:  # null: a missing field, a null, or a list holding a null (as MongoDB, and mongomock)
        found = stored is _MISSING or stored is None or (kind is list and any(item is None for item in stored))
        return found is (op == "$eq")
    if stored is _MISSING:
        return op in _NEGATIONS
    if type(value) is bool:  # a flag's equality (or not): mongomock compares it as a number (1 equals True)
        return (stored == value) is (op == "$eq") if kind in _NUMBERS else None
    if kind is list:
        if not all(type(item) in _KEYS for item in stored):
            return None
        if op == "$eq":  # mongomock also finds an ObjectId in a list of its strings
            return value in stored or (type(value) is ObjectId and str(value) in stored)
        if op == "$in":
            return any(item in value for item in stored)
        if op == "$nin":
            return not any(item in value for item in stored)
        if op == "$ne":
            return value not in stored
        return None
    if kind in _KEYS:
        if op == "$eq":
            return stored == value
        if op == "$in":
            return stored in value
        if op == "$nin":
            return stored not in value
        if op == "$ne":
            return stored != value
        return kind is type(value) and _RANGES[op](stored, value)
    if kind in _OTHERS:
        return op in _NEGATIONS
    return None


def matches(tests: list, spec: dict, document: dict) -> bool:
    """``mongomock.filtering.filter_applies(spec, document)`` for a compiled plain filter, without its general
    machinery; a value it cannot decide (a list of other things, an unusual type) goes to mongomock."""
    undecided = False
    for field, ops in tests:
        stored = document.get(field, _MISSING)
        for op, value in ops:
            passed = _decide(op, value, stored)
            if passed is False:
                return False
            undecided = undecided or passed is None
    if undecided:
        from mongomock.filtering import filter_applies

        return filter_applies(spec, document)
    return True


def _probe(tests: list) -> tuple[str, list] | None:
    """The first equality or ``$in`` of a plain filter, as (field, the values a match holds there): a bare
    ObjectId also finds its own string in a list, as mongomock matches it."""
    for field, ops in tests:
        for op, value in ops:
            if op == "$eq" and value is None:
                continue  # a null also finds a missing field, which no index entry holds
            if op == "$eq":
                return field, [value, str(value)] if type(value) is ObjectId else [value]
            if op == "$in":
                return field, list(value)
    return None


_STALE = object()


def _index(store, name: tuple, build) -> tuple:
    """The index ``name`` of a collection, ``build(items)`` of its (key, document) pairs in store order, and the
    documents in that order as of the same build (what its ordinals point at): built on first use and again
    after any change of the collection (:func:`_changed`); ``_STALE`` when the collection changed while it
    was being built (the caller then reads as if there were no index)."""
    store._remove_expired_documents()  # as a scan does first (it may change the collection)
    version = getattr(store, "_inspect_version", 0)
    built = getattr(store, "_inspect_indexes", None)
    if built is None or built[0] != version:
        built = store._inspect_indexes = (version, {})
    indexes = built[1]
    if name not in indexes:
        with _MEMORY_LOCK:  # no write runs while it is built
            if getattr(store, "_inspect_version", 0) != version:
                return _STALE
            items = list(store._documents.items())
            indexes.setdefault("documents", [document for _key, document in items])
            indexes[name] = build(items)
    return indexes[name], indexes["documents"]


def _by_value(field: str):
    """An equality index of ``field``: each value, or each element of a list, to the ordinals (places in store
    order) of the documents holding it.  A value is found by the key it holds (hash and equality), which is how
    mongomock compares a string or an ObjectId with a stored value or a list's elements; unhashable values hold
    neither and are left out."""

    def build(items: list) -> dict:
        by_value: dict = {}
        for ordinal, (_key, document) in enumerate(items):
            value = document.get(field, _MISSING)
            for item in value if isinstance(value, (list, tuple)) else (value,):
                try:
                    by_value.setdefault(item, []).append(ordinal)
                except TypeError:  # unhashable: equals no string or ObjectId
                    continue
        return by_value

    return build


def _by_text(field: str):
    """A range index of ``field`` when every document holds a string there or nothing (a string range then
    matches exactly the strings within it): its values in order, and the ordinals of the documents holding
    them; None when some document holds anything else there (mongomock decides those per document)."""

    def build(items: list) -> tuple[list, list] | None:
        entries = []
        for ordinal, (_key, document) in enumerate(items):
            value = document.get(field, _MISSING)
            if value is _MISSING:
                continue
            if type(value) is not str:
                return None
            entries.append((value, ordinal))
        entries.sort()
        return [entry[0] for entry in entries], [entry[1] for entry in entries]

    return build


def _text_range(tests: list) -> tuple[str, list] | None:
    """The first field of a plain filter tested only by ranges of strings, and those tests."""
    for field, ops in tests:
        if ops and all(op in _RANGES and type(value) is str for op, value in ops):
            return field, ops
    return None


def _candidates(store, tests: list) -> tuple[list, bool] | None:
    """The stored documents that may pass a plain filter, in store order, from an index of one of its fields,
    and whether they are exactly those that pass; None when no index serves the filter.

    An equality or ``$in`` is looked up in an index of its field; otherwise a range of strings on a field that
    holds only strings is cut from its range index (exact when the filter tests nothing else).  Otherwise each
    candidate still has to pass the whole filter (:func:`matches`).
    """
    probe = _probe(tests)
    if probe is not None:
        field, values = probe
        index = _index(store, ("value", field), _by_value(field))
        if index is _STALE:
            return None
        by_value, documents = index
        return [documents[o] for o in sorted({o for value in values for o in by_value.get(value, ())})], False
    span = _text_span(store, tests)
    if span is None:
        return None
    ordinals, documents = span
    return [documents[o] for o in sorted(ordinals)], len(tests) == 1


def _text_span(store, tests: list) -> tuple[list, list] | None:
    """The ordinals of the documents within the first range of strings of a plain filter, cut from that
    field's range index (they may pass the rest of the filter), and the documents they point at; None when
    no range index serves the filter."""
    ranged = _text_range(tests)
    if ranged is None:
        return None
    field, ops = ranged
    index = _index(store, ("text", field), _by_text(field))
    if index is _STALE or index[0] is None:
        return None
    (values, ordinals), documents = index
    low, high = 0, len(values)
    for op, bound in ops:
        if op == "$gt":
            low = max(low, bisect.bisect_right(values, bound))
        elif op == "$gte":
            low = max(low, bisect.bisect_left(values, bound))
        elif op == "$lt":
            high = min(high, bisect.bisect_left(values, bound))
        else:
            high = min(high, bisect.bisect_right(values, bound))
    return ordinals[low:high], documents


def exact_count(store, tests: list) -> int | None:
    """How many documents a plain filter matches, when an index answers that exactly without listing them: a
    range of strings that is the whole filter (the office's region subtree); None otherwise."""
    if len(tests) != 1:
        return None
    span = _text_span(store, tests)
    return None if span is None else len(span[0])


def _index_counts() -> None:
    """``count_documents`` of a filter an index answers exactly (:func:`exact_count`) is the size of the
    index's range, as a server counts the keys of its index range; mongomock listed and tested every matching
    document to count them (20,000 for the first page of a city's assignment list).  Anything else, and any
    count with a skip or a limit, is mongomock's."""
    from mongomock import collection

    if getattr(collection.Collection, "_inspect_index_counts", False):
        return
    count_documents = collection.Collection.count_documents

    def counted(self, filter, **kwargs):  # noqa: A002 - mongomock's name
        if type(filter) is dict and set(kwargs) <= {"hint", "maxTimeMS"}:
            plain = compile_filter(filter)
            if plain is not None:
                found = exact_count(self._store, plain)
                if found is not None:
                    return found
        return count_documents(self, filter, **kwargs)

    collection.Collection.count_documents = counted
    collection.Collection._inspect_index_counts = True


def _in_sort_order(store, sort: list) -> list | None:
    """All stored documents in ``sort`` order as mongomock orders them (stable sorts from the last key, ties in
    store order), when each key holds values of one plain type in every document; None otherwise.  Filtering
    this order gives the order of sorting the filtered documents: within one type the order is total."""

    def build(items: list) -> list | None:
        documents = [document for _key, document in items]
        for key, direction in reversed(sort):
            documents = sorted_plainly(documents, key, direction)
            if documents is None:
                return None
        return documents

    order = _index(store, ("order", tuple(sort)), build)
    return None if order is _STALE else order[0]


_SORTS = (str, ObjectId, int, datetime)


def sorted_plainly(documents: list, key: str, direction) -> list | None:
    """``documents`` sorted on ``key`` as mongomock sorts them (stable; BSON order is Python's order within
    one type) when every one holds a value of the same plain type there; None otherwise."""
    values = [document.get(key, _MISSING) for document in documents]
    kinds = {type(value) for value in values}
    if len(kinds) != 1 or next(iter(kinds)) not in _SORTS:
        return None
    if datetime in kinds and len({value.tzinfo is None for value in values}) != 1:
        return None
    order = sorted(range(len(values)), key=values.__getitem__, reverse=direction < 0)
    return [documents[n] for n in order]


def _plain_sorts() -> None:
    """Sort a read's documents on a plain field by its values themselves (mongomock compares every pair
    through its BSON comparator); the same order, stable as before.  Paths and ``$`` keys keep mongomock's.
    Each document is copied as :func:`memory_copies.copier` decides once for the read."""
    from mongomock import collection
    from mongomock.filtering import filter_applies, resolve_sort_key

    if getattr(collection.Collection, "_inspect_plain_sorts", False):
        return
    dataset_of = collection.Collection._get_dataset

    def get_dataset(self, spec, sort, fields, as_class):
        if isinstance(sort, dict):
            sort = list(sort.items())
        if sort and any(key.startswith("$") or "." in key for key, _direction in sort):
            yield from dataset_of(self, spec, sort, fields, as_class)
            return
        copy = memory_copies.copier(self, fields, as_class)  # decided once, not per document
        if not sort:
            for document in self._iter_documents(spec):
                yield copy(document)
            return
        plain = compile_filter(spec)
        if primary_keys(spec) is None and (plain is None or _probe(plain) is None):
            order = _in_sort_order(self._store, sort)
            if order is not None:  # walked in order: a page stops after its own documents
                if not order:
                    filter_applies(spec, {})  # an empty collection still refuses a bad filter, as a scan does
                for document in order:
                    if matches(plain, spec, document) if plain is not None else filter_applies(spec, document):
                        yield copy(document)
                return
        dataset = list(self._iter_documents(spec))
        for key, direction in reversed(sort):
            ordered = sorted_plainly(dataset, key, direction)
            if ordered is None:
                ordered = sorted(dataset, key=lambda x, key=key: resolve_sort_key(key, x), reverse=direction < 0)
            dataset = ordered
        for document in dataset:
            yield copy(document)

    collection.Collection._get_dataset = get_dataset
    collection.Collection._inspect_plain_sorts = True


def _known_collections() -> None:
    """``database[name]`` of a collection already opened with the database's own options returns that
    collection object (mongomock compared every option again to find out it would, at each read)."""
    from mongomock import database

    if getattr(database.Database, "_inspect_known", False):
        return
    get_collection = database.Database.get_collection

    def getitem(self, name):
        known = self._collection_accesses.get(name)
        if known is not None and known._codec_options is self._codec_options \
                and known._read_preference is self._read_preference:
            return known
        return get_collection(self, name)

    database.Database.__getitem__ = getitem
    database.Database._inspect_known = True


def install() -> None:
    """Everything above, once per process."""
    _lock_memory_writes()
    _primary_key_lookups()
    _index_counts()
    _plain_sorts()
    memory_copies.install()
    _known_collections()
