"""The public notice list and page send ``notices.public_view`` of a notice's view as it is: for any stored
notice, read as stored or built as a document, with any live status of its items, that must be exactly
``PublicNoticeSchema``'s dump (keys, values and their types)."""

from __future__ import annotations

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.publication import notices
from inspect_api.publication.models import NOTICE_STATUSES, Notice
from inspect_api.publication.schemas import PublicNoticeSchema
from tests.stored_forms import assert_dumped_form, midnights, moments, stored, texts

finding_ids = st.sampled_from(["6b0d472d94839c26dd0921b1", "6b0d472d94839c26dd0921b2", "6b0d472d94839c26dd0921b3"])
statuses = st.sampled_from(["open", "answered", "accepted", "reopened", "withdrawn"])


items = stored({"finding_id": finding_ids}, order_id=texts, order_number=texts, institution_id=texts,
               institution_name=texts, institution_public_id=texts, region=texts, item_text=texts, clause=texts,
               severity=st.sampled_from(["critical", "major", "minor"]), deadline=midnights, overdue=st.booleans(),
               status=statuses)
stored_notices = st.tuples(st.builds(ObjectId), stored(
    {"office_region": st.just("370302"), "region": st.sampled_from(["370302", "37030201"]), "period_from": midnights,
     "period_to": midnights, "title": texts, "text": texts, "created_by": texts, "created_at": moments,
     "status": st.sampled_from(sorted(NOTICE_STATUSES))},
    finding_ids=st.lists(finding_ids, max_size=3), items=st.lists(items, max_size=3), year=st.integers(2020, 2040),
    seq=st.integers(1, 99), number=texts, issuer=texts, updated_at=moments, published_by=texts,
    published_at=moments, retracted_by=texts, retracted_at=moments, retraction_reason=texts),
).map(lambda pair: {"_id": pair[0], **pair[1]})
live_rows = st.lists(st.fixed_dictionaries({"_id": finding_ids.map(ObjectId), "status": st.none() | statuses}),
                     max_size=3)


@settings(max_examples=200)
@given(stored_notices, live_rows)
def test_a_notice_shows_to_the_public_in_its_dumped_form(raw, rows):
    document = Notice._from_son(dict(raw))
    view = notices.public_view(notices.notice_views([as_stored(Notice, raw)], rows)[0])
    assert notices.public_view(notices.notice_views([document], rows)[0]) == view
    assert_dumped_form(view, PublicNoticeSchema())
