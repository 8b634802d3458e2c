"""Ledger spot checks (台账资料抽查): created by a desk-review draw, requested, scoped, submitted, shown.

Plain functions with explicit ``now`` and acting user; they raise DomainError
subclasses.  Uploads live in :mod:`~inspect_api.ledgers.uploads`, scoring and
the conclusion in :mod:`~inspect_api.ledgers.review`, the request deadline's
escalation in :mod:`~inspect_api.ledgers.deadlines`.

* A desk-review plan is drawn with the same dr1 draw as a site plan; its
  targets become checks through :class:`LedgerTargets`, the handler this
  module registers with :mod:`inspect_api.draws.kinds` (the drawn team are
  the reviewers, lead first; recusal, loads and "no repeat lead" as in any
  draw, counted over ledger checks).
* Creating a check is the request: the checklist version is pinned, the
  deadline is ``request_working_days`` working days (config ``[ledgers]``)
  after the draw's business date on the calendar in force, and the
  institution's accounts are notified.
* Scoping: offices see their region subtree, reviewers the checks whose team
  they are on, institution accounts their own institution's checks; any
  other id answers 404.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable

from mongoengine.errors import NotUniqueError
from pymongo import ReturnDocument

from inspect_api.audit import service as audit
from inspect_api.batched import Read, read_together
from inspect_api.auth.service import actor_of
from inspect_api.clock import SHANGHAI, isoformat, utcnow
from inspect_api import config as inspect_config
from inspect_api.directory.hooks import register_history_check
from inspect_api.directory.institutions import get_institution, institution_in_scope, institution_names
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.ledgers.models import CHECK_STATES, OPEN_STATES, LedgerCheck, LedgerCounter, LedgerFile
from inspect_api.scoping import in_scope, region_range
from inspect_api.workdays import business_date
from inspect_api.db import as_stored, by_id, only
from inspect_api.dumped import day, number, text, texts

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"request_working_days": 10, "max_files_per_item": 10}
CITY_PREFIXES = {
    "3701": "JN", "3702": "QD", "3703": "ZB", "3704": "ZZ", "3705": "DY", "3706": "YT", "3707": "WF",
    "3708": "JG", "3709": "TA", "3710": "WH", "3711": "RZ", "3713": "LY", "3714": "DZ", "3715": "LC",
    "3716": "BZ", "3717": "HZ",
}
TEMPLATES = {
    "ledger.requested": ("台账资料抽查通知：{code}",
                         "{institution_name}：本机构被抽中开展台账资料抽查（{code}），请于 {deadline} 前按清单在线提交 {items} 项资料。"),
    "ledger.submitted": ("台账资料已提交待审查：{code}", "{institution_name} 已提交台账资料抽查（{code}）的资料，请审查评分。"),
    "ledger.concluded": ("台账资料抽查结论：{code}",
                         "{institution_name} 的台账资料抽查（{code}）已完成：得分 {score}，{grade_name}，发现问题 {findings} 项。"),
    "ledger.step": ("{step_title}：{code}", "{institution_name} 的台账资料抽查（{code}）资料提交期限为 {deadline}：{step_title}。"),
}


def _register_templates() -> None:
    from inspect_api.notify import templates

    for kind, pair in TEMPLATES.items():
        templates.TEMPLATES.setdefault(kind, pair)


_register_templates()


# --------------------------------------------------------------------------- adapters and config

def _catalog():
    from inspect_api.catalog import service as catalog

    return catalog


def calendar():
    from inspect_api.calendar.service import current_calendar

    return current_calendar()


def notify(users, **kwargs):
    from inspect_api.notify import service as notify_service

    return notify_service.notify(users, **kwargs)


def recipients(role: str, check: LedgerCheck) -> list[str]:
    """User ids behind a ladder role for ``check`` (the lead reviewer stands for the lead inspector)."""
    from types import SimpleNamespace

    from inspect_api.rectification import service as rectification

    lead = check.team[0] if check.team else None
    return rectification.recipients(role, SimpleNamespace(institution_id=check.institution_id, region=check.region,
                                                          lead_inspector_id=lead))


def settings(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``[ledgers]`` table of the configuration over :data:`DEFAULTS`."""
    return inspect_config.section("ledgers", DEFAULTS, cfg)


UNKNOWN_INSTITUTION = "被检查机构"


