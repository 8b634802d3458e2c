"""What the property tests of views sent in their schemas' dumped form (``schemas.already_dumped``) share:
strategies for stored documents, and the check that a view is exactly its schema's dump."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st
from marshmallow import Schema

from inspect_api.db import as_stored

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
days = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2040, 1, 1).date())
midnights = days.map(lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc))  # how a DateField is stored
texts = st.text(min_size=1, max_size=10)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


def stored(required: dict[str, Any], **optional) -> st.SearchStrategy:
    """A stored (sub)document: the ``required`` fields, and each ``optional`` one absent, null or a value."""
    return st.fixed_dictionaries({**required, **{key: maybe(values) for key, values in optional.items()}}).map(
        lambda doc: {key: value for key, value in doc.items() if value is not ...})


def as_json(value) -> str:
    """The JSON a value is sent as: equal values of other types (True and 1, 1 and 1.0) differ here (any
    datetime left in free-form data as its text, as the app's provider writes it)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def types_of(value) -> Any:
    """The shape of a value with each leaf's type (what the app's JSON provider writes depends on it)."""
    if isinstance(value, dict):
        return {key: types_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [types_of(item) for item in value]
    return type(value)


def assert_dumped_form(view: dict[str, Any], schema: Schema, *, document: Any = None) -> None:
    """``view`` is exactly ``schema``'s dump of it (and of ``document`` when given, for a schema that can dump
    the document itself): the same JSON, with every field the schema declares and no other."""
    assert as_json(view) == as_json(schema.dump(view))
    assert types_of(view) == types_of(schema.dump(view))  # a date left as a date would pass as its text above
    if document is not None:
        assert as_json(view) == as_json(schema.dump(document))
    assert set(view) == set(schema.fields)


def assert_lists_in_dumped_form(model, raw: dict[str, Any], view_of, schema: Schema) -> None:
    """``view_of`` a stored document ``raw`` of ``model`` is the same read as stored (a list's rows) or built as
    a document, and exactly ``schema``'s dump of the view and of the document (:func:`assert_dumped_form`)."""
    document = model._from_son(dict(raw))
    view = view_of(as_stored(model, raw))
    assert view_of(document) == view
    assert_dumped_form(view, schema, document=document)
