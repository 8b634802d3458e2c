"""Reviewing a ledger spot check: scores per document item, then the lead reviewer's conclusion.

* Reviewers (the drawn team) score once the institution submitted or the
  deadline passed.  A score is ``result`` (pass / deduct / fail / na) with
  deduction codes and an internal note, checked by the checklists scoring
  engine; each item keeps a revision and a write names the revision it was
  based on (409 with the server's score when someone else wrote meanwhile).
* The conclusion (lead reviewer only) is a chain of idempotent steps, like a
  site inspection's submission: lock, score every item with the engine,
  freeze result and findings, open the rectification order through
  ``rectification.open_order`` (keyed ``ledger:<check id>``, source
  ``ledger_check``: the same orders, deadlines by severity, escalation ladder,
  notices and public counts as site findings), record the risk event once,
  then flip the state.  A replay returns the stored conclusion.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api import vocabulary
from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.errors import Conflict, Forbidden, Unprocessable
from inspect_api.ledgers.models import LedgerCheck
from inspect_api.ledgers.service import (_date, check_for, content_of, institution_name, item_of, notify,
                                         recipients, score_key, scores_of)
from inspect_api.workdays import business_date


def _rectification():
    from inspect_api.rectification import service as rectification

    return rectification


def _require_reviewer(user, check: LedgerCheck) -> str:
    if user.role != "inspector":
        raise Forbidden("仅审查组成员可以评分", code="ROLE_FORBIDDEN")
    return user.inspector_id


def _require_reviewable(check: LedgerCheck, now: datetime) -> None:
    if check.state == "concluded":
        raise Conflict("该抽查已完成审查", code="LEDGER_ALREADY_CONCLUDED")
    if check.state == "cancelled":
        raise Conflict("该抽查已取消", code="LEDGER_CANCELLED")
    if check.state == "requested" and business_date(now) <= _date(check.deadline):
        raise Conflict("机构尚未提交资料且提交期限未到，暂不能审查", code="LEDGER_NOT_READY_FOR_REVIEW",
                       details={"deadline": _date(check.deadline).isoformat()})


def _engine_responses(scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Scores by item id as the scoring engine takes them."""
    return {item_id: {"result": s["result"], "deductions": list(s.get("deductions") or [])}
            for item_id, s in scores.items()}


def _item_problems(content: dict[str, Any], scores: dict[str, Any], kind: str | None, item_id: str) -> list[dict]:
    """The scoring engine's problems with ``item_id``'s score (other items may still be unscored)."""
    from checklists.errors import ScoringError
    from checklists.scoring import score

    try:
        score(content, _engine_responses(scores), kind=kind)
    except ScoringError as exc:
        return [p for p in exc.problems if p.get("item") == item_id]
    return []


def score_item(user, check_id: str, item_id: str, *, result: str, deductions: list[str], note: str | None,
               base_revision: int, now: datetime) -> dict[str, Any]:
    """Write one item's score (reviewers of the team); 409 ``SCORE_CONFLICT`` on a stale ``base_revision``."""
    check = check_for(user, check_id)
    reviewer = _require_reviewer(user, check)
    _require_reviewable(check, now)
    if check.conclusion_started_at is not None:
        raise Conflict("审查结论正在生成，不能再修改评分", code="LEDGER_ALREADY_CONCLUDED")
    content = content_of(check)
    item_of(content, item_id, check.institution_kind)
    scores = scores_of(check)
    current = scores.get(item_id) or {}
    revision = int(current.get("revision") or 0)
    if base_revision != revision:
        raise Conflict("该项目评分已被其他审查人员修改，请以最新评分为基础重试", code="SCORE_CONFLICT",
                       details={"server": current or None, "revision": revision})
    entry = {"result": result, "deductions": list(deductions), "note": note, "revision": revision + 1,
             "by": reviewer, "at": now.isoformat()}
    problems = _item_problems(content, {**scores, item_id: entry}, check.institution_kind, item_id)
    if problems:
        raise Unprocessable("评分不符合清单规则", code="SCORE_INVALID", details={"problems": problems})
    key = score_key(item_id)
    query = {"id": check.id, "state__in": ["requested", "submitted"], "conclusion_started_at": None}
    query[f"scores__{key}__revision" if revision else f"scores__{key}__exists"] = revision or False
    updates = {f"set__scores__{key}": entry, "set__updated_at": now}
    if check.review_started_at is None:
        updates["set__review_started_at"] = now
    if not LedgerCheck.objects(**query).update_one(**updates):
        check.reload()
        current = scores_of(check).get(item_id)
        raise Conflict("该项目评分已被其他审查人员修改，请以最新评分为基础重试", code="SCORE_CONFLICT",
                       details={"server": current, "revision": int((current or {}).get("revision") or 0)})
    audit.record("ledger.scored", actor=actor_of(user), target_type="ledger_check", target_id=str(check.id),
                 region=check.region, data={"item_id": item_id, "result": result, "deductions": list(deductions),
                                            "revision": revision + 1}, now=now)
    return entry


