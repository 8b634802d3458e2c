"""Storage: MongoDB over the wire through mongoengine/pymongo, or the in-process stand-in.

Which store (first match wins):

- ``MONGODB_URI`` (or ``mongodb_uri``) set: that server.  ``memory://`` means
  the in-process store below.  A database path in the URI is only the
  authentication database: the database used is always ``mongodb_db``, so a
  URI can never redirect the app (or the test suite, which drops its
  databases) to another database.
- ``store = "local"`` (``config/development.toml``): the local SecantusDB
  daemon of this checkout under ``local_db_dir`` (see :mod:`inspect_api.localdb`),
  started on demand or reused, so every command reaches the same data.
- ``store = "memory"`` (``INSPECT_STORE=memory``): mongomock inside the
  process, for throwaway runs and the fast test lane; nothing is persisted.

At connect the server must answer within ``mongodb_timeout_ms``, else
:class:`StoreUnavailable` ends the process with one line naming the URI
(password masked).  Indexes are declared in each document's ``meta`` and
ensured (created, or migrated when their options changed) at start; files
live in GridFS.

Transactions: mongoengine 0.29 cannot bind a session to document
operations, so a change spanning documents is written as idempotent,
resumable steps (deterministic ids, atomic conditional updates, the final
state flip last) and, where the server supports transactions, the writes
that must land together also run inside :func:`transaction` through
pymongo collection calls with ``session=``.  A retry after a crash completes
missing steps and never duplicates one, with or without a transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, TypeVar

import gridfs
from bson import ObjectId
from bson.errors import InvalidId
import mongoengine
from mongoengine.connection import get_db
from mongoengine.queryset.field_list import QueryFieldList
from pymongo import IndexModel, monitoring
from pymongo.errors import OperationFailure, PyMongoError

from inspect_api import memory_store

log = logging.getLogger(__name__)
T = TypeVar("T")
D = TypeVar("D")

_state: dict[str, Any] = {"embedded": None, "fs": None, "transactions": None, "description": "", "uri": "",
                          "client_uri": "", "generation": 0}
MEMORY_URI = "memory://"


class StoreUnavailable(SystemExit):
    """The database does not answer at start: one line (URI without password), exit status 1."""


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (safe for logs and error lines)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", uri or "")


def _wire_uri(uri: str) -> tuple[str, str | None]:
    """Split the database path off ``uri``; return (uri without it, that path as the auth source or None)."""
    m = re.match(r"^(mongodb(?:\+srv)?://[^/?]*)(?:/([^?]*))?(\?.*)?$", uri)
    if not m:
        return uri, None
    base, path, query = m.group(1), (m.group(2) or "").strip("/"), m.group(3) or ""
    return f"{base}/{query}", path or None


# ---- command monitoring: database round trips per request (counted on the wire; mongomock sends none)

class _CommandCounter(monitoring.CommandListener):
    """Counts the commands each thread sends; an optional recorder keeps their documents (explain tests)."""

    def __init__(self):
        self.local = threading.local()

    def _frames(self) -> list[dict[str, Any]]:
        frames = getattr(self.local, "frames", None)
        if frames is None:
            frames = self.local.frames = []
        return frames

    def started(self, event):
        for frame in self._frames():
            frame["count"] += 1
            frame["names"].append(event.command_name)
            if frame["record"] is not None:
                frame["record"].append((event.database_name, event.command_name, event.command))

    def succeeded(self, event):
        return None

    def failed(self, event):
        return None


COMMANDS = _CommandCounter()
# Registered for every client made from now on: the app's and the rate limiter's round trips both count.
monitoring.register(COMMANDS)


@contextlib.contextmanager
def count_commands(record: list | None = None) -> Iterator[dict[str, Any]]:
    """Count the database commands this thread sends inside the block: ``{"count", "names"}``.

    With ``record`` (a list), each command is also appended as ``(database, name, document)``.
    On the in-process store nothing goes over a wire and the count stays 0.
    """
    frame = start_counting(record)
    try:
        yield frame
    finally:
        stop_counting(frame)


def start_counting(record: list | None = None) -> dict[str, Any]:
    """Begin counting this thread's commands (see :func:`count_commands`); end with :func:`stop_counting`."""
    frame = {"count": 0, "names": [], "record": record}
    COMMANDS._frames().append(frame)
    return frame


