"""Several independent reads in one database round trip, for list pages and bundles.

A list page needs its items and their total, then the names, states and
counts its rows join; each of those reads is small and index-served, and
what costs is one round trip each.  :func:`read_together` sends reads that
do not depend on each other as one ``aggregate``:

- A read *keyed* by an equality or ``$in`` on ``_id``, or on the field its
  caller names (``Read.key``: selective, and first in one of the
  collection's indexes), such as the ids of a page's institutions or an
  order's findings, is a ``$lookup`` with ``localField``/``foreignField``
  from one seed document holding the key values, the rest of the read
  (other clauses, sort, slice, projection, count) its ``pipeline``.  Both
  servers look such a join up in the index on ``foreignField`` (MongoDB, and
  the local SecantusDB, which otherwise reads a joined collection whole).
- At most one other read *heads* the command: the first read with a
  ``hint`` (a ``$lookup`` takes none), else the first read without a key
  (a count over a region range).  Its rows are gathered into the one output
  document (``$group``) and the lookups follow; without a head the seed is
  a ``$documents`` stage.
- Any further hinted or unkeyed read is sent by itself.  (``$unionWith``
  would batch those too, but the local SecantusDB reads a ``$unionWith``
  collection whole, whatever its pipeline: O(collection) per read.)

mongomock runs the same reads one after another, with the same results
(nothing is counted there).  The wire-lane plan test explains each batched
read as the query a server runs for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from bson import ObjectId

from inspect_api import db

_ROWS = "__rows"


@dataclass(frozen=True)
class Read:
    """One read: documents of ``collection`` matching ``filter`` (sorted, sliced, projected), or their number
    (``count``)."""

    collection: str
    filter: dict[str, Any]
    projection: dict[str, Any] | None = None
    sort: tuple[tuple[str, int], ...] = ()
    skip: int = 0
    limit: int = 0
    hint: tuple[tuple[str, int], ...] | None = None
    count: bool = False
    key: str | None = None

    def __post_init__(self) -> None:
        if self.key is not None and self.key not in db.leading_index_fields(self.collection):
            raise ValueError(f"{self.collection}: no declared index starts with {self.key!r}")

    def stages(self, flt: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The read as pipeline stages (``flt``: the filter to match instead of the read's own)."""
        flt = self.filter if flt is None else flt
        out: list[dict[str, Any]] = [{"$match": flt}] if flt else []
        if self.count:
            return out + [{"$group": {"_id": None, "n": {"$sum": 1}}}]
        if self.sort:
            out.append({"$sort": dict(self.sort)})
        if self.skip:
            out.append({"$skip": self.skip})
        if self.limit:
            out.append({"$limit": self.limit})
        if self.projection:
            out.append({"$project": self.projection})
        return out

    def lookup_key(self) -> tuple[str, list[Any]] | None:
        """The clause a server looks this read up by in an index, and its values: an equality or ``$in`` on
        ``_id``, else on ``key`` (the caller names it: a field it knows to be selective, leading an index of the
        collection); None for a hinted read or one without such a clause."""
        if self.hint:
            return None
        for field in ("_id", self.key):
            if field is None or field not in self.filter:
                continue
            values = _key_values(self.filter[field])
            if values is not None:
                return field, values
        return None


_SCALARS = (str, int, float, ObjectId, datetime)


def _key_values(clause: Any) -> list[Any] | None:
    """The values of an equality or ``$in`` clause on plain values (a join matches on those only)."""
    if isinstance(clause, dict):
        if list(clause) == ["$in"] and isinstance(clause["$in"], (list, tuple)):
            values = list(clause["$in"])
        elif list(clause) == ["$eq"]:
            values = [clause["$eq"]]
        else:
            return None
    else:
        values = [clause]
    return values if all(isinstance(v, _SCALARS) for v in values) else None


def _result(read: Read, rows: list[dict[str, Any]]) -> Any:
    if read.count:
        return int(rows[0]["n"]) if rows else 0
    return rows


def read_together(*reads: Read | None) -> list[Any]:
    """The results of ``reads``, in order: a list of documents, or an int for a count (None for a None read).

    Keyed reads and one head read go in one command; any other read by itself (see the module)."""
    given = [(n, r) for n, r in enumerate(reads) if r is not None]
    results: list[Any] = [None] * len(reads)
    if db.is_embedded():
        for n, read in given:
            results[n] = _alone(read, planned=False)
        return results
    keyed: list[tuple[int, Read, str, list[Any]]] = []
    others: list[tuple[int, Read]] = []
    for n, read in given:
        key = read.lookup_key()
        if key is None:
            others.append((n, read))
        elif not key[1]:  # an empty id list matches nothing (a join on [] would match nulls)
            results[n] = _result(read, [])
        else:
            keyed.append((n, read, *key))
    hinted = [(n, r) for n, r in others if r.hint]
    head = (hinted or others or [None])[0]
    for n, read in others:
        if (n, read) != head:
            results[n] = _alone(read, planned=True)
    if not keyed:
        if head is not None:
            results[head[0]] = _alone(head[1], planned=True)
        return results
    if head is None and len(keyed) == 1:
        n, read, _field, _values = keyed[0]
        results[n] = _alone(read, planned=True)
        return results
    seed = {f"__k{n}": values for n, _read, _field, values in keyed}
    lookups = [_lookup(n, read, field) for n, read, field, _values in keyed]
    out = {_ROWS: 1, **{f"__r{n}": 1 for n, *_ in keyed}}
    doc = None
    if head is not None:
        head_n, head_read = head
        pipeline = head_read.stages() + [{"$group": {"_id": None, _ROWS: {"$push": "$$ROOT"}}}, {"$set": seed},
                                         *lookups, {"$project": out}]
        options = {"hint": dict(head_read.hint)} if head_read.hint else {}
        doc = next(iter(db.database()[head_read.collection].aggregate(pipeline, **options)), None)
        results[head_n] = _result(head_read, doc[_ROWS] if doc else [])
    if doc is None:  # no head, or a head without rows (nothing to gather the lookups onto)
        doc = next(iter(db.database().aggregate([{"$documents": [seed]}, *lookups, {"$project": out}])))
    for n, read, _field, _values in keyed:
        results[n] = _result(read, doc.get(f"__r{n}") or [])
    return results


