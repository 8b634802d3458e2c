"""The office's publication queue sends ``deadlines.tracker_view`` (with the queue's two fields) as it is: for any
stored deadline tracker, read as stored or built as a document, that must be exactly the schema's dump (keys,
values and their types), every field it declares and no other."""

from __future__ import annotations

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.publication.deadlines import tracker_view
from inspect_api.publication.models import PublicationDeadline
from inspect_api.publication.schemas import PendingPublicationSchema, QueuedPublicationSchema
from tests.stored_forms import assert_dumped_form, days, midnights, moments, stored, texts

steps = st.fixed_dictionaries({"code": texts, "title": texts, "due": midnights, "at": moments})
trackers = st.tuples(st.builds(ObjectId), stored(
    {"inspection_id": texts, "institution_id": texts, "region": texts, "concluded_at": moments,
     "deadline": midnights, "created_at": moments},
    code=texts, steps=st.lists(steps, max_size=3), level=texts, overdue=st.booleans(), published_at=moments),
).map(lambda pair: {"_id": pair[0], **pair[1]})


@settings(max_examples=300)
@given(trackers, days, st.none() | texts, st.integers(-400, 400))
def test_a_queue_entry_is_in_its_dumped_form(raw, today, name, days_left):
    document = PublicationDeadline._from_son(dict(raw))
    view = tracker_view(as_stored(PublicationDeadline, raw), today=today, institution_name=name)
    assert tracker_view(document, today=today, institution_name=name) == view
    assert_dumped_form(view, PendingPublicationSchema())
    queued = {**view, "working_days_left": days_left, "level_title": None}  # as office.pending_views adds them
    assert_dumped_form(queued, QueuedPublicationSchema())
