"""The inbox sends its notifications built in ``NotificationSchema``'s dumped form
(``notify.views.dumped_notification``): for any stored notification, read as stored or built as a document,
that form must be exactly marshmallow's dump (keys, values and their types; data keys the schema does not
declare are left out either way)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.notify.models import Notification
from inspect_api.notify.schemas import NotificationSchema
from inspect_api.notify.views import dumped_notification

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
texts = st.text(min_size=1, max_size=8)
days = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2040, 1, 1).date())
# What services write into a notification's data: ids and step codes, answer numbers, dates as text or as
# dates (or the datetimes a store hands back for them), and keys the schema does not declare.
data = st.fixed_dictionaries({}, optional={
    "order_id": texts, "finding_id": texts, "institution_id": texts, "inspection_id": texts,
    "assignment_id": texts, "step": texts, "answer": st.integers(1, 9),
    "due": days.map(str) | days | moments, "deadline": days.map(str) | days, "date": days.map(str),
    "notice_id": texts, "count": st.integers(0, 9)})
notifications = st.fixed_dictionaries(
    {"_id": st.builds(ObjectId), "user_id": texts, "kind": texts, "title": texts, "body": texts,
     "dedupe_key": texts, "created_at": moments},
    optional={"data": data | st.just({}), "region": texts, "read_at": st.none() | moments})


def _as_json(value) -> str:
    """The JSON a value is sent as: equal values of other types (True and 1, 1 and 1.0) differ here."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@settings(max_examples=300)
@given(raw=notifications)
def test_a_notification_dumped_by_hand_is_marshmallows_dump(raw):
    schema = NotificationSchema()
    for notification in (as_stored(Notification, raw), Notification._from_son(dict(raw))):
        dumped = dumped_notification(notification)
        expected = schema.dump(notification)
        assert dumped == expected
        assert _as_json(dumped) == _as_json(expected)
