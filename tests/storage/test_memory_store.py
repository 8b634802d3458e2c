"""The in-process store's shortcuts answer exactly as mongomock's own machinery does.

``inspect_api.memory_store`` decides plain filters and sorts itself and copies documents once; these
properties hold it to mongomock's answers (``filter_applies``, ``resolve_sort_key``) on generated documents,
including the awkward ones (lists, mixed types, missing fields, an ObjectId beside its own string).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta, timezone

import mongomock
from bson import SON, ObjectId, Timestamp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mongomock.filtering import filter_applies, resolve_sort_key

from inspect_api import memory_copies, memory_store

OIDS = [ObjectId("6b0c89c6b0ba9243ea8275%02x" % n) for n in range(4)]
TEXTS = ["", "370303", "370304", "37030401", "x", str(OIDS[0])]
KEYS = st.sampled_from(TEXTS) | st.sampled_from(OIDS)
OTHERS = (st.integers(-2, 2) | st.booleans() | st.none() | st.floats(-2, 2, allow_nan=False)
          | st.sampled_from([datetime(2026, 1, 1), datetime(2026, 6, 1)]) | st.just({"k": "x"}))
ATOMS = KEYS | OTHERS
STORED = ATOMS | st.lists(KEYS, max_size=4) | st.lists(ATOMS, max_size=3) | st.lists(st.lists(KEYS, max_size=2),
                                                                                   max_size=2)
FIELDS = ["a", "b", "c"]

DOCUMENTS = st.dictionaries(st.sampled_from(FIELDS), STORED, max_size=3)
PLAIN_CONDITIONS = (
    KEYS
    | st.builds(lambda v: {"$in": v}, st.lists(KEYS, max_size=3))
    | st.builds(lambda v: {"$ne": v}, KEYS)
    | st.builds(lambda v: {"$nin": v}, st.lists(KEYS, max_size=3))
    | st.dictionaries(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), KEYS, min_size=1, max_size=2)
    | st.builds(lambda lo, v: {"$gte": lo, "$in": v}, KEYS, st.lists(KEYS, max_size=2))
    | st.booleans() | st.builds(lambda v: {"$ne": v}, st.booleans())  # flags: the review queues' overdue
    | st.none() | st.just({"$ne": None}))  # null: the publication queue's unpublished
OTHER_CONDITIONS = (
    OTHERS | st.just({"$in": [None, "x"]}) | st.just({"$exists": True}) | st.just({"$ne": "x", "$gt": "a"})
    | st.just({"$nin": [None, "x"]}) | st.just({"$nin": ["x"], "$gt": "a"})
    | st.just({"$eq": "x"}) | st.just({}) | st.lists(KEYS, max_size=2))
FILTERS = st.dictionaries(st.sampled_from(FIELDS), PLAIN_CONDITIONS | OTHER_CONDITIONS, max_size=3)


@settings(max_examples=1000)
@given(spec=FILTERS, document=DOCUMENTS)
@example(spec={"a": OIDS[0]}, document={"a": [str(OIDS[0])]})  # mongomock finds an ObjectId by its string
@example(spec={"a": {"$gt": "x"}}, document={"a": OIDS[0]})  # ranges bracket by type
@example(spec={"a": {"$gte": OIDS[0]}}, document={"a": "x"})
@example(spec={"a": {"$ne": "x"}}, document={})
@example(spec={"a": {"$ne": "x"}}, document={"a": []})
@example(spec={"a": {"$in": ["x", OIDS[1]]}}, document={"a": ["y", OIDS[1]]})
@example(spec={"a": {"$nin": ["x", OIDS[1]]}}, document={"a": ["y", OIDS[1]]})
@example(spec={"a": {"$nin": ["x"]}}, document={})
@example(spec={"a": {"$nin": ["x"]}}, document={"a": []})
@example(spec={"a": {"$nin": [OIDS[0]]}}, document={"a": [str(OIDS[0])]})
@example(spec={"a": "x", "b": {"$lt": "370304"}}, document={"a": ["x"], "b": ["370303"]})
@example(spec={"a": True}, document={"a": 1})  # mongomock compares a flag as a number
@example(spec={"a": True}, document={"a": 1.0})
@example(spec={"a": False}, document={"a": 0})
@example(spec={"a": True}, document={"a": [0, 1]})
@example(spec={"a": True}, document={"a": [[True]]})
@example(spec={"a": {"$ne": True}}, document={})
@example(spec={"a": {"$ne": False}}, document={"a": 0.0})
@example(spec={"a": False}, document={"a": None})
@example(spec={"a": None}, document={})  # a null finds a missing field, a null, and a list holding one
@example(spec={"a": None}, document={"a": [None, "x"]})
@example(spec={"a": None}, document={"a": [[None]]})
@example(spec={"a": {"$ne": None}}, document={"a": {"k": "x"}})
@example(spec={"a": None, "b": {"$gte": "370303"}}, document={"b": "370304"})
def test_a_plain_filter_matches_what_mongomock_matches(spec, document):
    plain = memory_store.compile_filter(spec)
    if plain is not None:
        assert memory_store.matches(plain, spec, document) == bool(filter_applies(spec, document))


@given(spec=st.dictionaries(st.sampled_from(FIELDS), PLAIN_CONDITIONS, max_size=3))
def test_the_filters_lists_and_pages_use_are_plain(spec):
    assert memory_store.compile_filter(spec) is not None


def test_filters_outside_the_plain_forms_are_left_to_mongomock():
    for spec in ({"a.b": "x"}, {"$or": [{"a": "x"}]}, {"a": 1}, {"a": {"$in": [None]}},
                 {"a": {"$exists": True}}, {"a": {"$ne": "x", "$gt": "a"}}, {"a": {"$nin": ["x"], "$gt": "a"}},
                 {"a": {"$nin": [None]}}, {"a": {"$regex": "x"}}, {"a": {}}):
        assert memory_store.compile_filter(spec) is None, spec


SORT_VALUES = (st.lists(st.sampled_from(TEXTS), max_size=8) | st.lists(st.sampled_from(OIDS), max_size=8)
               | st.lists(st.integers(-3, 3), max_size=8)
               | st.lists(st.sampled_from([datetime(2026, 1, n) for n in (1, 2, 3)]), max_size=8)
               | st.lists(ATOMS | st.lists(KEYS, max_size=2), max_size=8))


@given(values=SORT_VALUES, missing=st.sets(st.integers(0, 7), max_size=2), direction=st.sampled_from([1, -1]))
def test_a_plain_sort_orders_as_mongomock_orders_ties_included(values, missing, direction):
    documents = [{"n": n} if n in missing else {"n": n, "s": v} for n, v in enumerate(values)]
    plain = memory_store.sorted_plainly(documents, "s", direction)
    if plain is not None:
        expected = sorted(documents, key=lambda d: resolve_sort_key("s", d), reverse=direction < 0)
        assert [d["n"] for d in plain] == [d["n"] for d in expected]


def _collection(tz_aware: bool = True):
    memory_store.install()
    return mongomock.MongoClient(tz_aware=tz_aware)["memory_store_probe"]["documents"]


@settings(max_examples=150)
@given(documents=st.lists(DOCUMENTS, max_size=12), spec=FILTERS,
       sort=st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from([1, -1])), max_size=2, unique_by=lambda s: s[0]),
       skip=st.integers(0, 3), limit=st.integers(0, 4))
def test_a_read_returns_what_mongomock_returns(documents, spec, sort, skip, limit):
    coll = _collection()
    coll.delete_many({})
    stored = [{"_id": n, **d} for n, d in enumerate(documents)]
    coll.insert_many([dict(d) for d in stored]) if stored else None
    try:
        expected = [d for d in stored if filter_applies(spec, d)]
    except Exception as exc:  # noqa: BLE001 - a filter mongomock refuses is refused the same way
        try:
            list(coll.find(spec))
        except type(exc):
            return
        raise AssertionError(f"mongomock refused {spec!r} with {exc!r}, the store did not")
    for key, direction in reversed(sort):
        expected = sorted(expected, key=lambda d, key=key: resolve_sort_key(key, d), reverse=direction < 0)
    expected = expected[skip:][:limit] if limit else expected[skip:]
    cursor = coll.find(spec)
    if sort:
        cursor = cursor.sort(sort)
    got = list(cursor.skip(skip).limit(limit))
    assert [d["_id"] for d in got] == [d["_id"] for d in expected]
    assert got == [_aware(d) for d in expected]


def _aware(value):
    if isinstance(value, dict):
        return {k: _aware(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_aware(v) for v in value]
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc)
    return value


def test_a_returned_document_is_a_copy_and_its_datetimes_are_aware():
    coll = _collection()
    coll.delete_many({})
    coll.insert_one({"_id": 1, "team": ["a"], "at": datetime(2026, 1, 1), "nested": {"at": [datetime(2026, 1, 2)]}})
    for read in (lambda: coll.find_one({"team": "a"}), lambda: next(coll.find({"team": "a"}).sort("at", -1)),
                 lambda: next(coll.find({}).limit(1)), lambda: coll.find_one({"team": "a"}, {"nested": 1})):
        got = read()
        assert got["nested"]["at"][0].tzinfo is not None
        got["nested"]["at"].append("changed")
        got.get("team", []).append("b")
    stored = coll.find_one({"_id": 1})
    assert stored["team"] == ["a"] and len(stored["nested"]["at"]) == 1
    assert stored["at"] == datetime(2026, 1, 1, tzinfo=timezone.utc)


OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("insert"), DOCUMENTS),
    st.tuples(st.just("set"), st.integers(0, 11), st.sampled_from(FIELDS), STORED),
    st.tuples(st.just("unset"), st.integers(0, 11), st.sampled_from(FIELDS)),
    st.tuples(st.just("delete"), st.integers(0, 11)),
    st.tuples(st.just("read"), FILTERS)), max_size=25)


@settings(max_examples=150)
@given(operations=OPERATIONS)
def test_reads_after_any_writes_answer_as_a_scan_does(operations):
    """Equalities are looked up in an index of their field; whatever was inserted, changed in place or removed
    before, a read finds what mongomock's scan finds, in the same order."""
    coll = _collection()
    coll.delete_many({})
    shadow: list[dict] = []
    next_id = 0
    for operation in operations:
        kind = operation[0]
        if kind == "insert":
            shadow.append({"_id": next_id, **operation[1]})
            coll.insert_one(dict(shadow[-1]))
            next_id += 1
        elif kind in ("set", "unset", "delete") and shadow:
            target = shadow[operation[1] % len(shadow)]
            if kind == "set":
                coll.update_one({"_id": target["_id"]}, {"$set": {operation[2]: operation[3]}})
                target[operation[2]] = operation[3]
            elif kind == "unset":
                coll.update_one({"_id": target["_id"]}, {"$unset": {operation[2]: ""}})
                target.pop(operation[2], None)
            else:
                coll.delete_one({"_id": target["_id"]})
                shadow.remove(target)
        elif kind == "read":
            spec = operation[1]
            try:
                expected = [d["_id"] for d in shadow if filter_applies(spec, d)]
            except Exception:  # noqa: BLE001 - a filter mongomock refuses: nothing to compare
                continue
            assert [d["_id"] for d in coll.find(spec)] == expected
            assert coll.count_documents(spec) == len(expected)


