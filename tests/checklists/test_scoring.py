from decimal import Decimal

import pytest

from checklists import ScoreResult, ScoringError, score

from .helpers import all_pass, small_checklist


def codes(exc_info):
    return [(p["code"], p["item"]) for p in exc_info.value.problems]


def test_all_pass_scores_100():
    doc = small_checklist()
    result = score(doc, all_pass(doc))
    assert isinstance(result, ScoreResult)
    assert result.score == Decimal("100.00")
    assert result.applicable_max == Decimal(100)
    assert result.earned == Decimal(100)
    assert (result.grade, result.grade_name) == ("excellent", "优秀")
    assert result.findings == () and result.veto_failed == ()


def test_deductions_are_summed_and_capped():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-2-01"] = {"result": "deduct", "deductions": ["a", "a", "a", "b"]}  # 2*3 + 10 = 16
    result = score(doc, responses)
    assert result.earned == Decimal(84)
    assert result.score == Decimal("84.00") and result.grade == "good"
    (finding,) = result.findings
    assert finding.item_id == "T-2-01" and finding.points_lost == Decimal(16)
    assert {(d.code, d.count) for d in finding.deductions} == {("a", 3), ("b", 1)}
    assert finding.severity == "minor" and finding.deadline_working_days == 30
    assert finding.reinspection is False

    responses["T-2-01"] = {"result": "deduct", "deductions": ["a"] * 20 + ["b"]}  # 50 > 30
    result = score(doc, responses)
    assert result.findings[0].points_lost == Decimal(30)
    assert result.earned == Decimal(70)


def test_fail_loses_all_points_and_veto_fails_the_grade():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-1-01"] = "fail"
    result = score(doc, responses)
    assert result.score == Decimal("80.00")
    assert result.veto_failed == ("T-1-01",)
    assert (result.grade, result.grade_name) == ("fail", "不合格")
    finding = result.findings[0]
    assert finding.veto and finding.severity == "critical"
    assert finding.reinspection is True and finding.deadline_working_days == 5


def test_any_deduction_on_a_veto_item_fails_the_veto():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-1-01"] = {"result": "deduct", "deductions": ["b"]}
    result = score(doc, responses)
    assert result.score == Decimal("99.00")
    assert result.grade == "fail" and result.veto_failed == ("T-1-01",)


def test_na_and_kind_exclusion_rescale_to_100():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-2-02"] = "na"
    responses["T-2-01"] = {"result": "deduct", "deductions": ["b"]}
    result = score(doc, responses)  # no kind: T-2-03 applies
    assert result.applicable_max == Decimal(80) and result.earned == Decimal(70)
    assert result.score == Decimal("87.50")
    assert result.not_applicable == ("T-2-02",)

    del responses["T-2-03"]
    result = score(doc, responses, kind="combined")  # T-2-03 is care_home_clinic only
    assert result.applicable_max == Decimal(70) and result.earned == Decimal(60)
    assert result.score == Decimal("85.71")
    assert set(result.not_applicable) == {"T-2-02", "T-2-03"}
    responses["T-2-03"] = "na"
    assert score(doc, responses, kind="combined") == result


def test_score_is_rounded_half_up():
    doc = small_checklist()
    # applicable max 80 (T-2-02 na); lose 1 point on a 2-point deduction? use b (1 point) on T-1-02
    responses = all_pass(doc)
    responses["T-2-02"] = "na"
    doc["sections"][0]["items"][1]["deductions"].append({"code": "c", "text": "轻微", "points": 0.02})
    responses["T-1-02"] = {"result": "deduct", "deductions": ["c"]}
    result = score(doc, responses)
    # 79.98 / 80 * 100 = 99.975 -> 99.98 (ROUND_HALF_UP; banker's rounding would also give 99.98)
    assert result.score == Decimal("99.98")
    doc["sections"][0]["items"][1]["deductions"].append({"code": "d", "text": "轻微", "points": 0.06})
    responses["T-1-02"] = {"result": "deduct", "deductions": ["d"]}
    # 79.94 / 80 * 100 = 99.925 -> 99.93 half-up (half-even would give 99.92)
    assert score(doc, responses).score == Decimal("99.93")


