"""The short server-side cache of public pages and open data."""

from __future__ import annotations

import pytest
from flask import Response

from inspect_api.public_cache import PublicCache
from tests.conftest import TEST_PASSWORD

MATTER = {"code": "YY-99", "name": "缓存测试事项", "legal_basis": "《测试条例》", "department": "health",
          "category": "general", "checklist_code": "DB37T4086-2020"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def cached_app(app_factory, make_user):
    app = app_factory(public_cache_seconds=5)
    clock = Clock()
    app.extensions["public_cache"].clock = clock
    with app.app_context():
        yield app, clock


def _office(client, make_user):
    user = make_user("office_admin", "370000")
    token = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
    return {"Authorization": "Bearer " + token.get_json()["access_token"]}


def test_public_responses_are_kept_for_the_configured_seconds(cached_app, make_user):
    app, clock = cached_app
    client = app.test_client()
    first = client.get("/api/v1/public/matters")
    assert first.status_code == 200 and "X-Cache" not in first.headers

    hit = client.get("/api/v1/public/matters")
    assert hit.headers["X-Cache"] == "HIT" and hit.data == first.data
    assert hit.headers["ETag"] == first.headers["ETag"] and hit.headers["X-Request-ID"]
    assert hit.headers["X-RateLimit-Limit"]  # the per-IP budget still counts cached reads
    revalidated = client.get("/api/v1/public/matters", headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.headers["X-Cache"] == "HIT"

    clock.now += 5.01
    fresh = client.get("/api/v1/public/matters")
    assert "X-Cache" not in fresh.headers and fresh.data == first.data


def test_a_change_shows_at_once(cached_app, make_user):
    app, _clock = cached_app
    client = app.test_client()
    client.get("/api/v1/public/matters")
    assert client.get("/api/v1/public/matters").headers["X-Cache"] == "HIT"
    assert client.post("/api/v1/matters", headers=_office(client, make_user), json=MATTER).status_code == 201
    fresh = client.get("/api/v1/public/matters")
    assert "X-Cache" not in fresh.headers and "YY-99" in fresh.get_data(as_text=True)


def test_html_pages_and_query_strings_are_kept_apart(cached_app):
    app, _clock = cached_app
    client = app.test_client()
    page = client.get("/p/results")
    again = client.get("/p/results")
    assert again.headers["X-Cache"] == "HIT" and again.mimetype == "text/html"
    assert again.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]
    assert "X-Cache" not in client.get("/p/results?page=2").headers


def test_errors_and_authenticated_routes_are_not_kept(cached_app, make_user):
    app, _clock = cached_app
    client = app.test_client()
    for _ in range(2):
        missing = client.get("/api/v1/public/results/000000000000000000000000")
        assert missing.status_code == 404 and "X-Cache" not in missing.headers
    office = _office(client, make_user)
    client.get("/api/v1/matters", headers=office)
    assert "X-Cache" not in client.get("/api/v1/matters", headers=office).headers


def test_switched_off_with_zero_seconds(app_factory):
    app = app_factory(public_cache_seconds=0)
    with app.app_context():
        client = app.test_client()
        client.get("/api/v1/public/matters")
        assert "X-Cache" not in client.get("/api/v1/public/matters").headers


def test_every_public_response_can_be_revalidated_without_the_cache(app_factory):
    app = app_factory(public_cache_seconds=0)
    with app.app_context():
        client = app.test_client()
        for url in ("/api/v1/public/draws", "/api/v1/public/matters", "/p/", "/p/draws"):
            first = client.get(url)
            assert first.status_code == 200 and first.headers.get("ETag"), url
            again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
            assert again.status_code == 304 and again.data == b"" and "X-Cache" not in again.headers, url
            assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200, url


def test_the_cache_is_bounded_by_entries_and_bytes():
    clock = Clock()
    cache = PublicCache(60, max_entries=3, max_bytes=10_000, clock=clock)
    for n in range(5):
        cache.put(f"k{n}", Response(b"x" * 100))
    assert [cache.get(f"k{n}") is not None for n in range(5)] == [False, False, True, True, True]
    cache.put("big", Response(b"y" * 9_900))
    # The least recently used entries made room, as many as needed and no more.
    assert [cache.get(k) is not None for k in ("k2", "k3", "k4", "big")] == [False, False, True, True]
    cache.put("huge", Response(b"z" * (2 << 20)))
    assert cache.get("huge") is None  # larger than one entry may be
    cache.put("gone", Response(b"n", status=500))
    assert cache.get("gone") is None
    clock.now += 61
    assert cache.get("big") is None


# ------------------------------------------------------------------ invalidation (issue #13 item 14)

@pytest.fixture
def draws(cached_app, make_user, login):
    from tests.draws import plan_fixtures as fx

    app, _clock = cached_app
    fx.world()
    office = login(make_user("office_admin", "370300", username="city_office"))
    return app.test_client(), office, fx


def test_a_draw_and_an_amendment_show_in_the_cached_record_at_once(draws):
    import json

    client, office, fx = draws
    plan, committed = fx.committed_plan(client, office)
    url = f"/api/v1/public/draws/{committed['id']}/record.json"
    pages = [url, f"/api/v1/public/draws/{committed['id']}", f"/p/draws/{committed['id']}", "/api/v1/public/draws"]
    before = {page: client.get(page) for page in pages}
    assert all(client.get(page).headers["X-Cache"] == "HIT" for page in pages)
    assert "result" not in json.loads(before[url].data)

    drawn = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert drawn.status_code == 200
    for page in pages:
        after = client.get(page)
        assert after.status_code == 200 and "X-Cache" not in after.headers and after.data != before[page].data, page
    record = json.loads(client.get(url).data)
    assert record["result"] and client.get(url).headers["X-Cache"] == "HIT"

    target = drawn.get_json()["targets"][0]
    amended = client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": target["institution_id"], "inspector_id": target["team"][0]["id"], "reason": "病假"})
    assert amended.status_code == 201, amended.get_json()
    fresh = client.get(url)
    assert "X-Cache" not in fresh.headers and json.loads(fresh.data).get("amendments")


def test_a_change_made_by_another_process_shows_at_once(draws):
    """Another API process (or the scheduler) reaches this one only through the generation in the store."""
    from inspect_api import public_cache

    client, _office, _fx = draws
    client.get("/api/v1/public/draws")
    assert client.get("/api/v1/public/draws").headers["X-Cache"] == "HIT"
    public_cache.bump()  # what the other process's write did
    assert "X-Cache" not in client.get("/api/v1/public/draws").headers


def test_field_work_on_phones_keeps_the_cache(draws):
    client, office, fx = draws
    from inspect_api import public_cache

    before = public_cache.generation()
    fx.create_plan(client, office)  # a draft is not public
    client.post("/api/v1/auth/login", json={"username": "city_office", "password": TEST_PASSWORD})
    assert public_cache.generation() == before


def test_an_escalation_sweep_that_applied_steps_invalidates(cached_app, make_user):
    from datetime import datetime, timezone

    from inspect_api import public_cache
    from inspect_api.rectification import escalation
    from tests.notify.world import build

    w = build(make_user)
    before = public_cache.generation()
    escalation.run_sweep(datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc), deliver=False)
    assert public_cache.generation() == before  # nothing due: nothing public changed
    w.open()
    stats = escalation.run_sweep(datetime(2026, 4, 20, 1, 0, tzinfo=timezone.utc), deliver=False)
    assert stats["steps"] > 0 and public_cache.generation() > before
