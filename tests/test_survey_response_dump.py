"""The office's list of answer sheets sends ``surveys.service.response_view`` as it is: for any stored answer
sheet, read as stored or built as a document, that must be exactly ``SurveyResponseSchema``'s dump of the
document (keys, values and their types), every field the schema declares and no other."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.surveys.models import HOLD_REASONS, RESPONSE_STATUSES, SurveyResponse
from inspect_api.surveys.schemas import SurveyResponseSchema
from inspect_api.surveys.service import response_view

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
texts = st.text(min_size=1, max_size=10)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


responses = st.tuples(st.builds(ObjectId), st.fixed_dictionaries(
    {"institution_id": texts, "region": texts, "quarter": st.sampled_from(["2026Q1", "2026Q4"]),
     "questionnaire_code": texts, "questionnaire_version": st.integers(1, 99),
     "answers": st.dictionaries(st.sampled_from(["q1", "q2", "q3", "q10"]), st.integers(1, 5), max_size=4),
     "status": st.sampled_from(sorted(RESPONSE_STATUSES)), "device_hash": texts, "address_hash": texts,
     "created_at": moments},
    optional={"comment": maybe(texts), "comment_screened": maybe(st.booleans()),
              "hold_reason": maybe(st.sampled_from(sorted(HOLD_REASONS))), "reviewed_at": maybe(moments),
              "reviewed_by": maybe(texts)}),
).map(lambda pair: {"_id": pair[0], **{k: v for k, v in pair[1].items() if v is not ...}})


def _as_json(value) -> str:
    """The JSON a value is sent as: equal values of other types (True and 1, 1 and 1.0) differ here."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@settings(max_examples=300)
@given(responses)
def test_an_answer_sheet_lists_in_its_dumped_form(raw):
    document = SurveyResponse._from_son(dict(raw))
    view = response_view(as_stored(SurveyResponse, raw))
    assert response_view(document) == view
    assert _as_json(view) == _as_json(SurveyResponseSchema().dump(view))
    assert _as_json(view) == _as_json(SurveyResponseSchema().dump(document))  # as the document itself dumps
    assert set(view) == set(SurveyResponseSchema().fields)
