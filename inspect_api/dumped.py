"""Values in the form marshmallow's fields dump them, for views built in a schema's dumped form.

A list dumped through marshmallow spent much of its time there; a view that builds its schema's dump itself
uses these (each as the field named: None stays None) and is sent with ``schemas.already_dumped``, which a
test app checks against the schema's own dump on every response.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable


def text(value) -> str | None:
    """``fields.String``."""
    return None if value is None else str(value)


def texts(values) -> list[str] | None:
    """``fields.List(fields.String())``."""
    return None if values is None else [str(v) for v in values]


def number(value, kind: type):
    """``fields.Integer`` (``kind`` int), ``fields.Float`` (float) or ``fields.Boolean`` (bool) of a value of
    that kind."""
    return None if value is None else kind(value)


def day(value: date | datetime | None) -> str | None:
    """A business date (``BizDate``): a datetime a store handed back for a date counts by its date."""
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def date_text(value) -> str | None:
    """``DateText``: a date (a datetime counts by its date), or text a service already wrote so, as it is."""
    return day(value) if isinstance(value, date) else text(value)


def moment(value: date | datetime | None) -> str | None:
    """``fields.DateTime`` (ISO 8601); also ``fields.Date`` of a date."""
    return None if value is None else value.isoformat()


def nested(value, dump: Callable[[Any], dict]) -> dict | None:
    """``fields.Nested`` of one object."""
    return None if value is None else dump(value)


def many(values, dump: Callable[[Any], dict]) -> list[dict] | None:
    """``fields.List(fields.Nested(...))``."""
    return None if values is None else [dump(v) for v in values]
