"""How the in-process store (mongomock) copies the documents a read returns.

mongomock copies every returned document field by field (``copy.copy`` on each value, even strings), copies
it again to make its datetimes timezone-aware, rebuilds its projection spec for every document and copies
every match of a page's query before the skip and the limit.  The replacements installed here by
:func:`install` (from :func:`inspect_api.memory_store.install`) return the same documents: a new dict or list
for every dict or list, aware datetimes when the collection asks for them, the same fields in the same order.
Anything unusual is handed to mongomock's own functions.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from bson import ObjectId

# Values a read hands out as they are (immutable); anything else is copied as mongomock copies it.
_ATOMIC_NOT_DATETIME = frozenset({str, int, float, bool, type(None), bytes, ObjectId})
_ATOMIC = _ATOMIC_NOT_DATETIME | {datetime}


# Set by install(): mongomock's UTC, its own copy, make-aware and make-naive functions (for anything unusual),
# its own projection (for any projection but top-level inclusions), and whether an empty projection returns
# whole documents (pymongo 4).
_UTC = _COPY_FIELD = _MAKE_AWARE = _MAKE_NAIVE = _MONGOMOCK_PROJECTION = None
_EMPTY_PROJECTION_IS_WHOLE = True


def copied(value, container=dict):
    """A copy of a stored value as mongomock's ``_copy_field`` makes it, without copying immutable values."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:  # an atomic value is taken here, without a call per value
        new = container()
        for key, item in value.items():
            new[key] = item if type(item) in _ATOMIC else copied(item, container)
        return new
    if kind is list:
        return [item if type(item) in _ATOMIC else copied(item, container) for item in value]
    return _COPY_FIELD(value, container)


def copied_aware(value, container=dict):
    """:func:`copied` with its datetimes made UTC-aware in the same pass (mongomock copies the copy again)."""
    kind = type(value)
    if kind in _ATOMIC_NOT_DATETIME:
        return value
    if kind is datetime:
        return value.replace(tzinfo=_UTC)
    if kind is dict:
        new = container()
        for key, item in value.items():
            kind = type(item)
            new[key] = item if kind in _ATOMIC_NOT_DATETIME else (
                item.replace(tzinfo=_UTC) if kind is datetime else copied_aware(item, container))
        return new
    if kind is list:
        return [item if type(item) in _ATOMIC_NOT_DATETIME else copied_aware(item, container) for item in value]
    return _MAKE_AWARE(_COPY_FIELD(value, container))


def aware(value):
    """A copy of ``value`` with its datetimes UTC-aware, as mongomock's
    ``make_datetime_timezone_aware_in_document`` makes it (atomic values are not copied)."""
    kind = type(value)
    if kind in _ATOMIC_NOT_DATETIME:
        return value
    if kind is dict:
        return {key: aware(item) for key, item in value.items()}
    if kind is list:
        return [aware(item) for item in value]
    if kind is datetime:
        return value.replace(tzinfo=_UTC)
    return _MAKE_AWARE(value)


def aware_in_place(value):
    """Make the datetimes of a document's whole copy UTC-aware in place, as mongomock does by copying the
    document once more (anything but a plain dict or list inside is handed to mongomock's copy); returns it."""
    if type(value) is dict:
        items = list(value.items())
    elif type(value) is list:
        items = list(enumerate(value))
    else:
        return aware(value)
    for key, item in items:
        kind = type(item)
        if kind in _ATOMIC_NOT_DATETIME:
            continue
        if kind is dict or kind is list:
            aware_in_place(item)
        else:
            value[key] = aware(item)
    return value


# The trees of the projections seen (a process sees the few dozen its code writes), by their fields, the types
# of their values and the values: each is worked out once.  Past the bound nothing more is kept.
_TREES: dict[tuple, dict | None] = {}
_TREES_KEPT = 4096


