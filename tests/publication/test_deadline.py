from __future__ import annotations

from datetime import datetime, time

from inspect_api.clock import SHANGHAI
from inspect_api.notify.models import Notification
from inspect_api.publication import deadlines, results, sources
from inspect_api.publication.models import PublicationDeadline
from inspect_api.workdays import business_date


def _at(d):
    return datetime.combine(d, time(9, 0), tzinfo=SHANGHAI)


def _steps(ins):
    return [s.code for s in PublicationDeadline.objects.get(inspection_id=str(ins.id)).steps]


def test_deadline_is_20_working_days_after_conclusion(app, world):
    ins = world.inspect("a", days_ago=3)
    assert PublicationDeadline.objects(inspection_id=str(ins.id)).count() == 1  # the submission hook
    # The sweep's safety net recreates a tracker that a submission's hook never wrote (a crash between the two).
    PublicationDeadline.objects(inspection_id=str(ins.id)).delete()
    stats = deadlines.sweep_publication_deadlines(world.now)
    assert stats["trackers_created"] == 1
    tracker = PublicationDeadline.objects.get(inspection_id=str(ins.id))
    cal = sources.working_calendar()
    concluded = business_date(ins.submitted_at)
    assert sources.as_date(tracker.deadline) == cal.add_working_days(concluded, 20)
    assert cal.working_days_between(concluded, sources.as_date(tracker.deadline)) in (19, 20)


def test_ladder_steps_each_exactly_once_with_catch_up(app, world):
    ins = world.inspect("a", days_ago=3)
    deadlines.sweep_publication_deadlines(world.now)
    tracker = PublicationDeadline.objects.get(inspection_id=str(ins.id))
    deadline = sources.as_date(tracker.deadline)
    cal = sources.working_calendar()

    deadlines.sweep_publication_deadlines(_at(cal.add_working_days(deadline, -4)))
    assert _steps(ins) == []
    reminder_day = _at(cal.add_working_days(deadline, -3))
    deadlines.sweep_publication_deadlines(reminder_day)
    deadlines.sweep_publication_deadlines(reminder_day)  # repeated sweep: nothing new
    assert _steps(ins) == ["reminder"]
    reminders = Notification.objects(kind="publication.reminder")
    # the ladder's reminder goes to the institution: for a result, the office of its region stands in
    assert {n.user_id for n in reminders} == {str(world.county_office.id)}
    assert all(ins.code in n.title and "不超过 3 个工作日" in n.body for n in reminders)
    assert str(world.other_office.id) not in {n.user_id for n in Notification.objects}

    # downtime: the next sweep comes 10 working days after the deadline and catches up every step once
    late = _at(cal.add_working_days(deadline, 10))
    first = deadlines.sweep_publication_deadlines(late)
    again = deadlines.sweep_publication_deadlines(late)
    assert _steps(ins) == ["reminder", "warning", "department", "office"]
    assert first["steps"] == 3 and again["steps"] == 0
    for kind in ("publication.warning", "publication.department", "publication.office"):
        assert Notification.objects(kind=kind, user_id=str(world.county_office.id)).count() == 1, kind
    for kind in ("publication.department", "publication.office"):  # the city office supervises the county
        assert Notification.objects(kind=kind, user_id=str(world.office.id)).count() == 1, kind
    assert "逾期已达 10 个工作日" in Notification.objects(kind="publication.office").first().body
    tracker.reload()
    assert tracker.overdue is True and tracker.next_step_due is None and not tracker.notify_pending


def test_publishing_stops_the_ladder(app, world):
    ins = world.inspect("a", days_ago=3)
    deadlines.sweep_publication_deadlines(world.now)
    deadline = sources.as_date(PublicationDeadline.objects.get(inspection_id=str(ins.id)).deadline)
    results.publish(world.office, str(ins.id), now=world.now)
    cal = sources.working_calendar()
    stats = deadlines.sweep_publication_deadlines(_at(cal.add_working_days(deadline, 12)))
    assert stats["steps"] == 0 and _steps(ins) == []
    assert Notification.objects(kind__startswith="publication.").count() == 0


