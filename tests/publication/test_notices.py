from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from inspect_api import db
from inspect_api.audit.models import AuditEvent
from inspect_api.errors import Conflict
from inspect_api.publication import deadlines, notices
from inspect_api.publication.models import Notice
from inspect_api.rectification.models import Finding
from tests.conftest import assert_error
from tests.publication.world import XSS


def _period(world):
    today = world.now.date()
    return {"period_from": (today - timedelta(days=90)).isoformat(), "period_to": today.isoformat()}


def _draft(client, headers, world, **extra):
    r = client.post("/api/v1/notices", json={**_period(world), **extra}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_draft_preselects_overdue_and_ladder_preselected_findings(client, world, as_user):
    ins = world.inspect("a")
    f1, f2 = Finding.objects(order_id=ins.order_id).order_by("seq")
    Finding.objects(id=f1.id).update_one(set__preselected_for_notice=True, set__overdue=True)
    headers = as_user(world.office)
    cands = client.get("/api/v1/notices/candidates", query_string=_period(world), headers=headers).get_json()["items"]
    assert {c["finding_id"]: c["preselected"] for c in cands} == {str(f1.id): True, str(f2.id): False}
    notice = _draft(client, headers, world)
    assert notice["status"] == "draft" and notice["number"] is None
    assert notice["finding_ids"] == [str(f1.id)]
    assert notice["title"] and notice["text"]


def test_edit_publish_numbering_per_office_and_year(client, world, as_user):
    ins = world.inspect("a")
    f1, f2 = Finding.objects(order_id=ins.order_id).order_by("seq")
    headers = as_user(world.office)
    notice = _draft(client, headers, world)
    assert notice["actions"] == ["update", "publish"]
    r = client.patch(f"/api/v1/notices/{notice['id']}", json={"title": "关于淄川区问题的通报", "text": "正文第一段\n第二段",
                                                              "finding_ids": [str(f1.id), str(f2.id)]}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["finding_ids"] == [str(f1.id), str(f2.id)]
    r = client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers)
    assert r.status_code == 200, r.get_json()
    first = r.get_json()
    year = first["published_at"][:4]
    assert first["status"] == "published" and first["number"] == f"〔{year}〕1号"
    assert first["actions"] == ["retract"]
    assert "actions" not in client.get(f"/api/v1/public/notices/{notice['id']}").get_json()
    assert len(first["items"]) == 2 and first["items"][0]["institution_name"] == world.institution.name
    second = _draft(client, headers, world, finding_ids=[])
    assert client.post(f"/api/v1/notices/{second['id']}/publish", headers=headers).get_json()["number"] == f"〔{year}〕2号"
    # another office counts on its own
    county = as_user(world.county_office)
    third = _draft(client, county, world, finding_ids=[])
    assert client.post(f"/api/v1/notices/{third['id']}/publish", headers=county).get_json()["number"] == f"〔{year}〕1号"
    # published notices cannot be edited or published again
    assert_error(client.patch(f"/api/v1/notices/{notice['id']}", json={"title": "改"}, headers=headers), 409,
                 "NOTICE_NOT_DRAFT")
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers), 409, "NOTICE_NOT_DRAFT")
    assert AuditEvent.objects(action="notice.published").count() == 3


