"""The scoring engine: (checklist, responses) -> :class:`ScoreResult`.

A pure function with no I/O. The checklist must already be valid (load it
with :func:`checklists.load_checklist` or run :func:`checklists.validate`);
the engine does not re-check the arithmetic of the file.

Responses
---------
``responses`` maps item id -> response. A response is either a mapping
``{"result": ..., "deductions": [codes...]}`` (other keys, such as notes or
photo ids, are ignored) or, as a shorthand, the bare result string
``"pass"``, ``"fail"`` or ``"na"``. A sequence of mappings each carrying an
``"item"`` key is accepted too.

- ``pass``   符合: no points lost; deduction codes are not allowed.
- ``deduct`` 扣分: at least one deduction code is required; the item loses the
  sum of the chosen deductions, capped at the item's points. A code may be
  given more than once only if its deduction is ``repeatable`` (每发现一处扣…).
- ``fail``   不符合: all the item's points are lost; deduction codes are
  optional (they record the reasons) but must be known codes.
- ``na``     不适用: allowed only where the item has ``na_allowed: true``.

Applicability: when ``kind`` is given, an item whose ``kinds`` exclude it is
automatically not applicable; its response may be absent or ``na``, any other
result is an error. Every other item needs a response.

Rules
-----
- ``applicable_max`` is the sum of the points of applicable items;
  ``earned`` is ``applicable_max`` minus the points lost; ``score`` is
  ``earned / applicable_max * 100`` rounded to 2 places (ROUND_HALF_UP).
  Points are Decimals throughout; nothing goes through floats.
- The grade is the band containing the *rounded* score (so the score printed
  and the grade never disagree): ``min <= score < max``, and the top band
  also contains its ``max`` (100).
- Veto (一票否决): a veto item fails when its response is ``fail`` or
  ``deduct`` (any deduction at all on a veto item counts as failing it).
  Any failed veto item makes the grade the lowest band (the one starting at
  0, ``fail`` 不合格 in the shipped checklists) whatever the points; the
  numeric score is still reported as computed.
- Every ``deduct`` or ``fail`` is a finding, carrying the item's severity and
  the default deadline (working days) and re-inspection flag for it.
- If nothing is applicable (``applicable_max`` would be 0) there is nothing to
  score: a :class:`ScoringError` with code ``NO_APPLICABLE_ITEMS`` is raised
  rather than inventing a score.

All response problems are collected and raised together as one
:class:`ScoringError` whose ``problems`` are ``{"code", "item", "message_zh"}``.
Codes: ``UNKNOWN_KIND``, ``INVALID_RESPONSES``, ``INVALID_RESPONSE``,
``DUPLICATE_RESPONSE``, ``UNKNOWN_ITEM``, ``MISSING_RESPONSE``,
``INVALID_RESULT``, ``NA_NOT_ALLOWED``, ``NOT_APPLICABLE_TO_KIND``,
``DEDUCTION_REQUIRED``, ``DEDUCTIONS_NOT_ALLOWED``, ``UNKNOWN_DEDUCTION``,
``DUPLICATE_DEDUCTION``, ``NO_APPLICABLE_ITEMS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

from .errors import ScoringError
from .spec import KINDS, RESULTS, TOTAL_POINTS
from .validator import to_decimal

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(TOTAL_POINTS)


@dataclass(frozen=True)
class AppliedDeduction:
    """A deduction chosen for a finding: ``points`` each, ``count`` times."""

    code: str
    text: str
    points: Decimal
    count: int = 1


@dataclass(frozen=True)
class Finding:
    """A problem (问题) found on one item: a ``deduct`` or ``fail`` response."""

    item_id: str
    item_text: str
    section_id: str
    result: str  # "deduct" or "fail"
    deductions: tuple[AppliedDeduction, ...]
    points_lost: Decimal
    item_points: Decimal
    severity: str
    deadline_working_days: int
    reinspection: bool
    veto: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "item_text": self.item_text,
            "section_id": self.section_id,
            "result": self.result,
            "deductions": [
                {"code": d.code, "text": d.text, "points": str(d.points), "count": d.count}
                for d in self.deductions
            ],
            "points_lost": str(self.points_lost),
            "item_points": str(self.item_points),
            "severity": self.severity,
            "deadline_working_days": self.deadline_working_days,
            "reinspection": self.reinspection,
            "veto": self.veto,
        }


@dataclass(frozen=True)
class ScoreResult:
    """Outcome of scoring one inspection.

    ``earned`` and ``applicable_max`` are in checklist points; ``score`` is on
    the 100 scale (2 places); ``grade``/``grade_name`` are the band code and
    its Chinese name; ``veto_failed`` lists failed veto item ids in checklist
    order; ``findings`` one per ``deduct``/``fail`` item in checklist order;
    ``not_applicable`` the ids of items not scored (``na`` or excluded by kind).
    """

    checklist_code: str
    checklist_version: int
    kind: str | None
    earned: Decimal
    applicable_max: Decimal
    score: Decimal
    grade: str
    grade_name: str
    veto_failed: tuple[str, ...]
    findings: tuple[Finding, ...]
    not_applicable: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals become strings (e.g. ``"87.50"``)."""
        return {
            "checklist_code": self.checklist_code,
            "checklist_version": self.checklist_version,
            "kind": self.kind,
            "earned": str(self.earned),
            "applicable_max": str(self.applicable_max),
            "score": str(self.score),
            "grade": self.grade,
            "grade_name": self.grade_name,
            "veto_failed": list(self.veto_failed),
            "findings": [f.to_dict() for f in self.findings],
            "not_applicable": list(self.not_applicable),
        }


