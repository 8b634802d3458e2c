"""The office's audit log sends ``audit.listing.event_view`` as it is: for any stored event, read as stored or
built as a document, that must be exactly ``AuditEventSchema``'s dump (keys, values and their types), every
field the schema declares and no other."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.audit.listing import event_view
from inspect_api.audit.models import AuditEvent
from inspect_api.audit.schemas import AuditEventSchema
from inspect_api.db import as_stored

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
texts = st.text(min_size=1, max_size=10)
# What services record as an event's facts: JSON values, and the ids, dates and times BSON keeps.
facts = st.recursive(st.none() | st.booleans() | st.integers(-(2 ** 40), 2 ** 40) | texts
                     | st.floats(allow_nan=False, allow_infinity=False) | moments,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                     max_leaves=10)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


events = st.tuples(st.builds(ObjectId), st.fixed_dictionaries(
    {"seq": st.integers(1, 10 ** 9), "at": moments, "action": texts, "prev_hash": texts, "hash": texts},
    optional={"actor_id": maybe(texts), "actor_name": maybe(texts), "target_type": maybe(texts),
              "target_id": maybe(texts), "region": maybe(texts), "ip": maybe(texts),
              "data": maybe(st.dictionaries(texts, facts, max_size=4))}),
).map(lambda pair: {"_id": pair[0], **{k: v for k, v in pair[1].items() if v is not ...}})


def _as_json(value) -> str:
    """The JSON a value is sent as (a datetime among the facts as the app's provider writes it: its text)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@settings(max_examples=300)
@given(events)
def test_an_audit_event_lists_in_its_dumped_form(raw):
    document = AuditEvent._from_son(dict(raw))
    view = event_view(as_stored(AuditEvent, raw))
    assert event_view(document) == view
    dumped = AuditEventSchema().dump(view)
    assert _as_json(view) == _as_json(dumped)
    assert _as_json(view) == _as_json(AuditEventSchema().dump(document))  # as the document itself dumps
    assert set(view) == set(AuditEventSchema().fields)