def test_an_equality_read_is_served_by_its_index_and_sees_every_change():
    coll = _collection()
    coll.delete_many({})
    coll.insert_many([{"_id": n, "team": [f"i{n % 7}", f"i{(n + 1) % 7}"], "region": f"3703{n % 3:02d}"}
                      for n in range(200)])
    expected = [n for n in range(200) if n % 7 in (3, 2)]

    def found():
        return [d["_id"] for d in coll.find({"team": "i3", "region": {"$gte": "370300", "$lt": "370302"}})]

    assert found() == [n for n in expected if n % 3 < 2]
    assert ("value", "team") in coll._store._inspect_indexes[1]  # built once, reused while nothing changes
    coll.update_one({"_id": 4}, {"$set": {"team": ["i3"]}})  # changed in place
    expected = sorted(expected + [4])
    assert found() == [n for n in expected if n % 3 < 2]
    coll.update_many({"_id": {"$in": [9, 10]}}, {"$set": {"team": "x"}})
    expected = [n for n in expected if n not in (9, 10)]
    assert found() == [n for n in expected if n % 3 < 2]
    coll.delete_one({"_id": 3})
    expected.remove(3)
    assert found() == [n for n in expected if n % 3 < 2]
    coll.insert_one({"_id": 999, "team": "i3", "region": "370301"})
    assert found() == [n for n in expected if n % 3 < 2] + [999]
    coll.find_one_and_update({"_id": 999}, {"$set": {"team": []}})
    assert found() == [n for n in expected if n % 3 < 2]
    coll.insert_one({"_id": 1000, "team": [str(OIDS[0])]})  # mongomock finds an ObjectId by its string in a list
    assert [d["_id"] for d in coll.find({"team": OIDS[0]})] == [1000]
    assert filter_applies({"team": OIDS[0]}, {"team": [str(OIDS[0])]})