def stop_counting(frame: dict[str, Any]) -> None:
    frames = COMMANDS._frames()
    if frame in frames:
        frames.remove(frame)


def _connect_memory(name: str) -> None:
    import mongomock
    import mongomock.gridfs

    mongomock.gridfs.enable_gridfs_integration()
    memory_store.install()
    mongoengine.connect(db=name, mongo_client_class=mongomock.MongoClient, tz_aware=True,
                        uuidRepresentation="standard")
    _state.update(embedded=True, transactions=False, uri=MEMORY_URI, client_uri=MEMORY_URI,
                  description=f"in-memory store (mongomock, database {name}): NOT persisted, lost on exit")


def _connect_wire(uri: str, name: str, timeout_ms: int, label: str) -> None:
    clean, auth_source = _wire_uri(uri)
    kwargs: dict[str, Any] = {}
    if auth_source and "authSource=" not in clean:
        kwargs["authSource"] = auth_source
    mongoengine.connect(host=clean, db=name, tz_aware=True, uuidRepresentation="standard",
                        serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, **kwargs)
    _state.update(embedded=False, transactions=None, uri=redact_uri(uri), client_uri=clean)
    try:
        hello = get_db().command("hello")
    except PyMongoError as exc:
        mongoengine.disconnect_all()
        reason = str(exc).split("\n")[0].split(", Timeout:")[0][:200]
        raise StoreUnavailable(f"refusing to start: the database at {redact_uri(uri)} is unreachable ({reason})") \
            from None
    _state["transactions"] = bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
    _state["description"] = f"{label} at {redact_uri(uri)} (database {name})"


def connect(config: dict[str, Any]) -> bool:
    """Connect the default alias to the configured store; return True when it is the in-process one."""
    mongoengine.disconnect_all()
    _state.update(fs=None, transactions=None, generation=_state["generation"] + 1)
    uri = str(config.get("mongodb_uri") or "")
    name = config.get("mongodb_db") or "inspect"
    timeout_ms = int(config.get("mongodb_timeout_ms") or 5000)
    store = str(config.get("store") or "memory")
    if uri == MEMORY_URI or (not uri and store == "memory"):
        _connect_memory(name)
    elif uri:
        _connect_wire(uri, name, timeout_ms, "MongoDB")
    elif store == "local":
        from inspect_api import localdb

        root = localdb.store_root(config.get("local_db_dir"))
        server, started = localdb.ensure(root)
        _connect_wire(server.uri, name, timeout_ms,
                      f"local SecantusDB {server.version or ''} ({'started' if started else 'running'}, "
                      f"data {server.data_dir}, pid {server.pid})")
    else:
        from inspect_api.config import ConfigError

        raise ConfigError(f"store must be 'local' or 'memory' (or set MONGODB_URI), got {store!r}")
    return bool(_state["embedded"])


def client_uri() -> str:
    """The URI other clients of the same store use (the rate limiter): ``memory://`` in process."""
    return _state["client_uri"]


def generation() -> int:
    """Which connection this is (it changes at every connect): process caches of stored data key on it."""
    return _state["generation"]


def is_embedded() -> bool:
    return bool(_state["embedded"])


def describe() -> str:
    """One line naming the store in use (no password), for the start-up log."""
    return _state["description"]


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


# ---- transactions

def supports_transactions() -> bool:
    """True on a replica-set member or mongos (the local SecantusDB is one); False on the in-process store."""
    return bool(_state["transactions"])


