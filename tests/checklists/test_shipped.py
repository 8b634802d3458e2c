from decimal import Decimal

import pytest

from checklists import (
    KINDS, METHODS, SEVERITIES, compact, content_hash, iter_items, load_checklist, score,
    shipped_checklists, validate,
)
from checklists.validator import to_decimal

from .helpers import all_pass


def _by_name():
    return {p.name: p for p in shipped_checklists()}


def test_both_standards_are_shipped():
    names = set(_by_name())
    assert {"DB37T4086-2020.yaml", "DB37T4087-2020.yaml"} <= names


@pytest.mark.parametrize("name,min_items,min_sections", [
    ("DB37T4086-2020.yaml", 60, 8),
    ("DB37T4087-2020.yaml", 40, 6),
])
def test_shipped_checklist_is_valid_and_large_enough(name, min_items, min_sections):
    doc = load_checklist(_by_name()[name])
    assert validate(doc, name) == []
    items = [it for _, it in iter_items(doc)]
    assert len(items) >= min_items
    assert len(doc["sections"]) >= min_sections
    assert doc["points"] == 100
    assert sum(to_decimal(it["points"]) for it in items) == Decimal(100)
    for section in doc["sections"]:
        assert sum(to_decimal(it["points"]) for it in section["items"]) == to_decimal(section["points"])
    assert doc["provenance"]["official_text_checked"] is False
    assert doc["provenance"]["notes"].strip()
    assert any(it.get("veto") for it in items), "veto items are expected (licences, fire safety)"
    for it in items:
        methods = it["method"] if isinstance(it["method"], list) else [it["method"]]
        assert set(methods) <= set(METHODS)
        assert it["severity"] in SEVERITIES
        assert set(it.get("kinds", [])) <= set(KINDS)
        # content is Chinese and concrete enough to check on site
        assert any("\u4e00" <= ch <= "\u9fff" for ch in it["text"])
        assert len(it["text"]) >= 12


@pytest.mark.parametrize("name", ["DB37T4086-2020.yaml", "DB37T4087-2020.yaml"])
def test_shipped_checklist_scores_all_pass_as_excellent(name):
    doc = load_checklist(_by_name()[name])
    for kind in doc["kinds"]:
        result = score(doc, all_pass(doc, kind), kind=kind)
        assert result.score == Decimal("100.00")
        assert result.grade == "excellent"
        assert result.grade_name == "优秀"


def test_kind_specific_items_are_not_applicable_elsewhere():
    doc = load_checklist(_by_name()["DB37T4086-2020.yaml"])
    result = score(doc, all_pass(doc, "combined"), kind="combined")
    assert "4086-1-05" in result.not_applicable  # township two-in-one only
    assert "4086-1-06" in result.not_applicable  # hospital care unit only
    assert result.applicable_max == Decimal(98)


def test_compact_drops_notes_and_carries_hash():
    doc = load_checklist(_by_name()["DB37T4086-2020.yaml"])
    small = compact(doc)
    assert "notes" not in small["provenance"]
    assert small["provenance"]["official_text_checked"] is False
    assert small["content_hash"] == content_hash(doc)
    assert "notes" in doc["provenance"], "compact must not modify its input"
    assert len(small["sections"]) == len(doc["sections"])
