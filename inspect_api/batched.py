"""Several independent reads in one database round trip (``$unionWith``), for list pages and bundles.

A list page needs its items and their total, then the names, states and
counts its rows join; each of those reads is small and index-served, and
what costs is one round trip each.  :func:`read_together` sends reads that
do not depend on each other as one ``aggregate``: the first read is the
pipeline itself (it alone may carry a ``hint``: ``$unionWith`` takes
none), each further read is a ``$unionWith`` sub-pipeline on its own
collection, and every row comes back tagged with its read.  A server plans
each sub-pipeline like a query of its own (its ``$match``, ``$sort`` and
``$limit`` reach the query layer), so each read uses the index it would use
alone; the wire-lane test explains every sub-pipeline too.

mongomock has no ``$unionWith``: on the in-process store the same reads run
one after another, with the same results (nothing is counted there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspect_api import db

_TAG = "__read"


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

    def stages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"$match": self.filter}]
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


def read_together(*reads: Read | None) -> list[Any]:
    """The results of ``reads``, in order: a list of documents, or an int for a count (None for a None read).

    All in one command headed by the first read that carries a hint (or the first read), except any further
    hinted read (a sub-pipeline takes no hint)."""
    given = [(n, r) for n, r in enumerate(reads) if r is not None]
    results: list[Any] = [None] * len(reads)
    if db.is_embedded():
        for n, read in given:
            results[n] = _alone(read, planned=False)
        return results
    # A sub-pipeline takes no hint: the first hinted read heads the pipeline, any other one is sent by itself.
    hinted = [(n, r) for n, r in given if r.hint]
    alone = hinted[1:]
    given = hinted[:1] + [(n, r) for n, r in given if not r.hint]
    for n, read in alone:
        results[n] = _alone(read, planned=True)
    if len(given) == 1:
        results[given[0][0]] = _alone(given[0][1], planned=True)
    if len(given) < 2:
        return results
    first_n, first = given[0]
    pipeline = first.stages() + [{"$addFields": {_TAG: first_n}}]
    for n, read in given[1:]:
        pipeline.append({"$unionWith": {"coll": read.collection,
                                        "pipeline": read.stages() + [{"$addFields": {_TAG: n}}]}})
    for n, read in given:
        results[n] = 0 if read.count else []
    options: dict[str, Any] = {"batchSize": 100_000}  # one reply: no getMore round trips for a page's rows
    if first.hint:
        options["hint"] = dict(first.hint)
    for row in db.database()[first.collection].aggregate(pipeline, **options):
        n = row.pop(_TAG)
        if reads[n].count:
            results[n] = int(row["n"])
        else:
            results[n].append(row)
    return results


def _alone(read: Read, *, planned: bool) -> Any:
    """One read by itself (``planned``: on a server, with its hint; mongomock plans nothing)."""
    coll = db.database()[read.collection]
    hint = read.hint if planned else None
    if read.count:
        rows = list(coll.aggregate(read.stages(), **({"hint": dict(hint)} if hint else {})))
        return int(rows[0]["n"]) if rows else 0
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


def page_reads(queryset, page: int, per_page: int) -> tuple[Read, Read]:
    """A mongoengine queryset's page and its total as two reads (the page carries the queryset's hint)."""
    coll = queryset._document._get_collection_name()
    flt = queryset._query
    sort = tuple((k, int(d)) for k, d in (queryset._ordering or []))
    hint = queryset._hint if queryset._hint not in (-1, None) else None
    if isinstance(hint, dict):
        hint = tuple(hint.items())
    elif hint is not None:
        hint = tuple((k, int(d)) for k, d in hint)
    projection = queryset._loaded_fields.as_dict() or None
    # The count joins the page's command when its filter is one field (an index serves it on any server).  On
    # several fields the local SecantusDB serves it by the first clause an index holds, but its explain reports
    # only whole-filter plans (a collection scan) and a wire-lane test explains every read: such a count keeps
    # the page's hint and its own command.
    return (Read(coll, flt, projection=projection, sort=sort, skip=(page - 1) * per_page, limit=per_page, hint=hint),
            Read(coll, flt, count=True, hint=hint if len(flt) > 1 else None))


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