def _lookup(n: int, read: Read, field: str) -> dict[str, Any]:
    """``read`` as a join on ``field`` from the seed's values (``__k<n>``), into ``__r<n>``."""
    rest = {k: v for k, v in read.filter.items() if k != field}
    return {"$lookup": {"from": read.collection, "localField": f"__k{n}", "foreignField": field,
                        "pipeline": read.stages(rest), "as": f"__r{n}"}}


def _alone(read: Read, *, planned: bool) -> Any:
    """One read by itself (``planned``: on a server, with its hint; mongomock plans nothing)."""
    coll = db.database()[read.collection]
    hint = read.hint if planned else None
    if read.count:  # the same one command on a server; mongomock counts without copying every match
        return coll.count_documents(read.filter, **({"hint": list(hint)} if hint else {}))
    cursor = coll.find(read.filter, read.projection)
    if read.sort:
        cursor = cursor.sort(list(read.sort))
    if hint:
        cursor = cursor.hint(list(hint))
    if read.skip:
        cursor = cursor.skip(read.skip)
    if read.limit:
        cursor = cursor.limit(read.limit)
    return list(cursor)


@dataclass(frozen=True)
class Query:
    """A list's query as the store runs it: a filter, an order and the index hint it is planned with.

    Lists on the busiest requests (an inspector's assignments, a bundle's open orders) describe their query so,
    not as a mongoengine queryset: building one (each ``filter``/``order_by``/``hint`` copies the whole
    queryset) cost more than running it on a page of a few documents."""

    collection: str
    filter: dict[str, Any]
    sort: tuple[tuple[str, int], ...] = ()
    hint: tuple[tuple[str, int], ...] | None = None
    projection: dict[str, Any] | None = None

    def page(self, page: int, per_page: int) -> tuple[Read, Read]:
        """The page and the total as two reads (the page carries the hint; see :func:`_count_hint`)."""
        return (Read(self.collection, self.filter, projection=self.projection, sort=self.sort,
                     skip=(page - 1) * per_page, limit=per_page, hint=self.hint),
                Read(self.collection, self.filter, count=True, hint=_count_hint(self.collection, self.filter,
                                                                               self.hint)))

    def documents(self) -> Iterator[dict[str, Any]]:
        """Every matching document as stored, in order, streamed from one cursor (a whole list's export)."""
        cursor = db.database()[self.collection].find(self.filter, self.projection, sort=list(self.sort) or None)
        return cursor.hint(list(self.hint)) if self.hint and not db.is_embedded() else cursor


def page_reads(queryset, page: int, per_page: int) -> tuple[Read, Read]:
    """A mongoengine queryset's page and its total as two reads (the page carries the queryset's hint)."""
    hint = queryset._hint if queryset._hint not in (-1, None) else None
    if isinstance(hint, dict):
        hint = tuple(hint.items())
    elif hint is not None:
        hint = tuple((k, int(d)) for k, d in hint)
    query = Query(queryset._document._get_collection_name(), queryset._query,
                  sort=tuple((k, int(d)) for k, d in (queryset._ordering or [])), hint=hint,
                  projection=queryset._loaded_fields.as_dict() or None)
    return query.page(page, per_page)


def _count_hint(collection: str, flt: dict[str, Any], hint: tuple | None) -> tuple | None:
    """The hint of a list's count.

    A count on one field that an index leads with and bounds (equality, ``$in``, a range) goes without a hint,
    so it can be joined or head a command.  Any other keeps the page's hint: on several fields the local
    SecantusDB serves it by the first clause an index holds, but its explain reports only whole-filter plans
    (a collection scan) and a wire-lane test explains every read; a field no index leads with, or a ``$ne``,
    is bounded by no index."""
    bounded = (len(flt) == 1 and next(iter(flt)) in db.leading_index_fields(collection)
               and _bounded(next(iter(flt.values()))))
    return None if bounded else hint


def _bounded(clause: Any) -> bool:
    """Whether an index can bound a clause: an equality, an ``$in``, or a range."""
    return not isinstance(clause, dict) or set(clause) <= {"$eq", "$in", "$gt", "$gte", "$lt", "$lte"}


def known_total(rows: list, page: int, per_page: int) -> int | None:
    """The total a page tells by itself, or None: a page that is not full is the last one, so the items before
    it and on it are all there are (an empty page past the first may be beyond the end: not known)."""
    if len(rows) < per_page and (page == 1 or rows):
        return (page - 1) * per_page + len(rows)
    return None


def count_unless_known(count: Read, rows: list, page: int, per_page: int) -> Read | None:
    """``count``, or None when the page tells its total by itself (:func:`known_total`)."""
    return None if known_total(rows, page, per_page) is not None else count


def paged(rows: list, total: int | None, page: int, per_page: int) -> dict[str, Any]:
    """The page dict of :func:`inspect_api.schemas.paginate`; ``total`` None: the one the page tells."""
    if total is None:
        total = known_total(rows, page, per_page)
    return {"items": rows, "total": total, "page": page, "per_page": per_page}