def _score(check: LedgerCheck, content: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Result and findings (as ``open_order`` takes them) from the stored scores; 422 when incomplete."""
    from checklists.errors import ScoringError
    from checklists.scoring import score

    try:
        scored = score(content, _engine_responses(scores_of(check)), kind=check.institution_kind)
    except ScoringError as exc:
        raise Unprocessable("还有项目未评分或评分无效，不能作出结论", code="LEDGER_SCORING_INCOMPLETE",
                            details={"problems": exc.problems}) from exc
    items = {}
    from checklists import iter_items

    for _section, item in iter_items(content):
        items[str(item["id"])] = item
    findings = []
    for f in scored.findings:
        item = items.get(f.item_id, {})
        findings.append({
            "item_id": f.item_id, "item_text": f.item_text, "clause": item.get("clause"), "section_id": f.section_id,
            "result": f.result, "severity": f.severity,
            "deductions": [{"code": d.code, "text": d.text, "points": float(d.points * d.count)} for d in f.deductions],
            "points_lost": float(f.points_lost), "deadline_working_days": int(f.deadline_working_days),
            "reinspection_required": False, "note": (scores_of(check).get(f.item_id) or {}).get("note"),
            "photo_ids": [],
        })
    result = {"score": float(scored.score), "grade": scored.grade, "grade_name": scored.grade_name,
              "earned": float(scored.earned), "applicable_max": float(scored.applicable_max),
              "not_applicable": list(scored.not_applicable), "kind": check.institution_kind}
    return result, findings


def conclude(user, check_id: str, *, now: datetime) -> LedgerCheck:
    """The lead reviewer concludes; findings become a rectification order.  Idempotent and resumable."""
    check = check_for(user, check_id)
    reviewer = _require_reviewer(user, check)
    if not check.team or reviewer != check.team[0]:
        raise Forbidden("只有审查组组长可以作出审查结论", code="NOT_TEAM_LEAD")
    if check.state == "concluded":
        return check
    _require_reviewable(check, now)
    content = content_of(check)
    if check.conclusion_started_at is None:
        _score(check, content)  # a refusal locks nothing
        LedgerCheck.objects(id=check.id, conclusion_started_at=None).update_one(
            set__conclusion_started_at=now, set__concluded_by=str(user.id))
        check.reload()
    concluded_at = check.conclusion_started_at
    result, findings = _score(check, content)
    LedgerCheck.objects(id=check.id).update_one(set__result=result, set__findings=findings)
    order_id = check.order_id
    if findings:
        order = _rectification().open_order(
            inspection_id=f"ledger:{check.id}", institution_id=check.institution_id, region=check.region,
            lead_inspector_id=check.team[0], team=list(check.team), checklist_code=check.checklist_code,
            findings=[{k: f[k] for k in ("item_id", "item_text", "clause", "severity", "deductions", "points_lost",
                                         "deadline_working_days", "reinspection_required", "note", "photo_ids")}
                      for f in findings],
            concluded_at=concluded_at, now=now, source="ledger_check")
        if order is not None:
            order_id = str(order.id)
            LedgerCheck.objects(id=check.id).update_one(set__order_id=order_id)
    if LedgerCheck.objects(id=check.id, risk_recorded=False).update_one(set__risk_recorded=True):
        _rectification().record_risk(check.institution_id, past_findings=len(findings), now=now)
    flipped = LedgerCheck.objects(id=check.id, state__in=["requested", "submitted"]).update_one(
        set__state="concluded", set__concluded_at=concluded_at, set__next_step_due=None, set__updated_at=now)
    check.reload()
    if flipped:
        audit.record("ledger.concluded", actor=actor_of(user), target_type="ledger_check", target_id=str(check.id),
                     region=check.region, data={"code": check.code, "score": result["score"], "grade": result["grade"],
                                                "findings": len(findings), "order_id": order_id}, now=now)
        notify(recipients("institution", check), kind="ledger.concluded",
               params={"code": check.code, "score": vocabulary.score_text(result["score"]),
                       "grade_name": result["grade_name"],
                       "findings": len(findings), "institution_name": institution_name(check.institution_id)},
               data={"ledger_check_id": str(check.id), "order_id": order_id}, dedupe=f"ledger-concluded:{check.id}",
               region=check.region, now=now)
    return check
