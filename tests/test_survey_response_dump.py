"""The office's list of answer sheets sends ``surveys.service.response_view`` as it is: for any stored answer
sheet, read as stored or built as a document, that must be exactly ``SurveyResponseSchema``'s dump of the
document (keys, values and their types), every field the schema declares and no other."""

from __future__ import annotations

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.surveys.models import HOLD_REASONS, RESPONSE_STATUSES, SurveyResponse
from inspect_api.surveys.schemas import SurveyResponseSchema
from inspect_api.surveys.service import response_view
from tests.stored_forms import assert_lists_in_dumped_form, moments, stored, texts

responses = st.tuples(st.builds(ObjectId), stored(
    {"institution_id": texts, "region": texts, "quarter": st.sampled_from(["2026Q1", "2026Q4"]),
     "questionnaire_code": texts, "questionnaire_version": st.integers(1, 99),
     "answers": st.dictionaries(st.sampled_from(["q1", "q2", "q3", "q10"]), st.integers(1, 5), max_size=4),
     "status": st.sampled_from(sorted(RESPONSE_STATUSES)), "device_hash": texts, "address_hash": texts,
     "created_at": moments},
    comment=texts, comment_screened=st.booleans(), hold_reason=st.sampled_from(sorted(HOLD_REASONS)),
    reviewed_at=moments, reviewed_by=texts),
).map(lambda pair: {"_id": pair[0], **pair[1]})


@settings(max_examples=300)
@given(responses)
def test_an_answer_sheet_lists_in_its_dumped_form(raw):
    assert_lists_in_dumped_form(SurveyResponse, raw, response_view, SurveyResponseSchema())
