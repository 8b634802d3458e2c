"""Demo ledger spot checks: a desk-review plan drawn three weeks ago with the same verifiable draw.

* The check of ``inst02``'s institution (a mandatory target) is complete: the
  institution uploaded a PDF and a workbook, submitted, the drawn reviewers
  scored every item (two gaps) and the lead concluded, so its findings sit in a
  rectification order (source ``ledger_check``) with their deadlines.
* Another check is submitted and waits for review; the rest missed their
  document deadline and the sweep escalated them on the ladder.

The reviewers act through the services as the drawn inspectors (a stand-in
carrying the inspector id when the inspector has no demo account).
Idempotent: a second run finds the demo plan and stops.
"""

from __future__ import annotations

import io
import logging
import uuid
from datetime import timedelta
from types import SimpleNamespace

from inspect_api.auth.models import User
from inspect_api.demo import DemoContext
from inspect_api.errors import DomainError

log = logging.getLogger(__name__)
PLAN_NAME = "2026 年下半年医养结合机构台账资料抽查"
ENTROPY = "2026-11-05 福利彩票3D 开奖号 316 + 见证人 王芳/刘强"
GAPS = {"TZ4086-6-02": ("deduct", ["c"], "近半年未组织噎食、走失应急演练"),
        "TZ4086-2-03": ("fail", ["a"], "无年度培训计划和培训记录"),
        "TZ4087-4-02": ("deduct", ["b"], "上门服务记录缺少服务对象签字"),
        "TZ4087-3-02": ("fail", ["a"], "无慢性病随访记录")}


def _pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xlsx(title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(["日期", "内容", "参加人数"])
    sheet.append(["2026-09-12", "跌倒与噎食急救培训", 18])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _reviewer(inspector_id: str):
    user = User.objects(role="inspector", inspector_id=inspector_id).first()
    if user is not None:
        return user
    from inspect_api.directory.inspectors import get_inspector

    person = get_inspector(inspector_id)
    return SimpleNamespace(id=inspector_id, role="inspector", inspector_id=inspector_id, institution_id=None,
                           username=getattr(person, "name", "demo"), region=getattr(person, "region", None))


def _client_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "inspect-demo-ledgers:" + ":".join(parts)))


def _complete(check, institution_user, drawn_at) -> None:
    from inspect_api.ledgers import review, service, uploads

    items = [i for i in service.request_items(service.content_of(check), check.institution_kind) if i["applies"]]
    for n, item in enumerate(items[:4]):
        data = _xlsx("培训签到") if n == 1 else _pdf(2 + n)
        name = "培训签到.xlsx" if n == 1 else f"{item['documents'][0]}.pdf"
        uploads.upload(institution_user, str(check.id), item["item_id"], data=data, name=name,
                       client_id=_client_id(str(check.id), item["item_id"]), now=drawn_at + timedelta(days=3))
    service.submit(institution_user, str(check.id), now=drawn_at + timedelta(days=5))
    lead, member = _reviewer(check.team[0]), _reviewer(check.team[1])
    for n, item in enumerate(items):
        result, deductions, note = GAPS.get(item["item_id"], ("pass", [], None))
        review.score_item(member if n % 2 else lead, str(check.id), item["item_id"], result=result,
                          deductions=deductions, note=note, base_revision=0, now=drawn_at + timedelta(days=7))
    review.conclude(lead, str(check.id), now=drawn_at + timedelta(days=8))


def seed(ctx: DemoContext) -> None:
    from inspect_api.draws import lifecycle, plans
    from inspect_api.draws.models import Plan
    from inspect_api.ledgers import service
    from inspect_api.ledgers.deadlines import sweep_request_deadlines
    from inspect_api.ledgers.models import LedgerCheck

    office = ctx.data.get("office") or User.objects(role="office_admin", region="370300").first()
    owner = User.objects(username="inst02", role="institution").first()
    if office is None or owner is None or Plan.objects(name=PLAN_NAME, kind="desk_review").first():
        return
    service.register_with_draws()
    drawn_at = ctx.now - timedelta(days=22)
    start = drawn_at.date()
    try:
        plan = plans.create_plan(office, {
            "name": PLAN_NAME, "kind": "desk_review", "period_start": start, "period_end": start + timedelta(days=60),
            "matters": ["YY-06"], "count": 5, "stratification": "none", "team_size": 2, "load_cap": 25,
            "mandatory": [{"institution_id": owner.institution_id, "reason": "上季度满意度测评得分偏低"}]},
                                 now=drawn_at - timedelta(hours=2))
        lifecycle.commit_plan(office, str(plan.id), now=drawn_at - timedelta(hours=1))
        draw = lifecycle.draw_plan(office, str(plan.id), ENTROPY, now=drawn_at)
    except DomainError as exc:  # demo data must never stop the app from starting
        log.warning("demo ledger checks skipped: %s (%s)", exc.message, exc.code)
        return
    checks = list(LedgerCheck.objects(draw_id=str(draw.id)).order_by("created_at", "id"))
    completed = next((c for c in checks if c.institution_id == owner.institution_id), None)
    try:
        if completed is not None:
            _complete(completed, owner, drawn_at)
        waiting = next((c for c in checks if c is not completed), None)
        if waiting is not None:
            stand_in = SimpleNamespace(id="demo", role="institution", institution_id=waiting.institution_id,
                                       username="demo", region=waiting.region)
            service.submit(stand_in, str(waiting.id), now=drawn_at + timedelta(days=6))
    except DomainError as exc:
        log.warning("demo ledger review incomplete: %s (%s)", exc.message, exc.code)
    sweep_request_deadlines(ctx.now)
    ctx.data["ledger_checks"] = checks