TEXT_DOCUMENTS = st.fixed_dictionaries({"a": st.sampled_from(TEXTS[:5]), "b": st.sampled_from(TEXTS[:5])},
                                       optional={"c": st.sampled_from(TEXTS[:5])})
TEXT_RANGES = st.dictionaries(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), st.sampled_from(TEXTS[:5]),
                              min_size=1, max_size=2)
TEXT_FILTERS = st.dictionaries(st.sampled_from(["a", "b", "c"]), TEXT_RANGES | st.sampled_from(TEXTS[:5])
                               | st.builds(lambda v: {"$ne": v}, st.sampled_from(TEXTS[:5])), max_size=2)


@settings(max_examples=200)
@given(documents=st.lists(TEXT_DOCUMENTS, max_size=14), spec=TEXT_FILTERS,
       sort=st.lists(st.tuples(st.sampled_from(["a", "b", "_id"]), st.sampled_from([1, -1])), min_size=1,
                     max_size=2, unique_by=lambda s: s[0]),
       skip=st.integers(0, 3), limit=st.integers(0, 4))
def test_ranges_and_ordered_walks_answer_as_mongomock(documents, spec, sort, skip, limit):
    """Where every document holds a string (a range index serves a range) and every sort key holds one type
    (a page walks the collection in sort order and stops), reads, pages and counts answer as mongomock's."""
    coll = _collection()
    coll.delete_many({})
    stored = [{"_id": n, **d} for n, d in enumerate(documents)]
    if stored:
        coll.insert_many([dict(d) for d in stored])
    expected = [d for d in stored if filter_applies(spec, d)]
    assert [d["_id"] for d in coll.find(spec)] == [d["_id"] for d in expected]
    assert coll.count_documents(spec) == len(expected)
    for key, direction in reversed(sort):
        expected = sorted(expected, key=lambda d, key=key: resolve_sort_key(key, d), reverse=direction < 0)
    expected = expected[skip:][:limit] if limit else expected[skip:]
    got = list(coll.find(spec).sort(sort).skip(skip).limit(limit))
    assert [d["_id"] for d in got] == [d["_id"] for d in expected]


