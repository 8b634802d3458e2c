"""Public reads of published results and institutions (open data and public pages; no login)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from inspect_api import vocabulary
from inspect_api.batched import Read, count_unless_known, page_reads, paged, read_together
from inspect_api.clock import isoformat
from inspect_api.db import as_stored, by_id
from inspect_api.dumped import text
from inspect_api.errors import NotFound
from inspect_api.publication.models import PublishedResult
from inspect_api.publication.results import (
    grade_reason, merge_status, rectification_status, rectification_status_reads, rectification_statuses,
    rectification_statuses_from, status_view, veto_failed)
from inspect_api.publication.sources import institution_kinds, region_names, scope_range


def _institution_by_public_id(public_id: str):
    from inspect_api.directory.institutions import get_institution_by_public_id

    return get_institution_by_public_id(public_id)


def public_results(*, region: str | None = None, kind: str | None = None, grade: str | None = None,
                   date_from: date | None = None, date_to: date | None = None, institution_id: str | None = None,
                   by: str = "published"):
    """Published results, newest first: by publication time (open data: a consumer syncing stops at the
    last result it has), or with ``by="inspection_date"`` by inspection date (what the pages show)."""
    query = PublishedResult.objects
    if region:
        query = query.filter(__raw__={"region": scope_range(region)})
    if kind:
        query = query.filter(institution_kind=kind)
    if grade:
        query = query.filter(grade=grade)
    if date_from:
        query = query.filter(inspected_on__gte=date_from)
    if date_to:
        query = query.filter(inspected_on__lte=date_to)
    if institution_id:
        query = query.filter(institution_id=institution_id)
    if by == "inspection_date":
        query, keys = query.order_by("-inspected_on", "-published_at", "-id"), [("inspected_on", -1)]
    else:
        query, keys = query.order_by("-published_at", "-id"), []
    keys += [("published_at", -1), ("_id", -1)]
    # The sort's index: the institution's own when one is asked for, else the whole list's (region on its keys).
    return query.hint([("institution_id", 1), *keys] if institution_id else [*keys, ("region", 1)])


def public_result(result_id: str) -> PublishedResult:
    result = by_id(PublishedResult, result_id)
    if result is None:
        raise NotFound("检查结果不存在或尚未公开", code="RESULT_NOT_FOUND")
    return result


def result_views(results, *, with_findings: bool = False,
                 statuses: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Views of many results (documents, or stored documents as dicts) with their live status (``statuses`` of
    :func:`rectification_statuses`; read here, in one round trip, when not given)."""
    results = list(results)
    order_ids = [r.get("order_id") if isinstance(r, dict) else r.order_id for r in results]
    if statuses is None:
        statuses = rectification_statuses(order_ids)
    return [result_view(r, with_findings=with_findings, status=statuses.get(str(order_id)) or status_view(None, []))
            for r, order_id in zip(results, order_ids)]


def institution_results_read(institution_id: str, limit: int) -> Read:
    """An institution's latest published results by inspection date (joined by institution:
    :mod:`inspect_api.batched`)."""
    return Read(PublishedResult._get_collection_name(), {"institution_id": str(institution_id)},
                sort=(("inspected_on", -1), ("published_at", -1), ("_id", -1)), limit=limit, key="institution_id")


def public_results_page(query, page: int, per_page: int, *, with_findings: bool = False) -> dict[str, Any]:
    """A page of published results with their live status: the page, then its total with the live status
    of its orders (findings and numbers) in one round trip."""
    page_read, count_read = page_reads(query, page, per_page)
    results = read_together(page_read)[0]  # as stored: building the documents cost more than reading them
    ids, findings_read, orders_read = rectification_status_reads(r.get("order_id") for r in results)
    finding_rows, order_rows, total = read_together(findings_read, orders_read,
                                                    count_unless_known(count_read, results, page, per_page))
    statuses = rectification_statuses_from(ids, finding_rows, order_rows)
    return {**paged(results, total, page, per_page),
            "items": result_views(results, with_findings=with_findings, statuses=statuses)}


def result_view(result: PublishedResult | dict[str, Any], *, with_findings: bool = True,
                status: dict[str, Any] | None = None) -> dict[str, Any]:
    """Public view of a result (a document, or the stored document as a dict): the frozen snapshot plus live
    rectification status (pass ``status`` from :func:`rectification_statuses` when rendering many)."""
    if isinstance(result, dict):
        get, ident = result.get, result["_id"]
    else:
        get, ident = functools.partial(getattr, result), result.id
    snap = get("snapshot") or {}
    if status is None:
        status = rectification_status(get("order_id"))
    vetoes = veto_failed(snap)
    out = {
        "id": str(ident), "code": get("code"), "institution": snap.get("institution") or {},
        "inspected_on": snap.get("inspected_on"), "matters": snap.get("matters") or [],
        "team": snap.get("team") or [], "score": snap.get("score"), "grade": snap.get("grade"),
        "grade_name": vocabulary.grade_name(snap.get("grade")) if snap.get("grade") else snap.get("grade_name"),
        "veto_failed": vetoes, "grade_reason": grade_reason(snap.get("grade"), vetoes),
        "finding_count": snap.get("finding_count", 0),
        "published_at": isoformat(get("published_at")),
        "rectification": {k: status[k] for k in ("order_number", "summary", "counts")},
        "corrections": snap.get("corrections") or [],
    }
    if with_findings:
        out["findings"] = merge_status(snap, status)
    return out


