"""Small checklist documents for the tests (built in code, never from the shipped files)."""

from __future__ import annotations

import copy
from typing import Any

BANDS = [
    {"code": "excellent", "name": "优秀", "min": 90, "max": 100},
    {"code": "good", "name": "良好", "min": 80, "max": 90},
    {"code": "pass", "name": "合格", "min": 60, "max": 80},
    {"code": "fail", "name": "不合格", "min": 0, "max": 60},
]

DEADLINES = {
    "critical": {"working_days": 5, "reinspection": True},
    "major": {"working_days": 15, "reinspection": False},
    "minor": {"working_days": 30, "reinspection": False},
}


def item(item_id: str, points: Any, *, deductions=None, veto=False, severity="minor",
         na_allowed=False, kinds=None, method="on_site") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item_id,
        "text": f"检查项目 {item_id}",
        "clause": "基本要求",
        "method": method,
        "points": points,
        "deductions": deductions if deductions is not None else [
            {"code": "a", "text": "缺失", "points": points},
            {"code": "b", "text": "不完整", "points": 1 if points >= 1 else points},
        ],
        "severity": "critical" if veto else severity,
        "evidence": {"min_photos": 1, "documents": ["制度文本"]},
    }
    if veto:
        out["veto"] = True
    if na_allowed:
        out["na_allowed"] = True
    if kinds is not None:
        out["kinds"] = kinds
    return out


def small_checklist() -> dict[str, Any]:
    """A valid 100-point checklist: 2 sections, 5 items, one veto item, one na-allowed item."""
    return copy.deepcopy({
        "code": "TEST-1",
        "title": "测试清单",
        "standard": {"code": "DB37/T 0000-2020", "title": "测试标准"},
        "version": 1,
        "provenance": {"derived_from": "测试", "official_text_checked": False, "notes": "仅用于测试"},
        "kinds": ["combined", "care_home_clinic"],
        "points": 100,
        "bands": BANDS,
        "deadlines": DEADLINES,
        "sections": [
            {"id": "S1", "title": "资质", "points": 40, "items": [
                item("T-1-01", 20, veto=True),
                item("T-1-02", 20, severity="major"),
            ]},
            {"id": "S2", "title": "服务", "points": 60, "items": [
                item("T-2-01", 30, deductions=[
                    {"code": "a", "text": "每发现一处扣2分", "points": 2, "repeatable": True},
                    {"code": "b", "text": "记录缺失", "points": 10},
                ]),
                item("T-2-02", 20, na_allowed=True),
                item("T-2-03", 10, kinds=["care_home_clinic"]),
            ]},
        ],
    })


def all_pass(checklist: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    from checklists import applies_to, iter_items

    return {it["id"]: {"result": "pass"} for _, it in iter_items(checklist) if applies_to(it, kind)}
