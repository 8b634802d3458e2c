import pytest

from checklists import ChecklistError, check, validate

from .helpers import small_checklist


def messages(doc):
    return [(p.path, p.message) for p in validate(doc, "t.yaml")]


def paths(doc):
    return [p.path for p in validate(doc, "t.yaml")]


def test_small_checklist_is_valid():
    assert validate(small_checklist()) == []
    check(small_checklist())


def test_section_points_not_adding_up():
    doc = small_checklist()
    doc["sections"][1]["items"][0]["points"] = 25
    found = messages(doc)
    assert ("sections[1].points" in [p for p, _ in found])
    msg = dict(found)["sections[1].points"]
    assert "60" in msg and "55" in msg


def test_total_points_not_adding_up():
    doc = small_checklist()
    doc["sections"][0]["points"] = 35
    doc["sections"][0]["items"][1]["points"] = 15
    doc["sections"][0]["items"][1]["deductions"][0]["points"] = 15
    found = dict(messages(doc))
    assert "points" in found and "95" in found["points"]


def test_declared_total_must_be_100():
    doc = small_checklist()
    doc["points"] = 90
    assert "points" in paths(doc)


def test_duplicate_item_ids():
    doc = small_checklist()
    doc["sections"][1]["items"][1]["id"] = "T-1-01"
    found = dict(messages(doc))
    assert "sections[1].items[1].id" in found
    assert "sections[0].items[0]" in found["sections[1].items[1].id"]


def test_duplicate_deduction_codes_within_item():
    doc = small_checklist()
    doc["sections"][0]["items"][1]["deductions"][1]["code"] = "a"
    assert "sections[0].items[1].deductions[1].code" in paths(doc)


def test_deduction_larger_than_item():
    doc = small_checklist()
    doc["sections"][1]["items"][2]["deductions"][1]["points"] = 11
    found = dict(messages(doc))
    assert "sections[1].items[2].deductions[1].points" in found
    assert "11" in found["sections[1].items[2].deductions[1].points"]


def test_band_gap():
    doc = small_checklist()
    doc["bands"][1]["min"] = 81  # good now starts at 81; 80..81 has no band
    found = dict(messages(doc))
    assert any(p.startswith("bands") and "空缺" in m for p, m in found.items())


def test_band_overlap():
    doc = small_checklist()
    doc["bands"][2]["max"] = 85
    found = messages(doc)
    assert any(p.startswith("bands") and "重叠" in m for p, m in found)


def test_bands_must_reach_0_and_100():
    doc = small_checklist()
    doc["bands"][3]["min"] = 10
    doc["bands"][0]["max"] = 99
    found = messages(doc)
    assert ("bands[3].min" in [p for p, _ in found]) and ("bands[0].max" in [p for p, _ in found])


def test_unknown_kind_at_top_and_item_level():
    doc = small_checklist()
    doc["kinds"].append("nursing_palace")
    doc["sections"][1]["items"][2]["kinds"] = ["hospital_care_unit"]  # known but not in checklist kinds
    found = paths(doc)
    assert "kinds[2]" in found
    assert "sections[1].items[2].kinds[0]" in found


def test_missing_deadline_for_used_severity():
    doc = small_checklist()
    del doc["deadlines"]["major"]
    found = dict(messages(doc))
    assert "deadlines" in found and "major" in found["deadlines"]


@pytest.mark.parametrize("severity", ["critical", "major", "minor"])
def test_every_severity_needs_a_deadline_even_when_unused(severity):
    doc = small_checklist()
    for section in doc["sections"]:  # no item uses the severity any more
        for it in section["items"]:
            if it["severity"] == severity:
                it["severity"] = "critical" if severity != "critical" else "major"
                it.pop("veto", None)
    assert validate(doc) == []
    del doc["deadlines"][severity]
    found = messages(doc)
    assert [p for p, m in found if severity in m] == ["deadlines"], found