def test_a_page_of_a_broad_range_walks_the_sort_order_and_stops():
    coll = _collection()
    coll.delete_many({})
    coll.insert_many([{"_id": n, "region": f"3703{n % 5:02d}", "at": f"2026-{n % 12 + 1:02d}"} for n in range(3000)])
    spec = {"region": {"$gte": "370300", "$lt": "370304"}}
    expected = sorted((d for d in coll._store._documents.values() if d["region"] < "370304"),
                      key=lambda d: d["at"], reverse=True)
    assert [d["_id"] for d in coll.find(spec).sort([("at", -1), ("_id", 1)]).limit(5)] == [
        d["_id"] for d in sorted(expected, key=lambda d: (d["at"], -d["_id"]), reverse=True)][:5]
    assert coll.count_documents(spec) == len(expected)
    assert ("order", (("at", -1), ("_id", 1))) in coll._store._inspect_indexes[1]
    assert ("text", "region") in coll._store._inspect_indexes[1]
    coll.update_one({"_id": 7}, {"$set": {"at": "2027-01"}})  # in place: the next page sees it first
    assert [d["_id"] for d in coll.find(spec).sort([("at", -1), ("_id", 1)]).limit(1)] == [7]



def test_a_count_of_a_range_alone_is_the_size_of_its_index_range(monkeypatch):
    """The office's lists count their region subtree (a range of strings, the whole filter) from the range
    index without listing 20,000 documents; any other count is mongomock's, and every count sees changes."""
    coll = _collection()
    coll.delete_many({})
    coll.insert_many([{"_id": n, "region": f"3703{n % 5:02d}"} for n in range(3000)])
    spec = {"region": {"$gte": "370300", "$lt": "370304"}}
    listed = []
    scan = type(coll)._iter_documents
    monkeypatch.setattr(type(coll), "_iter_documents", lambda self, flt: listed.append(flt) or scan(self, flt))
    assert coll.count_documents(spec) == 2400
    assert coll.count_documents(spec, hint=[("region", 1)]) == 2400
    assert coll.count_documents({"region": {"$gt": "370304"}}) == 0
    assert not listed  # answered by the index
    assert coll.count_documents(spec, skip=10, limit=5) == 5
    assert coll.count_documents({**spec, "other": "x"}) == 0
    assert coll.count_documents({"region": "370301"}) == 600
    assert len(listed) == 3  # anything else is mongomock's
    coll.delete_many({"_id": {"$lt": 10}})  # regions 370300-370304, two of each
    coll.insert_one({"_id": 5000, "region": "370303"})
    listed.clear()
    assert coll.count_documents(spec) == 2400 - 8 + 1
    assert not listed
    coll.insert_one({"_id": 5001, "region": 370303})  # not a string: the range index no longer serves it
    assert coll.count_documents(spec) == 2393
    assert listed

