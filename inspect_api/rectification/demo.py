"""Demo rectification orders in every state, with the ladder at work and its notifications.

Runs after the directory seeder: uses ``ctx.data["institutions"]`` /
``ctx.data["inspectors"]`` or, when absent, whatever the directory holds.
Each order belongs to a real submitted inspection (built with its report by
:mod:`inspect_api.publication.builders`, findings on real checklist items),
concluded in the past, the institution and office act through the service, and then the sweep
runs once per business day up to today, so every step is recorded on its due
day exactly as the scheduler would have done it.  States shown:

* 整改中 (open, nothing due yet) · 已答复待审核 (answered) · 审核退回 (rejected)
* 临期提醒 (reminder) · 逾期警示 (warning) · 升级主管部门 (department)
* 升级领导小组办公室 + 拟列入通报 (office, pre-selected) · 延期已批准 / 待审批
* 已办结 (closed) · 严重问题现场复查 (re-inspection assignment)
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from inspect_api.auth.models import User
from inspect_api.calendar.service import current_calendar
from inspect_api.demo import DemoContext
from inspect_api.directory.models import Inspector, Institution
from inspect_api.inspections.models import Assignment
from inspect_api.publication.builders import checklist_finding, submitted_inspection
from inspect_api.rectification import escalation
from inspect_api.rectification import responses, reviews
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Order
from inspect_api.scoping import in_scope
from inspect_api.workdays import SHANGHAI, business_date

log = logging.getLogger(__name__)

# Findings on real items of DB37/T 4086 (item id, deduction code): major, minor, critical, major, minor.
ITEMS = [
    ("4086-3-03", "b"),  # 无防火巡查记录
    ("4086-7-04", "b"),  # 护理记录缺项
    ("4086-3-02", "a"),  # 安全出口锁闭或疏散通道堵塞 (critical: re-inspection)
    ("4086-2-04", "a"),  # 护理员未经培训合格上岗
    ("4086-2-05", "b"),  # 培训记录或考核记录不全
]
DEMO_KEY = "rectification-demo:"


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def _finding(i: int) -> dict:
    item_id, deduction = ITEMS[i % len(ITEMS)]
    return checklist_finding(item_id, deduction=deduction, note="现场检查发现")


def _score(findings: list[dict]) -> tuple[float, str]:
    """The demo's score and grade: points lost off 100; a failed veto item fails the inspection."""
    score = round(100.0 - sum(f["points_lost"] for f in findings), 1)
    if any(f["veto"] for f in findings) or score < 60:
        return score, "fail"
    return score, "excellent" if score >= 90 else "good" if score >= 80 else "pass"


def seed(ctx: DemoContext) -> None:
    institutions = ctx.data.get("institutions") or list(Institution.objects.order_by("created_at").limit(200))
    inspectors = ctx.data.get("inspectors") or list(Inspector.objects(active=True).order_by("created_at").limit(50))
    inst_users = {u.institution_id: u for u in User.objects(role="institution", active=True)}
    with_account = [i for i in institutions if str(i.id) in inst_users]
    if not with_account or len(inspectors) < 2:
        log.info("rectification demo skipped: no institution accounts or fewer than two inspectors")
        return
    if Assignment.objects(dedupe_key=f"publication:{DEMO_KEY}1").first():
        return
    calendar = current_calendar()
    today = business_date(ctx.now)
    if not calendar.is_working_day(today):
        today = calendar.previous_working_day(today)

    def reviewer_for(inst):
        for u in User.objects(role="office_admin", active=True).order_by("region"):
            if in_scope(u.region, inst.region):
                return u
        return None

    counter = {"n": 0}

    def issue(inst, deadline: date, items: list[int]):
        """Issue an order whose first finding's deadline is ``deadline``."""
        counter["n"] += 1
        findings = [_finding(i) for i in items]
        concluded = calendar.add_working_days(deadline, -findings[0]["deadline_working_days"])
        same_region = [x for x in inspectors if x.region == inst.region]
        team = (same_region if len(same_region) >= 2 else inspectors)[:2]
        score, grade = _score(findings)
        inspection = submitted_inspection(institution=inst, team=[str(t.id) for t in team],
                                          concluded_at=_at(concluded), now=_at(concluded, 17), findings=findings,
                                          score=score, grade=grade, key=f"{DEMO_KEY}{counter['n']}")
        return Order.objects.get(id=inspection.order_id)

    def wd(n: int) -> date:
        return calendar.add_working_days(today, n)

    pick = lambda k: with_account[k % len(with_account)]  # noqa: E731
    plan = []
    # (institution, first deadline, items, action)
    plan.append((pick(0), wd(12), [0, 1], None))  # open, nothing due yet
    plan.append((pick(0), wd(2), [0], None))  # reminder sent
    plan.append((pick(0), wd(-2), [3], None))  # overdue warning
    plan.append((pick(1), wd(-6), [0], None))  # escalated to the department
    plan.append((pick(2), wd(-11), [3, 4], None))  # escalated to the office, pre-selected for the notice
    plan.append((pick(1), wd(5), [1], "answered"))
    plan.append((pick(1), wd(1), [0], "rejected"))
    plan.append((pick(2), wd(1), [3], "extended"))
    plan.append((pick(2), wd(3), [4], "extension_pending"))
    plan.append((pick(0), wd(4), [1, 4], "closed"))
    plan.append((pick(1), wd(3), [2], "reinspection"))

    orders = [(issue(inst, deadline, items), inst, action) for inst, deadline, items, action in plan]
    first_day = min(business_date(o.concluded_at) for o, _, _ in orders)

    # The ladder at work: one sweep per business day up to today, as the scheduler would have run them.
    day = first_day
    while day <= today:
        if calendar.is_working_day(day):
            escalation.run_sweep(_at(day, 9), deliver=False)
        day += timedelta(days=1)

    acted = ctx.now - timedelta(hours=2)
    for order, inst, action in orders:
        if action is None:
            continue
        inst_user = inst_users[str(inst.id)]
        reviewer = reviewer_for(inst)
        oid = str(order.id)
        findings = rs.findings_of(order)
        responses.acknowledge(inst_user, oid, now=acted)
        if action in ("answered", "rejected", "closed"):
            for f in findings:
                responses.answer(inst_user, oid, str(f.id), description="已按要求完成整改：清理通道、补齐记录并组织培训。",
                          photo_ids=[], now=acted)
        if reviewer is None:
            continue
        if action == "rejected":
            reviews.review(reviewer, oid, str(findings[0].id), decision="reject", comment="整改说明不充分，请补充现场照片",
                      new_deadline=wd(8), now=acted + timedelta(minutes=30))
        elif action == "closed":
            for f in findings:
                reviews.review(reviewer, oid, str(f.id), decision="accept", comment="整改到位", now=acted + timedelta(minutes=30))
        elif action in ("extended", "extension_pending"):
            responses.request_extension(inst_user, oid, str(findings[0].id), reason="需采购消防器材，供货周期约两周",
                                 requested_deadline=wd(12), now=acted)
            if action == "extended":
                reviews.decide_extension(reviewer, oid, str(findings[0].id), approve=True, comment="同意延期",
                                    now=acted + timedelta(minutes=30))
        elif action == "reinspection":
            try:
                reviews.require_reinspection(reviewer, oid, str(findings[0].id), note="严重问题整改后现场复查",
                                        now=acted + timedelta(minutes=30))
            except Exception:  # noqa: BLE001 - the demo goes on without the re-inspection if assignments refuse
                log.warning("demo re-inspection not created", exc_info=True)
    ctx.data["rectification_orders"] = [o for o, _, _ in orders]