def transaction(fn: Callable[[Any], T]) -> T:
    """Run ``fn(session)`` in one multi-document transaction when the server supports them, else ``fn(None)``.

    ``fn`` passes ``session=`` to its pymongo calls.  With a transaction it may be run again on a
    transient error (``with_transaction`` retries), so it must be idempotent like every step here;
    without one its steps are idempotent and resumable, so a retry of the whole operation completes it.
    """
    if not supports_transactions():
        return fn(None)
    with get_db().client.start_session() as session:
        return session.with_transaction(fn)


def contains(text: str) -> dict[str, str]:
    """Case-insensitive "contains" condition for a text search, as a ``$regex`` string.

    Not mongoengine's ``__icontains`` (a compiled regex, which the local SecantusDB matches
    against nothing on an indexed field).  A non-anchored regex cannot use an index's bounds,
    so every text search here is combined with a region range on an index that also holds the
    searched field ((region, name, _id)): the server tests the keys of the scoped range only.
    """
    return {"$regex": re.escape(text), "$options": "i"}


def parse_oid(value: Any) -> ObjectId | None:
    """``value`` as an ObjectId, or None when it is not one (an id from a URL or a body: 404, never a 500)."""
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def by_id(document_cls: type[D], value: Any) -> D | None:
    """The document of an id (from a URL or a body), or None: one primary-key read, built without a queryset
    (a queryset's set-up cost more than the read on every page that names one document)."""
    oid = value if isinstance(value, ObjectId) else parse_oid(value)
    if oid is None:
        return None
    raw = document_cls._get_collection().find_one({"_id": oid})
    return None if raw is None else document_cls._from_son(raw)


def as_stored(document_cls, raw: dict[str, Any], only: frozenset[str] | None = None) -> SimpleNamespace:
    """The values a ``document_cls`` built from the stored ``raw`` would hold, by attribute, without building it:
    defaults for absent or null fields, each field's own conversion (a stored date back to a date), embedded
    documents alike.  For code that only reads many documents (a list page, an export), where building them
    was most of the cost.  Stored keys no field declares are left out (a document refuses to be built);
    ``only``: just these fields (and ``id``), for a read that projected them."""
    if only is None:
        fields = _STORED_FIELDS.get(document_cls) or _stored_fields(document_cls)
    else:  # the few a list shows of many: the fields kept are worked out once
        fields = _SOME_FIELDS.get((document_cls, only))
        if fields is None:
            fields = _SOME_FIELDS[(document_cls, only)] = [
                entry for entry in _STORED_FIELDS.get(document_cls) or _stored_fields(document_cls)
                if entry[0] in only or entry[0] == "id"]
    values = {}
    for name, db_field, embedded, field, convert in fields:
        value = raw.get(db_field)
        if value is None:
            values[name] = _default_of(field)
        elif embedded is None:
            values[name] = convert(value)
        elif embedded[1]:  # a list of embedded documents
            values[name] = [as_stored(embedded[0], item) for item in value]
        else:
            values[name] = as_stored(embedded[0], value)
    return SimpleNamespace(**values)


def only(queryset, *fields: str):
    """``queryset.only(*fields)``, with the stored paths of ``fields`` worked out once per document class
    (mongoengine looks every field up again on each call: a sixth of a list page that reads a few fields)."""
    key = (queryset._document, fields)
    paths = _ONLY_PATHS.get(key)
    if paths is None:
        paths = _ONLY_PATHS[key] = tuple(queryset._fields_to_dbfields([f.replace("__", ".") for f in fields]))
    narrowed = queryset.clone()
    narrowed._loaded_fields += QueryFieldList(paths, value=QueryFieldList.ONLY, _only_called=True)
    return narrowed


_ONLY_PATHS: dict[tuple, tuple[str, ...]] = {}


# Per document class: (attribute, stored key, (embedded class, is a list) or None, field, its conversion of a
# stored value), found once.
_STORED_FIELDS: dict[type, list[tuple[str, str, tuple[type, bool] | None, Any, Callable[[Any], Any]]]] = {}


