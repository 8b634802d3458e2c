"""Demo data for the public site: published results, an institution with overdue findings, notices.

Runs last (after the rectification seeder).  Builds submitted inspections of
Zibo institutions through :mod:`inspect_api.publication.builders`, lets the
rectification sweep catch up (so old findings are overdue and pre-selected
for the notice), publishes most results through the service (one stays
unpublished and past its publication deadline, so the publication ladder has
something to escalate), publishes a notice and a second one that is then
retracted with its public reason.  Shares ``ctx.data["publication"]``.
Idempotent: a second run finds the demo notices and stops.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from inspect_api.auth.models import User
from inspect_api.clock import SHANGHAI
from inspect_api.demo import DemoContext
from inspect_api.directory.models import Inspector, Institution
from inspect_api.errors import DomainError
from inspect_api.publication import deadlines, notices, results
from inspect_api.publication.builders import checklist_finding, submitted_inspection
from inspect_api.publication.models import Notice, PublishedResult
from inspect_api.scoping import in_scope

log = logging.getLogger(__name__)

# Findings on real items of DB37/T 4086 (item id, deduction code), with the notes below.
ITEMS = [
    ("4086-3-03", "b"),  # 消防设施 / 无防火巡查记录
    ("4086-7-04", "b"),  # 护理记录缺项
    ("4086-4-04", "b"),  # 高警示药品未单独存放
    ("4086-2-04", "a"),  # 护理员未经培训合格上岗
    ("4086-4-05", "b"),  # 年度内未组织应急演练
    ("4086-1-03", "b"),  # 证照未公示
    ("4086-9-02", "b"),  # 体检覆盖不全
    ("4086-3-01", "a"),  # a veto item (一票否决): no fire-safety approval, 不合格 whatever the points
]
NOTES = [
    "走廊灭火器被轮椅和纸箱遮挡，近一个月无防火巡查记录。",
    "入住老人[[张秀英]]（身份证号370302194805061226，家属电话13853312345）的护理记录缺失3天。",
    "胰岛素等高警示药品与普通药品混放，无警示标识。",
    "抽查护理员5名，其中2名未取得养老护理员职业技能等级证书。",
    "机构负责人称年内尚未组织演练。",
    None,
    "抽查健康档案10份，3份未记录最近一次体检结果。",
    None,
]
# (days ago, item indexes, score, grade, publish?)
PLAN = [
    (6, [5], 94.0, "excellent", True),
    (12, [0, 1], 86.5, "good", True),
    (18, [], 97.5, "excellent", True),
    (24, [3, 4], 78.0, "pass", True),
    (75, [0, 3, 6], 64.5, "pass", True),  # the institution with overdue findings
    (40, [2, 1, 3, 6], 55.0, "fail", True),
    (45, [4], 88.0, "good", False),  # not yet published, past its publication deadline
    (33, [7, 5], 94.4, "fail", True),  # a failed veto item (一票否决): 不合格 whatever the points
]


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def seed(ctx: DemoContext) -> None:
    office = User.objects(role="office_admin", region="370300").first()
    institutions = [i for i in (ctx.data.get("institutions") or list(Institution.objects.order_by("created_at")))
                    if i.status == "active"]
    inspectors = ctx.data.get("inspectors") or list(Inspector.objects(active=True).order_by("created_at"))
    if office is None or len(institutions) < 8 or len(inspectors) < 2:
        log.info("publication demo skipped: no office of 370300, institutions or inspectors")
        return
    if Notice.objects(office_region=office.region).first() is not None:
        return
    today = ctx.now.astimezone(SHANGHAI).date()
    picks = [institutions[i * 5 % len(institutions)] for i in range(len(PLAN))]
    published, unpublished = [], []
    for n, ((days_ago, items, score, grade, publish), inst) in enumerate(zip(PLAN, picks)):
        same = [x for x in inspectors if x.active and in_scope("370300", x.region)]
        team = [str(x.id) for x in (same[n % max(1, len(same) - 1):] + same)[:2]]
        if len(set(team)) < 2:
            team = [str(inspectors[0].id), str(inspectors[1].id)]
        findings = [checklist_finding(ITEMS[i][0], deduction=ITEMS[i][1], note=NOTES[i]) for i in items]
        ins = submitted_inspection(institution=inst, team=team, concluded_at=_at(today - timedelta(days=days_ago)),
                                   now=ctx.now, findings=findings, score=score, grade=grade,
                                   key=f"demo:{n}", matters=[])
        (published if publish else unpublished).append(ins)

    # The rectification ladder catches up on the new orders (old findings become overdue / pre-selected).
    try:
        from inspect_api.rectification.escalation import run_sweep

        run_sweep(ctx.now, deliver=False)
    except Exception:  # noqa: BLE001 - the public demo still works without escalation records
        log.warning("publication demo: rectification sweep failed", exc_info=True)

    extra = (ctx.data.get("inspections") or {}).get("submitted")
    for ins in published:
        _publish(office, str(ins.id), ctx.now)
    if extra:
        _publish(office, extra, ctx.now)
    deadlines.sweep_publication_deadlines(ctx.now)

    period_from = today - timedelta(days=180)
    first = notices.draft_notice(office, {"period_from": period_from, "period_to": today}, now=ctx.now)
    if not first.finding_ids:
        ids = [c["finding_id"] for c in notices.candidate_findings(office, region=office.region,
                                                                   period_from=period_from, period_to=today)][:5]
        first = notices.update_notice(office, str(first.id), {"finding_ids": ids}, now=ctx.now)
    notices.update_notice(office, str(first.id), {
        "title": "关于全市医养结合机构逾期未整改问题的通报",
        "text": ("根据“双随机、一公开”监管工作安排，市医养结合工作领导小组办公室对全市医养结合机构开展了随机抽查。"
                 "抽查中发现的部分问题超过整改期限仍未整改到位，现予以通报。\n"
                 "请相关机构立即对照问题清单整改，并在系统中提交整改答复；各区县卫生健康、民政部门要加强督导，"
                 "整改情况将在本平台持续公开。")}, now=ctx.now)
    notices.publish_notice(office, str(first.id), now=ctx.now)

    second = notices.draft_notice(office, {"period_from": period_from, "period_to": today, "finding_ids": [],
                                           "title": "关于部分医养结合机构消防安全问题的通报",
                                           "text": "经抽查，部分机构存在消防通道堆放杂物等问题，现予以通报。"},
                                  now=ctx.now - timedelta(days=3))
    notices.publish_notice(office, str(second.id), now=ctx.now - timedelta(days=3))
    notices.retract_notice(office, str(second.id), reason="经复核，所列机构已在通报前完成整改，本通报予以撤回。",
                           now=ctx.now - timedelta(days=1))

    overdue_inst = picks[4]
    ctx.data["publication"] = {
        "results": [str(r.id) for r in PublishedResult.objects.only("id")],
        "overdue_institution": overdue_inst.public_id,
        "notice": str(first.id), "retracted_notice": str(second.id),
        "unpublished_inspection": str(unpublished[0].id) if unpublished else None,
    }


def _publish(office, inspection_id: str, now: datetime) -> None:
    if PublishedResult.objects(inspection_id=inspection_id).first() is not None:
        return
    try:
        results.publish(office, inspection_id, now=now)
    except DomainError as exc:
        log.info("publication demo: %s not published (%s)", inspection_id, exc.code)
