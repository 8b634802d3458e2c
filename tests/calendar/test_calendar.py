"""GET/PUT /api/v1/calendar/overrides and warnings; the cached calendar follows changes."""

from __future__ import annotations

from datetime import date

from inspect_api.audit.models import AuditEvent
from inspect_api.calendar import service as cal
from tests.conftest import assert_error


def test_put_and_get_overrides_changes_current_calendar(client, login, make_user):
    office = login(make_user("office_admin", "370300", username="cityoffice"))
    assert cal.current_calendar().is_working_day(date(2026, 3, 3))
    r = client.put("/api/v1/calendar/overrides", headers=office, json={
        "items": [{"date": "2026-03-03", "working": False, "note": "临时调整"},
                  {"date": "2026-03-07", "working": True, "note": "调休上班"}]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [i["date"] for i in body["items"]] == ["2026-03-03", "2026-03-07"]
    assert not cal.current_calendar().is_working_day(date(2026, 3, 3))
    assert cal.current_calendar().is_working_day(date(2026, 3, 7))
    assert AuditEvent.objects(action="calendar.overrides_changed").count() == 1
    r = client.put("/api/v1/calendar/overrides", headers=office, json={"remove": ["2026-03-03"]})
    assert [i["date"] for i in r.get_json()["items"]] == ["2026-03-07"]
    assert cal.current_calendar().is_working_day(date(2026, 3, 3))
    inspector = login(make_user("inspector", "370302", username="insp"))
    r = client.get("/api/v1/calendar/overrides?year=2026", headers=inspector)
    assert r.status_code == 200 and r.get_json()["items"][0]["note"] == "调休上班"
    assert client.get("/api/v1/calendar/overrides?year=2025", headers=inspector).get_json()["items"] == []


def test_put_overrides_bad_input(client, login, make_user):
    office = login(make_user("office_admin", "370300", username="cityoffice"))
    assert_error(client.put("/api/v1/calendar/overrides", headers=office,
                            json={"items": [{"date": "2026-02-30", "working": True}]}), 422)
    assert_error(client.put("/api/v1/calendar/overrides", headers=office,
                            json={"items": [{"date": "2026-03-01", "working": True, "color": "red"}]}), 422)
    assert_error(client.put("/api/v1/calendar/overrides", headers=office,
                            json={"items": [{"date": "2026-03-01", "working": True},
                                            {"date": "2026-03-01", "working": False}]}), 422,
                 "CALENDAR_DUPLICATE_DATE")
    assert_error(client.put("/api/v1/calendar/overrides", headers=office,
                            json={"items": [{"date": "1900-01-01", "working": True}]}), 422,
                 "CALENDAR_DATE_OUT_OF_RANGE")
    inst = login(make_user("institution", "370302", username="inst"))
    assert_error(client.put("/api/v1/calendar/overrides", headers=inst, json={"items": []}), 403, "ROLE_FORBIDDEN")
    assert_error(client.put("/api/v1/calendar/overrides", json={"items": []}), 401)


def test_warning_for_uncovered_year_until_confirmed(client, login, make_user):
    office = login(make_user("office_admin", "370300", username="cityoffice"))
    years = [w["year"] for w in cal.warnings(None, years=[2026, 2030])]
    assert years == [2030]
    r = client.get("/api/v1/calendar/overrides?year=2030", headers=office)
    assert [w["year"] for w in r.get_json()["warnings"]] == [2030]
    assert "调休" in r.get_json()["warnings"][0]["message"]
    client.put("/api/v1/calendar/overrides", headers=office, json={"confirm_years": [2030]})
    assert client.get("/api/v1/calendar/overrides?year=2030", headers=office).get_json()["warnings"] == []
    assert client.get("/api/v1/calendar/warnings", headers=office).status_code == 200