def institution_name(institution_id: str) -> str:
    return institution_names([institution_id]).get(institution_id, UNKNOWN_INSTITUTION)


# --------------------------------------------------------------------------- checklist content

def score_key(item_id: str) -> str:
    """The key of an item's score in ``LedgerCheck.scores`` (item ids may hold dots; field names may not)."""
    return item_id.replace(".", "%2E")


def scores_of(check: LedgerCheck) -> dict[str, dict[str, Any]]:
    """The reviewers' scores by item id."""
    return {key.replace("%2E", "."): value for key, value in (check.scores or {}).items()}


def content_of(check: LedgerCheck) -> dict[str, Any]:
    """The pinned checklist version's content."""
    version = _catalog().get_version(check.checklist_code, check.checklist_version)
    if version is None:
        raise Conflict("该抽查所用的台账资料清单版本不存在", code="CHECKLIST_NOT_FOUND",
                       details={"checklist_code": check.checklist_code, "version": check.checklist_version})
    return version.content


def request_items(content: dict[str, Any], kind: str | None) -> list[dict[str, Any]]:
    """The items of the request in checklist order, with the documents to upload and whether they apply."""
    from checklists import applies_to, iter_items

    out = []
    for section, item in iter_items(content):
        out.append({"item_id": str(item["id"]), "section_id": str(section["id"]), "section": section["title"],
                    "text": item["text"], "clause": item.get("clause"), "points": float(item["points"]),
                    "documents": list((item.get("evidence") or {}).get("documents") or []),
                    "applies": applies_to(item, kind),
                    "deductions": [{"code": d["code"], "text": d["text"], "points": float(d["points"]),
                                    "repeatable": bool(d.get("repeatable", False))}
                                   for d in item.get("deductions") or []]})
    return out


def item_of(content: dict[str, Any], item_id: str, kind: str | None) -> dict[str, Any]:
    """One applicable request item, or 404 (unknown id) / 422 (not applicable to the institution's kind)."""
    for item in request_items(content, kind):
        if item["item_id"] == item_id:
            if not item["applies"]:
                raise Unprocessable("该项目不适用于本机构类型", code="LEDGER_ITEM_NOT_APPLICABLE",
                                    details={"item_id": item_id})
            return item
    raise NotFound("清单中没有该项目", code="LEDGER_ITEM_NOT_FOUND")


# --------------------------------------------------------------------------- creating checks (the draw)

