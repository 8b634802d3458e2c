"""The escalation ladder: due dates on the real calendar, config validation, catch-up."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from inspect_api.rectification.ladder import (
    DEFAULT_LADDER,
    RECIPIENTS,
    Ladder,
    LadderConfigError,
    LadderStep,
    due_date,
    due_steps,
    next_due_date,
)
from inspect_api.workdays import WorkingCalendar

D = date
CAL = WorkingCalendar()
CODES = ["reminder", "warning", "department", "office"]


def codes(steps):
    return [s.code for s in steps]


def valid_config():
    return copy.deepcopy(DEFAULT_LADDER.to_config())


# --- the default ladder ---------------------------------------------------------------


def test_default_ladder_matches_the_design():
    assert list(DEFAULT_LADDER.codes) == CODES
    offsets = [s.offset_working_days for s in DEFAULT_LADDER]
    assert offsets == [-3, 1, 5, 10]
    warning = DEFAULT_LADDER.step("warning")
    assert set(warning.recipients) == {"institution", "lead_inspector", "county_office"}
    assert "department" in DEFAULT_LADDER.step("department").recipients
    office = DEFAULT_LADDER.step("office")
    assert "leadership_office" in office.recipients
    assert office.preselect_for_notice is True
    assert [s.preselect_for_notice for s in DEFAULT_LADDER] == [False, False, False, True]
    assert all(s.title for s in DEFAULT_LADDER)
    with pytest.raises(KeyError):
        DEFAULT_LADDER.step("nope")


def test_due_dates_around_national_day_2025():
    deadline = D(2025, 9, 30)  # Tuesday before the 1-8 October holiday
    sched = {s.code: d for s, d in DEFAULT_LADDER.schedule(deadline, CAL)}
    # 3 working days before: 29 Sep (Mon), 28 Sep (Sun, make-up day), 26 Sep (Fri).
    assert sched["reminder"] == D(2025, 9, 26)
    # First overdue working day is after the holiday.
    assert sched["warning"] == D(2025, 10, 9)
    # 9, 10, 11 (Saturday make-up day), 13, 14 October.
    assert sched["department"] == D(2025, 10, 14)
    assert sched["office"] == D(2025, 10, 21)
    for step in DEFAULT_LADDER:
        assert due_date(step, deadline, CAL) == sched[step.code]


def test_due_dates_around_spring_festival_2026():
    deadline = D(2026, 2, 13)  # Friday; 14 Feb is a Saturday make-up day
    sched = {s.code: d for s, d in DEFAULT_LADDER.schedule(deadline, CAL)}
    assert sched == {
        "reminder": D(2026, 2, 10),
        "warning": D(2026, 2, 14),
        "department": D(2026, 2, 27),
        "office": D(2026, 3, 5),
    }


def test_due_dates_in_an_uncovered_year_use_the_fallback():
    sched = {s.code: d for s, d in DEFAULT_LADDER.schedule(D(2027, 2, 4), CAL)}
    assert sched["warning"] == D(2027, 2, 11)  # after Spring Festival 5-10 Feb
    assert sched["department"] == D(2027, 2, 17)


def test_due_dates_follow_overrides():
    cal = WorkingCalendar({D(2025, 10, 8): True})
    assert due_date(DEFAULT_LADDER.step("warning"), D(2025, 9, 30), cal) == D(2025, 10, 8)


def test_zero_offset_is_the_deadline_itself():
    ladder = Ladder.from_config([
        {"code": "due_today", "offset_working_days": 0, "recipients": ["institution"],
         "title": "今日为整改期限"},
        {"code": "late", "offset_working_days": 2, "recipients": ["county_office"],
         "title": "逾期"},
    ])
    assert due_date(ladder.step("due_today"), D(2025, 10, 3), CAL) == D(2025, 10, 3)
    assert codes(ladder.due_steps(D(2025, 10, 3), D(2025, 10, 3), set(), CAL)) == ["due_today"]
    assert ladder.step("due_today").preselect_for_notice is False


# --- due_steps and next_due_date ------------------------------------------------------


def test_nothing_due_before_the_reminder():
    assert due_steps(D(2025, 9, 30), D(2025, 9, 25), set(), CAL) == []
    assert codes(due_steps(D(2025, 9, 30), D(2025, 9, 26), set(), CAL)) == ["reminder"]
    # Between reminder and warning (the holiday): still only the reminder.
    assert codes(due_steps(D(2025, 9, 30), D(2025, 10, 8), set(), CAL)) == ["reminder"]
    assert due_steps(D(2025, 9, 30), D(2025, 10, 8), {"reminder"}, CAL) == []


def test_catch_up_after_a_long_gap_returns_each_missed_step_once_in_order():
    deadline = D(2025, 9, 30)
    today = D(2025, 12, 1)
    first = due_steps(deadline, today, set(), CAL)
    assert codes(first) == CODES
    done = set(codes(first))
    assert due_steps(deadline, today, done, CAL) == []
    assert due_steps(deadline, today + timedelta(days=400), done, CAL) == []
    # Partly done before the downtime.
    assert codes(due_steps(deadline, today, {"reminder", "warning"}, CAL)) == ["department", "office"]


def test_already_done_steps_are_never_returned():
    deadline = D(2025, 9, 30)
    for done in ({"warning"}, {"office"}, {"reminder", "office"}):
        got = codes(due_steps(deadline, D(2026, 1, 1), done, CAL))
        assert not set(got) & done
        assert got == [c for c in CODES if c not in done]


def test_unknown_done_codes_are_ignored_and_strings_refused():
    assert codes(due_steps(D(2025, 9, 30), D(2025, 10, 9), {"retired_step"}, CAL)) == [
        "reminder", "warning"]
    with pytest.raises(TypeError):
        due_steps(D(2025, 9, 30), D(2025, 10, 9), "reminder", CAL)


def test_next_due_date_walks_the_ladder():
    deadline = D(2025, 9, 30)
    assert next_due_date(deadline, set(), CAL) == D(2025, 9, 26)
    assert next_due_date(deadline, {"reminder"}, CAL) == D(2025, 10, 9)
    assert next_due_date(deadline, {"reminder", "warning"}, CAL) == D(2025, 10, 14)
    assert next_due_date(deadline, {"reminder", "warning", "department"}, CAL) == D(2025, 10, 21)
    assert next_due_date(deadline, set(CODES), CAL) is None
    # An out-of-order record still yields the earliest pending step.
    assert next_due_date(deadline, {"warning"}, CAL) == D(2025, 9, 26)


def test_custom_ladder_is_used_by_module_functions():
    ladder = Ladder.from_config([
        {"code": "late", "offset_working_days": 1, "recipients": ["institution"], "title": "逾期"},
    ])
    assert codes(due_steps(D(2025, 9, 30), D(2025, 10, 9), set(), CAL, ladder=ladder)) == ["late"]
    assert next_due_date(D(2025, 9, 30), set(), CAL, ladder=ladder) == D(2025, 10, 9)


# --- configuration --------------------------------------------------------------------


def test_config_round_trips():
    again = Ladder.from_config(valid_config())
    assert again == DEFAULT_LADDER
    assert isinstance(again.steps[0], LadderStep)
    assert len(again) == 4


def _broken(mutate):
    cfg = valid_config()
    mutate(cfg)
    with pytest.raises(LadderConfigError) as info:
        Ladder.from_config(cfg)
    err = info.value
    assert err.code == "LADDER_CONFIG_INVALID"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message)  # Chinese text
    return err


def test_duplicate_codes_are_refused():
    def dup(cfg):
        cfg[2]["code"] = "warning"
    err = _broken(dup)
    assert "重复" in err.message and err.details["index"] == 2


def test_offsets_must_strictly_increase():
    def equal(cfg):
        cfg[2]["offset_working_days"] = 1
    err = _broken(equal)
    assert "递增" in err.message and err.details["field"] == "offset_working_days"

    def swapped(cfg):
        cfg[0], cfg[1] = cfg[1], cfg[0]
    _broken(swapped)


def test_unknown_recipient_is_refused():
    def bad(cfg):
        cfg[1]["recipients"] = ["institution", "mayor"]
    err = _broken(bad)
    assert "mayor" in err.message and err.details == {"index": 1, "field": "recipients"}


@pytest.mark.parametrize("mutate, field", [
    (lambda c: c[0].pop("code"), "code"),
    (lambda c: c[0].pop("title"), "title"),
    (lambda c: c[0].pop("recipients"), "recipients"),
    (lambda c: c[0].pop("offset_working_days"), "offset_working_days"),
    (lambda c: c[0].update(code="Reminder!"), "code"),
    (lambda c: c[0].update(code=3), "code"),
    (lambda c: c[0].update(offset_working_days="3"), "offset_working_days"),
    (lambda c: c[0].update(offset_working_days=True), "offset_working_days"),
    (lambda c: c[0].update(offset_working_days=2.5), "offset_working_days"),
    (lambda c: c[0].update(offset_working_days=-1000), "offset_working_days"),
    (lambda c: c[0].update(recipients=[]), "recipients"),
    (lambda c: c[0].update(recipients="institution"), "recipients"),
    (lambda c: c[0].update(recipients=["institution", "institution"]), "recipients"),
    (lambda c: c[0].update(preselect_for_notice="yes"), "preselect_for_notice"),
    (lambda c: c[0].update(title="  "), "title"),
])
def test_bad_step_fields_are_refused(mutate, field):
    err = _broken(mutate)
    assert err.details["index"] == 0
    assert err.details["field"] == field


def test_unknown_keys_and_bad_shapes_are_refused():
    err = _broken(lambda c: c[3].update(delay=2))
    assert "delay" in err.message and err.details["index"] == 3
    _broken(lambda c: c.__setitem__(1, "warning"))
    for bad in ([], {}, "reminder", None, 5):
        with pytest.raises(LadderConfigError):
            Ladder.from_config(bad)


def test_direct_construction_is_validated_too():
    step = DEFAULT_LADDER.step("warning")
    with pytest.raises(LadderConfigError):
        Ladder((step, step))
    with pytest.raises(LadderConfigError):
        Ladder((LadderStep("x", 1, ("nobody",), "标题"),))
    with pytest.raises(LadderConfigError):
        Ladder(())


def test_recipient_keys_have_chinese_labels():
    assert set(RECIPIENTS) == {"institution", "lead_inspector", "county_office", "department",
                               "leadership_office"}


# --- properties -----------------------------------------------------------------------

deadlines = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))


@settings(max_examples=200, deadline=None)
@given(deadlines, st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=12),
       st.integers(min_value=-20, max_value=0))
def test_sweeps_with_increasing_today_return_each_due_step_exactly_once(deadline, gaps, start):
    today = deadline + timedelta(days=start)
    done: set[str] = set()
    returned: list[str] = []
    for gap in gaps:
        today += timedelta(days=gap)
        got = DEFAULT_LADDER.due_steps(deadline, today, done, CAL)
        # in ladder order, nothing already done
        assert codes(got) == [c for c in CODES if c in codes(got)]
        assert not set(codes(got)) & done
        returned.extend(codes(got))
        done.update(codes(got))
        nxt = DEFAULT_LADDER.next_due_date(deadline, done, CAL)
        assert nxt is None or nxt > today
    expected = {s.code for s, d in DEFAULT_LADDER.schedule(deadline, CAL) if d <= today}
    assert len(returned) == len(set(returned))
    assert set(returned) == expected


@settings(max_examples=200, deadline=None)
@given(deadlines)
def test_due_dates_never_decrease_and_land_on_working_days(deadline):
    sched = DEFAULT_LADDER.schedule(deadline, CAL)
    dates = [d for _, d in sched]
    assert dates == sorted(dates)
    assert all(CAL.is_working_day(d) for d in dates)
    assert all(d < deadline for s, d in sched if s.offset_working_days < 0)
    assert all(d > deadline for s, d in sched if s.offset_working_days > 0)