def test_integer_fields_are_bounded():
    doc = small_checklist()
    doc["version"] = 10 ** 20
    doc["deadlines"]["major"]["working_days"] = 366
    doc["sections"][0]["items"][1]["evidence"]["min_photos"] = 51
    doc["sections"][1]["items"][0]["points"] = 10 ** 40
    doc["sections"][1]["items"][0]["deductions"][1]["points"] = 100.5
    found = dict(messages(doc))
    assert "1000000" in found["version"] and str(10 ** 20) in found["version"]
    assert "365" in found["deadlines.major.working_days"]
    assert "50" in found["sections[0].items[1].evidence.min_photos"]
    assert "0 至 100" in found["sections[1].items[0].points"] and "30 位" in found["sections[1].items[0].points"]
    assert "100.5" in found["sections[1].items[0].deductions[1].points"]
    ok = small_checklist()
    ok["version"], ok["deadlines"]["major"]["working_days"] = 1_000_000, 365
    ok["sections"][0]["items"][1]["evidence"]["min_photos"] = 50
    assert validate(ok) == []


def test_unknown_severity_in_deadlines_and_item():
    doc = small_checklist()
    doc["deadlines"]["urgent"] = {"working_days": 1, "reinspection": True}
    doc["sections"][0]["items"][1]["severity"] = "huge"
    found = paths(doc)
    assert "deadlines.urgent" in found
    assert "sections[0].items[1].severity" in found


def test_unknown_method():
    doc = small_checklist()
    doc["sections"][0]["items"][1]["method"] = ["on_site", "telepathy"]
    doc["sections"][1]["items"][0]["method"] = "guess"
    found = paths(doc)
    assert "sections[0].items[1].method[1]" in found
    assert "sections[1].items[0].method" in found


def test_missing_required_fields_and_unknown_fields():
    doc = small_checklist()
    del doc["sections"][0]["items"][1]["clause"]
    del doc["provenance"]["notes"]
    doc["sections"][1]["items"][1]["na_alowed"] = True  # typo
    found = messages(doc)
    assert ("sections[0].items[1]", "缺少必填字段 “clause”") in found
    assert ("provenance", "缺少必填字段 “notes”") in found
    assert "sections[1].items[1].na_alowed" in [p for p, _ in found]


def test_wrong_types():
    doc = small_checklist()
    doc["version"] = "1"
    doc["sections"][0]["items"][1]["veto"] = "yes"
    doc["sections"][0]["items"][1]["evidence"]["min_photos"] = -1
    doc["sections"][1]["items"][0]["points"] = True
    found = paths(doc)
    for p in ("version", "sections[0].items[1].veto", "sections[0].items[1].evidence.min_photos",
              "sections[1].items[0].points"):
        assert p in found, p


def test_points_with_too_many_decimals_are_refused():
    doc = small_checklist()
    doc["sections"][0]["items"][1]["deductions"][1]["points"] = 0.125
    assert "sections[0].items[1].deductions[1].points" in paths(doc)


def test_decimal_points_add_up_exactly():
    doc = small_checklist()
    # 0.1 + 0.2 != 0.3 in floats; the validator must use exact decimals.
    doc["sections"][0]["items"] = [
        {**doc["sections"][0]["items"][1], "id": "X-1", "points": 0.1,
         "deductions": [{"code": "a", "text": "缺失", "points": 0.1}]},
        {**doc["sections"][0]["items"][1], "id": "X-2", "points": 0.2,
         "deductions": [{"code": "a", "text": "缺失", "points": 0.2}]},
        {**doc["sections"][0]["items"][1], "id": "X-3", "points": 39.7,
         "deductions": [{"code": "a", "text": "缺失", "points": 1}]},
    ]
    assert validate(doc) == []


def test_veto_item_must_be_critical():
    doc = small_checklist()
    doc["sections"][0]["items"][0]["severity"] = "minor"
    assert "sections[0].items[0].severity" in paths(doc)


def test_non_json_values_are_refused():
    import datetime

    doc = small_checklist()
    doc["description"] = datetime.date(2020, 1, 1)
    assert "description" in paths(doc)


def test_check_raises_with_all_problems():
    doc = small_checklist()
    doc["points"] = 99
    doc["kinds"] = ["unknown"]
    with pytest.raises(ChecklistError) as info:
        check(doc, "bad.yaml")
    assert len(info.value.problems) >= 2
    assert all(p.source == "bad.yaml" for p in info.value.problems)
    assert "bad.yaml: points:" in str(info.value)


def test_top_level_must_be_a_mapping():
    found = validate(["not", "a", "checklist"], "x.yaml")
    assert found and found[0].path == ""
