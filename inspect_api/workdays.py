"""The working-day calendar (工作日) used for deadlines and escalation.

Pure logic: no Flask, no database.  Three layers decide whether a date is a
working day, the first that has an answer wins:

1. **Overrides** edited by an office (stored in the database; the caller
   loads them and passes them in): a mapping ``date -> bool`` (or
   ``date -> CalendarOverride`` when a note comes with it).
2. **The official calendar** with its weekend make-up days (调休), from
   ``chinese_calendar.is_workday``.  Its release in use covers 2004-2026 and
   raises ``NotImplementedError`` outside the years it knows; coverage is
   detected at run time, so a newer release extends it automatically.
3. **Fallback** for years the official calendar does not cover: the
   statutory holidays computed from the lunar calendar by
   ``holidays.country_holidays("CN")`` (including the extra days off it
   derives), with Saturdays and Sundays off.  Make-up working days of such a
   year are unknown until the State Council publishes them.

Confirmation rule for an uncovered year (when the warning goes away): the
year is *confirmed* when it is listed in ``confirmed_years`` (an explicit
per-year flag the office sets once it has entered the published schedule),
**or** when the overrides contain at least one Saturday or Sunday of that
year marked as a working day (entering a make-up working day is the act of
entering the published schedule; every published schedule since 2004 has
had at least one).  Until then :meth:`WorkingCalendar.warnings` returns a
Chinese warning for the year.

Counting convention: the start day is never counted.  ``add_working_days(d,
1)`` is the first working day strictly after ``d``; ``add_working_days(d,
-1)`` the last working day strictly before ``d``.  ``working_days_between(a,
b)`` counts in the direction of travel, excluding ``a`` and including ``b``,
so ``working_days_between(d, add_working_days(d, n)) == n`` for every
non-zero ``n``.

Performance: each year's working days are computed once into a sorted tuple
of ordinals (the override-free base is cached per process, the overrides are
applied per calendar instance), and counting or stepping uses ``bisect`` on
those tuples, skipping whole years at a time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_lib

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Years outside this range are refused: ``date`` cannot go further and the
# stepping loops need a bound.
MIN_YEAR = date.min.year + 1
MAX_YEAR = date.max.year - 1


def business_date(dt_utc: datetime) -> date:
    """The Asia/Shanghai calendar date of an instant.

    Aware datetimes are converted; naive ones are taken as UTC (which is how
    MongoDB returns stored times).
    """
    if dt_utc.tzinfo is None:
        dt_utc = dt_utc.replace(tzinfo=timezone.utc)
    return dt_utc.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class CalendarOverride:
    """One office correction of the calendar."""

    is_working_day: bool
    note: str = ""


@dataclass(frozen=True)
class CalendarWarning:
    """A visible warning about the calendar of one year."""

    year: int
    message: str
    code: str = "CALENDAR_MAKEUP_DAYS_UNKNOWN"

    def __str__(self) -> str:
        return self.message


def warning_message(year: int) -> str:
    return f"{year} 年的调休安排尚未录入，请办公室核对并补录调休工作日"


# --- the override-free base calendar ------------------------------------------------


@lru_cache(maxsize=None)
def is_official_year(year: int) -> bool:
    """Whether ``chinese_calendar`` knows the holidays and make-up days of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


def uncovered_years(years: Iterable[int]) -> list[int]:
    """The sorted distinct years among ``years`` that the official calendar does not cover.

    This ignores overrides; see :meth:`WorkingCalendar.unconfirmed_years` for
    the years that still need a warning.
    """
    return sorted({int(y) for y in years if not is_official_year(int(y))})


@lru_cache(maxsize=None)
def _fallback_days_off(year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays("CN", years=[year]).keys())


def _year_dates(year: int) -> Iterable[date]:
    d = date(year, 1, 1)
    one = timedelta(days=1)
    while d.year == year:
        yield d
        d += one


@lru_cache(maxsize=64)
def _base_working_ordinals(year: int) -> tuple[int, ...]:
    """Sorted ordinals of the working days of ``year`` without overrides."""
    if is_official_year(year):
        return tuple(d.toordinal() for d in _year_dates(year) if chinese_calendar.is_workday(d))
    off = _fallback_days_off(year)
    return tuple(
        d.toordinal() for d in _year_dates(year) if d.weekday() < 5 and d not in off
    )


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"日期超出工作日历支持的范围（{MIN_YEAR}–{MAX_YEAR} 年）")


# --- the layered calendar ------------------------------------------------------------


