"""Survey results per institution and quarter: views, publication threshold, trends, CSV rows, risk feedback.

* A result is public (institution profile, map feed) only with at least
  ``publish_min_answers`` counted answers (10): smaller samples say little and
  could point at individuals.  Comments are never public.
* The overall mean is the mean of every counted score of every question.
* When a quarter has ended, the sweep settles each of its results once
  (:func:`close_quarters`): recounted from the answers, and when published
  (enough answers) with an overall mean below ``low_mean`` (3.0), one
  ``low_satisfaction`` event goes to the institution's risk profile, which
  raises its weight in the next draw (``[risk] per_low_satisfaction``), as an
  overdue finding does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable

from inspect_api.batched import Read, read_together
from inspect_api.db import as_stored
from inspect_api.dumped import text
from inspect_api.errors import Unprocessable
from inspect_api.scoping import region_range
from inspect_api.surveys.models import SurveyResponse, SurveyResult
from inspect_api.surveys.service import quarter_label, quarter_of, settings

log = logging.getLogger(__name__)

SCALE = ("1", "2", "3", "4", "5")


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def overall_mean(result: SurveyResult) -> float | None:
    questions = [q["id"] for q in result.questions or []] or list((result.sums or {}).keys())
    total = sum(int((result.sums or {}).get(q, 0)) for q in questions)
    return _mean(total, int(result.count or 0) * len(questions)) if questions else None


def result_view(result: SurveyResult, *, min_answers: int, with_counts: bool = True) -> dict[str, Any]:
    """Count, overall mean, and mean and distribution per question of one institution's quarter, in
    ``SurveyResultSchema``'s dumped form (the office's list sends it as it is)."""
    count = int(result.count or 0)
    questions = []
    for q in result.questions or []:
        dist = {k: int(((result.dist or {}).get(q["id"]) or {}).get(k, 0)) for k in SCALE}
        questions.append({"id": text(q["id"]), "text": text(q["text"]),
                          "mean": _mean(int((result.sums or {}).get(q["id"], 0)), count), "distribution": dist})
    out = {"institution_id": text(result.institution_id), "region": text(result.region),
           "quarter": text(result.quarter), "quarter_label": quarter_label(result.quarter), "count": count,
           "mean": overall_mean(result), "questions": questions, "published": count >= min_answers,
           "low": result.low}
    if with_counts:
        out.update(held=int(result.held or 0), discarded=int(result.discarded or 0), staff=int(result.staff or 0),
                   comments=int(result.comments or 0))
    return out


# --------------------------------------------------------------------------- public

def public_results_read(institution_id: str) -> Read:
    """The read behind :func:`public_results`: the latest quarters (joined by institution:
    :mod:`inspect_api.batched`)."""
    return Read(SurveyResult._get_collection_name(), {"institution_id": str(institution_id)},
                sort=(("quarter", -1),), limit=8, key="institution_id")


def public_results_from(rows: list[dict] | None, *, config: dict[str, Any] | None = None,
                        limit: int = 4) -> dict[str, Any]:
    """What the institution profile shows, from the rows of :func:`public_results_read`: the published quarters
    (newest first, no comments, no held counts) and, when the latest quarter is below the threshold, that it
    is not yet published."""
    minimum = int(settings(config)["publish_min_answers"])
    found = [as_stored(SurveyResult, row) for row in rows or []]
    published = [result_view(r, min_answers=minimum, with_counts=False) for r in found if (r.count or 0) >= minimum]
    latest = found[0] if found else None
    pending = None
    if latest is not None and (latest.count or 0) < minimum:
        pending = {"quarter": latest.quarter, "quarter_label": quarter_label(latest.quarter)}
    return {"published": published[:limit], "pending": pending, "min_answers": minimum}


def public_results(institution_id: str, *, config: dict[str, Any] | None = None, limit: int = 4) -> dict[str, Any]:
    """:func:`public_results_from` of the institution's latest quarters, read here."""
    return public_results_from(read_together(public_results_read(institution_id))[0], config=config, limit=limit)


