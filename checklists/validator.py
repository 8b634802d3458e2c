"""Validation of checklist documents (see README.md for the format).

:func:`validate` returns every problem found (an empty list means valid);
:func:`check` raises :class:`~checklists.errors.ChecklistError` instead.
Paths use zero-based indices, e.g. ``sections[2].items[5].deductions[1]``.
Messages are in Chinese; field names stay as written in the file.

Besides types and required fields the validator checks the arithmetic and
the cross references: unique section ids, item ids (across the checklist) and
deduction codes (within an item); every deduction at most its item's points;
item points add up to each section's declared ``points`` and sections add up
to the declared total, which must be exactly 100; grade bands cover 0–100
without gap or overlap, with the grade codes and names of
``spec.GRADES``; every severity (critical, major, minor) has a
deadline; kinds, methods and severities are known codes; veto items are
``critical``.  Numbers are bounded (version, working days, photos, points),
so a stored document never holds an integer a database cannot carry.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from .errors import ChecklistError, Problem, control_character_problems
from .spec import DESK_METHODS, GRADES, KINDS, MAX_POINT_DECIMALS, METHODS, PURPOSES, SEVERITIES, TOTAL_POINTS

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

TOP_REQUIRED = (
    "code", "title", "standard", "version", "provenance", "kinds",
    "points", "bands", "deadlines", "sections",
)
TOP_OPTIONAL = ("description", "purpose")
STANDARD_REQUIRED = ("code", "title")
PROVENANCE_REQUIRED = ("derived_from", "official_text_checked", "notes")
BAND_REQUIRED = ("code", "name", "min", "max")
DEADLINE_REQUIRED = ("working_days", "reinspection")
SECTION_REQUIRED = ("id", "title", "points", "items")
SECTION_OPTIONAL = ("clause",)
ITEM_REQUIRED = ("id", "text", "clause", "method", "points", "deductions", "severity", "evidence")
ITEM_OPTIONAL = ("veto", "na_allowed", "kinds", "guidance")
DEDUCTION_REQUIRED = ("code", "text", "points")
DEDUCTION_OPTIONAL = ("repeatable",)
EVIDENCE_REQUIRED = ("min_photos", "documents")

#: Upper bounds of the integer fields (points are bounded by TOTAL_POINTS).
MAX_VERSION = 1_000_000
MAX_WORKING_DAYS = 365
MAX_MIN_PHOTOS = 50


def to_decimal(value: Any) -> Decimal:
    """Exact Decimal of a points value already accepted by the validator.

    Floats are converted through their shortest repr, so ``0.5`` -> ``0.5``
    and ``1.1`` -> ``1.1`` (never the binary expansion).
    """
    if isinstance(value, bool):
        raise TypeError("points must be a number, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"points must be a number, got {type(value).__name__}")


class _Validator:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    # -- helpers -----------------------------------------------------------
    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.source, path, message))

    @staticmethod
    def join(path: str, key: str | int) -> str:
        if isinstance(key, int):
            return f"{path}[{key}]"
        return f"{path}.{key}" if path else key

    def mapping(self, value: Any, path: str, required: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.add(path, f"应为映射（键值对），实际为 {_type_name(value)}")
            return False
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"键 {key!r} 应为字符串")
            elif key not in required and key not in optional:
                self.add(self.join(path, key), f"未知字段 “{key}”")
        for key in required:
            if key not in value:
                self.add(path, f"缺少必填字段 “{key}”")
        return True

    def string(self, value: Any, path: str, pattern: re.Pattern[str] | None = None) -> bool:
        if not isinstance(value, str):
            self.add(path, f"应为字符串，实际为 {_type_name(value)}")
            return False
        if not value.strip():
            self.add(path, "不能为空")
            return False
        if pattern is not None and not pattern.match(value):
            self.add(path, f"“{value}” 格式不正确（只允许字母、数字、点、下划线和连字符，以字母或数字开头，最长 64 个字符）")
            return False
        return True

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.add(path, f"应为布尔值 true/false，实际为 {_type_name(value)}")
            return False
        return True

    def integer(self, value: Any, path: str, minimum: int, maximum: int) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"应为整数，实际为 {_type_name(value)}")
            return False
        if value < minimum:
            self.add(path, f"应不小于 {minimum}，实际为 {_shown(value)}")
            return False
        if value > maximum:
            self.add(path, f"应不大于 {maximum}，实际为 {_shown(value)}")
            return False
        return True

    def points(self, value: Any, path: str, positive: bool = True) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, f"分值应为数字，实际为 {_type_name(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, "分值必须是有限数字")
            return None
        if abs(value) > TOTAL_POINTS:
            # Checked before any arithmetic: a huge integer must not reach Decimal or the store.
            self.add(path, f"分值应在 0 至 {TOTAL_POINTS} 之间，实际为 {_shown(value)}")
            return None
        dec = to_decimal(value)
        exponent = dec.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_POINT_DECIMALS:
            self.add(path, f"分值 {value} 的小数位数超过 {MAX_POINT_DECIMALS} 位")
            return None
        if positive and dec <= 0:
            self.add(path, f"分值应大于 0，实际为 {value}")
            return None
        if not positive and dec < 0:
            self.add(path, f"分值不能为负数，实际为 {value}")
            return None
        return dec

    def string_list(self, value: Any, path: str, allow_empty: bool = True) -> list[str] | None:
        if not isinstance(value, list):
            self.add(path, f"应为列表，实际为 {_type_name(value)}")
            return None
        if not value and not allow_empty:
            self.add(path, "列表不能为空")
            return None
        out = []
        for i, entry in enumerate(value):
            if self.string(entry, self.join(path, i)):
                out.append(entry)
        return out

    def kinds(self, value: Any, path: str, allowed: set[str] | None) -> list[str] | None:
        entries = self.string_list(value, path, allow_empty=False)
        if entries is None:
            return None
        seen: set[str] = set()
        for i, kind in enumerate(value):
            if not isinstance(kind, str):
                continue
            p = self.join(path, i)
            if kind not in KINDS:
                self.add(p, f"未知的机构类型 “{kind}”（可选：{', '.join(KINDS)}）")
            elif allowed is not None and kind not in allowed:
                self.add(p, f"机构类型 “{kind}” 不在清单适用类型 kinds 之内")
            if kind in seen:
                self.add(p, f"机构类型 “{kind}” 重复")
            seen.add(kind)
        return entries

    # -- the document ------------------------------------------------------
    def run(self, doc: Any) -> None:
        if not self.mapping(doc, "", TOP_REQUIRED, TOP_OPTIONAL):
            return
        self._json_compatible(doc, "")
        if "code" in doc:
            self.string(doc["code"], "code", ID_RE)
        if "title" in doc:
            self.string(doc["title"], "title")
        if "description" in doc:
            self.string(doc["description"], "description")
        desk = False
        if "purpose" in doc:
            purpose = doc["purpose"]
            if not isinstance(purpose, str) or purpose not in PURPOSES:
                self.add("purpose", f"未知的用途 {purpose!r}（可选：{', '.join(PURPOSES)}）")
            desk = purpose == "desk_review"
        if "standard" in doc and self.mapping(doc["standard"], "standard", STANDARD_REQUIRED):
            for key in STANDARD_REQUIRED:
                if key in doc["standard"]:
                    self.string(doc["standard"][key], f"standard.{key}")
        if "version" in doc:
            self.integer(doc["version"], "version", minimum=1, maximum=MAX_VERSION)
        if "provenance" in doc:
            self._provenance(doc["provenance"])
        kinds: set[str] | None = None
        if "kinds" in doc:
            entries = self.kinds(doc["kinds"], "kinds", None)
            kinds = {k for k in entries or [] if k in KINDS}
        total: Decimal | None = None
        if "points" in doc:
            total = self.points(doc["points"], "points")
            if total is not None and total != TOTAL_POINTS:
                self.add("points", f"清单总分应为 {TOTAL_POINTS}，实际声明为 {doc['points']}")
        if "bands" in doc:
            self._bands(doc["bands"])
        if "deadlines" in doc:
            self._deadlines(doc["deadlines"])
        if "sections" in doc:
            self._sections(doc["sections"], kinds, total)
            if desk:
                self._desk_items(doc["sections"])

    def _desk_items(self, sections: Any) -> None:
        """A desk review sees documents only: document methods, and every item names what to upload."""
        if not isinstance(sections, list):
            return
        for si, section in enumerate(sections):
            items = section.get("items") if isinstance(section, dict) else None
            for ii, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, dict):
                    continue
                ip = f"sections[{si}].items[{ii}]"
                methods = item.get("method")
                methods = methods if isinstance(methods, list) else [methods]
                wrong = [m for m in methods if isinstance(m, str) and m in METHODS and m not in DESK_METHODS]
                if wrong:
                    self.add(f"{ip}.method", f"台账资料抽查清单只能采用查阅资料或抽查记录，不能采用 {', '.join(wrong)}")
                evidence = item.get("evidence")
                documents = evidence.get("documents") if isinstance(evidence, dict) else None
                if isinstance(documents, list) and not documents:
                    self.add(f"{ip}.evidence.documents", "台账资料抽查清单的每个项目须列出要求提交的资料")

    def _json_compatible(self, value: Any, path: str) -> None:
        """Refuse values JSON cannot carry (e.g. YAML dates, None keys)."""
        if isinstance(value, dict):
            for key, sub in value.items():
                self._json_compatible(sub, self.join(path, str(key)))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                self._json_compatible(sub, self.join(path, i))
        elif value is None or isinstance(value, (str, bool, int)):
            return
        elif isinstance(value, float):
            if not math.isfinite(value):
                self.add(path, "不允许 NaN 或无穷大")
        else:
            self.add(path, f"不支持的值类型 {_type_name(value)}（日期等请写成带引号的字符串）")

    def _provenance(self, value: Any) -> None:
        if not self.mapping(value, "provenance", PROVENANCE_REQUIRED):
            return
        if "derived_from" in value:
            self.string(value["derived_from"], "provenance.derived_from")
        if "official_text_checked" in value:
            self.boolean(value["official_text_checked"], "provenance.official_text_checked")
        if "notes" in value:
            self.string(value["notes"], "provenance.notes")

    def _bands(self, value: Any) -> None:
        if not isinstance(value, list) or not value:
            self.add("bands", f"应为非空列表，实际为 {_type_name(value)}")
            return
        parsed: list[tuple[Decimal, Decimal, int]] = []
        codes: set[str] = set()
        for i, band in enumerate(value):
            p = f"bands[{i}]"
            if not self.mapping(band, p, BAND_REQUIRED):
                continue
            if "code" in band and self.string(band["code"], f"{p}.code", CODE_RE):
                if band["code"] not in GRADES:
                    self.add(f"{p}.code", f"未知的等级代码 “{band['code']}”（可选：{', '.join(GRADES)}）")
                elif band["code"] in codes:
                    self.add(f"{p}.code", f"等级代码 “{band['code']}” 重复")
                codes.add(band["code"])
            if "name" in band and self.string(band["name"], f"{p}.name") and isinstance(band.get("code"), str) \
                    and band["code"] in GRADES and band["name"] != GRADES[band["code"]]:
                self.add(f"{p}.name", f"等级 {band['code']} 的名称应为 “{GRADES[band['code']]}”，实际为 “{band['name']}”")
            lo = self.points(band["min"], f"{p}.min", positive=False) if "min" in band else None
            hi = self.points(band["max"], f"{p}.max", positive=False) if "max" in band else None
            if lo is None or hi is None:
                continue
            if lo >= hi:
                self.add(p, f"下限 {band['min']} 应小于上限 {band['max']}")
                continue
            parsed.append((lo, hi, i))
        if len(parsed) != len(value):
            return  # gaps/overlaps are only meaningful once every band parsed
        ordered = sorted(parsed)
        if ordered[0][0] != 0:
            self.add(f"bands[{ordered[0][2]}].min", f"等级区间应从 0 开始，最低下限为 {ordered[0][0]}")
        if ordered[-1][1] != TOTAL_POINTS:
            self.add(f"bands[{ordered[-1][2]}].max", f"等级区间应覆盖到 {TOTAL_POINTS}，最高上限为 {ordered[-1][1]}")
        for (lo1, hi1, i1), (lo2, hi2, i2) in zip(ordered, ordered[1:]):
            if hi1 < lo2:
                self.add(f"bands[{i2}]", f"等级区间有空缺：{hi1} 至 {lo2} 之间的得分没有对应等级（与 bands[{i1}] 之间）")
            elif hi1 > lo2:
                self.add(f"bands[{i2}]", f"等级区间重叠：与 bands[{i1}] 在 {lo2} 至 {min(hi1, hi2)} 之间重叠")

    def _deadlines(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.add("deadlines", f"应为映射（严重程度 -> 期限），实际为 {_type_name(value)}")
            return
        for severity, rule in value.items():
            p = f"deadlines.{severity}"
            if severity not in SEVERITIES:
                self.add(p, f"未知的严重程度 “{severity}”（可选：{', '.join(SEVERITIES)}）")
                continue
            if not self.mapping(rule, p, DEADLINE_REQUIRED):
                continue
            if "working_days" in rule:
                self.integer(rule["working_days"], f"{p}.working_days", minimum=0, maximum=MAX_WORKING_DAYS)
            if "reinspection" in rule:
                self.boolean(rule["reinspection"], f"{p}.reinspection")
        for severity, name in SEVERITIES.items():
            if severity not in value:
                self.add("deadlines", f"缺少严重程度 “{severity}”（{name}）的整改期限：每个严重程度都须设定期限，"
                                      "即使当前没有项目使用它")

    def _sections(self, value: Any, kinds: set[str] | None, total: Decimal | None) -> None:
        if not isinstance(value, list) or not value:
            self.add("sections", f"应为非空列表，实际为 {_type_name(value)}")
            return
        section_ids: dict[str, str] = {}
        item_ids: dict[str, str] = {}
        sum_sections = Decimal(0)
        sections_ok = True
        for si, section in enumerate(value):
            sp = f"sections[{si}]"
            if not self.mapping(section, sp, SECTION_REQUIRED, SECTION_OPTIONAL):
                sections_ok = False
                continue
            if "id" in section and self.string(section["id"], f"{sp}.id", ID_RE):
                if section["id"] in section_ids:
                    self.add(f"{sp}.id", f"分类编号 “{section['id']}” 与 {section_ids[section['id']]} 重复")
                else:
                    section_ids[section["id"]] = sp
            if "title" in section:
                self.string(section["title"], f"{sp}.title")
            if "clause" in section:
                self.string(section["clause"], f"{sp}.clause")
            declared = self.points(section["points"], f"{sp}.points") if "points" in section else None
            if declared is None:
                sections_ok = False
            else:
                sum_sections += declared
            items = section.get("items")
            if "items" not in section:
                continue
            if not isinstance(items, list) or not items:
                self.add(f"{sp}.items", f"应为非空列表，实际为 {_type_name(items)}")
                continue
            sum_items = Decimal(0)
            items_ok = True
            for ii, item in enumerate(items):
                ip = f"{sp}.items[{ii}]"
                pts = self._item(item, ip, kinds, item_ids)
                if pts is None:
                    items_ok = False
                else:
                    sum_items += pts
            if items_ok and declared is not None and sum_items != declared:
                self.add(
                    f"{sp}.points",
                    f"分类 “{section.get('title', section.get('id', si))}” 声明 {_fmt(declared)} 分，"
                    f"但各项目分值之和为 {_fmt(sum_items)} 分",
                )
        if sections_ok and total is not None and sum_sections != total:
            self.add("points", f"清单声明总分 {_fmt(total)} 分，但各分类分值之和为 {_fmt(sum_sections)} 分")

    def _item(self, item: Any, ip: str, kinds: set[str] | None, item_ids: dict[str, str]) -> Decimal | None:
        if not self.mapping(item, ip, ITEM_REQUIRED, ITEM_OPTIONAL):
            return None
        label = f"项目 {item['id']}" if isinstance(item.get("id"), str) else "项目"
        if "id" in item and self.string(item["id"], f"{ip}.id", ID_RE):
            if item["id"] in item_ids:
                self.add(f"{ip}.id", f"项目编号 “{item['id']}” 与 {item_ids[item['id']]} 重复")
            else:
                item_ids[item["id"]] = ip
        for key in ("text", "clause", "guidance"):
            if key in item:
                self.string(item[key], f"{ip}.{key}")
        if "method" in item:
            self._method(item["method"], f"{ip}.method")
        for key in ("veto", "na_allowed"):
            if key in item:
                self.boolean(item[key], f"{ip}.{key}")
        if "severity" in item:
            sev = item["severity"]
            if not isinstance(sev, str) or sev not in SEVERITIES:
                self.add(f"{ip}.severity", f"未知的严重程度 {sev!r}（可选：{', '.join(SEVERITIES)}）")
            elif item.get("veto") is True and sev != "critical":
                self.add(f"{ip}.severity", f"{label} 是一票否决项，严重程度应为 critical")
        if "kinds" in item:
            self.kinds(item["kinds"], f"{ip}.kinds", kinds)
        if "evidence" in item:
            ev = item["evidence"]
            if self.mapping(ev, f"{ip}.evidence", EVIDENCE_REQUIRED):
                if "min_photos" in ev:
                    self.integer(ev["min_photos"], f"{ip}.evidence.min_photos", minimum=0,
                                 maximum=MAX_MIN_PHOTOS)
                if "documents" in ev:
                    self.string_list(ev["documents"], f"{ip}.evidence.documents")
        pts = self.points(item["points"], f"{ip}.points") if "points" in item else None
        if "deductions" in item:
            self._deductions(item["deductions"], f"{ip}.deductions", pts, label)
        return pts

    def _method(self, value: Any, path: str) -> None:
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            self.add(path, "检查方法不能为空")
            return
        seen: set[str] = set()
        for i, method in enumerate(values):
            p = self.join(path, i) if isinstance(value, list) else path
            if not isinstance(method, str) or method not in METHODS:
                self.add(p, f"未知的检查方法 {method!r}（可选：{', '.join(METHODS)}）")
            elif method in seen:
                self.add(p, f"检查方法 “{method}” 重复")
            else:
                seen.add(method)

    def _deductions(self, value: Any, path: str, item_points: Decimal | None, label: str) -> None:
        if not isinstance(value, list):
            self.add(path, f"应为列表，实际为 {_type_name(value)}")
            return
        codes: dict[str, int] = {}
        for di, ded in enumerate(value):
            dp = f"{path}[{di}]"
            if not self.mapping(ded, dp, DEDUCTION_REQUIRED, DEDUCTION_OPTIONAL):
                continue
            if "code" in ded and self.string(ded["code"], f"{dp}.code", CODE_RE):
                if ded["code"] in codes:
                    self.add(f"{dp}.code", f"{label} 的扣分代码 “{ded['code']}” 与 {path}[{codes[ded['code']]}] 重复")
                else:
                    codes[ded["code"]] = di
            if "text" in ded:
                self.string(ded["text"], f"{dp}.text")
            if "repeatable" in ded:
                self.boolean(ded["repeatable"], f"{dp}.repeatable")
            pts = self.points(ded["points"], f"{dp}.points") if "points" in ded else None
            if pts is not None and item_points is not None and pts > item_points:
                self.add(
                    f"{dp}.points",
                    f"扣分 {_fmt(pts)} 分超过{label}的分值 {_fmt(item_points)} 分",
                )


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _shown(value: Any) -> str:
    """A number as written, or a short description when it is absurdly long."""
    if isinstance(value, float) or abs(value) < 10 ** 30:
        return repr(value)
    return ("负" if value < 0 else "") + "超过 30 位的整数"


def _type_name(value: Any) -> str:
    names = {
        dict: "映射", list: "列表", str: "字符串", int: "整数", float: "小数",
        bool: "布尔值", type(None): "空值",
    }
    return names.get(type(value), type(value).__name__)


def validate(document: Any, source: str = "<checklist>") -> list[Problem]:
    """Return every problem of a loaded checklist document (empty if valid)."""
    v = _Validator(source)
    v.run(document)
    return control_character_problems(document, source) + v.problems


def check(document: Any, source: str = "<checklist>") -> None:
    """Raise :class:`ChecklistError` if the document has any problem."""
    problems = validate(document, source)
    if problems:
        raise ChecklistError(problems)
