"""The public notice list and page send ``notices.public_view`` of a notice's view as it is: for any stored
notice, read as stored or built as a document, with any live status of its items, that must be exactly
``PublicNoticeSchema``'s dump (keys, values and their types)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.publication import notices
from inspect_api.publication.models import NOTICE_STATUSES, Notice
from inspect_api.publication.schemas import PublicNoticeSchema

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
midnights = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2040, 1, 1).date()).map(
    lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc))  # how a DateField is stored
texts = st.text(min_size=1, max_size=10)
finding_ids = st.sampled_from(["6b0d472d94839c26dd0921b1", "6b0d472d94839c26dd0921b2", "6b0d472d94839c26dd0921b3"])
statuses = st.sampled_from(["open", "answered", "accepted", "reopened", "withdrawn"])


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


def stored(required: dict, **optional) -> st.SearchStrategy:
    return st.fixed_dictionaries({**required, **{key: maybe(values) for key, values in optional.items()}}).map(
        lambda doc: {key: value for key, value in doc.items() if value is not ...})


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
    dumped = PublicNoticeSchema().dump(view)
    assert json.dumps(view, sort_keys=True, ensure_ascii=False) == json.dumps(dumped, sort_keys=True,
                                                                              ensure_ascii=False)
    assert set(view) == set(PublicNoticeSchema().fields)  # every field the schema sends, none other
