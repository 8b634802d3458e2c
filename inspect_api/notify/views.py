"""An inbox's notifications in ``NotificationSchema``'s dumped form (an inbox page dumped through marshmallow
spent a third of its time there; see :mod:`inspect_api.dumped`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from inspect_api.dumped import day, moment, number, text

# NotificationDataSchema's keys and how each is dumped; a data key it does not declare is not shown.
_DATA_TEXTS = ("order_id", "finding_id", "institution_id", "inspection_id", "assignment_id", "step")
_DATA_INTEGERS = ("answer",)
_DATA_DATES = ("due", "deadline", "date")


def _date_text(value) -> str | None:
    """``schemas.DateText``: a date (or a datetime a store handed back for one) as ``YYYY-MM-DD``, text as it is."""
    return day(value) if isinstance(value, date) else text(value)


def _data(data: dict[str, Any]) -> dict[str, Any]:
    dumped: dict[str, Any] = {}
    for key, value in data.items():
        if key in _DATA_TEXTS:
            dumped[key] = text(value)
        elif key in _DATA_INTEGERS:
            dumped[key] = number(value, int)
        elif key in _DATA_DATES:
            dumped[key] = _date_text(value)
    return dumped


def dumped_notification(notification) -> dict[str, Any]:
    """``NotificationSchema``'s dump of a notification (a document, or one read as stored)."""
    data = notification.data
    return {"id": str(notification.id), "kind": text(notification.kind), "title": text(notification.title),
            "body": text(notification.body), "data": None if data is None else _data(data),
            "created_at": moment(notification.created_at), "read_at": moment(notification.read_at),
            "read": notification.read_at is not None}
