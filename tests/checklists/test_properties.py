"""Property tests of the scoring engine over generated checklists and responses."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklists import iter_items, score, validate

from .helpers import BANDS, DEADLINES

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def checklists(draw):
    """A valid checklist: 1-4 sections of 1-5 items; item points in halves; total 100."""
    n_items = draw(st.integers(min_value=1, max_value=12))
    # Split 100 points (in halves: 200 units) into n_items positive parts.
    cuts = sorted(draw(st.lists(st.integers(1, 199), min_size=n_items - 1, max_size=n_items - 1, unique=True)))
    bounds = [0, *cuts, 200]
    parts = [Decimal(b - a) / 2 for a, b in zip(bounds, bounds[1:])]
    items = []
    for i, pts in enumerate(parts):
        n_ded = draw(st.integers(1, 3))
        deductions = []
        for d in range(n_ded):
            units = draw(st.integers(1, int(pts * 2)))
            deductions.append({
                "code": f"d{d}", "text": f"扣分{d}", "points": _num(Decimal(units) / 2),
                "repeatable": draw(st.booleans()),
            })
        veto = draw(st.booleans()) and draw(st.booleans())
        items.append({
            "id": f"I-{i:02d}", "text": f"项目{i}", "clause": "基本要求", "method": "on_site",
            "points": _num(pts), "deductions": deductions, "veto": veto,
            "severity": "critical" if veto else draw(st.sampled_from(["major", "minor"])),
            "na_allowed": draw(st.booleans()), "evidence": {"min_photos": 0, "documents": []},
        })
    n_sections = draw(st.integers(1, min(4, n_items)))
    split = sorted(draw(st.lists(st.integers(1, n_items - 1), min_size=n_sections - 1,
                                 max_size=n_sections - 1, unique=True))) if n_sections > 1 else []
    edges = [0, *split, n_items]
    sections = []
    for s, (a, b) in enumerate(zip(edges, edges[1:])):
        chunk = items[a:b]
        sections.append({"id": f"S{s}", "title": f"分类{s}",
                         "points": _num(sum(Decimal(str(it["points"])) for it in chunk)), "items": chunk})
    doc = {
        "code": "PROP", "title": "属性测试", "standard": {"code": "X", "title": "X"}, "version": 1,
        "provenance": {"derived_from": "x", "official_text_checked": False, "notes": "x"},
        "kinds": ["combined"], "points": 100, "bands": copy.deepcopy(BANDS),
        "deadlines": copy.deepcopy(DEADLINES), "sections": sections,
    }
    assert validate(doc) == [], validate(doc)
    return doc


def _num(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


@st.composite
def response_for(draw, item, allow_na=True):
    options = ["pass", "deduct", "fail"] + (["na"] if allow_na and item.get("na_allowed") else [])
    result = draw(st.sampled_from(options))
    if result == "deduct":
        codes = []
        for ded in item["deductions"]:
            times = draw(st.integers(0, 3 if ded["repeatable"] else 1))
            codes += [ded["code"]] * times
        if not codes:
            codes = [item["deductions"][0]["code"]]
        return {"result": "deduct", "deductions": draw(st.permutations(codes))}
    return {"result": result}


@st.composite
def scored_cases(draw):
    doc = draw(checklists())
    items = [it for _, it in iter_items(doc)]
    responses = {it["id"]: draw(response_for(it)) for it in items}
    if all(r["result"] == "na" for r in responses.values()):
        responses[items[0]["id"]] = {"result": "pass"}
    return doc, responses


@SETTINGS
@given(scored_cases())
def test_score_is_within_0_and_100(case):
    doc, responses = case
    result = score(doc, responses)
    assert Decimal(0) <= result.score <= Decimal(100)
    assert Decimal(0) <= result.earned <= result.applicable_max <= Decimal(100)
    assert result.score == result.score.quantize(Decimal("0.01"))
    lost = sum((f.points_lost for f in result.findings), Decimal(0))
    assert result.earned == result.applicable_max - lost


@SETTINGS
@given(checklists())
def test_all_pass_gives_100_and_excellent(doc):
    result = score(doc, {it["id"]: "pass" for _, it in iter_items(doc)})
    assert result.score == Decimal("100.00")
    assert result.grade == "excellent" and result.grade_name == "优秀"
    assert result.findings == () and result.veto_failed == ()


@SETTINGS
@given(scored_cases(), st.data())
def test_any_failed_veto_gives_fail(case, data):
    doc, responses = case
    items = [it for _, it in iter_items(doc)]
    target = data.draw(st.sampled_from(items))
    target["veto"] = True
    target["severity"] = "critical"
    responses[target["id"]] = data.draw(st.sampled_from([
        {"result": "fail"},
        {"result": "deduct", "deductions": [target["deductions"][0]["code"]]},
    ]))
    result = score(doc, responses)
    assert result.grade == "fail" and result.grade_name == "不合格"
    assert target["id"] in result.veto_failed


@SETTINGS
@given(scored_cases(), st.data())
def test_adding_a_deduction_never_raises_the_score(case, data):
    doc, responses = case
    before = score(doc, responses)
    items = [it for _, it in iter_items(doc) if responses[it["id"]]["result"] != "na"]
    target = data.draw(st.sampled_from(items))
    ded = data.draw(st.sampled_from(target["deductions"]))
    current = responses[target["id"]]
    if current["result"] == "pass":
        new = {"result": "deduct", "deductions": [ded["code"]]}
    elif current["result"] == "deduct":
        codes = list(current["deductions"])
        if ded["code"] in codes and not ded["repeatable"]:
            new = {"result": "fail"}  # the strongest "more deduction" there is
        else:
            new = {"result": "deduct", "deductions": codes + [ded["code"]]}
    else:  # fail: already all points lost; turning it to fail again changes nothing
        new = current
    responses = {**responses, target["id"]: new}
    after = score(doc, responses)
    assert after.score <= before.score
    assert after.earned <= before.earned
    assert after.applicable_max == before.applicable_max


@SETTINGS
@given(scored_cases(), st.data())
def test_na_item_equals_checklist_without_that_item(case, data):
    """Marking an item ``na`` scores exactly like a checklist in which that item does not exist
    (same responses for every other item): score, earned, applicable maximum, grade and findings."""
    doc, responses = case
    items = [it for _, it in iter_items(doc)]
    others_applicable = [it for it in items if responses[it["id"]]["result"] != "na"]
    target = data.draw(st.sampled_from(items))
    if [it["id"] for it in others_applicable] == [target["id"]]:
        return  # removing the only applicable item leaves nothing to score (NO_APPLICABLE_ITEMS)
    target["na_allowed"] = True
    with_na = score(doc, {**responses, target["id"]: {"result": "na"}})

    without = copy.deepcopy(doc)
    for section in without["sections"]:
        section["items"] = [it for it in section["items"] if it["id"] != target["id"]]
    without["sections"] = [s for s in without["sections"] if s["items"]]
    rest = {k: v for k, v in responses.items() if k != target["id"]}
    removed = score(without, rest)

    assert with_na.score == removed.score
    assert with_na.earned == removed.earned
    assert with_na.applicable_max == removed.applicable_max
    assert with_na.grade == removed.grade
    assert with_na.findings == removed.findings
    assert with_na.veto_failed == removed.veto_failed
