"""The snapshot a commitment freezes: candidates (stratum, risk weight, mandatory), inspectors, conflicts,
previous leads; and the checklist each institution kind is inspected with (see :mod:`inspect_api.draws.lifecycle`
for the decisions behind them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from inspect_api.catalog import service as catalog
from inspect_api.clock import SHANGHAI, as_utc
from inspect_api.directory.conflicts import conflict_pairs
from inspect_api.directory.inspectors import find_inspectors
from inspect_api.directory.institutions import find_institutions
from inspect_api.draws import kinds
from inspect_api.draws.models import PLAN_KIND_PURPOSES, Plan, TargetFilters
from inspect_api.draws.plans import matches_filters, subtree_prefix
from inspect_api.errors import Unprocessable
from inspect_api.scoping import in_scope, region_prefix

DEFAULT_RISK = {"per_past_finding": 0.1, "per_overdue_rectification": 0.5, "per_complaint": 0.25,
                "per_rejected_answer": 0.25, "per_low_satisfaction": 0.5, "max_weight": 5.0}
SIX = Decimal("0.000001")


def risk_settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out = dict(DEFAULT_RISK)
    out.update(config or {})
    return out


def weight_of(inst, risk: Mapping[str, Any]) -> str:
    """Risk weight with exactly 6 decimals (Decimal arithmetic, capped at ``max_weight``)."""
    profile = getattr(inst, "risk", None)
    past = int(getattr(profile, "past_findings", 0) or 0)
    overdue = int(getattr(profile, "overdue_rectifications", 0) or 0)
    rejected = int(getattr(profile, "rejected_answers", 0) or 0)
    low_satisfaction = int(getattr(profile, "low_satisfaction", 0) or 0)
    complaints = int(getattr(inst, "complaint_count", 0) or 0)
    weight = (Decimal(1) + Decimal(str(risk["per_past_finding"])) * past
              + Decimal(str(risk["per_overdue_rectification"])) * overdue
              + Decimal(str(risk["per_complaint"])) * complaints
              + Decimal(str(risk["per_rejected_answer"])) * rejected
              + Decimal(str(risk.get("per_low_satisfaction", 0))) * low_satisfaction)
    weight = min(weight, Decimal(str(risk["max_weight"])))
    weight = max(weight, SIX)
    return str(weight.quantize(SIX, rounding=ROUND_HALF_UP))


def _stratum(inst, stratification: str) -> str:
    if stratification == "county":
        return inst.region
    if stratification == "kind":
        return inst.kind
    return "all"


def build_snapshot(plan: Plan, *, now: datetime, risk: Mapping[str, Any]) -> tuple[dict, dict]:
    """The frozen params and snapshot of DESIGN §5 for ``plan`` as of ``now``."""
    params, snapshot, _candidates = snapshot_with_candidates(plan, now=now, risk=risk)
    return params, snapshot


def snapshot_with_candidates(plan: Plan, *, now: datetime, risk: Mapping[str, Any]) -> tuple[dict, dict, list]:
    """:func:`build_snapshot` plus the candidate institutions themselves."""
    f = plan.filters or TargetFilters()
    prefix = subtree_prefix(f.region_prefix) if f.region_prefix else region_prefix(plan.region)
    found = [i for i in find_institutions(region_prefix=prefix, kinds=f.kinds or None, tags=f.tags or None,
                                          statuses=f.statuses or None)
             if matches_filters(i, plan)]
    mandatory = {m.institution_id for m in plan.mandatory}
    if plan.exclude_inspected_within_days:
        cutoff = as_utc(now) - timedelta(days=plan.exclude_inspected_within_days)

        def recent(inst) -> bool:
            last = getattr(getattr(inst, "risk", None), "last_inspected_at", None)
            return last is not None and as_utc(last) > cutoff

        found = [i for i in found if str(i.id) in mandatory or not recent(i)]
    if not found:
        raise Unprocessable("按计划范围和筛选条件没有可抽取的机构", code="NO_CANDIDATES")
    candidate_ids = {str(i.id) for i in found}
    missing = sorted(mandatory - candidate_ids)
    if missing:
        raise Unprocessable("必查对象不在计划范围或筛选条件内", code="MANDATORY_OUT_OF_SCOPE",
                            details={"institution_id": missing[0]})
    weigh = risk if plan.risk_weighting else None
    institutions = [{"id": str(i.id), "region": i.region, "stratum": _stratum(i, plan.stratification),
                     "weight": weight_of(i, weigh) if weigh else "1.000000", "mandatory": str(i.id) in mandatory}
                    for i in sorted(found, key=lambda x: str(x.id))]

    pool = list(find_inspectors(region_prefix=region_prefix(plan.region),
                                departments=list(plan.departments) or None, active=True))
    pool = [p for p in pool if p.active and in_scope(plan.region, p.region)
            and (not plan.departments or p.department in plan.departments)]
    if len(pool) < plan.team_size:
        raise Unprocessable("可用执法人员少于检查组人数", code="NOT_ENOUGH_INSPECTORS",
                            details={"inspectors": len(pool), "team_size": plan.team_size})
    inspector_ids = {str(p.id) for p in pool}
    work = kinds.handler(plan.kind)
    loads = work.open_loads(inspector_ids)
    inspectors = [{"id": str(p.id), "department": p.department, "region": p.region, "load": loads.get(str(p.id), 0),
                   "load_cap": min(plan.load_cap, p.load_cap or plan.load_cap)}
                  for p in sorted(pool, key=lambda x: str(x.id))]
    today = as_utc(now).astimezone(SHANGHAI).date()
    pairs = conflict_pairs(inspector_ids=sorted(inspector_ids), institution_ids=sorted(candidate_ids),
                           on=today)
    conflicts = sorted([a, b] for a, b in pairs if a in inspector_ids and b in candidate_ids)
    leads = work.previous_leads(candidate_ids)
    previous_leads = {k: leads[k] for k in sorted(leads)}
    params = {"ratio": plan.ratio, "count": plan.count, "min_per_stratum": plan.min_per_stratum,
              "team_size": plan.team_size, "required_departments": list(plan.required_departments),
              "cross_region": bool(plan.cross_region), "no_repeat_lead": bool(plan.no_repeat_lead)}
    snapshot = {"institutions": institutions, "inspectors": inspectors, "conflicts": conflicts,
                "previous_leads": previous_leads}
    return params, snapshot, found


def published_checklist_kinds(purpose: str = "site_inspection") -> dict[str, set[str]]:
    """Every published checklist of ``purpose`` (its latest version) and the institution kinds it covers."""
    out = {}
    for entry in catalog.list_checklists(None):  # no user: published versions only
        version = catalog.latest_version(entry["code"])
        if version is not None and catalog.checklist_purpose(version) == purpose:
            out[version.code] = set((version.content or {}).get("kinds") or [])
    return out


def checklist_for_kind(kind: str | None, plan_checklist: str, matters: Iterable[str],
                       published: Mapping[str, set[str]] | None = None) -> str | None:
    """The checklist an institution of ``kind`` is inspected with under a plan, or None if none covers it.

    A plan names one checklist, but its candidates may be of kinds that
    checklist does not cover (e.g. community stations under DB37/T 4086, the
    institutional standard; they belong to DB37/T 4087, the community one), and
    scoring refuses a checklist that does not list the institution's kind.  An
    office expects each institution to be inspected against the standard that
    applies to it, so the choice is per target: the plan's checklist when it
    covers the kind; otherwise the checklist of the first of the plan's matters
    whose checklist covers it; otherwise the first published checklist (by
    code) that covers it.  The choice per kind is fixed at commit and published
    with the plan (``plan.checklists_by_kind`` in the record); a candidate whose
    kind no published checklist covers is refused at commit (422).
    """
    published = published_checklist_kinds() if published is None else published
    if kind is None or kind in published.get(plan_checklist, ()):
        return plan_checklist
    for code in matters:
        matter = catalog.get_matter(code)
        if matter is not None and kind in published.get(matter.checklist_code, ()):
            return matter.checklist_code
    return next((code for code in sorted(published) if kind in published[code]), None)


def checklists_by_kind(plan: Plan, candidates: list) -> dict[str, str]:
    """``{kind: checklist code}`` for the candidates' kinds; 422 naming the institutions no checklist covers."""
    published = published_checklist_kinds(PLAN_KIND_PURPOSES[plan.kind or "site"])
    out: dict[str, str] = {}
    uncovered = []
    for inst in sorted(candidates, key=lambda i: str(i.id)):
        if inst.kind not in out:
            code = checklist_for_kind(inst.kind, plan.checklist_code, plan.matters, published)
            if code is not None:
                out[inst.kind] = code
        if inst.kind not in out:
            uncovered.append(inst)
    if uncovered:
        names = "、".join(i.name for i in uncovered[:5]) + (f" 等 {len(uncovered)} 家" if len(uncovered) > 5 else "")
        raise Unprocessable(f"没有已发布的检查表适用于这些机构的类型：{names}；"
                            "请调整筛选条件（机构类型）或先发布适用的检查表",
                            code="CHECKLIST_KIND_NOT_COVERED",
                            details={"kinds": sorted({i.kind for i in uncovered}),
                                     "institutions": [{"id": str(i.id), "name": i.name, "kind": i.kind}
                                                      for i in uncovered[:50]],
                                     "count": len(uncovered)})
    return {k: out[k] for k in sorted(out)}
