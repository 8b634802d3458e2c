"""Adapters to other areas and small helpers shared by the publication modules.

Other areas (directory, inspections, the configuration) are reached only
through these functions, so the publication modules do not know their names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


from inspect_api import config as inspect_config
from inspect_api.errors import NotFound
from inspect_api.scoping import is_region_code, prefix_range, region_range


def scope_range(region: str) -> dict[str, str]:
    """Index-served range of a region filter: a division code's subtree, or a raw code prefix."""
    return region_range(region) if is_region_code(region) else prefix_range(region)


def inspection_model():
    from inspect_api.inspections.models import Inspection

    return Inspection


def get_institution(institution_id: str):
    from inspect_api.directory import institutions

    return institutions.get_institution(institution_id)


def institution_names(institution_ids) -> dict[str, str]:
    from inspect_api.directory import institutions

    return institutions.institution_names(institution_ids)


def institution_names_read(institution_ids):
    """:func:`institution_names` as a read (for a batch of reads: :mod:`inspect_api.batched`)."""
    from inspect_api.directory import institutions

    return institutions.institution_names_read(institution_ids)


def institution_names_from(rows) -> dict[str, str]:
    from inspect_api.directory import institutions

    return institutions.institution_names_from(rows)


def institution_cards(institution_ids) -> dict[str, dict[str, str | None]]:
    """Name, address and public id of many institutions in one query."""
    from inspect_api.directory import institutions

    return institutions.institution_cards(institution_ids)


def institution_kinds() -> dict[str, str]:
    from inspect_api.directory.models import INSTITUTION_KINDS

    return INSTITUTION_KINDS


def region_names() -> dict[str, str]:
    from inspect_api.directory import regions

    try:
        return regions.region_names()
    except Exception:  # noqa: BLE001 - names are decoration; codes still work
        return {}


def resolved_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    return inspect_config.current(cfg)


def as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def require_office(user) -> None:
    if getattr(user, "role", None) != "office_admin":
        raise NotFound("资源不存在")


def utc_midnight(d: date) -> datetime:
    from datetime import timezone

    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def working_calendar(stamp_rows: list[dict] | None = None):
    """The working-day calendar in force (holidays and adjusted working days); ``stamp_rows``: the rows of
    :func:`calendar_stamp_read` when the caller read them with other reads."""
    from inspect_api.calendar.service import current_calendar

    return current_calendar(stamp_rows)


def calendar_stamp_read():
    """The calendar's freshness check as a read (for a batch of reads: :mod:`inspect_api.batched`)."""
    from inspect_api.calendar.service import stamp_read

    return stamp_read()