def included_paths(fields) -> dict | None:
    """A projection that includes fields and dotted paths (``{"a": 1, "b.c": 1}``), as the nested spec mongomock
    walks (``{"a": 1, "b": {"c": 1}}``); None for anything else (``_id`` aside), and for a path that collides
    with another (mongomock refuses those itself).  Worked out once per projection (every read asks, twice):
    the tree returned is shared, and its callers only read it."""
    if type(fields) is not dict:
        return None
    key = (tuple(fields), tuple(map(type, fields.values())), tuple(fields.values()))
    try:
        return _TREES[key]
    except KeyError:
        tree = _tree_of(fields)
    except TypeError:  # a value that is not hashable (an operator's spec): never a tree of inclusions
        return None
    if len(_TREES) < _TREES_KEPT:
        _TREES[key] = tree
    return tree


def _tree_of(fields: dict) -> dict | None:
    """:func:`included_paths`, worked out."""
    tree: dict = {}
    for key, value in fields.items():
        if key == "_id":
            continue
        if type(key) is not str or "$" in key or type(value) not in (int, bool) or value != 1:
            return None
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if type(node) is not dict:
                return None
        if leaf in node:
            return None
        node[leaf] = 1
    return tree or None


def _by_paths(doc, tree: dict, copy, container):
    """``doc`` projected on ``tree`` (:func:`included_paths`), as mongomock's ``_project_by_spec`` projects it,
    each kept value copied by ``copy``."""
    found = container()
    for key, value in doc.items():
        spec = tree.get(key)
        if spec is None:
            continue
        if type(spec) is dict:
            if isinstance(value, (list, tuple)):
                found[key] = [_by_paths(item, spec, copy, container) for item in value]
            elif isinstance(value, dict):
                found[key] = _by_paths(value, spec, copy, container)
        else:
            found[key] = copy(value, container)
    return found


def whole_document(fields) -> bool:
    """Whether a read with projection ``fields`` returns whole documents (none, or pymongo 4's empty one)."""
    return fields is None or (not fields and _EMPTY_PROJECTION_IS_WHOLE)


def copied_in_one_pass(fields) -> bool:
    """Whether the store copies a read's documents for ``fields`` itself, made aware in the same pass when the
    collection is tz-aware: whole documents and projections of the fields and paths they include."""
    return whole_document(fields) or included_paths(fields) is not None