# Per document class and set of fields (``as_stored``'s ``only``): the entries of those fields.
_SOME_FIELDS: dict[tuple[type, frozenset[str]], list] = {}


def _stored_fields(document_cls) -> list[tuple[str, str, tuple[type, bool] | None, Any, Callable[[Any], Any]]]:
    fields = []
    for name, field in document_cls._fields.items():
        embedded = None
        if isinstance(field, mongoengine.EmbeddedDocumentField):
            embedded = (field.document_type, False)
        elif isinstance(field, mongoengine.ListField) and isinstance(field.field, mongoengine.EmbeddedDocumentField):
            embedded = (field.field.document_type, True)
        fields.append((name, field.db_field, embedded, field, stored_value_conversion(field)))
    _STORED_FIELDS[document_cls] = fields
    return fields


def stored_value_conversion(field) -> Callable[[Any], Any]:
    """``field.to_python``, with what lists mostly read taken directly: a text, a list of texts, a stored date
    (mongoengine rebuilt every list through a dict of its items, a tenth of a review queue page)."""
    kind = type(field)
    if kind is mongoengine.StringField:
        return lambda value: value if type(value) is str else field.to_python(value)
    if kind is mongoengine.ListField and type(field.field) is mongoengine.StringField:
        def texts(value):
            if type(value) is list and all(type(item) is str for item in value):
                return list(value)
            return field.to_python(value)
        return texts
    if kind is mongoengine.DateField:
        return lambda value: value.date() if type(value) is datetime else field.to_python(value)
    if (kind is mongoengine.DictField and field.field is None) or (
            kind is mongoengine.ListField and type(field.field) is mongoengine.DictField and field.field.field is None):
        def free_form(value):  # a copy of plain values, as the field makes it; anything else is the field's
            try:
                return _plain_copy(value)
            except _NotPlain:
                return field.to_python(value)
        return free_form
    return field.to_python


_PLAIN = frozenset({str, int, float, bool, type(None), datetime, ObjectId})


class _NotPlain(Exception):
    """A value :func:`_plain_copy` does not copy (the field converts it its own way)."""


