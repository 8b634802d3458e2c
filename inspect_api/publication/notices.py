"""Notices of problems (问题通报): drafted from findings, published with a number, retracted in public.

Notices are drafted from findings (overdue / pre-selected ones selected by
default), edited while drafts, published with a number per office and year
(〔2027〕3号) and retracted only with a public reason.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable

from inspect_api import db, vocabulary
from inspect_api.audit import service as audit
from inspect_api.batched import Read, count_unless_known, page_reads, paged, read_together
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, as_utc, isoformat
from inspect_api.db import as_stored, parse_oid
from inspect_api.errors import Conflict, NotFound, Unprocessable
from inspect_api.publication.models import NOTICE_STATUSES, Notice, NoticeCounter, NoticeItem
from inspect_api.redaction import redact
from inspect_api.publication.sources import (
    as_date, institution_cards, institution_names, region_names, require_office, utc_midnight)
from inspect_api.scoping import in_scope, is_region_code, region_range
from inspect_api.workdays import business_date


def _notice_in_scope(user, notice_id: str) -> Notice:
    require_office(user)
    notice = db.by_id(Notice, notice_id)
    if notice is None or not in_scope(user.region, notice.office_region):
        raise NotFound("通报不存在", code="NOTICE_NOT_FOUND")
    return notice


def notice_for(user, notice_id: str) -> Notice:
    return _notice_in_scope(user, notice_id)


def list_notices(user, *, status: str | None = None):
    require_office(user)
    query = Notice.objects(__raw__={"office_region": region_range(user.region)})
    if status:
        query = query.filter(status=status)
    return query.order_by("-created_at", "-id").hint([("created_at", -1), ("_id", -1), ("office_region", 1)])


def _finding_query(region: str):
    """Findings of ``region``'s subtree that a notice may cite (not those withdrawn by a correction)."""
    from inspect_api.rectification.models import Finding

    return Finding.objects(__raw__={"region": region_range(region), "status": {"$ne": "withdrawn"}})


def _citations(finding_ids: list[str]) -> dict[str, list[tuple[date | None, datetime]]]:
    """For each finding id: (its deadline then, publication time) of every published, not retracted, notice
    citing it."""
    out: dict[str, list[tuple[date | None, datetime]]] = {}
    wanted = set(finding_ids)
    for start in range(0, len(finding_ids), 1000):
        chunk = finding_ids[start:start + 1000]
        for notice in Notice.objects(finding_ids__in=chunk, status="published").only("items", "published_at"):
            for item in notice.items or []:
                if item.finding_id in wanted:
                    out.setdefault(item.finding_id, []).append((as_date(item.deadline), as_utc(notice.published_at)))
    return out


def _already_cited(finding, citations: list[tuple[date | None, datetime]]) -> bool:
    """True when a published notice cited ``finding`` with its current deadline, or after its latest
    escalation (the ladder's pre-selection, else the first overdue day)."""
    if finding.preselected_for_notice and finding.preselected_at:
        since: datetime | None = as_utc(finding.preselected_at)
    elif finding.overdue and finding.overdue_since:
        day = as_date(finding.overdue_since)
        since = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    else:
        since = None
    return any(deadline == as_date(finding.deadline) or since is None or at >= since for deadline, at in citations)


