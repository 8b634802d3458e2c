"""Orders and findings are sent built in their schemas' dumped form (``views.dumped_order``,
``views.dumped_finding``): for any stored order or finding, read as stored or built as a document, that form
must be exactly marshmallow's dump of the same view (keys, values and their types)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.db import as_stored
from inspect_api.rectification import views
from inspect_api.rectification.models import (FINDING_STATUSES, ORDER_SOURCES, ORDER_STATUSES, SEVERITIES, Finding,
                                              Order)
from inspect_api.rectification.schemas import FindingSchema, OrderDetailSchema, OrderSchema, QueuedFindingSchema

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
midnights = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2040, 1, 1).date()).map(
    lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc))  # how a DateField is stored
texts = st.text(min_size=1, max_size=8)
small = st.integers(min_value=-30, max_value=30)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


def stored(**fields) -> st.SearchStrategy:
    """A stored (sub)document whose keys are each absent, null or a value."""
    return st.fixed_dictionaries({key: maybe(values) for key, values in fields.items()}).map(
        lambda doc: {key: value for key, value in doc.items() if value is not ...})


deductions = stored(code=texts, text=texts, points=st.floats(0, 10) | st.integers(0, 10))
steps = stored(code=texts, title=texts, due=midnights, at=moments, deadline=midnights, offset_working_days=small,
               recipients=st.lists(texts, max_size=3))
answers = stored(seq=st.integers(1, 9), client_id=texts, description=texts, photo_ids=st.lists(texts, max_size=2),
                 answered_by=texts, answered_at=moments, late=st.booleans(),
                 decision=st.sampled_from(["accepted", "rejected"]), comment=texts, reviewed_by=texts,
                 reviewed_at=moments, new_deadline=midnights)
extensions = stored(reason=texts, requested_deadline=midnights, previous_deadline=midnights, requested_by=texts,
                    requested_at=moments, status=st.sampled_from(["pending", "granted", "denied"]), comment=texts,
                    decided_by=texts, decided_at=moments)
reinspections = stored(assignment_id=texts, note=texts, requested_by=texts, requested_at=moments)
findings = st.tuples(st.builds(ObjectId), stored(
    order_id=texts, seq=st.integers(1, 40), order_number=texts, institution_id=texts, region=st.just("370302"),
    lead_inspector_id=texts, team=st.lists(texts, max_size=3), item_id=texts, item_text=texts, clause=texts,
    severity=st.sampled_from(sorted(SEVERITIES)), deductions=st.lists(deductions, max_size=2),
    points_lost=st.floats(0, 20) | st.integers(0, 20), deadline_working_days=st.integers(1, 60),
    reinspection_required=st.booleans(), note=texts, photo_ids=st.lists(texts, max_size=3),
    status=st.sampled_from(sorted(FINDING_STATUSES)), deadline=midnights, original_deadline=midnights,
    overdue=st.booleans(), overdue_since=midnights, level=texts, next_step_due=midnights,
    preselected_for_notice=st.booleans(), steps=st.lists(steps, max_size=2), answers=st.lists(answers, max_size=2),
    extension=extensions, reinspection=reinspections, accepted_at=moments, withdrawn_at=moments,
    withdrawn_reason=texts)).map(lambda pair: {"_id": pair[0], **pair[1]})
# What the view adds to the stored fields (labels, working days, actions; the queue's institution name).
extras = st.fixed_dictionaries({
    "status_name": st.none() | texts, "severity_name": st.none() | texts, "working_days_left": st.none() | small,
    "level_title": st.none() | texts, "actions": st.lists(st.sampled_from(["answer", "review", "decide_extension"]),
                                                          max_size=2)})


def _as_json(value) -> str:
    """The JSON a value is sent as: equal values of other types (True and 1, 1 and 1.0) differ here."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _view(finding, extra: dict) -> dict:
    """A finding's view as ``views._finding_view`` builds it (its fields read by name, then the additions)."""
    return {**{name: getattr(finding, name, None) for name in views._FINDING_FIELDS}, "id": str(finding.id),
            **extra}


@settings(max_examples=300)
@given(raw=findings, extra=extras, institution_name=st.just(...) | st.none() | texts)
def test_a_finding_dumped_by_hand_is_marshmallows_dump(raw, extra, institution_name):
    if institution_name is not ...:
        extra = {**extra, "institution_name": institution_name}
    schema = QueuedFindingSchema() if "institution_name" in extra else FindingSchema()
    for finding in (as_stored(Finding, raw), Finding._from_son(dict(raw))):
        view = _view(finding, extra)
        dumped = views.dumped_finding(view)
        expected = schema.dump(view)
        assert dumped == expected
        assert _as_json(dumped) == _as_json(expected)


orders = st.tuples(st.builds(ObjectId), stored(
    number=texts, inspection_id=texts, source=st.sampled_from(sorted(ORDER_SOURCES)), institution_id=texts,
    region=st.just("370302"), lead_inspector_id=texts, team=st.lists(texts, max_size=3), checklist_code=texts,
    status=st.sampled_from(sorted(ORDER_STATUSES)), finding_count=st.integers(0, 40), concluded_at=moments,
    issued_at=moments, acknowledged_at=moments, acknowledged_by=texts, closed_at=moments,
    updated_at=moments)).map(lambda pair: {"_id": pair[0], **pair[1]})
# What an order's view adds: its summary over its findings (views._summary).
summaries = st.fixed_dictionaries({
    "open_findings": st.integers(0, 9), "awaiting_review": st.integers(0, 9), "overdue_findings": st.integers(0, 9),
    "next_deadline": st.none() | midnights.map(lambda m: m.date()), "working_days_left": st.none() | small,
    "level": st.none() | texts, "level_title": st.none() | texts})
users = st.builds(SimpleNamespace, role=st.sampled_from(["office_admin", "institution", "inspector"]),
                  inspector_id=st.none() | texts)


@settings(max_examples=200)
@given(raw=orders, summary=summaries, user=users, name=st.none() | texts,
       details=st.none() | st.lists(st.tuples(findings, extras), max_size=2))
def test_an_order_dumped_by_hand_is_marshmallows_dump(raw, summary, user, name, details):
    for order in (as_stored(Order, raw), Order._from_son(dict(raw))):
        view = {**views._order_base(order, user, {order.institution_id: name}), **summary}
        schema = OrderSchema()
        if details is not None:
            view["findings"] = [_view(as_stored(Finding, f), extra) for f, extra in details]
            schema = OrderDetailSchema()
        dumped = views.dumped_order(view)
        expected = schema.dump(view)
        assert dumped == expected
        assert _as_json(dumped) == _as_json(expected)