def _plain_copy(value):
    """A free-form field's conversion of a stored value made of dicts, lists and plain values: new dicts and
    lists, the same plain values."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {key: _plain_copy(item) for key, item in value.items()}
    if kind is list:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


def _default_of(field) -> Any:
    """What a document holds for a field stored absent or null (see :meth:`BaseField.__set__`)."""
    if field.null or field.default is None:
        return None
    value = field.default() if callable(field.default) else field.default
    if isinstance(value, mongoengine.EmbeddedDocument):
        return as_stored(type(value), value.to_mongo().to_dict())
    return value


def collection(document_cls) -> Any:
    """The pymongo collection of a mongoengine document class (for calls with ``session=``)."""
    return document_cls._get_collection()


# ---- bulk writes

def upsert_many(coll, ops: list[tuple[dict, dict]]) -> None:
    """Unordered upserts (filter, update) in one command on a server; a duplicate-key error means a
    concurrent upsert inserted the same document first, which is what was wanted, so it is ignored."""
    from pymongo import UpdateOne
    from pymongo.errors import BulkWriteError, DuplicateKeyError

    if not ops:
        return
    if is_embedded():  # mongomock's bulk_write does not take current pymongo operations: one by one
        for flt, update in ops:
            with contextlib.suppress(DuplicateKeyError):
                coll.update_one(flt, update, upsert=True)
        return
    try:
        coll.bulk_write([UpdateOne(flt, update, upsert=True) for flt, update in ops], ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors") or []):
            raise


def update_many_each(coll, ops: list[tuple[dict, dict]], *, many: bool = False, session=None) -> int:
    """Unordered conditional updates (filter, update), one command on a server; returns how many changed.

    ``many``: each filter may match several documents (an ``_id: {$in: ...}`` chunk); ``session``: run them
    in that session (a transaction of :func:`transaction`).
    """
    from pymongo import UpdateMany, UpdateOne

    if not ops:
        return 0
    if is_embedded():  # mongomock's bulk_write does not take current pymongo operations: one by one
        send = coll.update_many if many else coll.update_one
        return sum(send(flt, update).modified_count for flt, update in ops)
    # No hint: a hint makes the local server walk the whole index; a filter that names ``_id`` first is a
    # primary-key look-up there and on MongoDB without one.
    op = UpdateMany if many else UpdateOne
    return coll.bulk_write([op(flt, update) for flt, update in ops], ordered=False, session=session).modified_count


def insert_ignoring_duplicates(coll, docs: list[dict[str, Any]], chunk: int = 5000) -> list[dict[str, Any]]:
    """Insert unordered in chunks (one command each); returns the documents refused as duplicates (a unique
    key already taken), every other one is stored."""
    from pymongo.errors import BulkWriteError

    refused = []
    for i in range(0, len(docs), chunk):
        part = docs[i:i + chunk]
        try:
            coll.insert_many(part, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            refused += [part[e["index"]] for e in errors]
    return refused


# A server matches every candidate of an ``_id: {$in: [...]}`` filter against the whole list (the local
# SecantusDB: linear per document), so long id lists are sent in chunks of this size.
ID_CHUNK = 200


def update_by_ids(coll, ids: list, where: dict, update: dict) -> int:
    """``update`` on the documents ``ids`` that still match ``where``: one unordered command of
    ``$in`` chunks on a server; returns how many changed."""
    chunks = [ids[i:i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]
    return update_many_each(coll, [({"_id": {"$in": c}, **where}, update) for c in chunks], many=True)


def find_by_ids(coll, ids: list, projection: dict | None = None) -> Iterator[dict]:
    """The documents ``ids`` (a primary-key look-up per chunk), in no particular order."""
    for i in range(0, len(ids), ID_CHUNK):
        yield from coll.find({"_id": {"$in": ids[i:i + ID_CHUNK]}}, projection)


# ---- counters

def next_in_sequence(counter_collection: str, key: str, *, taken: Callable[[int], bool] | None = None,
                     max_skips: int = 10000, session=None) -> int:
    """The next number of counter ``key`` (one atomic ``$inc``, upserted), skipping numbers already used.

    ``taken(n)`` says whether a document already carries number ``n`` (after a restore the counter
    may lag the data): such numbers are skipped, so a number is never issued twice.  Safe with any
    number of processes and threads (the in-process store's writes are serialised, see above).
    """
    from pymongo import ReturnDocument
    from pymongo.errors import DuplicateKeyError

    coll = get_db()[counter_collection]
    for _ in range(max_skips):
        try:
            doc = coll.find_one_and_update({"_id": key}, {"$inc": {"seq": 1}}, upsert=True,
                                           return_document=ReturnDocument.AFTER, session=session)
        except DuplicateKeyError:  # two first-ever upserts raced: the counter exists now
            if session is not None:
                raise  # inside a transaction: let it be retried whole
            continue
        if doc is None:  # SecantusDB 0.7 may answer a racing first upsert with no document: ask again
            continue
        seq = int(doc["seq"])
        if taken is None or not taken(seq):
            return seq
        log.warning("counter %s/%s: number %s is already used (restored data?); skipping it", counter_collection,
                    key, seq)
    raise RuntimeError(f"counter {counter_collection}/{key}: {max_skips} numbers in a row were already used")


def raise_counter(counter_collection: str, key: str, at_least: int) -> None:
    """Move counter ``key`` up to ``at_least`` (never down): catch-up after a restore."""
    from pymongo.errors import DuplicateKeyError

    with contextlib.suppress(DuplicateKeyError):
        get_db()[counter_collection].update_one({"_id": key}, {"$max": {"seq": int(at_least)}}, upsert=True)


# ---- indexes

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


_LEADING: dict[str, frozenset[str]] = {}


def leading_index_fields(collection_name: str) -> frozenset[str]:
    """``_id`` and the first field of every index the documents of ``collection_name`` declare: the fields a
    server can look a document up by (declared, so asking costs no round trip)."""
    found = _LEADING.get(collection_name)
    if found is None:
        fields, declared = {"_id"}, False
        for cls in all_documents():
            if cls._get_collection_name() == collection_name:
                declared = True
                fields.update(keys[0][0] for keys, _options in _declared_indexes(cls)
                              if keys and keys[0][1] in (1, -1))  # not a geo or text index
        found = frozenset(fields)
        if declared:  # a collection whose model is not imported yet is asked again next time
            _LEADING[collection_name] = found
    return found


_OPTION_KEYS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "2dsphereIndexVersion",
                "collation")
_INDEX_CONFLICTS = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict


def _declared_indexes(cls) -> list[tuple[list[tuple[str, Any]], dict[str, Any]]]:
    """(keys, options) of every index ``cls`` declares (meta and ``unique=True`` fields)."""
    out = []
    for spec in cls._meta.get("index_specs") or []:
        opts = {k: v for k, v in spec.items() if k not in ("fields", "cls", "name", "background")}
        out.append((list(spec["fields"]), opts))
    return out


def _normalise(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options[k] for k in _OPTION_KEYS if options.get(k) not in (None, False)}


def _drop(coll, name: str) -> None:
    """Drop an index; one already dropped (by a process starting at the same time) is fine."""
    try:
        coll.drop_index(name)
    except OperationFailure as exc:
        if exc.code != 27:  # IndexNotFound
            raise


def _create(coll, keys, options) -> None:
    try:
        coll.create_index(keys, **options)
    except OperationFailure as exc:
        if exc.code not in _INDEX_CONFLICTS:
            raise
        # Same keys under another name, or created concurrently with other options: replace it.
        for name, info in coll.index_information().items():
            if name != "_id_" and tuple(info["key"]) == tuple(keys):
                _drop(coll, name)
        coll.create_index(keys, **options)


def ensure_document_indexes(cls) -> list[str]:
    """Make ``cls``'s indexes what its ``meta`` declares: missing ones are created (one command for
    all), an index with the same keys but other options is dropped and recreated (migrated) instead
    of failing the boot, and an index no longer declared is dropped (indexes are managed here only).
    Returns the names of the indexes migrated or dropped.  Safe when several processes start together."""
    cls._meta["auto_create_index"] = False  # this function is the only place indexes are made
    coll = cls._get_collection()
    existing = {tuple(info["key"].items()) if isinstance(info["key"], dict) else tuple(info["key"]): (name, info)
                for name, info in coll.index_information().items() if name != "_id_"}
    missing, migrated = [], []
    declared = _declared_indexes(cls)
    wanted = {tuple(keys) for keys, _ in declared}
    for key, (name, _info) in existing.items():
        if key not in wanted:  # retired by the code (e.g. a unique index now prefixed by the shard key)
            log.warning("index %s.%s is no longer declared: dropping it", coll.name, name)
            _drop(coll, name)
            migrated.append(name)
    for keys, options in declared:
        current = existing.get(tuple(keys))
        if current is None:
            missing.append((keys, options))
            continue
        name, info = current
        if _normalise(info) != _normalise(options):
            log.warning("index %s.%s changed options (%s -> %s): migrating", coll.name, name,
                        _normalise(info), _normalise(options))
            _drop(coll, name)
            _create(coll, keys, options)
            migrated.append(name)
    if missing:
        try:
            coll.create_indexes([IndexModel(keys, **options) for keys, options in missing])
        except OperationFailure as exc:
            if exc.code not in _INDEX_CONFLICTS:
                raise
            for keys, options in missing:
                _create(coll, keys, options)
    return migrated


def ensure_indexes() -> None:
    """Create (or migrate) the indexes every document declares in its ``meta``."""
    for cls in all_documents():
        ensure_document_indexes(cls)