def candidate_findings(user, *, region: str, period_from: date, period_to: date) -> list[dict[str, Any]]:
    """Findings of a period and region a notice may include.

    Pre-selected: findings still owed (not settled) that the ladder pre-selected
    or that are overdue, unless a published (not retracted) notice already cited
    them (:func:`_already_cited`); those, like every other finding of the
    period, stay selectable.  A finding that got a new deadline (rejected
    answer, extension) and escalates again is pre-selected again.
    """
    from inspect_api.rectification.models import SETTLED

    require_office(user)
    _check_notice_region(user, region)
    start, end = utc_midnight(period_from), utc_midnight(period_to)
    end = end + timedelta(days=1)
    query = _finding_query(region)
    owed = query.filter(status__nin=list(SETTLED))
    findings, seen = [], set()
    for f in list(query.filter(created_at__gte=start, created_at__lt=end)) + \
            list(owed.filter(preselected_for_notice=True)) + list(owed.filter(overdue=True)):
        if str(f.id) not in seen:
            seen.add(str(f.id))
            findings.append(f)
    cited = _citations([str(f.id) for f in findings])
    names = institution_names(f.institution_id for f in findings)  # one query for all
    out = []
    for f in findings:
        escalated = f.status not in SETTLED and bool(f.preselected_for_notice or f.overdue)
        preselected = escalated and not _already_cited(f, cited.get(str(f.id), []))
        out.append({"finding_id": str(f.id), "order_number": f.order_number, "institution_id": f.institution_id,
                    "institution_name": names.get(f.institution_id), "region": f.region,
                    "item_text": f.item_text, "severity": f.severity, "status": f.status,
                    "deadline": as_date(f.deadline).isoformat() if f.deadline else None, "overdue": bool(f.overdue),
                    "preselected": preselected})
    out.sort(key=lambda c: (not c["preselected"], c["region"], c["order_number"] or ""))
    return out


def _check_notice_region(user, region: str) -> None:
    if not is_region_code(region) or not in_scope(user.region, region):
        raise Unprocessable("通报范围必须在本办公室辖区内", code="NOTICE_REGION_OUT_OF_SCOPE",
                            details={"region": region})


# A notice freezes one item per cited finding inside its document, which MongoDB caps at 16 MiB.
# An item is at most about 2 KiB (bounded texts), so 2,000 findings stay under 4 MiB: the cap keeps
# every notice far below the limit (and a notice citing more would not be read by anyone).
MAX_NOTICE_FINDINGS = 2000


def _check_notice_size(count: int) -> None:
    if count > MAX_NOTICE_FINDINGS:
        raise Unprocessable(f"一份通报最多列入 {MAX_NOTICE_FINDINGS} 个问题，请缩小范围或分期通报",
                            code="NOTICE_TOO_MANY_FINDINGS", details={"count": count, "max": MAX_NOTICE_FINDINGS})


def _check_findings(region: str, finding_ids: Iterable[str]) -> list[str]:
    from inspect_api.rectification.models import Finding

    ids = list(dict.fromkeys(str(i) for i in finding_ids))
    _check_notice_size(len(ids))
    oids = [parse_oid(i) for i in ids]
    found = {str(f.id): f for f in Finding.objects(id__in=[o for o in oids if o],
                                                   status__ne="withdrawn").only("id", "region")}
    bad = [i for i in ids if i not in found or not in_scope(region, found[i].region)]
    if bad:
        raise Unprocessable("所选问题不存在或不在通报范围内", code="FINDING_OUT_OF_SCOPE", details={"finding_ids": bad})
    return ids


def _default_title(region: str, period_from: date, period_to: date) -> str:
    name = region_names().get(region, region)
    return f"关于{name}{period_from.isoformat()}至{period_to.isoformat()}医养结合机构检查发现问题的通报"


def _default_text(count: int) -> str:
    return (f"根据“双随机、一公开”监管工作安排，现将检查中发现的问题及逾期未整改情况通报如下（共 {count} 项）。"
            "请相关机构对照问题清单立即整改，主管部门加强督导，整改情况将持续公开。")


def draft_notice(user, body: dict[str, Any], *, now: datetime) -> Notice:
    require_office(user)
    region = body.get("region") or user.region
    _check_notice_region(user, region)
    period_from, period_to = body["period_from"], body["period_to"]
    if period_from > period_to:
        raise Unprocessable("通报期间的开始日期不能晚于结束日期", code="PERIOD_INVALID")
    if body.get("finding_ids") is None:
        ids = [c["finding_id"] for c in candidate_findings(user, region=region, period_from=period_from,
                                                           period_to=period_to) if c["preselected"]]
    else:
        ids = _check_findings(region, body["finding_ids"])
    _check_notice_size(len(ids))
    notice = Notice(office_region=user.region, region=region, period_from=period_from, period_to=period_to,
                    title=body.get("title") or _default_title(region, period_from, period_to),
                    text=body.get("text") or _default_text(len(ids)), finding_ids=ids, status="draft",
                    created_by=str(user.id), created_at=now, updated_at=now)
    notice.save()
    audit.record("notice.drafted", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"findings": len(ids), "period_from": period_from.isoformat(),
                                             "period_to": period_to.isoformat()}, now=now)
    return notice


