"""Escalation messages quote the configured ladder's offsets, not fixed numbers."""

from __future__ import annotations

from datetime import datetime, time

from inspect_api.calendar.service import current_calendar
from inspect_api.notify.models import Notification
from inspect_api.notify.templates import render
from inspect_api.rectification import escalation
from inspect_api.rectification import service as rs
from inspect_api.workdays import SHANGHAI
from tests.notify.world import build, finding

LADDER = [
    {"code": "reminder", "offset_working_days": -5, "recipients": ["institution"], "title": "整改期限五日提醒"},
    {"code": "warning", "offset_working_days": 2, "recipients": ["institution", "county_office"],
     "title": "逾期两日警示"},
    {"code": "department", "offset_working_days": 7, "recipients": ["department"], "title": "逾期七日升级"},
    {"code": "office", "offset_working_days": 12, "recipients": ["leadership_office"], "title": "逾期十二日升级"},
]


def at(d, hour=9):
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def test_step_messages_use_the_configured_offsets(app_factory, make_user):
    app = app_factory(ladder=LADDER)
    with app.app_context():
        w = build(make_user)
        cal = current_calendar()
        f = rs.findings_of(w.open([finding("A1", "minor", 30)]))[0]
        escalation.run_sweep(at(cal.add_working_days(f.deadline, -5)))
        reminder = Notification.objects.get(kind="rectification.reminder")
        assert "不超过 5 个工作日" in reminder.body and "3 个工作日" not in reminder.body
        escalation.run_sweep(at(cal.add_working_days(f.deadline, 12)))
        department = Notification.objects(kind="rectification.department").first()
        assert "逾期已达 7 个工作日" in department.body and "5 个工作日" not in department.body
        office = Notification.objects(kind="rectification.office").first()
        assert "逾期已达 12 个工作日" in office.body and "10 个工作日" not in office.body
        # this ladder's office step does not pre-select the finding, so the message does not claim it
        assert "通报" not in office.body
        f.reload()
        assert [s.offset_working_days for s in f.steps] == [-5, 2, 7, 12]


def test_default_ladder_texts_keep_their_numbers(app, make_user):
    w = build(make_user)
    cal = current_calendar()
    f = rs.findings_of(w.open([finding("A1", "minor", 30)]))[0]
    escalation.run_sweep(at(cal.add_working_days(f.deadline, 10)))
    assert "不超过 3 个工作日" in Notification.objects(kind="rectification.reminder").first().body
    assert "逾期已达 5 个工作日" in Notification.objects(kind="rectification.department").first().body
    office = Notification.objects(kind="rectification.office").first().body
    assert "逾期已达 10 个工作日" in office and "已拟列入下期问题通报" in office
    # unknown parameters render empty rather than failing
    assert render("rectification.reminder", {})[1].startswith("：问题")
