"""The ledger-check list sends ``service.summary_view`` as it is: for any stored check, read as stored (with the
list's projection) or built as a document, that must be exactly ``LedgerCheckSummarySchema``'s dump (keys, values
and their types), every field it declares and no other."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.ledgers.models import CHECK_STATES, LedgerCheck
from inspect_api.ledgers.schemas import LedgerCheckSummarySchema
from inspect_api.ledgers.service import SUMMARY_FIELDS, summary_view
from inspect_api.vocabulary import GRADES
from tests.stored_forms import (
    as_json,
    assert_dumped_form,
    days,
    midnights,
    moments,
    stored,
    texts,
)

scores = st.integers(0, 100) | st.floats(0, 100, allow_nan=False)
results = st.fixed_dictionaries({}, optional={"score": scores | st.none(), "grade": st.sampled_from(sorted(GRADES)),
                                              "grade_name": texts})
checks = st.tuples(st.builds(ObjectId), stored(
    {"code": texts, "dedupe_key": texts, "institution_id": texts, "region": texts, "checklist_code": texts,
     "checklist_version": st.integers(1, 50) | st.integers(1, 50).map(float), "content_hash": texts, "requested_at": moments,
     "request_working_days": st.integers(1, 30), "deadline": midnights, "created_at": moments},
    draw_id=texts, plan_id=texts, team=st.lists(texts, max_size=3), matters=st.lists(texts, max_size=2),
    state=st.sampled_from(sorted(CHECK_STATES)), submitted_at=moments, late=st.booleans(), concluded_at=moments,
    result=results, findings=st.lists(st.fixed_dictionaries({"item_id": texts}), max_size=3), order_id=texts,
    level=texts, scores=st.dictionaries(texts, st.fixed_dictionaries({"result": texts}), max_size=2)),
).map(lambda pair: {"_id": pair[0], **pair[1]})


def marshmallow_summary(check, today, name) -> dict:
    """The summary as the list built it before it was sent in dumped form (marshmallow dumped this)."""
    result = check.result or {}
    deadline = check.deadline.date() if isinstance(check.deadline, datetime) else check.deadline
    return {"id": str(check.id), "code": check.code, "institution_id": check.institution_id, "institution_name": name,
            "region": check.region, "state": check.state, "state_name": CHECK_STATES.get(check.state, check.state),
            "team": list(check.team), "checklist_code": check.checklist_code,
            "checklist_version": check.checklist_version, "deadline": check.deadline,
            "overdue": check.state == "requested" and today > deadline, "level": check.level,
            "late": bool(check.late), "requested_at": check.requested_at, "submitted_at": check.submitted_at,
            "concluded_at": check.concluded_at, "score": result.get("score"), "grade": result.get("grade"),
            "grade_name": result.get("grade_name"), "finding_count": len(check.findings or []),
            "order_id": check.order_id, "draw_id": check.draw_id, "plan_id": check.plan_id}


@settings(max_examples=300)
@given(checks, days, texts)
def test_a_listed_check_is_in_its_dumped_form(raw, today, name):
    document = LedgerCheck._from_son(dict(raw))
    listed = as_stored(LedgerCheck, raw, frozenset(SUMMARY_FIELDS))  # as the list reads it: its fields alone
    view = summary_view(listed, today=today, name=name)
    assert summary_view(as_stored(LedgerCheck, raw), today=today, name=name) == view
    assert summary_view(document, today=today, name=name) == view
    schema = LedgerCheckSummarySchema()
    assert_dumped_form(view, schema)
    assert as_json(view) == as_json(schema.dump(marshmallow_summary(document, today, name)))
