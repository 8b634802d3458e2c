"""The one vocabulary (inspect_api.vocabulary): labels from the checklist format, the engine's rounding, Beijing time."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checklists import validate
from checklists.scoring import round_score
from checklists.spec import GRADES, SEVERITIES
from inspect_api import vocabulary as v
from tests.checklists.helpers import small_checklist


def test_labels_are_the_checklist_formats():
    assert [v.severity_name(c) for c in ("critical", "major", "minor")] == ["严重", "较重", "一般"]
    assert [v.grade_name(c) for c in ("excellent", "good", "pass", "fail")] == ["优秀", "良好", "合格", "不合格"]
    assert v.SEVERITIES is SEVERITIES and v.GRADES is GRADES
    assert v.severity_name(None) == "" and v.severity_name("odd") == "odd"
    from inspect_api.publication import deadlines, notices, public_reads, results, sources
    from inspect_api.rectification import models

    assert models.SEVERITIES is SEVERITIES and models.FINDING_STATUSES is v.FINDING_STATUSES
    for module in (deadlines, notices, public_reads, results, sources):
        assert not hasattr(module, "SEVERITY_NAMES")  # no second table left behind


def test_a_checklist_band_must_use_the_grade_table():
    doc = small_checklist()
    assert doc["bands"][0]["code"] == "excellent"
    doc["bands"][0] = {**doc["bands"][0], "name": "优"}
    assert any(p.path == "bands[0].name" and "优秀" in p.message for p in validate(doc))
    doc = small_checklist()
    doc["bands"][1] = {**doc["bands"][1], "code": "fine"}
    assert any(p.path == "bands[1].code" for p in validate(doc))
    assert validate(small_checklist()) == []


@pytest.mark.parametrize("value, text", [(97.45, "97.45"), (97.5, "97.50"), (90, "90.00"), (94.4, "94.40"),
                                         (Decimal("89.995"), "90.00"), ("55", "55.00"), (None, "—"),
                                         ("x", "—"), (True, "—")])
def test_score_text(value, text):
    assert v.score_text(value) == text


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_score_text_prints_what_the_engine_rounded(earned, total):
    earned = min(earned, total)
    engine = round_score(Decimal(earned) * 100 / Decimal(total))
    assert engine == (Decimal(earned) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # Stored as a float (as inspections store it), printed back: always the engine's two places.
    assert v.score_text(float(engine)) == f"{engine:.2f}"


def test_times_are_beijing_time():
    late = datetime(2026, 11, 23, 17, 5, tzinfo=timezone.utc)
    assert v.beijing_time(late) == "2026-11-24 01:05"
    assert v.beijing_time("2026-11-23T17:05:09Z", seconds=True) == "2026-11-24 01:05:09"
    assert v.beijing_date("2026-11-23T15:59:59Z") == "2026-11-23"
    assert v.beijing_date(date(2026, 11, 23)) == "2026-11-23" and v.beijing_date("2026-11-23") == "2026-11-23"
    assert v.beijing_iso(late) == "2026-11-24T01:05:00+08:00"
    assert v.beijing_iso(datetime(2026, 11, 23, 17, 5)) == "2026-11-24T01:05:00+08:00"  # naive = UTC (MongoDB)
    assert v.beijing_time(None) == v.beijing_iso("") == v.beijing_date("nonsense") == ""