def round_score(value: Decimal) -> Decimal:
    """The score's one rounding rule: 2 places, half up (``97.445`` -> ``97.45``).  Every surface that
    shows a score prints this value with both places (see ``inspect_api.vocabulary.score_text``)."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def iter_items(checklist: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Yield ``(section, item)`` pairs in checklist order."""
    for section in checklist["sections"]:
        for item in section["items"]:
            yield section, item


def grade_for(checklist: Mapping[str, Any], score: Decimal) -> tuple[str, str]:
    """Return ``(code, name)`` of the band containing ``score`` (0..100)."""
    bands = sorted(checklist["bands"], key=lambda b: to_decimal(b["min"]))
    top = bands[-1]
    for band in bands:
        lo, hi = to_decimal(band["min"]), to_decimal(band["max"])
        if lo <= score < hi or (band is top and score == hi):
            return band["code"], band["name"]
    raise ValueError(f"score {score} is outside the checklist's bands")


def lowest_band(checklist: Mapping[str, Any]) -> tuple[str, str]:
    band = min(checklist["bands"], key=lambda b: to_decimal(b["min"]))
    return band["code"], band["name"]


def applies_to(item: Mapping[str, Any], kind: str | None) -> bool:
    """Whether an item applies to an institution kind (None: no kind filter)."""
    kinds = item.get("kinds")
    return kind is None or not kinds or kind in kinds


def _problem(code: str, item: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "item": item, "message_zh": message}


def _normalise_responses(responses: Any, problems: list[dict[str, Any]]) -> dict[str, Any]:
    if isinstance(responses, Mapping):
        return dict(responses)
    if isinstance(responses, Sequence) and not isinstance(responses, (str, bytes)):
        out: dict[str, Any] = {}
        for i, entry in enumerate(responses):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("item"), str):
                problems.append(_problem("INVALID_RESPONSE", None, f"第 {i + 1} 条答复缺少项目编号 item"))
                continue
            if entry["item"] in out:
                problems.append(_problem("DUPLICATE_RESPONSE", entry["item"], "同一项目有多条答复"))
                continue
            out[entry["item"]] = entry
        return out
    problems.append(_problem("INVALID_RESPONSES", None, "答复应为以项目编号为键的映射或答复列表"))
    return {}