def next_code(region: str, now: datetime) -> str:
    """A short human code, e.g. ``TZ-ZB-2026-000012`` (city prefix, year in Asia/Shanghai)."""
    key = f"TZ-{CITY_PREFIXES.get(region[:4], 'JC')}-{now.astimezone(SHANGHAI).year}"
    doc = LedgerCounter._get_collection().find_one_and_update(
        {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
    return f"{key}-{int(doc['seq']):06d}"


def create_check(*, institution_id: str, region: str, team: list[str], checklist_code: str, now: datetime,
                 dedupe_key: str, matters: Iterable[str] = (), draw_id: str | None = None, plan_id: str | None = None,
                 created_by: str | None = None, cfg: dict[str, Any] | None = None) -> LedgerCheck:
    """Create the check (= the request to the institution) once per ``dedupe_key``; a retry returns the first."""
    existing = LedgerCheck.objects(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    if len(team) < 2 or len(set(team)) != len(team):
        raise Unprocessable("审查组至少需要两名不同的执法人员", code="TEAM_TOO_SMALL")
    version = _catalog().latest_version(checklist_code)
    if version is None or _catalog().checklist_purpose(version) != "desk_review":
        raise Unprocessable("台账资料抽查清单不存在或未发布", code="CHECKLIST_NOT_FOUND",
                            details={"checklist_code": checklist_code})
    institution = get_institution(institution_id)
    days = int(settings(cfg)["request_working_days"])
    deadline = calendar().add_working_days(business_date(now), days)
    check = LedgerCheck(code=next_code(region, now), dedupe_key=dedupe_key, draw_id=draw_id, plan_id=plan_id,
                        institution_id=institution_id, institution_kind=getattr(institution, "kind", None),
                        region=region, team=list(team), checklist_code=version.code,
                        checklist_version=version.version, content_hash=version.content_hash, matters=list(matters),
                        state="requested", requested_at=now, request_working_days=days, deadline=deadline,
                        created_at=now, updated_at=now)
    from inspect_api.ledgers.deadlines import first_step_due

    check.next_step_due = first_step_due(deadline, cfg)
    try:
        check.save(force_insert=True)
    except NotUniqueError:
        return LedgerCheck.objects.get(dedupe_key=dedupe_key)
    audit.record("ledger.requested", target_type="ledger_check", target_id=str(check.id), region=region,
                 data={"code": check.code, "institution_id": institution_id, "draw_id": draw_id,
                       "deadline": deadline.isoformat(), "team": list(team), "created_by": created_by}, now=now)
    items = [i for i in request_items(version.content, check.institution_kind) if i["applies"]]
    notify(recipients("institution", check), kind="ledger.requested",
           params={"code": check.code, "deadline": deadline.isoformat(), "items": len(items),
                   "institution_name": getattr(institution, "name", "被检查机构")},
           data={"ledger_check_id": str(check.id), "institution_id": institution_id},
           dedupe=f"ledger-requested:{check.id}", region=region, now=now)
    return check


class LedgerTargets:
    """The draw's handler for ``desk_review`` plans: each drawn target becomes a ledger check."""

    def open_loads(self, inspector_ids: set[str]) -> dict[str, int]:
        loads = {i: 0 for i in inspector_ids}
        for check in LedgerCheck.objects(team__in=list(inspector_ids), state__in=OPEN_STATES).only("team"):
            for member in check.team:
                if member in loads:
                    loads[member] += 1
        return loads

    def previous_leads(self, institution_ids: set[str]) -> dict[str, str]:
        leads: dict[str, str] = {}
        query = LedgerCheck.objects(institution_id__in=list(institution_ids), state__ne="cancelled")
        for check in query.order_by("institution_id", "-created_at", "-id").only("institution_id", "team"):
            if check.institution_id not in leads and check.team:
                leads[check.institution_id] = check.team[0]
        return leads

    def create(self, *, draw_id: str, plan_id: str, targets, now: datetime, created_by: str | None) -> int:
        count = 0
        for t in targets:
            create_check(institution_id=t["institution_id"], region=t["region"], team=t["team"],
                         checklist_code=t["checklist_code"], matters=t["matters"], now=now,
                         dedupe_key=f"draw:{draw_id}:{t['institution_id']}", draw_id=draw_id, plan_id=plan_id,
                         created_by=created_by)
            count += 1
        return count

    @staticmethod
    def _check(draw_id: str, institution_id: str) -> LedgerCheck | None:
        return LedgerCheck.objects(draw_id=draw_id, institution_id=institution_id).first()

    def check_replaceable(self, draw_id: str, institution_id: str) -> None:
        check = self._check(draw_id, institution_id)
        if check is not None and (check.state not in OPEN_STATES or check.review_started_at is not None):
            raise review_started(check)

    def replace_member(self, draw_id: str, institution_id: str, old: str, new: str, *, now: datetime) -> None:
        check = self._check(draw_id, institution_id)
        if check is None:
            return
        team = [new if x == old else x for x in check.team]
        if not LedgerCheck.objects(id=check.id, team=old, state__in=OPEN_STATES, review_started_at=None).update_one(
                set__team=team, set__updated_at=now):
            check.reload()
            raise review_started(check)

    def cancel_open(self, draw_id: str, *, now: datetime) -> int:
        return LedgerCheck.objects(draw_id=draw_id, state__in=OPEN_STATES, review_started_at=None).update(
            set__state="cancelled", set__cancelled_at=now, set__next_step_due=None, set__updated_at=now)


def review_started(check: LedgerCheck) -> Conflict:
    return Conflict("台账资料审查已开始（已评分或已完成），不能再调整审查组", code="INSPECTION_ALREADY_STARTED",
                    details={"ledger_check_id": str(check.id), "state": check.state})


def register_with_draws() -> None:
    """Desk-review plans create ledger checks (called once when the routes are registered)."""
    from inspect_api.draws import kinds

    kinds.register("desk_review", LedgerTargets())


# --------------------------------------------------------------------------- scoping and reads

def _inspector_id(user) -> str | None:
    return getattr(user, "inspector_id", None)


def check_for(user, check_id: str) -> LedgerCheck:
    """The check if ``user`` may see it (office of the region, reviewer on the team, the institution), else 404."""
    check = by_id(LedgerCheck, check_id)
    if check is not None and user is not None:
        if user.role == "office_admin" and in_scope(user.region, check.region):
            return check
        if user.role == "inspector" and _inspector_id(user) and _inspector_id(user) in (check.team or []):
            return check
        if user.role == "institution" and user.institution_id and user.institution_id == check.institution_id:
            return check
    raise NotFound("台账资料抽查不存在", code="LEDGER_CHECK_NOT_FOUND")


def list_checks(user, *, state: str | None = None, institution_id: str | None = None):
    """The caller's visible checks, newest first (an office's: by region, then newest first); index-served."""
    if user.role == "office_admin":
        if institution_id:
            institution = institution_in_scope(user, institution_id)
            query = LedgerCheck.objects(institution_id=str(institution.id))
        else:
            query = LedgerCheck.objects(region=region_range(user.region))
            if state:
                query = query.filter(state=state)
            return query.order_by("region", "-created_at", "-id")
    elif user.role == "inspector" and _inspector_id(user):
        query = LedgerCheck.objects(team=_inspector_id(user))
    elif user.role == "institution" and user.institution_id:
        query = LedgerCheck.objects(institution_id=user.institution_id)
    else:
        return LedgerCheck.objects(id=None)
    if state:
        query = query.filter(state=state)
    return query.order_by("-created_at", "-id")


# What a check's summary shows: a list reads these alone (the scores and the escalation record are most of a
# stored check).
SUMMARY_FIELDS = ("code", "institution_id", "region", "state", "team", "checklist_code", "checklist_version",
                  "deadline", "level", "late", "requested_at", "submitted_at", "concluded_at", "result", "findings",
                  "order_id", "draw_id", "plan_id")


def listed_checks(user, **filters):
    """:func:`list_checks` reading only what :func:`summary_views` shows."""
    return only(list_checks(user, **filters), *SUMMARY_FIELDS)


def files_by_item(check: LedgerCheck) -> dict[str, list[LedgerFile]]:
    out: dict[str, list[LedgerFile]] = {}
    for f in LedgerFile.objects(check_id=str(check.id)).order_by("item_id", "uploaded_at", "id"):
        out.setdefault(f.item_id, []).append(f)
    return out


def file_view(f: LedgerFile) -> dict[str, Any]:
    return {"id": str(f.id), "item_id": f.item_id, "name": f.name, "kind": f.kind, "mime": f.mime, "size": f.size,
            "sha256": f.sha256, "pages": f.pages, "sheets": list(f.sheets or []), "evidence_id": f.evidence_id,
            "uploaded_at": f.uploaded_at,
            "url": f"/api/v1/ledger-checks/{f.check_id}/files/{f.id}"}


def summary_views(checks: Iterable[LedgerCheck], *, today=None) -> list[dict[str, Any]]:
    """Summaries of many checks (a list page): their institutions' names in one read."""
    checks = list(checks)
    names = institution_names(check.institution_id for check in checks)
    today = today or business_date(utcnow())
    return [summary_view(check, today=today, name=names.get(check.institution_id, UNKNOWN_INSTITUTION))
            for check in checks]


def summary_view(check: LedgerCheck, *, today=None, name: str | None = None) -> dict[str, Any]:
    """A check's summary in ``LedgerCheckSummarySchema``'s dumped form (a list sends it as it is); ``name``: its
    institution's, when the caller read it with others'."""
    today = today or business_date(utcnow())
    result = check.result or {}
    return {"id": str(check.id), "code": text(check.code), "institution_id": text(check.institution_id),
            "institution_name": text(institution_name(check.institution_id) if name is None else name),
            "region": text(check.region), "state": text(check.state),
            "state_name": text(CHECK_STATES.get(check.state, check.state)), "team": texts(check.team),
            "checklist_code": text(check.checklist_code), "checklist_version": number(check.checklist_version, int),
            "deadline": day(check.deadline), "overdue": check.state == "requested" and today > _date(check.deadline),
            "level": text(check.level), "late": bool(check.late), "requested_at": isoformat(check.requested_at),
            "submitted_at": isoformat(check.submitted_at), "concluded_at": isoformat(check.concluded_at),
            "score": result.get("score"), "grade": text(result.get("grade")),
            "grade_name": text(result.get("grade_name")), "finding_count": len(check.findings or []),
            "order_id": text(check.order_id), "draw_id": text(check.draw_id), "plan_id": text(check.plan_id)}


def _date(value):
    return value.date() if isinstance(value, datetime) else value


def detail_view(user, check: LedgerCheck) -> dict[str, Any]:
    """Everything the caller may see of a check: the request with uploaded files per item, scores, result.

    The institution sees the reviewers' scores only once the check is concluded.
    """
    content = content_of(check)
    files = files_by_item(check)
    show_scores = user.role != "institution" or check.state == "concluded"
    scores = scores_of(check)
    items = []
    for item in request_items(content, check.institution_kind):
        score = scores.get(item["item_id"]) if show_scores else None
        items.append({**item, "files": [file_view(f) for f in files.get(item["item_id"], [])],
                      "score": score})
    out = summary_view(check)
    out.update(items=items, steps=[{"code": s.code, "title": s.title, "due": s.due, "at": s.at} for s in check.steps],
               findings=list(check.findings or []) if check.state == "concluded" else [],
               result=dict(check.result or {}) if check.state == "concluded" else None)
    return out


# --------------------------------------------------------------------------- the institution submits

def submit(user, check_id: str, *, now: datetime) -> LedgerCheck:
    """The institution declares its upload complete (stops the deadline's ladder; late when past the deadline).

    Idempotent: submitting again returns the check as it is.
    """
    check = check_for(user, check_id)
    if user.role != "institution":
        raise Forbidden("仅被抽查机构可以提交资料", code="ROLE_FORBIDDEN")
    if check.state == "submitted":
        return check
    if check.state != "requested":
        raise Conflict("该抽查已不再接收资料", code="LEDGER_NOT_ACCEPTING", details={"state": check.state})
    late = business_date(now) > _date(check.deadline)
    if not LedgerCheck.objects(id=check.id, state="requested").update_one(
            set__state="submitted", set__submitted_at=now, set__submitted_by=str(user.id), set__late=late,
            set__next_step_due=None, set__updated_at=now):
        check.reload()
        if check.state == "submitted":
            return check
        raise Conflict("该抽查已不再接收资料", code="LEDGER_NOT_ACCEPTING", details={"state": check.state})
    check.reload()
    count = LedgerFile.objects(check_id=str(check.id)).count()
    audit.record("ledger.submitted", actor=actor_of(user), target_type="ledger_check", target_id=str(check.id),
                 region=check.region, data={"code": check.code, "files": count, "late": late}, now=now)
    notify(recipients("lead_inspector", check) + recipients("county_office", check), kind="ledger.submitted",
           params={"code": check.code, "institution_name": institution_name(check.institution_id)},
           data={"ledger_check_id": str(check.id)}, dedupe=f"ledger-submitted:{check.id}", region=check.region,
           now=now)
    return check


# --------------------------------------------------------------------------- public reads

def public_checks_read(institution_id: str, limit: int = 10) -> Read:
    """The read behind :func:`public_checks` (joined by institution: :mod:`inspect_api.batched`)."""
    return Read(LedgerCheck._get_collection_name(), {"institution_id": str(institution_id), "state": "concluded"},
                sort=(("concluded_at", -1), ("_id", -1)), limit=limit, key="institution_id")


def public_checks_from(rows: list[dict] | None) -> list[dict[str, Any]]:
    """The public facts of the checks read by :func:`public_checks_read`: no notes, no files."""
    out = []
    for check in (as_stored(LedgerCheck, row) for row in rows or []):
        result = check.result or {}
        out.append({"code": check.code, "concluded_on": business_date(check.concluded_at).isoformat(),
                    "checklist_code": check.checklist_code, "score": result.get("score"),
                    "grade": result.get("grade"), "grade_name": result.get("grade_name"),
                    "finding_count": len(check.findings or []), "order_id": check.order_id,
                    "findings": [{"item_text": f.get("item_text"), "severity": f.get("severity")}
                                 for f in check.findings or []]})
    return out


def public_checks(institution_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """Concluded checks of an institution, newest first: public facts only (no notes, no files)."""
    return public_checks_from(read_together(public_checks_read(institution_id, limit))[0])


def has_checks(kind: str, record_id: str) -> bool:
    """Directory history: an institution or inspector with ledger checks is closed, not deleted."""
    if kind == "institution":
        return LedgerCheck.objects(institution_id=record_id).only("id").first() is not None
    if kind == "inspector":
        return LedgerCheck.objects(team=record_id).only("id").first() is not None
    return False


def register_with_directory() -> None:
    register_history_check(has_checks)
