"""Desk-review checklists (purpose) and satisfaction questionnaires: the format's rules and the shipped files."""

from __future__ import annotations

import copy

import pytest

from checklists import iter_items, load_checklist, purpose_of, shipped_checklists, validate
from checklists import questionnaires


def _by_name():
    return {p.name: p for p in shipped_checklists()}


@pytest.mark.parametrize("name,kinds", [("DB37T4086-2020-TZ.yaml", {"combined", "care_home_clinic",
                                                                    "hospital_care_unit", "township_two_in_one"}),
                                        ("DB37T4087-2020-TZ.yaml", {"community_station"})])
def test_shipped_desk_review_checklists(name, kinds):
    doc = load_checklist(_by_name()[name])
    assert purpose_of(doc) == "desk_review" and set(doc["kinds"]) == kinds
    items = [item for _s, item in iter_items(doc)]
    assert len(items) >= 12
    for item in items:
        methods = item["method"] if isinstance(item["method"], list) else [item["method"]]
        assert set(methods) <= {"document_review", "record_sampling"}
        assert item["evidence"]["documents"] and item["clause"]
    assert "DB37/T 40" in doc["provenance"]["derived_from"] and doc["provenance"]["official_text_checked"] is False


def test_site_checklists_keep_the_default_purpose():
    assert purpose_of(load_checklist(_by_name()["DB37T4086-2020.yaml"])) == "site_inspection"


def test_a_desk_review_sees_documents_only():
    doc = copy.deepcopy(load_checklist(_by_name()["DB37T4086-2020-TZ.yaml"]))
    doc["sections"][0]["items"][0]["method"] = ["on_site"]
    doc["sections"][0]["items"][1]["evidence"]["documents"] = []
    problems = [str(p) for p in validate(doc)]
    assert any("items[0].method" in p and "查阅资料" in p for p in problems)
    assert any("items[1].evidence.documents" in p for p in problems)
    doc = copy.deepcopy(load_checklist(_by_name()["DB37T4086-2020-TZ.yaml"]))
    doc["purpose"] = "audit"
    assert any(p.path == "purpose" for p in validate(doc))


def test_shipped_questionnaires_cover_every_kind_and_are_valid():
    kinds = set()
    for path in questionnaires.shipped_questionnaires():
        doc = questionnaires.load_questionnaire(path)
        assert len(doc["scale"]) == 5 and 3 <= len(doc["questions"]) <= 20
        assert "overall" in questionnaires.question_ids(doc)
        kinds |= set(doc["kinds"])
    assert kinds == {"combined", "care_home_clinic", "hospital_care_unit", "community_station", "township_two_in_one"}


def _questionnaire() -> dict:
    return copy.deepcopy(questionnaires.load_questionnaire(questionnaires.shipped_questionnaires()[0]))


@pytest.mark.parametrize("change,path", [
    (lambda d: d.update(scale=d["scale"][:4]), "scale"),
    (lambda d: d["questions"].append(dict(d["questions"][0])), "questions[6].id"),
    (lambda d: d["questions"][0].update(id="Care-1"), "questions[0].id"),
    (lambda d: d.update(kinds=["hotel"]), "kinds[0]"),
    (lambda d: d.update(version=0), "version"),
    (lambda d: d["comment"].update(max_length=5000), "comment.max_length"),
    (lambda d: d.update(resident_name="姓名"), "resident_name"),  # nothing personal can be asked
    (lambda d: d.update(questions=[]), "questions"),
])
def test_questionnaire_rules(change, path):
    doc = _questionnaire()
    change(doc)
    assert any(p.path == path for p in questionnaires.validate(doc)), questionnaires.validate(doc)
