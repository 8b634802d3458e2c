"""The office's audit log sends ``audit.listing.event_view`` as it is: for any stored event, read as stored or
built as a document, that must be exactly ``AuditEventSchema``'s dump (keys, values and their types), every
field the schema declares and no other."""

from __future__ import annotations

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.audit.listing import event_view
from inspect_api.audit.models import AuditEvent
from inspect_api.audit.schemas import AuditEventSchema
from tests.stored_forms import assert_lists_in_dumped_form, moments, stored, texts

# What services record as an event's facts: JSON values, and the dates and times BSON keeps.
facts = st.recursive(st.none() | st.booleans() | st.integers(-(2 ** 40), 2 ** 40) | texts
                     | st.floats(allow_nan=False, allow_infinity=False) | moments,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                     max_leaves=10)
events = st.tuples(st.builds(ObjectId), stored(
    {"seq": st.integers(1, 10 ** 9), "at": moments, "action": texts, "prev_hash": texts, "hash": texts},
    actor_id=texts, actor_name=texts, target_type=texts, target_id=texts, region=texts, ip=texts,
    data=st.dictionaries(texts, facts, max_size=4)),
).map(lambda pair: {"_id": pair[0], **pair[1]})


@settings(max_examples=300)
@given(events)
def test_an_audit_event_lists_in_its_dumped_form(raw):
    assert_lists_in_dumped_form(AuditEvent, raw, event_view, AuditEventSchema())
