"""Office corrections of the national working-day calendar (region-agnostic)."""

from __future__ import annotations

import mongoengine as me


class CalendarOverride(me.Document):
    """One date whose working status an office set explicitly (wins over the official calendar)."""

    date = me.DateField(required=True, unique=True)
    working = me.BooleanField(required=True)
    note = me.StringField(max_length=200, default="")
    updated_by = me.StringField()
    updated_at = me.DateTimeField(required=True)

    meta = {"collection": "calendar_overrides", "indexes": []}  # unique index on date serves every query


class CalendarYearConfirmation(me.Document):
    """A year whose make-up working days (调休) the office has confirmed as fully entered."""

    year = me.IntField(required=True, unique=True)
    confirmed_by = me.StringField()
    confirmed_at = me.DateTimeField(required=True)

    meta = {"collection": "calendar_confirmed_years"}


class CalendarStamp(me.Document):
    """Changes on every write to the calendar; caches compare it to know when to reload."""

    id = me.StringField(primary_key=True)  # always "calendar"
    token = me.StringField(required=True)
    changed_at = me.DateTimeField(required=True)

    meta = {"collection": "calendar_stamp"}
