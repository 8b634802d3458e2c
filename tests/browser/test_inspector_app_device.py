"""What the phone keeps: the open findings' photos for offline use, and nothing after logout."""

from __future__ import annotations

import uuid

from tests.browser.inspector_app import (  # noqa: F401 - fixtures
    APP_PASSWORD, answer_item, app_server, app_world, check_in_by_api, phones, section_index, sections_of)


def _login(client, user):
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": APP_PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": "Bearer " + r.get_json()["access_token"]}


def test_download_keeps_the_open_findings_photos_for_offline_use(app_server, app_world, phones):
    """A re-inspection by another team: the bundle names the open findings' photos, the app keeps their
    thumbnails on the phone and shows them with no network."""
    from inspect_api.clock import utcnow
    from inspect_api.inspections import assignments
    from tests.inspections.helpers import fill_all, jpeg, photo_form, sign_all

    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    client = app_server.app.test_client()
    lead_h, member_h = _login(client, w.lead_user), _login(client, w.member_user)
    with app_server.app.app_context():
        deducted = fill_all(client, w, lead_h)
        photos = 0
        for n, item in enumerate(deducted):
            for k in range(max(1, item["evidence"]["min_photos"])):
                r = client.post(f"/api/v1/inspections/{aid}/photos", data=photo_form(jpeg(70 + 10 * n + k), item["id"]),
                                headers=member_h, content_type="multipart/form-data")
                assert r.status_code == 201, r.get_json()
                photos += 1
        sign_all(client, w, lead_h, member_h)
        submitted = client.post(f"/api/v1/inspections/{aid}/submit", headers=lead_h).get_json()
        follow_up = assignments.create_assignment(
            institution_id=str(w.institution.id), region=w.institution.region,
            team=[str(w.outsider.id), str(w.member.id)], source="targeted", reason="reinspection",
            checklist_code="DB37T4086-2020", now=utcnow(), dedupe_key=f"reinspection:{uuid.uuid4()}",
            parent_order_id=submitted["order_id"])
    outsider = phones("outsider")
    outsider.login(w.outsider_user.username)
    outsider.download(str(follow_up.id))
    outsider.go(f"#a/{follow_up.id}")
    outsider.wait(f"return document.querySelectorAll('.findings img').length === {photos}")
    assert "未整改完成的问题（%d）" % len(deducted) in outsider.text()
    assert all(f["item_text"] in outsider.text() for f in submitted["findings"])
    outsider.shot("24-open-findings")
    outsider.offline()
    outsider.driver.refresh()
    outsider.wait(f"return document.querySelectorAll('.findings img').length === {photos}")
    outsider.wait("return [...document.querySelectorAll('.findings img')].every((i) => i.complete && i.naturalWidth > 0)")


def test_logout_warns_about_unsent_work_and_clears_the_device(app_server, app_world, phones):
    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    lead = phones("lead")
    lead.login(w.lead_user.username)
    lead.download(aid)
    item = next(i for i in app_world.items if not i.get("veto"))
    lead.offline()
    lead.go(f"#a/{aid}/s/{section_index(sections_of(lead, aid), item['id'])}")
    answer_item(lead, item["id"], "pass")
    lead.go("#home")
    lead.click(".logout-area button.link")
    lead.wait("return !document.querySelector('.logout').hidden")
    assert "还有 1 条记录未上传到服务器" in lead.text(".logout")
    lead.shot("25-logout-warning")
    lead.click(".logout button.secondary")  # cancel: nothing happens
    lead.online()
    lead.wait_synced()
    lead.go("#home")
    lead.click(".logout-area button.link")
    lead.wait("return !document.querySelector('.logout').hidden")
    assert "未上传" not in lead.text(".logout")
    refresh_token = lead.js_async("""const done = arguments[arguments.length - 1];
        import('/app/static/idb.js').then((db) => db.getMeta('session')).then((s) => done(s.refresh_token));""")
    lead.click(".logout button.danger")
    lead.wait("return !!document.querySelector('#password')")
    assert lead.js("return document.querySelector('#username').value") == ""
    left = lead.js_async("""const done = arguments[arguments.length - 1];
        Promise.all([import('/app/static/store.js'), import('/app/static/idb.js')]).then(async ([s, db]) =>
          done([(await s.outbox()).length, (await s.bundles()).length, (await s.assignments()).length,
                await db.getMeta('session'), await db.getMeta('owner')]));""")
    assert left == [0, 0, 0, None, None]
    # The phone's login is revoked on the server: its refresh token no longer works.
    r = app_server.app.test_client().post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert r.status_code == 401
