"""The office's survey results list sends ``surveys.results.views_with_names``'s views as they are: for any stored
result, read as stored or built as a document, each must be exactly ``SurveyResultSchema``'s dump (keys, values
and their types) of the view the list dumped through marshmallow before, every field it declares and no other."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.surveys.models import SurveyResult
from inspect_api.surveys.results import _mean, overall_mean, result_view
from inspect_api.surveys.schemas import SurveyResultSchema
from inspect_api.surveys.service import quarter_label
from tests.stored_forms import as_json, assert_dumped_form, moments, stored, texts, types_of

QUESTIONS = ["q1", "q2", "q3", "q10"]
counts = st.integers(0, 500)
results = st.builds(
    lambda key, doc: {"_id": f"{key[0]}:{key[1]}", "institution_id": key[0], "quarter": key[1], **doc},
    st.tuples(texts, st.sampled_from(["2025Q4", "2026Q1", "2026Q3"])),
    stored({"region": texts},
           questionnaire_code=texts,
           questions=st.lists(st.fixed_dictionaries({"id": st.sampled_from(QUESTIONS), "text": texts}), max_size=4,
                              unique_by=lambda q: q["id"]),
           count=counts, sums=st.dictionaries(st.sampled_from(QUESTIONS), st.integers(0, 2500), max_size=4),
           dist=st.dictionaries(st.sampled_from(QUESTIONS), st.dictionaries(st.sampled_from("12345"), counts),
                                max_size=4),
           held=counts, discarded=counts, staff=counts, comments=counts, risk_evaluated=st.booleans(),
           low=st.booleans(), updated_at=moments))


def marshmallow_view(result, minimum: int, name) -> dict:
    """The view as the list built it before it was sent in dumped form (marshmallow dumped this)."""
    count = int(result.count or 0)
    questions = [{"id": q["id"], "text": q["text"], "mean": _mean(int((result.sums or {}).get(q["id"], 0)), count),
                  "distribution": {k: int(((result.dist or {}).get(q["id"]) or {}).get(k, 0)) for k in "12345"}}
                 for q in result.questions or []]
    return {"institution_id": result.institution_id, "region": result.region, "quarter": result.quarter,
            "quarter_label": quarter_label(result.quarter), "count": count, "mean": overall_mean(result),
            "questions": questions, "published": count >= minimum, "low": result.low, "held": int(result.held or 0),
            "discarded": int(result.discarded or 0), "staff": int(result.staff or 0),
            "comments": int(result.comments or 0), "institution_name": name}


@settings(max_examples=300)
@given(results, st.integers(1, 30), st.none() | texts)
def test_a_listed_result_is_in_its_dumped_form(raw, minimum, name):
    document = SurveyResult._from_son(dict(raw))
    view = {**result_view(as_stored(SurveyResult, raw), min_answers=minimum), "institution_name": name}
    assert {**result_view(document, min_answers=minimum), "institution_name": name} == view
    schema = SurveyResultSchema()
    assert_dumped_form(view, schema)
    before = schema.dump(marshmallow_view(document, minimum, name))
    assert as_json(view) == as_json(before) and types_of(view) == types_of(before)