class WorkingCalendar:
    """Working days with office overrides layered over the official calendar.

    ``overrides`` maps a date to ``True`` (working day) / ``False`` (day off),
    or to a :class:`CalendarOverride` carrying a note.  ``confirmed_years``
    lists years whose make-up schedule the office has confirmed as complete.
    An instance is immutable; build a new one when overrides change.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool | CalendarOverride] | None = None,
        confirmed_years: Iterable[int] = (),
    ):
        self._overrides: dict[date, CalendarOverride] = {}
        for d, value in (overrides or {}).items():
            if isinstance(d, datetime) or not isinstance(d, date):
                raise TypeError(f"override key must be a date, got {d!r}")
            if isinstance(value, CalendarOverride):
                self._overrides[d] = value
            elif isinstance(value, bool):
                self._overrides[d] = CalendarOverride(value)
            else:
                raise TypeError(f"override for {d} must be a bool or CalendarOverride")
        self._confirmed_years = frozenset(int(y) for y in confirmed_years)
        self._by_year: dict[int, dict[date, bool]] = {}
        for d, o in self._overrides.items():
            self._by_year.setdefault(d.year, {})[d] = o.is_working_day
        self._years: dict[int, tuple[int, ...]] = {}

    # -- introspection

    @property
    def overrides(self) -> Mapping[date, CalendarOverride]:
        return dict(self._overrides)

    @property
    def confirmed_years(self) -> frozenset[int]:
        return self._confirmed_years

    def note(self, d: date) -> str | None:
        """The office note of the override on ``d`` (None without override)."""
        o = self._overrides.get(d)
        return None if o is None else o.note

    # -- per-year table

    def _year(self, year: int) -> tuple[int, ...]:
        table = self._years.get(year)
        if table is None:
            _check_year(year)
            table = _base_working_ordinals(year)
            changes = self._by_year.get(year)
            if changes:
                working = set(table)
                for d, is_working in changes.items():
                    if is_working:
                        working.add(d.toordinal())
                    else:
                        working.discard(d.toordinal())
                table = tuple(sorted(working))
            self._years[year] = table
        return table

    # -- queries

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            raise TypeError("pass a business date (use business_date() for instants)")
        table = self._year(d.year)
        o = d.toordinal()
        i = bisect_left(table, o)
        return i < len(table) and table[i] == o

    def working_days_in_year(self, year: int) -> int:
        return len(self._year(year))

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (before it when ``n`` < 0).

        ``start`` itself is never counted, whether or not it is a working
        day: ``add_working_days(friday, 1)`` is the next Monday on an ordinary
        week, ``add_working_days(d, -1)`` the last working day before ``d``.
        ``n`` must not be 0 (use :meth:`is_working_day` /
        :meth:`next_working_day`).
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("n must be an int")
        if n == 0:
            raise ValueError("n must be non-zero; the start day is never counted")
        year = start.year
        table = self._year(year)
        o = start.toordinal()
        if n > 0:
            idx = bisect_right(table, o)  # first working day > start
            remaining = n
            while idx + remaining > len(table):
                remaining -= len(table) - idx
                year += 1
                if year > MAX_YEAR:
                    raise ValueError("日期超出工作日历支持的范围")
                table = self._year(year)
                idx = 0
            return date.fromordinal(table[idx + remaining - 1])
        idx = bisect_left(table, o)  # number of working days < start in this year
        remaining = -n
        while remaining > idx:
            remaining -= idx
            year -= 1
            if year < MIN_YEAR:
                raise ValueError("日期超出工作日历支持的范围")
            table = self._year(year)
            idx = len(table)
        return date.fromordinal(table[idx - remaining])

    def next_working_day(self, d: date, *, inclusive: bool = False) -> date:
        """The first working day after ``d`` (``d`` itself too when ``inclusive``)."""
        if inclusive and self.is_working_day(d):
            return d
        return self.add_working_days(d, 1)

    def previous_working_day(self, d: date, *, inclusive: bool = False) -> date:
        """The last working day before ``d`` (``d`` itself too when ``inclusive``)."""
        if inclusive and self.is_working_day(d):
            return d
        return self.add_working_days(d, -1)

    def _count_through(self, d: date) -> tuple[int, int]:
        """(year, working days of that year on or before ``d``)."""
        return d.year, bisect_right(self._year(d.year), d.toordinal())

    def _count_between_forward(self, a: date, b: date) -> int:
        # working days in (a, b], a <= b
        ya, ca = self._count_through(a)
        yb, cb = self._count_through(b)
        total = cb - ca
        for y in range(ya, yb):
            total += len(self._year(y))
        return total

    def working_days_between(self, a: date, b: date) -> int:
        """Working days from ``a`` to ``b``, ``a`` excluded and ``b`` included.

        For ``b >= a`` this is the number of working days in ``(a, b]``; for
        ``b < a`` it is minus the number in ``[b, a)``, so that
        ``working_days_between(d, add_working_days(d, n)) == n``.
        """
        if b >= a:
            return self._count_between_forward(a, b)
        # [b, a) == (b - 1 day, a - 1 day]
        one = timedelta(days=1)
        return -self._count_between_forward(b - one, a - one)

    # -- warnings

    def is_year_confirmed(self, year: int) -> bool:
        """Whether the make-up schedule of ``year`` is known (see the module rule)."""
        if is_official_year(year) or year in self._confirmed_years:
            return True
        return any(
            is_working and d.weekday() >= 5
            for d, is_working in self._by_year.get(year, {}).items()
        )

    def unconfirmed_years(self, years: Iterable[int]) -> list[int]:
        """Sorted distinct years among ``years`` that still need a warning."""
        return sorted({int(y) for y in years if not self.is_year_confirmed(int(y))})

    def calendar_warnings(self, years: Iterable[int]) -> list[CalendarWarning]:
        return [CalendarWarning(y, warning_message(y)) for y in self.unconfirmed_years(years)]

    def warnings(self, years: Iterable[int]) -> list[str]:
        """Chinese warning texts for the years among ``years`` that need one."""
        return [w.message for w in self.calendar_warnings(years)]

    def warnings_for_range(self, start: date, end: date) -> list[str]:
        """Warnings for every year touched by the dates ``start``..``end``."""
        lo, hi = sorted((start.year, end.year))
        return self.warnings(range(lo, hi + 1))


DEFAULT_CALENDAR = WorkingCalendar()