def test_grade_boundaries():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-2-01"] = {"result": "deduct", "deductions": ["b"]}  # lose 10 -> 90.00
    assert score(doc, responses).grade == "excellent"
    responses["T-1-02"] = {"result": "deduct", "deductions": ["b"]}  # lose 11 -> 89.00
    assert score(doc, responses).grade == "good"
    responses["T-1-02"] = "fail"  # lose 30 -> 70
    assert score(doc, responses).grade == "pass"
    responses["T-2-02"] = "fail"  # lose 50 -> 50
    assert score(doc, responses).grade == "fail"


def test_unknown_items_are_errors():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["NOPE-1"] = "pass"
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert ("UNKNOWN_ITEM", "NOPE-1") in codes(info)
    assert info.value.problems[0]["message_zh"]


def test_missing_applicable_items_are_errors():
    doc = small_checklist()
    responses = all_pass(doc)
    del responses["T-1-02"]
    del responses["T-2-03"]
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert set(codes(info)) == {("MISSING_RESPONSE", "T-1-02"), ("MISSING_RESPONSE", "T-2-03")}
    # T-2-03 is not applicable to a combined institution: only T-1-02 is missing then
    with pytest.raises(ScoringError) as info:
        score(doc, responses, kind="combined")
    assert codes(info) == [("MISSING_RESPONSE", "T-1-02")]


def test_na_where_forbidden_is_an_error():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-1-02"] = {"result": "na"}
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert codes(info) == [("NA_NOT_ALLOWED", "T-1-02")]


def test_unknown_deduction_codes_are_errors():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-1-02"] = {"result": "deduct", "deductions": ["a", "zz"]}
    responses["T-2-01"] = {"result": "fail", "deductions": ["qq"]}
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert set(codes(info)) == {("UNKNOWN_DEDUCTION", "T-1-02"), ("UNKNOWN_DEDUCTION", "T-2-01")}


def test_deduct_without_codes_and_other_bad_responses():
    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-1-02"] = {"result": "deduct", "deductions": []}
    responses["T-2-01"] = {"result": "pass", "deductions": ["a"]}
    responses["T-2-02"] = {"result": "maybe"}
    responses["T-1-01"] = {"result": "deduct", "deductions": ["b", "b"]}  # b is not repeatable
    responses["T-2-03"] = 42
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert set(codes(info)) == {
        ("DEDUCTION_REQUIRED", "T-1-02"), ("DEDUCTIONS_NOT_ALLOWED", "T-2-01"),
        ("INVALID_RESULT", "T-2-02"), ("DUPLICATE_DEDUCTION", "T-1-01"), ("INVALID_RESPONSE", "T-2-03"),
    }


def test_answering_an_item_excluded_by_kind_is_an_error():
    doc = small_checklist()
    with pytest.raises(ScoringError) as info:
        score(doc, all_pass(doc), kind="combined")  # all_pass(doc) includes T-2-03
    assert codes(info) == [("NOT_APPLICABLE_TO_KIND", "T-2-03")]


def test_kind_not_covered_by_checklist():
    doc = small_checklist()
    for kind in ("community_station", "martian_base"):
        with pytest.raises(ScoringError) as info:
            score(doc, all_pass(doc), kind=kind)
        assert codes(info) == [("UNKNOWN_KIND", None)]


def test_nothing_applicable_is_an_error():
    doc = small_checklist()
    for section in doc["sections"]:
        for it in section["items"]:
            it["na_allowed"] = True
    responses = {it: "na" for it in all_pass(doc)}
    with pytest.raises(ScoringError) as info:
        score(doc, responses)
    assert codes(info) == [("NO_APPLICABLE_ITEMS", None)]


def test_list_form_of_responses():
    doc = small_checklist()
    listed = [{"item": k, **v} for k, v in all_pass(doc).items()]
    assert score(doc, listed).score == Decimal("100.00")
    with pytest.raises(ScoringError) as info:
        score(doc, listed + [{"item": "T-1-01", "result": "fail"}])
    assert ("DUPLICATE_RESPONSE", "T-1-01") in codes(info)


def test_result_is_frozen_and_serialisable():
    import dataclasses
    import json

    doc = small_checklist()
    responses = all_pass(doc)
    responses["T-2-01"] = {"result": "deduct", "deductions": ["a", "a"], "note": "走廊两处"}
    result = score(doc, responses)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = Decimal(1)  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["score"] == "96.00" and data["grade"] == "excellent"
    assert data["findings"][0]["deductions"] == [{"code": "a", "text": "每发现一处扣2分", "points": "2", "count": 2}]