def update_notice(user, notice_id: str, body: dict[str, Any], *, now: datetime) -> Notice:
    notice = _notice_in_scope(user, notice_id)
    if notice.status != "draft":
        raise Conflict("只能修改草稿状态的通报", code="NOTICE_NOT_DRAFT", details={"status": notice.status})
    sets: dict[str, Any] = {}
    for key in ("title", "text"):
        if key in body:
            sets[key] = body[key]
    period_from = body.get("period_from", as_date(notice.period_from))
    period_to = body.get("period_to", as_date(notice.period_to))
    if period_from > period_to:
        raise Unprocessable("通报期间的开始日期不能晚于结束日期", code="PERIOD_INVALID")
    if "period_from" in body:
        sets["period_from"] = period_from
    if "period_to" in body:
        sets["period_to"] = period_to
    if "finding_ids" in body:
        sets["finding_ids"] = _check_findings(notice.region, body["finding_ids"])
    changed = Notice.objects(id=notice.id, status="draft").update_one(
        **{f"set__{k}": v for k, v in sets.items()}, set__updated_at=now)
    if not changed:
        raise Conflict("只能修改草稿状态的通报", code="NOTICE_NOT_DRAFT")
    notice.reload()
    audit.record("notice.edited", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"fields": sorted(sets)}, now=now)
    return notice


def _issuer(office_region: str) -> str:
    return f"{region_names().get(office_region, office_region)}医养结合工作领导小组办公室"


def _frozen_items(finding_ids: list[str]) -> list[NoticeItem]:
    from inspect_api.rectification.models import Finding

    by_id = {str(f.id): f for f in Finding.objects(id__in=[parse_oid(i) for i in finding_ids if parse_oid(i)])}
    cards = institution_cards(f.institution_id for f in by_id.values())  # one query for all
    items = []
    for fid in finding_ids:
        f = by_id.get(fid)
        if f is None:
            continue
        card = cards.get(f.institution_id) or {}
        items.append(NoticeItem(finding_id=fid, order_id=f.order_id, order_number=f.order_number,
                                institution_id=f.institution_id, institution_name=card.get("name"),
                                institution_public_id=card.get("public_id"), region=f.region,
                                item_text=redact(f.item_text), clause=f.clause, severity=f.severity,
                                deadline=as_date(f.deadline), overdue=bool(f.overdue), status=f.status))
    return items


def _next_seq(office_region: str, year: int, *, session=None) -> int:
    """The next notice number of an office and year; numbers already used (restored data) are skipped."""
    return db.next_in_sequence(
        NoticeCounter._meta["collection"], f"{office_region}-{year}", session=session,
        taken=lambda n: Notice.objects(office_region=office_region, year=year, seq=n).limit(1).count(True) > 0)


def notice_number(year: int, seq: int) -> str:
    return f"〔{year}〕{seq}号"


