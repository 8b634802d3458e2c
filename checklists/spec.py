"""Vocabulary of the checklist format: known codes and their Chinese names.

These are the closed lists the validator checks against. Adding a code here is
a format change: document it in README.md and bump the checklists that use it.
"""

from __future__ import annotations

#: Institution kinds (DOMAIN.md §1), code -> Chinese name.
KINDS: dict[str, str] = {
    "combined": "医养结合机构（两证齐全）",
    "care_home_clinic": "养老机构内设医疗机构",
    "hospital_care_unit": "医疗机构内设养老机构",
    "community_station": "社区医养结合服务站点",
    "township_two_in_one": "两院一体",
}

#: Inspection methods, code -> Chinese name.
METHODS: dict[str, str] = {
    "document_review": "查阅资料",
    "on_site": "现场查看",
    "interview": "询问",
    "record_sampling": "抽查记录",
    "practical_test": "实地操作",
}

#: Finding severities, most serious first, code -> Chinese name.
SEVERITIES: dict[str, str] = {
    "critical": "严重",
    "major": "较重",
    "minor": "一般",
}

#: Grades (the bands' codes), best first, code -> Chinese name.  A checklist's bands choose the score
#: ranges; their codes and names come from this list, so a grade reads the same on every surface.
GRADES: dict[str, str] = {
    "excellent": "优秀",
    "good": "良好",
    "pass": "合格",
    "fail": "不合格",
}
#: What a checklist is used for, code -> Chinese name. ``site_inspection`` (the
#: default when ``purpose`` is absent) is scored on site by an inspection team;
#: ``desk_review`` is a ledger spot check (台账资料抽查): the institution uploads
#: the documents each item names and reviewers score them at their desks, so
#: its items use the document methods only and each names its documents.
PURPOSES: dict[str, str] = {
    "site_inspection": "现场检查",
    "desk_review": "台账资料抽查",
}
DEFAULT_PURPOSE = "site_inspection"

#: Methods a desk review can apply (the documents are all the reviewers see).
DESK_METHODS = frozenset({"document_review", "record_sampling"})

#: Item response results accepted by the scoring engine, code -> Chinese name.
RESULTS: dict[str, str] = {
    "pass": "符合",
    "deduct": "扣分",
    "fail": "不符合",
    "na": "不适用",
}

#: Every checklist totals exactly this many points.
TOTAL_POINTS = 100

#: Points are numbers with at most this many decimal places.
MAX_POINT_DECIMALS = 2
