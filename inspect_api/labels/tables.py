"""Code → Chinese name, for every enumeration a front end shows or offers in a form.

The portal and the console hold no vocabulary of their own: they read these
tables once per session.  Tables that a domain module already owns are taken
from it (institution kinds, finding statuses, severities, notice statuses
...), so one change there reaches every screen; the others (plan and draw
states, roles, assignment statuses...) are named here.
"""

from __future__ import annotations

from typing import Mapping

from inspect_api.catalog.models import MATTER_CATEGORIES
from inspect_api.directory.models import (CONFLICT_REASONS, DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES,
                                          SERVICE_TAGS)
from inspect_api.inspections.models import CHECKIN_FLAGS, SIGNER_ROLES, TARGETED_REASONS
from inspect_api.publication.models import NOTICE_STATUSES
from inspect_api.rectification.models import ORDER_STATUSES
from inspect_api.rectification.views import REVIEW_QUEUES
from inspect_api.vocabulary import FINDING_STATUSES, GRADES, SEVERITIES

TABLES: dict[str, Mapping[str, str]] = {
    "roles": {"office_admin": "办公室管理员", "inspector": "检查人员", "institution": "机构人员"},
    "region_levels": {"province": "省", "city": "市", "county": "区县"},
    "institution_kinds": INSTITUTION_KINDS,
    "institution_statuses": INSTITUTION_STATUSES,
    "service_tags": {tag: tag for tag in SERVICE_TAGS},
    "departments": DEPARTMENTS,
    "licence_kinds": {"medical_licence": "医疗机构执业许可证", "medical_filing": "医疗机构备案", "care_filing": "养老机构备案",
                      "other": "其他证照"},
    "conflict_reasons": CONFLICT_REASONS,
    "conflict_sources": {"employment_history": "任职经历（自动生成）", "declared": "本人申报", "office": "办公室登记"},
    "matter_categories": MATTER_CATEGORIES,
    "plan_states": {"draft": "草稿", "committed": "已提交承诺，待抽取", "drawn": "已抽取", "amended": "已抽取（有人员调整）",
                    "cancelled": "已取消"},
    "draw_states": {"committed": "已提交承诺，待抽取", "drawn": "已抽取", "amended": "已抽取（有人员调整）",
                    "cancelled": "已取消"},
    "stratifications": {"county": "按区县分层", "kind": "按机构类型分层", "none": "不分层"},
    "assignment_statuses": {"assigned": "待检查", "in_progress": "检查中", "submitted": "已提交",
                            "cancelled": "已取消"},
    "assignment_sources": {"draw": "双随机抽取", "targeted": "专项（非随机）检查"},
    "targeted_reasons": TARGETED_REASONS,
    "inspection_states": {"assigned": "未签到", "checked_in": "已签到，检查中", "submitted": "已提交"},
    "checkin_flags": CHECKIN_FLAGS,
    "signer_roles": SIGNER_ROLES,
    "grades": GRADES,
    "order_statuses": ORDER_STATUSES,
    "finding_statuses": FINDING_STATUSES,
    "severities": SEVERITIES,
    "extension_statuses": {"pending": "待审批", "granted": "已批准", "denied": "未批准"},
    "review_queues": {name: spec["label"] for name, spec in REVIEW_QUEUES.items()},
    "finding_actions": {"answer": "答复", "upload_photo": "上传照片", "request_extension": "申请延期",
                        "review": "审核答复", "decide_extension": "审批延期", "require_reinspection": "要求现场复查"},
    "notice_statuses": NOTICE_STATUSES,
}


def labels() -> dict[str, list[dict[str, str]]]:
    """Every table as an ordered list of ``{code, label}``."""
    return {name: [{"code": code, "label": label} for code, label in table.items()] for name, table in TABLES.items()}
