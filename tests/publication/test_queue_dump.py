"""The office's publication queue sends ``deadlines.tracker_view`` (with the queue's two fields) as it is: for any
stored deadline tracker, read as stored or built as a document, that must be exactly the schema's dump (keys,
values and their types), every field it declares and no other."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.publication.deadlines import tracker_view
from inspect_api.publication.models import PublicationDeadline
from inspect_api.publication.schemas import PendingPublicationSchema, QueuedPublicationSchema

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1))
midnights = days.map(lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc))  # how a DateField is stored
texts = st.text(min_size=1, max_size=10)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


steps = st.fixed_dictionaries({"code": texts, "title": texts, "due": midnights, "at": moments})
trackers = st.tuples(st.builds(ObjectId), st.fixed_dictionaries(
    {"inspection_id": texts, "institution_id": texts, "region": texts, "concluded_at": moments,
     "deadline": midnights, "created_at": moments},
    optional={"code": maybe(texts), "steps": st.lists(steps, max_size=3), "level": maybe(texts),
              "overdue": st.booleans(), "published_at": maybe(moments)}),
).map(lambda pair: {"_id": pair[0], **{k: v for k, v in pair[1].items() if v is not ...}})


def _as_json(value) -> str:
    """The JSON a value is sent as: equal values of other types (True and 1, 1 and 1.0) differ here."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@settings(max_examples=300)
@given(trackers, days, st.none() | texts, st.integers(-400, 400))
def test_a_queue_entry_is_in_its_dumped_form(raw, today, name, days_left):
    document = PublicationDeadline._from_son(dict(raw))
    view = tracker_view(as_stored(PublicationDeadline, raw), today=today, institution_name=name)
    assert tracker_view(document, today=today, institution_name=name) == view
    assert _as_json(view) == _as_json(PendingPublicationSchema().dump(view))
    assert set(view) == set(PendingPublicationSchema().fields)
    queued = {**view, "working_days_left": days_left, "level_title": None}  # as office.pending_views adds them
    assert _as_json(queued) == _as_json(QueuedPublicationSchema().dump(queued))
    assert set(queued) == set(QueuedPublicationSchema().fields)