def score(checklist: Mapping[str, Any], responses: Any, kind: str | None = None) -> ScoreResult:
    """Score responses against a valid checklist; see the module docstring.

    Raises :class:`ScoringError` listing every problem of the responses.
    """
    problems: list[dict[str, Any]] = []
    if kind is not None and kind not in checklist.get("kinds", ()):
        if kind not in KINDS:
            message = f"未知的机构类型 “{kind}”"
        else:
            message = f"本清单不适用于机构类型 “{KINDS[kind]}”"
        raise ScoringError([_problem("UNKNOWN_KIND", None, message)])

    answers = _normalise_responses(responses, problems)
    known = {item["id"] for _, item in iter_items(checklist)}
    for item_id in answers:
        if item_id not in known:
            problems.append(_problem("UNKNOWN_ITEM", str(item_id), f"清单中没有编号为 “{item_id}” 的项目"))

    deadlines = checklist["deadlines"]
    applicable_max = Decimal(0)
    lost_total = Decimal(0)
    findings: list[Finding] = []
    veto_failed: list[str] = []
    not_applicable: list[str] = []

    for section, item in iter_items(checklist):
        item_id = item["id"]
        points = to_decimal(item["points"])
        raw = answers.get(item_id)
        applicable = applies_to(item, kind)

        if raw is None:
            if applicable:
                problems.append(_problem("MISSING_RESPONSE", item_id, f"项目 {item_id} 缺少检查结果"))
            else:
                not_applicable.append(item_id)
            continue

        if isinstance(raw, str):
            result, codes = raw, []
        elif isinstance(raw, Mapping):
            result = raw.get("result")
            codes = raw.get("deductions") or []
        else:
            problems.append(_problem("INVALID_RESPONSE", item_id, f"项目 {item_id} 的答复格式不正确"))
            continue
        if not isinstance(codes, Sequence) or isinstance(codes, (str, bytes)) or not all(
            isinstance(c, str) for c in codes
        ):
            problems.append(_problem("INVALID_RESPONSE", item_id, f"项目 {item_id} 的扣分代码应为字符串列表"))
            continue
        if result not in RESULTS:
            problems.append(_problem(
                "INVALID_RESULT", item_id,
                f"项目 {item_id} 的检查结果 {result!r} 无效（可选：pass 符合、deduct 扣分、fail 不符合、na 不适用）",
            ))
            continue

        if not applicable:
            if result != "na":
                problems.append(_problem(
                    "NOT_APPLICABLE_TO_KIND", item_id,
                    f"项目 {item_id} 不适用于机构类型 “{KINDS.get(kind, kind)}”，只能标记为不适用或不填",
                ))
            else:
                not_applicable.append(item_id)
            continue

        if result == "na":
            if not item.get("na_allowed", False):
                problems.append(_problem("NA_NOT_ALLOWED", item_id, f"项目 {item_id} 不允许标记为不适用"))
            else:
                not_applicable.append(item_id)
            continue

        if result == "pass" and codes:
            problems.append(_problem("DEDUCTIONS_NOT_ALLOWED", item_id, f"项目 {item_id} 判定为符合，不能选择扣分项"))
            continue
        if result == "deduct" and not codes:
            problems.append(_problem("DEDUCTION_REQUIRED", item_id, f"项目 {item_id} 判定为扣分，但未选择扣分项"))
            continue

        rules = {d["code"]: d for d in item.get("deductions", ())}
        counts = Counter(codes)
        bad = False
        for code, count in counts.items():
            if code not in rules:
                problems.append(_problem("UNKNOWN_DEDUCTION", item_id, f"项目 {item_id} 没有扣分代码 “{code}”"))
                bad = True
            elif count > 1 and not rules[code].get("repeatable", False):
                problems.append(_problem(
                    "DUPLICATE_DEDUCTION", item_id, f"项目 {item_id} 的扣分代码 “{code}” 不可重复选择",
                ))
                bad = True
        if bad:
            continue

        applied = tuple(
            AppliedDeduction(code, rules[code]["text"], to_decimal(rules[code]["points"]), count)
            for code, count in counts.items()
        )
        applicable_max += points
        if result == "pass":
            continue
        if result == "fail":
            lost = points
        else:
            lost = min(points, sum((d.points * d.count for d in applied), Decimal(0)))
        lost_total += lost
        severity = item["severity"]
        rule = deadlines[severity]
        veto = bool(item.get("veto", False))
        if veto:
            veto_failed.append(item_id)
        findings.append(Finding(
            item_id=item_id,
            item_text=item["text"],
            section_id=section["id"],
            result=result,
            deductions=applied,
            points_lost=lost,
            item_points=points,
            severity=severity,
            deadline_working_days=int(rule["working_days"]),
            reinspection=bool(rule["reinspection"]),
            veto=veto,
        ))

    if problems:
        raise ScoringError(problems)
    if applicable_max == 0:
        raise ScoringError([_problem("NO_APPLICABLE_ITEMS", None, "没有适用的检查项目，无法评分")])

    earned = applicable_max - lost_total
    value = round_score(earned * HUNDRED / applicable_max)
    if veto_failed:
        grade, grade_name = lowest_band(checklist)
    else:
        grade, grade_name = grade_for(checklist, value)
    return ScoreResult(
        checklist_code=checklist["code"],
        checklist_version=int(checklist["version"]),
        kind=kind,
        earned=earned,
        applicable_max=applicable_max,
        score=value,
        grade=grade,
        grade_name=grade_name,
        veto_failed=tuple(veto_failed),
        findings=tuple(findings),
        not_applicable=tuple(not_applicable),
    )