def naive_for_store(value):
    """A copy of a filter or of a document to store, with its datetimes naive UTC at millisecond precision, as
    mongomock's ``patch_datetime_awareness_in_document`` makes it (it runs on every filter, insert and update);
    plain values are taken as they are, without testing each for every type mongomock knows."""
    kind = type(value)
    if kind in _ATOMIC_NOT_DATETIME:
        return value
    if kind is dict:
        return {key: naive_for_store(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [naive_for_store(item) for item in value]
    return _MAKE_NAIVE(value)  # datetimes, ordered dicts, timestamps...: mongomock's own


def _cheaper_copies() -> None:
    """mongomock's copy of a returned value, its make-aware pass and its naive copy of what it is given become
    :func:`copied`, :func:`aware` and :func:`naive_for_store`."""
    from mongomock import collection, helpers

    if getattr(collection, "_inspect_cheaper_copies", False):
        return
    collection._copy_field = copied
    helpers.make_datetime_timezone_aware_in_document = aware
    helpers.patch_datetime_awareness_in_document = naive_for_store
    collection._inspect_cheaper_copies = True


def copier(collection, fields, container=dict):
    """How a read of ``collection`` with projection ``fields`` copies each of its documents (what mongomock's
    ``_copy_only_fields`` does per document, decided once per read): whole documents and projections of the
    fields and paths they include are copied here in one pass, aware in the same pass when the collection is
    tz-aware; any other projection is mongomock's, made aware afterwards by the cursor (:func:`_cursor_results`)."""
    copy = copied_aware if collection.codec_options.tz_aware else copied
    if whole_document(fields):
        return lambda doc: copy(doc, container)
    tree = included_paths(fields)
    if tree is None:
        return lambda doc: _MONGOMOCK_PROJECTION(collection, doc, fields, container)
    keep_id = fields.get("_id", 1) != 0

    def project(doc):
        found = _by_paths(doc, tree, copy, container)
        if keep_id and "_id" in doc:  # mongomock puts the id last
            found["_id"] = copy(doc["_id"], container)
        return found

    return project


def _plain_projections() -> None:
    """mongomock's copy of one returned document becomes :func:`copier`'s (reads that copy many decide it
    once, see :func:`inspect_api.memory_store.install`); mongomock rebuilt its nested projection spec for
    every document."""
    global _MONGOMOCK_PROJECTION
    from mongomock import collection

    if getattr(collection.Collection, "_inspect_plain_projections", False):
        return
    _MONGOMOCK_PROJECTION = collection.Collection._copy_only_fields

    def copy_included(self, doc, fields, container):
        return copier(self, fields, container)(doc)

    copy_included.__wrapped__ = _MONGOMOCK_PROJECTION
    collection.Collection._copy_only_fields = copy_included
    collection.Collection._inspect_plain_projections = True


def _cursor_results() -> None:
    """A cursor's documents: copied once, and a cursor with a limit copies no document past its page.

    mongomock copied every document it returns twice (once from the store, once more to make its datetimes
    timezone-aware), and every match of a page's query before it applied the skip and the limit: the first
    page of a list of 20,000 copied 20,000 documents (now: its 20; a later page also copies the pages before
    it).  A document copied in one pass (:func:`copied_in_one_pass`) is aware already; one projected otherwise
    is made aware in its own fresh copy, or, projected with operators (``$slice``, ``$elemMatch``, which may
    share parts of the stored document), copied again as mongomock does.  Results are kept per query as before.
    """
    from mongomock import collection

    if getattr(collection.Cursor, "_inspect_results", False):
        return

    def fresh(cursor):
        found = cursor._factory()
        projection = cursor._projection
        if not cursor.collection.codec_options.tz_aware or copied_in_one_pass(projection):
            return found
        if projection and (not isinstance(projection, dict) or any(isinstance(v, dict) for v in projection.values())):
            return (aware(x) for x in found)  # operators may share
        return (aware_in_place(x) for x in found)

    def compute_results(self, with_limit_and_skip=False):
        limit = self._limit
        if with_limit_and_skip and limit and not self._results:
            key = (self._factory, self._skip, limit)
            page = getattr(self, "_inspect_page", None)
            if page is None or page[0] != key:
                page = (key, list(itertools.islice(fresh(self), self._skip, self._skip + abs(limit))))
                self._inspect_page = page
            return page[1]
        if not self._results or self._factory_last_generated_results != self._factory:
            self._results = list(fresh(self))
            self._factory_last_generated_results = self._factory
        results = self._results
        if with_limit_and_skip:
            results = results[self._skip:]
            if limit:
                results = results[:abs(limit)]
        return results

    collection.Cursor._compute_results = compute_results
    collection.Cursor._inspect_results = True


def install() -> None:
    """The copies above, once per process."""
    global _UTC, _COPY_FIELD, _MAKE_AWARE, _MAKE_NAIVE, _EMPTY_PROJECTION_IS_WHOLE
    from mongomock import collection, helpers

    if _UTC is None:
        _UTC, _COPY_FIELD = helpers.utc, collection._copy_field
        _MAKE_AWARE = helpers.make_datetime_timezone_aware_in_document
        _MAKE_NAIVE = helpers.patch_datetime_awareness_in_document
        _EMPTY_PROJECTION_IS_WHOLE = helpers.PYMONGO_VERSION.major >= 4
    _cheaper_copies()
    _plain_projections()
    _cursor_results()