def test_retract_requires_a_reason_which_stays_public(client, world, as_user):
    headers = as_user(world.office)
    notice = _draft(client, headers, world, finding_ids=[])
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/retract", json={"reason": "误发"}, headers=headers),
                 409, "NOTICE_NOT_PUBLISHED")
    client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers)
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/retract", json={}, headers=headers), 422)
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/retract", json={"reason": "   "}, headers=headers), 422)
    assert Notice.objects.get(id=notice["id"]).status == "published"
    r = client.post(f"/api/v1/notices/{notice['id']}/retract", json={"reason": "所列问题经复核已于通报前整改完毕"},
                    headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "retracted" and r.get_json()["actions"] == []
    public = client.get(f"/api/v1/public/notices/{notice['id']}").get_json()
    assert public["retraction_reason"] == "所列问题经复核已于通报前整改完毕"
    page = client.get(f"/p/notices/{notice['id']}").get_data(as_text=True)
    assert "本通报已撤回" in page and "所列问题经复核已于通报前整改完毕" in page
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/retract", json={"reason": "再撤"}, headers=headers), 409)


def test_scope_other_office_cannot_see_or_use_findings_out_of_region(client, world, as_user):
    ins = world.inspect("a")
    f1 = Finding.objects(order_id=ins.order_id).first()
    headers = as_user(world.office)
    notice = _draft(client, headers, world, finding_ids=[])
    other = as_user(world.other_office)
    assert_error(client.get(f"/api/v1/notices/{notice['id']}", headers=other), 404)
    assert_error(client.post(f"/api/v1/notices/{notice['id']}/publish", headers=other), 404)
    assert_error(client.post("/api/v1/notices", json={**_period(world), "finding_ids": [str(f1.id)]}, headers=other),
                 422, "FINDING_OUT_OF_SCOPE")
    assert_error(client.post("/api/v1/notices", json={**_period(world), "region": "370302"}, headers=other), 422,
                 "NOTICE_REGION_OUT_OF_SCOPE")
    assert client.get("/api/v1/notices", headers=other).get_json()["total"] == 0


def test_bad_notice_input(client, world, as_user):
    headers = as_user(world.office)
    assert_error(client.post("/api/v1/notices", json={"period_from": "2026-02-01", "period_to": "2026-01-01"},
                             headers=headers), 422, "PERIOD_INVALID")
    assert_error(client.post("/api/v1/notices", json={"period_from": "nope", "period_to": "2026-01-01"},
                             headers=headers), 422)
    assert_error(client.post("/api/v1/notices", json={**_period(world), "secret": 1}, headers=headers), 422)
    assert_error(client.post("/api/v1/notices", json={**_period(world), "finding_ids": ["x"]}, headers=headers), 422)


def test_drafts_are_not_public(client, world, as_user):
    notice = _draft(client, as_user(world.office), world, finding_ids=[])
    assert_error(client.get(f"/api/v1/public/notices/{notice['id']}"), 404)
    assert client.get(f"/p/notices/{notice['id']}").status_code == 404
    assert client.get("/api/v1/public/notices").get_json()["total"] == 0


def test_notice_text_script_is_escaped(client, world, as_user):
    headers = as_user(world.office)
    notice = _draft(client, headers, world, finding_ids=[], title=f"通报{XSS}", text=f"正文{XSS}")
    client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers)
    for url in (f"/p/notices/{notice['id']}", "/p/notices", "/p/"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html, url
        assert "&lt;script&gt;" in html, url


def test_a_crash_while_numbering_never_leaves_a_published_notice_without_a_number(client, world, as_user,
                                                                                  monkeypatch):
    headers = as_user(world.office)
    notice = _draft(client, headers, world, finding_ids=[])
    real_next_seq = notices._next_seq

    def counter_down(*_args, **_kwargs):
        raise RuntimeError("notice counter unavailable")

    monkeypatch.setattr(notices, "_next_seq", counter_down)
    with pytest.raises(RuntimeError):
        notices.publish_notice(world.office, notice["id"], now=world.now)
    stored = Notice.objects.get(id=notice["id"])
    assert stored.status == "draft" and stored.number is None  # nothing was published
    assert client.get(f"/api/v1/public/notices/{notice['id']}").status_code == 404

    # the counter is back: publishing the same draft again works and numbers it
    monkeypatch.setattr(notices, "_next_seq", real_next_seq)
    r = client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers)
    year = r.get_json()["published_at"][:4]
    assert r.status_code == 200 and r.get_json()["number"] == f"〔{year}〕1号"

    # a crash after publishing (the audit write fails) still leaves a numbered notice
    second = _draft(client, headers, world, finding_ids=[])
    real_record = notices.audit.record

    def audit_down(action, **kwargs):
        if action == "notice.published":
            raise RuntimeError("audit store unavailable")
        return real_record(action, **kwargs)

    monkeypatch.setattr(notices.audit, "record", audit_down)
    with pytest.raises(RuntimeError):
        notices.publish_notice(world.office, second["id"], now=world.now)
    stored = Notice.objects.get(id=second["id"])
    assert stored.status == "published" and stored.number == f"〔{stored.year}〕2号"


def test_a_publisher_losing_a_race_burns_a_number_but_numbers_stay_unique(app, world, monkeypatch):
    first = notices.draft_notice(world.office, {"period_from": date(2026, 1, 1), "period_to": date(2026, 6, 30),
                                                "finding_ids": []}, now=world.now)
    real_next_seq = notices._next_seq
    raced = []

    def racing_next_seq(office_region, year, **kwargs):
        if not raced:  # another process publishes the same draft between our read and our update
            raced.append(True)
            notices.publish_notice(world.office, str(first.id), now=world.now)
        return real_next_seq(office_region, year, **kwargs)

    monkeypatch.setattr(notices, "_next_seq", racing_next_seq)
    with pytest.raises(Conflict):
        notices.publish_notice(world.office, str(first.id), now=world.now)
    monkeypatch.setattr(notices, "_next_seq", real_next_seq)
    second = notices.draft_notice(world.office, {"period_from": date(2026, 1, 1), "period_to": date(2026, 6, 30),
                                                 "finding_ids": []}, now=world.now)
    notices.publish_notice(world.office, str(second.id), now=world.now)
    # Without transactions the loser took 2 (a gap); with them its number went back with its transaction.
    expected = [1, 2] if db.supports_transactions() else [1, 3]
    assert [n.seq for n in Notice.objects.order_by("created_at")] == expected


def test_sweep_numbers_notices_left_unnumbered_by_older_versions(app, world):
    published_at = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # 2027-01-01 01:00 in Shanghai
    legacy = Notice(office_region="370300", region="370300", period_from=date(2026, 1, 1),
                    period_to=date(2026, 12, 31), title="旧通报", text="正文", status="published",
                    created_by=str(world.office.id), created_at=published_at, published_at=published_at).save()
    deadlines.sweep_publication_deadlines(world.now)
    deadlines.sweep_publication_deadlines(world.now)
    legacy.reload()
    assert legacy.number == "〔2027〕1号" and legacy.year == 2027 and legacy.seq == 1
