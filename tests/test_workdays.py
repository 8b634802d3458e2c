"""The working-day calendar: official facts, overrides, fallback years, arithmetic.

The fallback tests use 2027 and 2028, which chinesecalendar 1.11 does not
cover; a release covering them will make those tests fail loudly (move them
to a later year then).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings, strategies as st

from inspect_api.workdays import (
    SHANGHAI,
    CalendarOverride,
    CalendarWarning,
    WorkingCalendar,
    business_date,
    is_official_year,
    uncovered_years,
    warning_message,
)

D = date
CAL = WorkingCalendar()


def naive_add(cal: WorkingCalendar, start: date, n: int) -> date:
    """Reference implementation: walk day by day."""
    step = timedelta(days=1 if n > 0 else -1)
    d, left = start, abs(n)
    while left:
        d += step
        if cal.is_working_day(d):
            left -= 1
    return d


# --- official calendar (chinese_calendar) ------------------------------------------


def test_national_day_2025_is_off_and_makeup_days_work():
    for day in range(1, 9):
        assert not CAL.is_working_day(D(2025, 10, day)), day
    assert CAL.is_working_day(D(2025, 9, 28))  # Sunday, make-up working day
    assert CAL.is_working_day(D(2025, 10, 11))  # Saturday, make-up working day
    assert CAL.is_working_day(D(2025, 9, 30))
    assert CAL.is_working_day(D(2025, 10, 9))
    assert not CAL.is_working_day(D(2025, 9, 27))  # ordinary Saturday


def test_spring_festival_2026():
    for day in range(15, 24):
        assert not CAL.is_working_day(D(2026, 2, day)), day
    assert CAL.is_working_day(D(2026, 2, 14))  # Saturday make-up day
    assert CAL.is_working_day(D(2026, 2, 28))  # Saturday make-up day
    assert CAL.is_working_day(D(2026, 2, 24))


def test_official_coverage_detection():
    assert is_official_year(2004) and is_official_year(2025) and is_official_year(2026)
    assert not is_official_year(2027)
    assert uncovered_years([2026, 2028, 2027, 2027, 2025]) == [2027, 2028]
    assert CAL.warnings([2024, 2025, 2026]) == []


# --- overrides ------------------------------------------------------------------------


def test_override_makes_a_holiday_a_working_day_and_a_working_day_off():
    cal = WorkingCalendar({D(2025, 10, 8): True,
                           D(2025, 10, 9): CalendarOverride(False, "临时停电闭馆")})
    assert cal.is_working_day(D(2025, 10, 8))
    assert not cal.is_working_day(D(2025, 10, 9))
    assert cal.note(D(2025, 10, 9)) == "临时停电闭馆"
    assert cal.note(D(2025, 10, 8)) == ""
    assert cal.note(D(2025, 10, 10)) is None
    # Arithmetic follows the overrides.
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 8)
    assert cal.add_working_days(D(2025, 9, 30), 2) == D(2025, 10, 10)
    assert cal.working_days_between(D(2025, 9, 30), D(2025, 10, 10)) == 2
    # The shared default calendar is untouched.
    assert not CAL.is_working_day(D(2025, 10, 8))
    assert CAL.is_working_day(D(2025, 10, 9))


def test_override_ordinary_weekend_and_weekday():
    cal = WorkingCalendar({D(2025, 11, 15): True, D(2025, 11, 17): False})
    assert cal.is_working_day(D(2025, 11, 15))  # Saturday
    assert not cal.is_working_day(D(2025, 11, 17))  # Monday
    assert cal.add_working_days(D(2025, 11, 14), 1) == D(2025, 11, 15)
    assert cal.add_working_days(D(2025, 11, 15), 1) == D(2025, 11, 18)


def test_bad_override_values_are_refused():
    with pytest.raises(TypeError):
        WorkingCalendar({D(2025, 1, 1): "yes"})
    with pytest.raises(TypeError):
        WorkingCalendar({datetime(2025, 1, 1, tzinfo=timezone.utc): True})
    with pytest.raises(TypeError):
        WorkingCalendar({"2025-01-01": True})


# --- fallback years -------------------------------------------------------------------


def test_uncovered_year_falls_back_to_statutory_holidays():
    # Spring Festival 2027: Saturday 6 February; eve Friday 5 February.
    for day in range(5, 11):
        assert not CAL.is_working_day(D(2027, 2, day)), day
    assert CAL.is_working_day(D(2027, 2, 4))
    assert CAL.is_working_day(D(2027, 2, 11))
    # National Day and New Year.
    assert not CAL.is_working_day(D(2027, 10, 1))
    assert not CAL.is_working_day(D(2027, 1, 1))
    assert not CAL.is_working_day(D(2028, 1, 26))  # Spring Festival 2028
    # Ordinary weekends are off, ordinary weekdays work (no make-up days known).
    assert not CAL.is_working_day(D(2027, 3, 6))
    assert not CAL.is_working_day(D(2027, 3, 7))
    assert CAL.is_working_day(D(2027, 3, 8))
    assert not CAL.is_working_day(D(2028, 6, 10))
    assert CAL.is_working_day(D(2028, 6, 12))


def test_uncovered_year_warning_until_confirmed():
    assert CAL.warnings([2026, 2027]) == ["2027 年的调休安排尚未录入，请办公室核对并补录调休工作日"]
    ws = CAL.calendar_warnings([2028, 2027])
    assert [w.year for w in ws] == [2027, 2028]
    assert all(isinstance(w, CalendarWarning) and str(w) == warning_message(w.year) for w in ws)

    # A weekday marked off, or a weekend marked off, does not confirm the year.
    partial = WorkingCalendar({D(2027, 2, 11): False, D(2027, 2, 13): False})
    assert partial.unconfirmed_years([2027]) == [2027]
    # A weekend make-up working day does.
    makeup = WorkingCalendar({D(2027, 2, 20): True})
    assert makeup.warnings([2027, 2028]) == [warning_message(2028)]
    assert makeup.is_working_day(D(2027, 2, 20))
    # So does the explicit per-year flag.
    flagged = WorkingCalendar(confirmed_years=[2028])
    assert flagged.warnings([2027, 2028]) == [warning_message(2027)]
    assert flagged.warnings_for_range(D(2026, 12, 1), D(2028, 2, 1)) == [warning_message(2027)]


def test_arithmetic_crosses_into_an_uncovered_year():
    # 2026-12-31 Thursday; 2027-01-01 holiday; then the weekend.
    assert CAL.add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)
    assert CAL.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 4)
    assert CAL.add_working_days(D(2027, 1, 4), -1) == D(2026, 12, 31)
    assert CAL.working_days_between(D(2026, 12, 30), D(2027, 1, 4)) == 2


# --- arithmetic -----------------------------------------------------------------------


def test_add_working_days_across_national_day():
    assert CAL.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert CAL.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert CAL.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert CAL.add_working_days(D(2025, 10, 3), 1) == D(2025, 10, 9)  # start on a holiday


def test_add_working_days_backwards():
    assert CAL.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert CAL.add_working_days(D(2025, 10, 9), -3) == D(2025, 9, 28)
    assert CAL.add_working_days(D(2025, 10, 5), -1) == D(2025, 9, 30)  # start on a holiday
    assert CAL.add_working_days(D(2025, 1, 2), -1) == D(2024, 12, 31)


def test_start_day_is_not_counted():
    monday = D(2025, 11, 17)
    assert CAL.add_working_days(monday, 1) == D(2025, 11, 18)
    assert CAL.add_working_days(monday, -1) == D(2025, 11, 14)
    assert CAL.working_days_between(monday, monday) == 0
    assert CAL.working_days_between(D(2025, 11, 14), monday) == 1
    assert CAL.working_days_between(monday, D(2025, 11, 14)) == -1


def test_next_and_previous_working_day():
    assert CAL.next_working_day(D(2025, 10, 1)) == D(2025, 10, 9)
    assert CAL.next_working_day(D(2025, 10, 9)) == D(2025, 10, 10)
    assert CAL.next_working_day(D(2025, 10, 9), inclusive=True) == D(2025, 10, 9)
    assert CAL.next_working_day(D(2025, 10, 1), inclusive=True) == D(2025, 10, 9)
    assert CAL.previous_working_day(D(2025, 10, 1)) == D(2025, 9, 30)
    assert CAL.previous_working_day(D(2025, 9, 30), inclusive=True) == D(2025, 9, 30)


def test_bad_arguments():
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2025, 1, 2), 0)
    with pytest.raises(TypeError):
        CAL.add_working_days(D(2025, 1, 2), 1.0)
    with pytest.raises(TypeError):
        CAL.add_working_days(D(2025, 1, 2), True)
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2025, 1, 2, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        CAL.add_working_days(D(9998, 12, 31), 400)


def test_long_spans_and_year_counts():
    far = CAL.add_working_days(D(2025, 1, 1), 2000)
    assert CAL.working_days_between(D(2025, 1, 1), far) == 2000
    # Back again lands on the last working day on or before the start.
    assert CAL.add_working_days(far, -2000) == D(2024, 12, 31)
    assert CAL.add_working_days(far, -2000) == CAL.previous_working_day(D(2025, 1, 1), inclusive=True)
    total = sum(CAL.working_days_in_year(y) for y in (2025, 2026))
    assert CAL.working_days_between(D(2024, 12, 31), D(2026, 12, 31)) == total
    assert 240 <= CAL.working_days_in_year(2025) <= 252


def test_business_date_uses_shanghai():
    assert SHANGHAI.key == "Asia/Shanghai"
    assert business_date(datetime(2025, 9, 30, 15, 59, tzinfo=timezone.utc)) == D(2025, 9, 30)
    assert business_date(datetime(2025, 9, 30, 16, 0, tzinfo=timezone.utc)) == D(2025, 10, 1)
    assert business_date(datetime(2025, 9, 30, 16, 0)) == D(2025, 10, 1)  # naive = UTC
    assert business_date(datetime(2025, 10, 1, 0, 30, tzinfo=SHANGHAI)) == D(2025, 10, 1)


# --- properties -----------------------------------------------------------------------

dates = st.dates(min_value=D(2003, 6, 1), max_value=D(2028, 12, 31))
steps = st.integers(min_value=-700, max_value=700).filter(lambda n: n != 0)


@settings(max_examples=300, deadline=None)
@given(dates, steps)
def test_add_then_count_round_trips(d, n):
    r = CAL.add_working_days(d, n)
    assert CAL.is_working_day(r)
    assert CAL.working_days_between(d, r) == n
    assert (r > d) == (n > 0)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=-400, max_value=399))
def test_add_is_strictly_monotonic_in_n(d, n):
    assume(n != 0 and n + 1 != 0)
    assert CAL.add_working_days(d, n) < CAL.add_working_days(d, n + 1)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=-40, max_value=40).filter(lambda n: n != 0))
def test_add_matches_day_by_day_walk(d, n):
    assert CAL.add_working_days(d, n) == naive_add(CAL, d, n)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=-120, max_value=120))
def test_between_is_consistent_with_counting(a, delta):
    b = a + timedelta(days=delta)
    lo, hi = sorted((a, b))
    count = sum(1 for i in range(1, (hi - lo).days + 1)
                if CAL.is_working_day(lo + timedelta(days=i)))
    if a <= b:
        assert CAL.working_days_between(a, b) == count
    else:
        # [b, a) excluded a, included b
        inner = sum(1 for i in range(0, (a - b).days) if CAL.is_working_day(b + timedelta(days=i)))
        assert CAL.working_days_between(a, b) == -inner


overrides = st.dictionaries(
    st.dates(min_value=D(2026, 11, 1), max_value=D(2027, 3, 31)), st.booleans(), max_size=30)


@settings(max_examples=150, deadline=None)
@given(overrides, st.dates(min_value=D(2026, 11, 1), max_value=D(2027, 3, 31)),
       st.integers(min_value=-30, max_value=30).filter(lambda n: n != 0))
def test_overrides_always_win_and_arithmetic_follows_them(ov, d, n):
    cal = WorkingCalendar(ov)
    for day, working in ov.items():
        assert cal.is_working_day(day) is working
    r = cal.add_working_days(d, n)
    assert r == naive_add(cal, d, n)
    assert cal.working_days_between(d, r) == n
