"""Demo draws: one plan drawn through the real lifecycle, one committed and waiting for its draw.

Matters are codes of the default catalog (``catalog.service.DEFAULT_MATTERS``):
YY-01 医养结合机构医疗服务质量与安全 and YY-02 养老机构内设医疗机构执业情况
for the drawn plan, YY-03 养老服务质量与安全管理 for the waiting one, whose
name says so.
Candidates of every kind are drawn; each gets the checklist covering its kind
(community stations DB37/T 4087), see ``inspect_api.draws.snapshot.checklist_for_kind``.

Runs after the directory seeder; uses ``ctx.data["institutions"]`` and
``ctx.data["inspectors"]`` when present, otherwise whatever the directory holds.
Does nothing when the directory is empty.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from inspect_api.clock import SHANGHAI
from inspect_api.demo import DemoContext
from inspect_api.draws import lifecycle, plans
from inspect_api.draws.models import Plan
from inspect_api.errors import DomainError

log = logging.getLogger(__name__)

WITNESS_ENTROPY = "2026-11-20 福利彩票3D 开奖号 527 + 见证人 张伟/李娜"


def _office(ctx: DemoContext):
    from inspect_api.auth.models import User

    return ctx.data.get("office") or User.objects(role="office_admin", region="370300").first()


def _has_directory(ctx: DemoContext) -> bool:
    if ctx.data.get("institutions") and ctx.data.get("inspectors"):
        return True
    from inspect_api.directory.models import Inspector, Institution

    return Institution.objects.count() > 0 and Inspector.objects.count() >= 2


def seed(ctx: DemoContext) -> None:
    office = _office(ctx)
    if office is None or not _has_directory(ctx) or Plan.objects(created_by="demo").count():
        return
    today = ctx.now.astimezone(SHANGHAI).date()
    base = {"period_start": today, "period_end": today + timedelta(days=60), "checklist_code": "DB37T4086-2020",
            "stratification": "county", "min_per_stratum": 1, "team_size": 2, "load_cap": 25,
            "no_repeat_lead": True, "cross_region": False}
    try:
        first = plans.create_plan(office, {
            **base, "name": "2026 年第四季度医养结合机构双随机抽查", "ratio": "0.300000",
            "matters": ["YY-01", "YY-02"]}, now=ctx.now - timedelta(days=2))
        lifecycle.commit_plan(office, str(first.id), now=ctx.now - timedelta(days=2))
        lifecycle.draw_plan(office, str(first.id), WITNESS_ENTROPY, now=ctx.now - timedelta(days=1))
        second = plans.create_plan(office, {
            **base, "name": "2026 年养老服务质量与安全管理专项抽查（待抽取）", "count": 3,
            "stratification": "none", "matters": ["YY-03"]}, now=ctx.now)
        lifecycle.commit_plan(office, str(second.id), now=ctx.now)
    except DomainError as exc:  # demo data must never stop the app from starting
        log.warning("demo draws skipped: %s (%s)", exc.message, exc.code)
        return
    for plan in Plan.objects(id__in=[first.id, second.id]):
        plan.update(set__created_by="demo")
    ctx.data["draw_plans"] = [first, second]