def publish_notice(user, notice_id: str, *, now: datetime) -> Notice:
    """Publish a draft: freeze its findings and number it (〔year〕n号, per office and year) in one update.

    The number is taken from the office's atomic counter and written by the
    conditional update that publishes, in one transaction where the server has
    them (a failure changes neither).  Without one (the in-process store) a
    crash after taking the number, or a publisher losing a race, leaves a gap
    in the sequence (numbers stay unique; gaps are tolerated); the draft can be
    published again.
    """
    notice = _notice_in_scope(user, notice_id)
    if notice.status != "draft":
        raise Conflict("该通报已发布或已撤回", code="NOTICE_NOT_DRAFT", details={"status": notice.status})
    if not (notice.text or "").strip():
        raise Unprocessable("通报正文不能为空", code="NOTICE_TEXT_REQUIRED")
    items = _frozen_items(list(notice.finding_ids or []))
    for item in items:
        item.validate()
    issuer = _issuer(notice.office_region)
    year = business_date(now).year

    def write(session):  # the number and the publication together: no gap where transactions exist
        seq = _next_seq(notice.office_region, year, session=session)
        claimed = db.collection(Notice).update_one({"_id": notice.id, "status": "draft"}, {"$set": {
            "status": "published", "published_at": now, "published_by": str(user.id),
            "items": [item.to_mongo().to_dict() for item in items], "issuer": issuer, "year": year, "seq": seq,
            "number": notice_number(year, seq), "updated_at": now}}, session=session)
        if not claimed.modified_count:
            raise Conflict("该通报已发布或已撤回", code="NOTICE_NOT_DRAFT")

    db.transaction(write)
    notice.reload()
    audit.record("notice.published", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"number": notice.number, "findings": len(items)}, now=now)
    return notice


def complete_notice_numbers() -> int:
    """Number notices published without one (by versions that numbered after publishing and crashed in
    between); the year is that of their publication.  Idempotent; run by the publication sweep."""
    done = 0
    for notice in Notice.objects(number=None, status__in=["published", "retracted"]).only(
            "id", "office_region", "published_at"):
        year = business_date(as_utc(notice.published_at)).year
        seq = _next_seq(notice.office_region, year)
        done += Notice.objects(id=notice.id, number=None).update_one(set__year=year, set__seq=seq,
                                                                     set__number=notice_number(year, seq))
    return done


def retract_notice(user, notice_id: str, *, reason: str, now: datetime) -> Notice:
    """Retract a published notice; the public reason stays visible on its page."""
    notice = _notice_in_scope(user, notice_id)
    reason = (reason or "").strip()
    if not reason:
        raise Unprocessable("撤回通报必须填写公开的撤回理由", code="RETRACTION_REASON_REQUIRED")
    if notice.status != "published":
        raise Conflict("只能撤回已发布的通报", code="NOTICE_NOT_PUBLISHED", details={"status": notice.status})
    changed = Notice.objects(id=notice.id, status="published").update_one(
        set__status="retracted", set__retracted_at=now, set__retracted_by=str(user.id),
        set__retraction_reason=reason, set__updated_at=now)
    if not changed:
        raise Conflict("只能撤回已发布的通报", code="NOTICE_NOT_PUBLISHED")
    notice.reload()
    audit.record("notice.retracted", actor=actor_of(user), target_type="notice", target_id=str(notice.id),
                 region=notice.region, data={"number": notice.number, "reason": reason}, now=now)
    return notice


def live_status_read(notices: Iterable[Notice]) -> Read | None:
    """The current status of every finding the notices cite, as one read (None when they cite none)."""
    from inspect_api.rectification.models import Finding

    ids = list(dict.fromkeys(oid for n in notices for i in n.items or [] if (oid := parse_oid(i.finding_id))))
    return Read(Finding._get_collection_name(), {"_id": {"$in": ids}}, projection={"status": 1}) if ids else None


def notice_views(notices: Iterable[Notice], status_rows: list[dict] | None = None, *,
                 live: bool = True) -> list[dict[str, Any]]:
    """Notices as the API and the public pages show them, items with their live rectification status: the
    rows of :func:`live_status_read` (read here, in one query for all the notices, when not given)."""
    notices = list(notices)
    if live and status_rows is None:
        status_rows = read_together(live_status_read(notices))[0]
    live_status = {str(row["_id"]): row.get("status") for row in status_rows or []} if live else {}
    return [_notice_view(n, live_status) for n in notices]


