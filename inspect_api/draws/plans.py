"""Sampling plans (抽查计划): create, edit and delete drafts, with their validation; shared directory reads.

The lifecycle of a plan's draws is in :mod:`inspect_api.draws.lifecycle`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping


from inspect_api.audit import service as audit
from inspect_api.auth.models import User
from inspect_api.auth.service import actor_of
from inspect_api.catalog import service as catalog
from inspect_api.directory.inspectors import find_inspectors
from inspect_api.directory.institutions import find_institutions
from inspect_api.draws.models import (
    DEFAULT_CHECKLISTS, PLAN_KIND_PURPOSES, PLAN_KINDS, MandatoryTarget, Plan, TargetFilters)
from inspect_api.draws.schemas import normalize_ratio
from inspect_api.errors import Conflict, Forbidden, NotFound, Unprocessable
from inspect_api.scoping import in_scope, is_region_code, region_prefix, region_range
from inspect_api.db import by_id

EDITABLE_STATES = ("draft", "cancelled")
LIVE_DRAW_STATES = ("committed", "drawn", "amended")
PLAN_FIELDS = ("name", "kind", "region", "period_start", "period_end", "matters", "checklist_code", "departments", "ratio",
               "count", "stratification", "min_per_stratum", "risk_weighting", "exclude_inspected_within_days",
               "team_size", "required_departments", "load_cap", "cross_region", "no_repeat_lead")
# Hints of the office and public lists: sort keys first, then the region, so the server walks the
# index in list order and tests the region range on the keys (no in-memory sort).
PLAN_LIST_INDEX = [("created_at", -1), ("_id", -1), ("region", 1)]


def subtree_prefix(code_or_prefix: str) -> str:
    """A six-digit code stands for its subtree; anything shorter is a raw prefix."""
    return region_prefix(code_or_prefix) if is_region_code(code_or_prefix) else code_or_prefix


def institutions_by_id(ids: Iterable[str]) -> dict[str, Any]:
    ids = list(set(ids))
    return {str(i.id): i for i in find_institutions(region_prefix="", ids=ids)} if ids else {}


def inspectors_by_id(ids: Iterable[str]) -> dict[str, Any]:
    ids = list(set(ids))
    return {str(i.id): i for i in find_inspectors(ids=ids, active=None)} if ids else {}


def plan_in_scope(user: User, plan_id: str) -> Plan:
    plan = by_id(Plan, plan_id)
    if plan is None or not in_scope(user.region, plan.region):
        raise NotFound("抽查计划不存在", code="PLAN_NOT_FOUND")
    return plan


def list_plans(user: User, state: str | None = None):
    query = Plan.objects(__raw__={"region": region_range(user.region)})
    if state:
        query = query.filter(state=state)
    return query.order_by("-created_at", "-id").hint(PLAN_LIST_INDEX)


def matches_filters(inst, plan: Plan) -> bool:
    prefix = region_prefix(plan.region)
    f = plan.filters or TargetFilters()
    if not (inst.region or "").startswith(prefix):
        return False
    if f.region_prefix and not inst.region.startswith(subtree_prefix(f.region_prefix)):
        return False
    if f.kinds and inst.kind not in f.kinds:
        return False
    if f.tags and not set(f.tags) & set(inst.tags or []):
        return False
    statuses = f.statuses or []
    return not statuses or inst.status in statuses


def _apply(plan: Plan, data: Mapping[str, Any]) -> None:
    for key in PLAN_FIELDS:
        if key in data:
            setattr(plan, key, data[key])
    if "filters" in data:
        f = data["filters"] or {}
        plan.filters = TargetFilters(region_prefix=f.get("region_prefix"), kinds=list(f.get("kinds") or []),
                                     tags=list(f.get("tags") or []),
                                     statuses=list(f.get("statuses", ["active"]) or []))
    if "mandatory" in data:
        plan.mandatory = [MandatoryTarget(institution_id=m["institution_id"], reason=m["reason"])
                          for m in data["mandatory"] or []]


def _validate_catalog(plan: Plan) -> None:
    """Matters must be active matters of the catalog (抽查事项清单), the checklist a published one; 422 per field."""
    fields: dict[str, Any] = {}
    known = {m.code: m for m in catalog.list_matters()}
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for n, code in enumerate(plan.matters or []):
        matter = known.get(code)
        if code in seen:
            problems[str(n)] = [f"抽查事项 {code} 重复"]
        elif matter is None:
            problems[str(n)] = [f"抽查事项 {code} 不在抽查事项清单中"]
        elif not matter.active:
            problems[str(n)] = [f"抽查事项 {code}（{matter.name}）已停用"]
        seen.add(code)
    if problems:
        fields["matters"] = problems
    latest = catalog.latest_version(plan.checklist_code)
    purpose = PLAN_KIND_PURPOSES[plan.kind or "site"]
    if latest is None:
        fields["checklist_code"] = [f"检查表 {plan.checklist_code} 不存在或没有已发布的版本"]
    elif catalog.checklist_purpose(latest) != purpose:
        fields["checklist_code"] = [f"检查表 {plan.checklist_code} 不适用于{PLAN_KINDS[plan.kind or 'site']}计划"
                                    "（现场检查计划用现场检查表，台账资料抽查计划用台账资料抽查清单）"]
    if fields:
        raise Unprocessable("抽查事项或检查表无效：事项须为抽查事项清单中启用的事项编码，检查表须已发布",
                            code="PLAN_CATALOG_INVALID", details={"fields": fields})


def validate_plan(user: User, plan: Plan) -> None:
    """Cross-field rules of a plan (on create, update and again at commit)."""
    if not in_scope(user.region, plan.region):
        raise Forbidden("计划范围超出本办公室管辖区域", code="PLAN_REGION_OUT_OF_SCOPE",
                        details={"region": plan.region})
    if plan.period_end < plan.period_start:
        raise Unprocessable("计划结束日期早于开始日期", code="PLAN_PERIOD_INVALID")
    if (plan.ratio is None) == (plan.count is None):
        raise Unprocessable("须且只能给出抽查比例 ratio 或固定数量 count 之一", code="PLAN_SIZE_INVALID")
    if plan.ratio is not None:
        try:
            plan.ratio = normalize_ratio(plan.ratio)
        except Exception as exc:  # marshmallow ValidationError
            raise Unprocessable("抽查比例须大于 0 且不超过 1（最多 6 位小数）", code="PLAN_RATIO_INVALID") from exc
    if plan.team_size is None or plan.team_size < 2:
        raise Unprocessable("检查组至少需要两名执法人员", code="TEAM_TOO_SMALL")
    if len(plan.required_departments) > plan.team_size:
        raise Unprocessable("指定部门数多于检查组人数", code="PLAN_REQUIRED_DEPARTMENTS_INVALID")
    if plan.departments and not set(plan.required_departments) <= set(plan.departments):
        raise Unprocessable("指定部门须在参与部门之内", code="PLAN_REQUIRED_DEPARTMENTS_INVALID",
                            details={"departments": list(plan.departments)})
    prefix = region_prefix(plan.region)
    f = plan.filters or TargetFilters()
    if f.region_prefix and not subtree_prefix(f.region_prefix).startswith(prefix):
        raise Unprocessable("筛选区划不在计划范围内", code="PLAN_FILTER_OUT_OF_SCOPE",
                            details={"region_prefix": f.region_prefix})
    _validate_catalog(plan)
    ids = [m.institution_id for m in plan.mandatory]
    if len(set(ids)) != len(ids):
        raise Unprocessable("必查对象重复", code="MANDATORY_DUPLICATE")
    if ids:
        found = institutions_by_id(ids)
        for iid in ids:
            inst = found.get(iid)
            if inst is None or not matches_filters(inst, plan):
                raise Unprocessable("必查对象不在计划范围或筛选条件内", code="MANDATORY_OUT_OF_SCOPE",
                                    details={"institution_id": iid})


def create_plan(user: User, data: Mapping[str, Any], *, now: datetime) -> Plan:
    plan = Plan(region=data.get("region") or user.region, state="draft", created_by=str(user.id), created_at=now,
                updated_at=now)
    data = dict(data)
    if not data.get("checklist_code"):
        data["checklist_code"] = DEFAULT_CHECKLISTS[data.get("kind") or "site"]
    _apply(plan, {k: v for k, v in data.items() if k != "region"})
    validate_plan(user, plan)
    plan.save(force_insert=True)
    audit.record("draw.plan_created", actor=actor_of(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"name": plan.name}, now=now)
    return plan


def update_plan(user: User, plan_id: str, data: Mapping[str, Any], *, now: datetime) -> Plan:
    plan = plan_in_scope(user, plan_id)
    if plan.state not in EDITABLE_STATES:
        raise Conflict("计划已提交承诺，不能修改（可先取消）", code="PLAN_NOT_EDITABLE", details={"state": plan.state})
    before = plan.updated_at
    _apply(plan, data)
    validate_plan(user, plan)
    values = {f"set__{k}": getattr(plan, k) for k in PLAN_FIELDS}
    values.update(set__filters=plan.filters, set__mandatory=plan.mandatory, set__updated_at=now)
    if not Plan.objects(id=plan.id, state__in=EDITABLE_STATES, updated_at=before).update_one(**values):
        raise Conflict("计划已被他人修改或已提交，请刷新后重试", code="PLAN_CHANGED")
    audit.record("draw.plan_updated", actor=actor_of(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"fields": sorted(data)}, now=now)
    return Plan.objects.get(id=plan.id)


def delete_plan(user: User, plan_id: str, *, now: datetime) -> None:
    plan = plan_in_scope(user, plan_id)
    if not Plan.objects(id=plan.id, state="draft", draw_count=0).delete():
        raise Conflict("只能删除从未提交承诺的草稿计划", code="PLAN_NOT_DELETABLE", details={"state": plan.state})
    audit.record("draw.plan_deleted", actor=actor_of(user), target_type="plan", target_id=str(plan.id),
                 region=plan.region, data={"name": plan.name}, now=now)
