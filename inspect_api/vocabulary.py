"""One vocabulary for everything people read: labels, the score's digits and Beijing time.

The API, the printed report, the public pages, the CSV files and the notices
all take their words and numbers from here, so the same finding and the same
score read the same everywhere:

* severities (严重 / 较重 / 一般), item results and grades come from the
  checklist format (``checklists.spec``), which the scoring engine obeys;
* a score is printed as the engine rounded it: two places, half up
  (``checklists.scoring.round_score``), always both digits (``97.45``,
  ``90.00``), so the printed number and the grade never disagree;
* every date or time a person reads is Beijing time (北京时间) and says so;
  machine fields (CSV, ``datetime`` attributes) are ISO 8601 with ``+08:00``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from checklists.scoring import round_score
from checklists.spec import GRADES, RESULTS, SEVERITIES
from inspect_api.clock import SHANGHAI, as_utc

__all__ = ["GRADES", "RESULTS", "SEVERITIES", "FINDING_STATUSES", "TIME_LABEL", "severity_name", "grade_name",
           "result_name", "finding_status_name", "score_text", "beijing_date", "beijing_time", "beijing_iso",
           "parse_time"]

#: Rectification status of a finding, code -> what a reader is told.
FINDING_STATUSES: dict[str, str] = {
    "open": "待整改",
    "answered": "已答复待审核",
    "reopened": "退回重新整改",
    "accepted": "已整改",
    "withdrawn": "已撤销（检查记录更正）",
}

#: The label every human-facing time carries (in a heading, a caption or after the value).
TIME_LABEL = "北京时间"


def severity_name(code: str | None) -> str:
    return SEVERITIES.get(code or "", code or "")


def grade_name(code: str | None) -> str:
    return GRADES.get(code or "", code or "")


def result_name(code: str | None) -> str:
    return RESULTS.get(code or "", code or "")


def finding_status_name(code: str | None) -> str:
    return FINDING_STATUSES.get(code or "", code or "")


def score_text(value: Any) -> str:
    """A score as every surface prints it: ``97.45``, ``90.00``; ``—`` when there is none.

    Stored scores are floats written from the engine's 2-place Decimal, so
    their shortest repr is that Decimal; rounding again with the engine's
    rule is a no-op for them and makes any other value read the same way.
    """
    if value is None or value == "" or isinstance(value, bool):
        return "—"
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))
        return f"{round_score(number):.2f}"
    except (InvalidOperation, ValueError):
        return "—"


def parse_time(value: Any) -> datetime | None:
    """A datetime, or an ISO 8601 string (``Z`` or an offset; naive is UTC), as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def beijing_time(value: Any, *, seconds: bool = False) -> str:
    """``2026-11-28 10:05`` in Beijing time (the caller labels it with :data:`TIME_LABEL`)."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def beijing_date(value: Any) -> str:
    """The Beijing calendar date of a moment (``2026-11-28``); a plain date or ``YYYY-MM-DD`` stays as is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10:
        return value
    moment = parse_time(value)
    return moment.astimezone(SHANGHAI).date().isoformat() if moment else ""


def beijing_iso(value: Any) -> str:
    """Machine form: ISO 8601 in Beijing time with its offset (``2026-11-28T10:05:00+08:00``)."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


#: Jinja filters of every template (registered by the app factory): ``{{ r.score | score }}``,
#: ``{{ f.severity | severity }}``, ``{{ n.published_at | bj_time }}`` and so on.
JINJA_FILTERS = {
    "score": score_text, "severity": severity_name, "grade": grade_name, "finding_status": finding_status_name,
    "bj_time": beijing_time, "bj_date": beijing_date, "bj_iso": beijing_iso,
}