def notices_page(query, page: int, per_page: int) -> dict[str, Any]:
    """A page of notices with their items' live status: the page, then its total with those statuses."""
    page_read, count_read = page_reads(query, page, per_page)
    found = [as_stored(Notice, row) for row in read_together(page_read)[0]]  # only read: no documents built
    status_rows, total = read_together(live_status_read(found), count_unless_known(count_read, found, page, per_page))
    return {**paged(found, total, page, per_page), "items": notice_views(found, status_rows or [])}


# What the public sees of a notice's view (``PublicNoticeSchema``'s fields): not who may act on it next, nor
# the office's own bookkeeping.
PUBLIC_NOTICE_KEYS = ("id", "number", "status", "status_name", "title", "text", "region", "region_name", "issuer",
                      "period_from", "period_to", "items", "published_at", "retracted_at", "retraction_reason")


def public_view(view: dict[str, Any]) -> dict[str, Any]:
    """A notice's view (:func:`notice_view`) as the public sees it: ``PublicNoticeSchema``'s dumped form."""
    return {key: view[key] for key in PUBLIC_NOTICE_KEYS}


def notice_view(notice: Notice, *, live: bool = True) -> dict[str, Any]:
    """A notice as the API and the public pages show it (items with their live rectification status)."""
    return notice_views([notice], live=live)[0]


def _notice_view(notice: Notice, live_status: dict[str, str | None]) -> dict[str, Any]:
    items = []
    for item in notice.items or []:
        status = live_status.get(item.finding_id) or item.status
        items.append({"finding_id": item.finding_id, "order_number": item.order_number,
                      "institution_name": item.institution_name,
                      "institution_public_id": item.institution_public_id, "region": item.region,
                      "item_text": item.item_text, "clause": item.clause, "severity": item.severity,
                      "severity_name": vocabulary.severity_name(item.severity),
                      "deadline": as_date(item.deadline).isoformat() if item.deadline else None,
                      "overdue_when_published": bool(item.overdue), "status": status,
                      "status_name": vocabulary.finding_status_name(status)})
    return {"id": str(notice.id), "number": notice.number, "status": notice.status,
            "status_name": NOTICE_STATUSES.get(notice.status, notice.status), "title": notice.title,
            "text": notice.text, "office_region": notice.office_region, "region": notice.region,
            "region_name": region_names().get(notice.region, notice.region), "issuer": notice.issuer,
            "period_from": as_date(notice.period_from).isoformat(), "period_to": as_date(notice.period_to).isoformat(),
            "finding_ids": list(notice.finding_ids or []), "items": items,
            "published_at": isoformat(notice.published_at), "retracted_at": isoformat(notice.retracted_at),
            "retraction_reason": notice.retraction_reason, "created_at": isoformat(notice.created_at),
            "updated_at": isoformat(notice.updated_at)}


PUBLIC_NOTICE_ORDER = ("-year", "-seq", "-published_at", "-id")


def public_notices():
    """Published and retracted notices by year and number, newest first (〔2026〕2号 before 〔2026〕1号)."""
    return Notice.objects(status__in=["published", "retracted"]).order_by(*PUBLIC_NOTICE_ORDER).hint(
        [("year", -1), ("seq", -1), ("published_at", -1), ("_id", -1), ("status", 1)])


def notices_citing_read(institution_id: str, limit: int) -> Read:
    """The latest ``limit`` published and retracted notices that name an institution, newest first (its public
    profile links them): a read joined by institution (:mod:`inspect_api.batched`)."""
    return Read(Notice._get_collection_name(), {"items.institution_id": str(institution_id),
                                                "status": {"$in": ["published", "retracted"]}},
                sort=(("year", -1), ("seq", -1), ("published_at", -1), ("_id", -1)), limit=limit,
                key="items.institution_id")


def public_notice(notice_id: str) -> Notice:
    oid = parse_oid(notice_id)
    notice = Notice.objects(id=oid, status__in=["published", "retracted"]).first() if oid else None
    if notice is None:
        raise NotFound("通报不存在或尚未发布", code="NOTICE_NOT_FOUND")
    return notice