ABSENT = [ObjectId("6b0c89c6b0ba9243ea8276%02x" % n) for n in range(2)]


@settings(max_examples=150)
@given(present=st.lists(st.sampled_from(OIDS), unique=True), asked=st.lists(st.sampled_from(OIDS + ABSENT), max_size=5),
       single=st.booleans())
def test_a_read_by_ids_returns_what_mongomock_returns(present, asked, single):
    """A filter on ``_id`` alone is served by key (in ``_id`` order for ``$in``), with mongomock's matches."""
    coll = _collection()
    coll.delete_many({})
    stored = [{"_id": oid, "n": n} for n, oid in enumerate(present)]
    coll.insert_many([dict(d) for d in stored]) if stored else None
    spec = {"_id": asked[0]} if single and asked else {"_id": {"$in": asked}}
    assert memory_store.primary_keys(spec) is not None
    expected = sorted((d for d in stored if filter_applies(spec, d)), key=lambda d: d["_id"])
    assert list(coll.find(spec)) == expected
    if single and asked:  # find_one by key skips the cursor: the same document, or None
        assert coll.find_one(spec) == (expected[0] if expected else None)


def test_a_document_found_by_key_is_a_copy_and_its_datetimes_are_aware():
    coll = _collection()
    coll.delete_many({})
    coll.insert_one({"_id": OIDS[0], "team": ["a"], "at": datetime(2026, 1, 1),
                     "nested": {"at": [datetime(2026, 1, 2)]}})
    got = coll.find_one({"_id": OIDS[0]})
    assert got["at"] == datetime(2026, 1, 1, tzinfo=timezone.utc) and got["nested"]["at"][0].tzinfo is not None
    got["team"].append("b")
    got["nested"]["at"].append("changed")
    assert coll.find_one({"_id": OIDS[0]}) == {"_id": OIDS[0], "team": ["a"],
                                              "at": datetime(2026, 1, 1, tzinfo=timezone.utc),
                                              "nested": {"at": [datetime(2026, 1, 2, tzinfo=timezone.utc)]}}
    assert coll.find_one({"_id": OIDS[1]}) is None


