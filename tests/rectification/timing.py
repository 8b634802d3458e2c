"""Injected time for the rectification tests: the API clock, business-day moments, repeated sweeps."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from inspect_api.rectification import escalation
from inspect_api.workdays import SHANGHAI

STEP_KINDS = ("rectification.reminder", "rectification.warning", "rectification.department", "rectification.office")


class Clock:
    """Injected time for the API: the rectification routes read ``utcnow`` from here."""

    def __init__(self):
        self.now = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)

    def set(self, dt: datetime) -> None:
        self.now = dt.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def at(d: date, hour: int = 9) -> datetime:
    """``hour``:00 Asia/Shanghai on business date ``d``, as an aware datetime."""
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def sweep_thrice(d: date) -> None:
    """Three sweeps on one business day (two overlapping at 09:00, one at 15:00)."""
    for hour in (9, 9, 15):
        escalation.run_sweep(at(d, hour))
