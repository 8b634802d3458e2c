"""Chinese message templates, by notification kind.

Escalation steps get ``days`` (the step's working-day offset from the
deadline, without sign: the ladder is configuration, ``[[ladder]]``) and
``notice_clause`` (a sentence when the step pre-selects the finding for the
next notice, else empty); wording stays true when a sweep catches up late.
"""

from __future__ import annotations

from typing import Any

TEMPLATES: dict[str, tuple[str, str]] = {
    "rectification.issued": (
        "整改通知书 {order_number} 已下达",
        "{institution_name}：检查发现 {finding_count} 项问题，请在期限内逐项整改并在线答复。最早整改期限：{deadline}。",
    ),
    "rectification.reminder": (
        "整改期限临近：{order_number} 第 {seq} 项",
        "{institution_name}：问题“{item_text}”的整改期限为 {deadline}，距到期已不超过 {days} 个工作日，请尽快整改并答复。",
    ),
    "rectification.warning": (
        "整改逾期警示：{order_number} 第 {seq} 项",
        "{institution_name} 的问题“{item_text}”已超过整改期限（{deadline}）仍未完成整改，请督促整改。",
    ),
    "rectification.department": (
        "逾期未整改升级至主管部门：{order_number} 第 {seq} 项",
        "{institution_name} 的问题“{item_text}”逾期已达 {days} 个工作日仍未整改（期限 {deadline}），请主管部门督办。",
    ),
    "rectification.office": (
        "逾期未整改升级至领导小组办公室：{order_number} 第 {seq} 项",
        "{institution_name} 的问题“{item_text}”逾期已达 {days} 个工作日仍未整改（期限 {deadline}）。{notice_clause}",
    ),
    "rectification.step": (
        "{step_title}：{order_number} 第 {seq} 项",
        "{institution_name} 的问题“{item_text}”（期限 {deadline}）：{step_title}。",
    ),
    "rectification.answered": (
        "整改答复待审核：{order_number} 第 {seq} 项",
        "{institution_name} 已提交问题“{item_text}”的整改答复，请审核。",
    ),
    "rectification.accepted": (
        "整改答复已通过：{order_number} 第 {seq} 项",
        "问题“{item_text}”的整改答复已审核通过。{comment}",
    ),
    "rectification.rejected": (
        "整改答复被退回：{order_number} 第 {seq} 项",
        "问题“{item_text}”的整改答复未通过：{comment}。请在 {deadline} 前重新整改并答复。",
    ),
    "rectification.extension_requested": (
        "延期申请待审批：{order_number} 第 {seq} 项",
        "{institution_name} 申请将问题“{item_text}”的整改期限由 {deadline} 延至 {requested_deadline}，理由：{reason}",
    ),
    "rectification.extension_decided": (
        "延期申请{decision_text}：{order_number} 第 {seq} 项",
        "问题“{item_text}”的延期申请{decision_text}，当前整改期限：{deadline}。{comment}",
    ),
    "rectification.reinspection": (
        "整改复查任务：{order_number} 第 {seq} 项",
        "严重问题“{item_text}”需现场复查，已为原检查组创建复查任务。",
    ),
    "rectification.closed": (
        "整改通知书 {order_number} 已办结",
        "{institution_name} 的整改通知书所列问题已全部整改通过。",
    ),
    "rectification.withdrawn": (
        "整改问题已撤销：{order_number} 第 {seq} 项",
        "检查组更正了检查记录，问题“{item_text}”已撤销，无需整改。更正理由：{reason}",
    ),
    "rectification.added": (
        "整改通知书 {order_number} 新增问题：第 {seq} 项",
        "检查组更正了检查记录，新增问题“{item_text}”，请在 {deadline} 前整改并答复。更正理由：{reason}",
    ),
    "digest.daily": (
        "整改工作日报（{date}）",
        "辖区内整改中的问题 {open} 项，其中逾期 {overdue} 项，拟列入通报 {preselected} 项，待审核答复 {answered} 项。",
    ),
}


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) for ``kind``; unknown placeholders render empty."""
    title, body = TEMPLATES.get(kind, TEMPLATES["rectification.step"])
    values = _Safe({k: ("" if v is None else v) for k, v in params.items()})
    return title.format_map(values), body.format_map(values)