def test_a_collection_opened_again_is_the_same_collection_with_the_options_asked():
    """``database[name]`` hands back the collection already opened with the database's options; one opened
    with other options is never handed out for it (nor is it for them)."""
    from bson.codec_options import CodecOptions

    memory_store.install()
    database = mongomock.MongoClient(tz_aware=True)["known_collections"]
    first = database["things"]
    assert database["things"] is first and database.things is first
    naive = database.get_collection("others", codec_options=CodecOptions(tz_aware=False))
    assert not naive.codec_options.tz_aware
    assert database["others"].codec_options.tz_aware  # the database's own options, not the first opener's
    first.insert_one({"_id": OIDS[0], "at": datetime(2026, 1, 1)})
    assert database["things"].find_one({"_id": OIDS[0]})["at"].tzinfo is not None
    assert database.get_collection("things", codec_options=CodecOptions(tz_aware=False)) \
        .find_one({"_id": OIDS[0]})["at"].tzinfo is None


PATHS = ["a", "a.b", "a.k", "a.b.c", "b.c", "b.k", "c.d.e"]
# 1.0 beside 1 and True: the store keeps the tree of each projection it has seen, by its values and their types.
PROJECTIONS = st.dictionaries(st.sampled_from(FIELDS + ["_id"]), st.sampled_from([1, True, 0, False, 1.0]),
                              max_size=3) \
    | st.dictionaries(st.sampled_from(PATHS + ["_id"]), st.sampled_from([1, True]), max_size=3) \
    | st.just({"a.b": 1}) | st.just({"a": {"$slice": 1}}) | st.just({"a": 1, "b": 0}) | st.just({"a.b": 1, "_id": 0}) \
    | st.just({"a.$": 1}) | st.just({"a.b": 1, "c": 0})
SUBDOCUMENTS = st.recursive(ATOMS, lambda inner: st.dictionaries(st.sampled_from(["b", "c", "d", "e", "k"]), inner,
                                                                 max_size=3) | st.lists(inner, max_size=3), max_leaves=8)
NESTED_DOCUMENTS = st.dictionaries(st.sampled_from(FIELDS), SUBDOCUMENTS, max_size=3)


@settings(max_examples=800)
@given(document=DOCUMENTS | NESTED_DOCUMENTS, fields=PROJECTIONS | st.none(), tz_aware=st.booleans())
@example(document={"a": {"b": {"c": datetime(2026, 1, 1)}, "k": 1}, "b": [{"c": 1, "k": 2}, {"k": 3}]},
         fields={"a.b": 1, "b.c": 1}, tz_aware=True)