def published_means(institution_ids: Iterable[str], *, config: dict[str, Any] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """The latest published quarter and overall mean of each institution (for the map feed), in one query."""
    minimum = int(settings(config)["publish_min_answers"])
    out: dict[str, dict[str, Any]] = {}
    ids = list(institution_ids)
    for start in range(0, len(ids), 1000):
        query = SurveyResult.objects(institution_id__in=ids[start:start + 1000], count__gte=minimum).only(
            "institution_id", "quarter", "count", "sums", "questions")
        for r in query:
            if r.institution_id not in out or r.quarter > out[r.institution_id]["quarter"]:
                out[r.institution_id] = {"quarter": r.quarter, "mean": overall_mean(r), "count": int(r.count)}
    return out


# --------------------------------------------------------------------------- the office

QUARTER_RE = r"^[0-9]{4}Q[1-4]$"


def office_results(user, *, region: str | None = None, institution_id: str | None = None,
                   quarter_from: str | None = None, quarter_to: str | None = None):
    """Results of the office's region (or one institution, or a narrower region) between two quarters,
    ordered by region, quarter and institution (index-served)."""
    from inspect_api.directory.institutions import institution_in_scope
    from inspect_api.scoping import in_scope

    if institution_id:
        institution = institution_in_scope(user, institution_id)
        query = SurveyResult.objects(institution_id=str(institution.id))
        order = ("-quarter",)
    else:
        scope = region or user.region
        if not in_scope(user.region, scope):
            raise Unprocessable("区划不在本办公室辖区内", code="REGION_OUT_OF_SCOPE", details={"region": scope})
        query = SurveyResult.objects(region=region_range(scope))
        order = ("region", "quarter", "institution_id")
    if quarter_from:
        query = query.filter(quarter__gte=quarter_from)
    if quarter_to:
        query = query.filter(quarter__lte=quarter_to)
    return query.order_by(*order)


def views_with_names(results, *, config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from inspect_api.directory.institutions import institution_names

    results = list(results)
    minimum = int(settings(config)["publish_min_answers"])
    names = institution_names(r.institution_id for r in results)
    return [{**result_view(r, min_answers=minimum), "institution_name": text(names.get(r.institution_id))}
            for r in results]


CSV_COLUMNS = ("季度", "区划代码", "机构编号", "机构名称", "有效答卷", "总体均分", "各题均分", "待审核", "作废",
               "工作人员作答（未计入）", "是否公开")


def csv_rows(views: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for v in views:
        per_question = "；".join(f"{q['text']}={q['mean'] if q['mean'] is not None else '—'}" for q in v["questions"])
        rows.append([v["quarter_label"], v["region"], v["institution_id"], v["institution_name"], v["count"],
                     v["mean"], per_question, v["held"], v["discarded"], v["staff"], "是" if v["published"] else "否"])
    return rows


# --------------------------------------------------------------------------- closing quarters

def recount(result: SurveyResult, now: datetime) -> SurveyResult:
    """Rebuild a result from its counted answers (exact even if an increment was lost in a crash)."""
    sheets = SurveyResponse.objects(institution_id=result.institution_id, quarter=result.quarter)
    sums: dict[str, int] = {}
    dist: dict[str, dict[str, int]] = {}
    totals = {"counted": 0, "held": 0, "discarded": 0, "staff": 0}
    comments = 0
    for response in sheets.only("status", "answers", "comment"):
        totals[response.status] = totals.get(response.status, 0) + 1
        if response.status != "counted":
            continue
        comments += 1 if response.comment else 0
        for qid, value in response.answers.items():
            sums[qid] = sums.get(qid, 0) + int(value)
            dist.setdefault(qid, {})[str(int(value))] = dist.setdefault(qid, {}).get(str(int(value)), 0) + 1
    SurveyResult.objects(key=result.key).update_one(
        set__count=totals["counted"], set__sums=sums, set__dist=dist, set__held=totals["held"],
        set__discarded=totals["discarded"], set__staff=totals["staff"], set__comments=comments, set__updated_at=now)
    result.reload()
    return result


def close_quarters(now: datetime, *, config: dict[str, Any] | None = None) -> dict[str, int]:
    """Settle every result of an ended quarter once; a published low mean adds a risk event."""
    from inspect_api.directory.institutions import record_risk_event

    cfg = settings(config)
    minimum, low_mean = int(cfg["publish_min_answers"]), float(cfg["low_mean"])
    stats = {"settled": 0, "low": 0}
    for result in SurveyResult.objects(risk_evaluated=False, quarter__lt=quarter_of(now)):
        result = recount(result, now)
        mean = overall_mean(result)
        low = (result.count or 0) >= minimum and mean is not None and mean < low_mean
        if SurveyResult.objects(key=result.key, risk_evaluated=False).update_one(set__risk_evaluated=True,
                                                                                 set__low=low):
            stats["settled"] += 1
            if low:
                record_risk_event(result.institution_id, low_satisfaction=1, now=now)
                stats["low"] += 1
    if stats["settled"]:
        log.info("survey quarters settled as of %s: %s", now.isoformat(), stats)
    return stats