def public_photo(result: PublishedResult, photo_id: str):
    """The evidence of a photo chosen to be public with ``result`` (404 otherwise)."""
    if photo_id not in (result.photo_ids or []):
        raise NotFound("照片不存在或未公开", code="PHOTO_NOT_FOUND")
    from inspect_api.evidence import service as evidence

    item = evidence.get_evidence(photo_id)
    if item is None:
        raise NotFound("照片不存在或未公开", code="PHOTO_NOT_FOUND")
    return item


def public_institution(public_id: str):
    institution = _institution_by_public_id(public_id)
    if institution is None:
        raise NotFound("机构不存在", code="INSTITUTION_NOT_FOUND")
    return institution


def institution_counts(institution_id: str) -> dict[str, int]:
    """Open and overdue finding counts of an institution (live)."""
    ids = [str(institution_id)]
    return institutions_counts_from(ids, read_together(institutions_counts_read(ids))[0])[ids[0]]


UNRESOLVED = ("open", "reopened", "answered")


def institutions_counts_read(institution_ids: list[str]) -> Read | None:
    """The unresolved findings of these institutions (the fields the counts need), a read joined by institution
    (:mod:`inspect_api.batched`); None for no institution."""
    from inspect_api.rectification.models import Finding

    ids = [str(i) for i in institution_ids]
    if not ids:
        return None
    return Read(Finding._get_collection_name(), {"institution_id": {"$in": ids}, "status": {"$in": list(UNRESOLVED)}},
                projection={"institution_id": 1, "status": 1, "overdue": 1}, key="institution_id")


def institutions_counts_from(institution_ids: list[str], rows: list[dict] | None) -> dict[str, dict[str, int]]:
    """``{institution_id: {"open_findings", "overdue_findings"}}`` from the rows of :func:`institutions_counts_read`
    (overdue: open or reopened past its deadline; an answered finding waits on the office)."""
    out = {str(i): {"open_findings": 0, "overdue_findings": 0} for i in institution_ids}
    for row in rows or []:
        counts = out.get(row.get("institution_id"))
        if counts is None:
            continue
        counts["open_findings"] += 1
        if row.get("overdue") is True and row.get("status") in ("open", "reopened"):
            counts["overdue_findings"] += 1
    return out


# What :func:`institution_view` shows of an institution.
PUBLIC_INSTITUTION_FIELDS = frozenset({"public_id", "name", "kind", "region", "address", "location", "contact_name",
                                       "contact_phone", "status"})


def institution_view(institution, *, with_counts: bool = True, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Public fields of an institution, in ``PublicInstitutionSchema``'s dumped form; finding counts given (a
    page's, from one query) or read here."""
    from inspect_api.directory.institutions import point_latlon

    regions = region_names()
    latlon = point_latlon(institution.location) if institution.location else None
    kind, region = institution.kind, institution.region
    out = {"id": text(institution.public_id), "name": text(institution.name), "kind": text(kind),
           "kind_name": text(institution_kinds().get(kind, kind)), "region": text(region),
           "region_name": text(regions.get(region, region)), "address": text(institution.address),
           "latitude": latlon[0] if latlon else None, "longitude": latlon[1] if latlon else None,
           "contact_name": text(institution.contact_name), "contact_phone": text(institution.contact_phone),
           "status": text(institution.status)}
    if counts is not None:
        out.update(counts)
    elif with_counts:
        out.update(institution_counts(str(institution.id)))
    return out


def public_institutions_page(*, region: str | None, kind: str | None, page: int, per_page: int) -> dict[str, Any]:
    """A page of public institution views with their finding counts: the page, then its counts and its total
    (when the page does not tell it) in one round trip."""
    from inspect_api.directory.models import Institution

    query = public_institutions(region=region, kind=kind).only(*PUBLIC_INSTITUTION_FIELDS)
    page_read, count_read = page_reads(query, page, per_page)
    rows = read_together(page_read)[0]
    ids = [str(row["_id"]) for row in rows]
    findings, total = read_together(institutions_counts_read(ids), count_unless_known(count_read, rows, page, per_page))
    counts = institutions_counts_from(ids, findings)
    # Read as stored, the public fields only: building an Institution per row was half of the page.
    items = [institution_view(as_stored(Institution, row, PUBLIC_INSTITUTION_FIELDS), counts=counts[str(row["_id"])])
             for row in rows]
    return {**paged(rows, total, page, per_page), "items": items}


def public_institutions(*, region: str | None = None, kind: str | None = None):
    from inspect_api.directory.models import Institution

    query = Institution.objects(status__ne="closed")
    if region:
        query = query.filter(__raw__={"region": scope_range(region)})
    if kind:
        query = query.filter(kind=kind)
    return query.order_by("region", "name", "id").hint([("region", 1), ("name", 1), ("_id", 1)])