@example(document={"a": ["x", {"b": 1}]}, fields={"a.b": 1}, tz_aware=True)  # mongomock fails on a non-document
@example(document={"a": 1}, fields={"a": 1, "a.b": 1}, tz_aware=False)  # a path collision: refused
def test_a_read_whole_or_projected_answers_as_mongomocks(document, fields, tz_aware):
    """A read's documents, whole or projected: the same fields in the same order, copied, with aware datetimes
    when the collection asks for them, as mongomock's own projection and make-aware pass make them (the store
    makes them in one pass for whole documents and top-level fields it includes; mongomock's decide the rest)."""
    from mongomock.collection import Collection

    coll = _collection(tz_aware)
    coll.delete_many({})
    stored = {"_id": OIDS[0], **document}
    coll.insert_one(dict(stored))
    try:
        expected = Collection._copy_only_fields.__wrapped__(coll, stored, None if fields is None else dict(fields),
                                                            dict)
    except Exception as exc:  # noqa: BLE001 - what mongomock refuses (or fails on) is refused alike
        try:
            list(coll.find({}, fields))
        except type(exc):
            return
        raise AssertionError(f"mongomock refused {fields!r}, the store did not")
    if tz_aware:
        expected = memory_copies._MAKE_AWARE(expected)
    for got in (list(coll.find({}, fields))[0], list(coll.find({}, fields).sort("_id", 1).limit(1))[0],
                coll.find_one({"_id": OIDS[0]}, fields)):
        assert got == expected and list(got) == list(expected)
        assert all(type(a) is type(b) for a, b in zip(got.values(), expected.values()))
        for key, value in got.items():
            if isinstance(value, datetime):
                assert (value.tzinfo is not None) is tz_aware
        assert not {id(c) for c in _containers(got)} & {id(c) for c in _containers(stored)}  # copies all through
    stored_now = coll.with_options(codec_options=coll.codec_options.with_options(tz_aware=False)) \
        .find_one({"_id": OIDS[0]})
    assert stored_now == stored  # nothing read changed what is stored


def _containers(value):
    """Every dict and list in ``value``, itself included."""
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


TIMES = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.none() | st.just(timezone.utc) | st.sampled_from(
                         [timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]))
GIVEN = st.recursive(
    ATOMS | TIMES | st.just(b"\x00") | st.just(Timestamp(5, 1)) | st.just(frozenset({"x"})),
    lambda inner: st.dictionaries(st.sampled_from(["$gte", "$in", "a", "b", "c.d"]), inner, max_size=3)
    | st.lists(inner, max_size=3) | st.lists(inner, max_size=2).map(tuple)
    | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2).map(OrderedDict)
    | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2).map(SON), max_leaves=10)


@settings(max_examples=500)
@given(value=GIVEN)
@example(value={"at": {"$lt": datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))}})
@example(value={"a": (1, [datetime(2026, 1, 1, 0, 0, 0, 999999)])})
def test_what_the_store_is_given_is_made_naive_as_mongomock_makes_it(value):
    """Every filter, insert and update: the same value, of the same types all through, with datetimes naive UTC
    at millisecond precision, in new dicts and lists, as mongomock's own pass makes it."""
    memory_store.install()
    expected = memory_copies._MAKE_NAIVE(value)
    got = memory_copies.naive_for_store(value)
    assert got == expected
    assert _types(got) == _types(expected)
    assert not {id(c) for c in _containers(got)} & {id(c) for c in _containers(value)}


def _types(value):
    """The types of ``value`` all through, datetimes with whether they are aware."""
    if isinstance(value, dict):
        return (type(value), [(key, _types(item)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value), [_types(item) for item in value])
    if isinstance(value, datetime):
        return (datetime, value.tzinfo is not None)
    return type(value)


def test_a_projections_tree_is_worked_out_once_by_its_values_and_their_types():
    """The tree of a projection is kept, found again by its fields, values and their types: ``1.0`` equals ``1``
    but is not an inclusion the store projects itself, and an operator's spec is never a tree."""
    tree = memory_copies.included_paths({"a": 1, "b.c": 1})
    assert tree == {"a": 1, "b": {"c": 1}}
    assert memory_copies.included_paths({"a": 1, "b.c": 1}) is tree
    assert memory_copies.included_paths({"a": 1}) == {"a": 1}
    assert memory_copies.included_paths({"a": 1.0}) is None
    assert memory_copies.included_paths({"a": True}) == {"a": 1}
    assert memory_copies.included_paths({"a": {"$slice": 1}}) is None
    assert memory_copies.included_paths({"b.c": 1, "a": 1}) == {"b": {"c": 1}, "a": 1}