def test_unsubmitted_inspections_are_not_tracked(app, world):
    world.inspect("draft", state="checked_in")
    assert deadlines.sweep_publication_deadlines(world.now)["trackers_created"] == 0
    assert PublicationDeadline.objects.count() == 0


def test_sweep_requires_aware_time(app):
    import pytest

    with pytest.raises(ValueError):
        deadlines.sweep_publication_deadlines(datetime(2026, 11, 23, 9, 0))


def test_pending_publications_api(client, world, as_user):
    old = world.inspect("old", days_ago=60)
    fresh = world.inspect("fresh", days_ago=2)
    world.inspect("draft", state="checked_in")
    headers = as_user(world.office)
    body = client.get("/api/v1/publication/pending", headers=headers).get_json()
    assert [i["inspection_id"] for i in body["items"]] == [str(old.id), str(fresh.id)]
    assert body["items"][0]["overdue"] is True and body["items"][1]["overdue"] is False
    client.post(f"/api/v1/inspections/{old.id}/publish", json={}, headers=headers)
    body = client.get("/api/v1/publication/pending", headers=headers).get_json()
    assert [i["inspection_id"] for i in body["items"]] == [str(fresh.id)]
    assert client.get("/api/v1/publication/pending", headers=as_user(world.other_office)).get_json()["total"] == 0
    assert client.get("/api/v1/publication/pending", headers=as_user(world.inspector_user)).status_code == 403


CUSTOM_LADDER = [
    {"code": "reminder", "offset_working_days": -5, "recipients": ["institution"], "title": "整改期限五日提醒"},
    {"code": "warning", "offset_working_days": 2, "recipients": ["institution", "lead_inspector"],
     "title": "逾期两日警示"},
    {"code": "department", "offset_working_days": 7, "recipients": ["department"], "title": "逾期七日升级"},
    {"code": "escalate_province", "offset_working_days": 15, "recipients": ["leadership_office"],
     "title": "逾期十五日升级", "preselect_for_notice": True},
]


def test_publication_deadline_follows_the_configured_ladder(app_factory):
    """[[ladder]] drives the publication deadline too: same steps and offsets, offices as recipients."""
    from tests.publication.world import build_world

    app = app_factory(ladder=CUSTOM_LADDER)
    with app.app_context():
        world = build_world()
        ins = world.inspect("a", days_ago=3)
        deadlines.sweep_publication_deadlines(world.now)
        tracker = PublicationDeadline.objects.get(inspection_id=str(ins.id))
        deadline = sources.as_date(tracker.deadline)
        cal = sources.working_calendar()
        assert sources.as_date(tracker.next_step_due) == cal.add_working_days(deadline, -5)

        deadlines.sweep_publication_deadlines(_at(cal.add_working_days(deadline, -6)))
        assert _steps(ins) == []
        deadlines.sweep_publication_deadlines(_at(cal.add_working_days(deadline, -5)))
        assert _steps(ins) == ["reminder"]
        reminder = Notification.objects.get(kind="publication.reminder")
        assert reminder.user_id == str(world.county_office.id)
        assert "不超过 5 个工作日" in reminder.body and "3 个工作日" not in reminder.body

        late = _at(cal.add_working_days(deadline, 15))
        for _ in range(3):
            deadlines.sweep_publication_deadlines(late)
        tracker.reload()
        assert [s.code for s in tracker.steps] == ["reminder", "warning", "department", "escalate_province"]
        assert [s.due for s in tracker.steps] == [cal.add_working_days(deadline, d) for d in (-5, 2, 7, 15)]
        assert [s.recipients for s in tracker.steps] == [["county_office"], ["county_office"], ["department"],
                                                         ["leadership_office"]]
        department = Notification.objects.get(kind="publication.department")
        assert department.user_id == str(world.office.id) and "逾期已达 7 个工作日" in department.body
        custom = Notification.objects.get(kind="publication.step")
        assert custom.user_id == str(world.office.id) and "逾期 15 个工作日仍未公开" in custom.title
        assert Notification.objects(kind__startswith="publication.").count() == 4
