"""Bad conditions in the inspector's app, each in real Chromium against a real server.

- photos the server refuses (not an image, too large) are shown as refused with the
  server's message, and the rest of the queue goes on;
- an expired session while offline: the work stays queued and is sent after signing in again;
- a refresh response lost on the way back: nothing queued is lost, whatever the server
  decides about the reused refresh token;
- storage nearly full: a clear message before anything is lost;
- a new version is offered, never forced;
- the poster's link (opened with the phone's camera) leads into the app's check-in, and a
  check-in beyond the radius is shown as the server flagged it.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from tests.browser.inspector_app import (  # noqa: F401 - fixtures
    APP_PASSWORD, answer_item, app_server, app_world, check_in_by_api, phones, section_index, sections_of,
    write_jpeg)
from tests.inspections.helpers import ZIBO


def _open_section_of(phone, aid, item_id):
    sections = sections_of(phone, aid)
    phone.go(f"#a/{aid}/s/{section_index(sections, item_id)}")


def test_refused_photos_show_the_servers_message_and_the_queue_goes_on(app_server, app_world, phones, tmp_path):
    from inspect_api.evidence.models import Evidence
    from inspect_api.inspections.models import ResponseWrite

    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    lead = phones("lead")
    lead.login(w.lead_user.username)
    lead.download(aid)
    x, y = [i for i in app_world.items if i["deductions"] and not i.get("veto")][:2]
    _open_section_of(lead, aid, x["id"])
    answer_item(lead, x["id"], "deduct", (x["deductions"][0]["code"],))

    fake = tmp_path / "IMG_0001.jpg"
    fake.write_bytes("这不是照片，只是改了扩展名的文本文件".encode() * 50)
    big = write_jpeg(tmp_path / "IMG_0002.jpg", 5, size=(4000, 3000), quality=98)
    assert big.stat().st_size > 3_000_000  # the server's max_photo_bytes in these tests
    good = write_jpeg(tmp_path / "IMG_0003.jpg", 6)
    lead.offline()  # queue all three, then let them go in order
    for photo in (fake, big, good):
        lead.upload(f'#photo-{x["id"]}', photo)
    lead.wait(f'return document.querySelectorAll(\'.item[data-item="{x["id"]}"] figure.thumb\').length === 3')
    _open_section_of(lead, aid, y["id"])
    answer_item(lead, y["id"], "pass")
    lead.online()
    entries = lead.wait_synced()
    photos = {e["name"]: e for e in entries if e["kind"] == "photo"}
    assert {name: e["status"] for name, e in photos.items()} == {
        "IMG_0001.jpg": "refused", "IMG_0002.jpg": "refused", "IMG_0003.jpg": "applied"}
    assert photos["IMG_0001.jpg"]["code"] == "IMAGE_TYPE_UNSUPPORTED"
    assert "不支持的图片类型" in photos["IMG_0001.jpg"]["message"]
    assert photos["IMG_0002.jpg"]["code"] == "IMAGE_TOO_LARGE" and "图片文件过大" in photos["IMG_0002.jpg"]["message"]
    assert all(e["status"] == "applied" for e in entries if e["kind"] == "response")

    lead.go("#sync")
    lead.wait("return document.querySelectorAll('.entry.refused').length === 2")
    text = lead.text(".outbox")
    assert "不支持的图片类型" in text and "图片文件过大" in text
    lead.wait("return document.querySelector('#badge').textContent === '2'")  # not on the server
    lead.shot("17-refused-photos")
    lead.click(f'.entry.refused[data-client="{photos["IMG_0001.jpg"]["client_id"]}"] button')
    lead.wait("return document.querySelectorAll('.entry.refused').length === 1")
    lead.wait("return document.querySelector('#badge').textContent === '1'")
    with app_server.app.app_context():
        stored = list(Evidence.objects(owner_type="inspection", owner_id=aid, kind="photo"))
        assert [p.client_id for p in stored] == [photos["IMG_0003.jpg"]["client_id"]]
        assert stored[0].sha256 == hashlib.sha256((tmp_path / "IMG_0003.jpg").read_bytes()).hexdigest()
        assert ResponseWrite.objects(inspection_id=aid).count() == 2


def test_expired_session_while_offline_keeps_the_work_until_signed_in_again(app_server, app_world, phones):
    from inspect_api.auth import service as auth
    from inspect_api.clock import utcnow
    from inspect_api.inspections.models import ResponseWrite

    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    lead = phones("lead")
    lead.login(w.lead_user.username)
    lead.download(aid)
    items = [i for i in app_world.items if not i.get("veto")][:3]
    lead.offline()
    for item in items:
        _open_section_of(lead, aid, item["id"])
        answer_item(lead, item["id"], "pass")
    # Meanwhile the office resets the inspector's password: every token of the phone is dead.
    with app_server.app.app_context():
        auth.set_password(w.lead_user, "Renewed-Passw0rd", now=utcnow())
    lead.online()
    lead.wait("return !!document.querySelector('#b-session')", timeout=90)
    assert "未上传的 3 条记录已保留" in lead.text("#b-session")
    assert lead.unsent() == 3
    lead.shot("18-session-expired")
    with app_server.app.app_context():
        assert ResponseWrite.objects(inspection_id=aid).count() == 0
    lead.click("#b-session a.button")
    lead.wait("return !!document.querySelector('#password')")
    assert lead.js("return document.querySelector('#username').value") == w.lead_user.username
    assert "3 条记录未上传" in lead.text()
    lead.shot("19-sign-in-again")
    lead.type("#password", "Renewed-Passw0rd")
    lead.click("form button[type=submit]")
    entries = lead.wait_synced()
    assert [e["status"] for e in entries] == ["applied"] * 3
    with app_server.app.app_context():
        assert sorted(r.client_id for r in ResponseWrite.objects(inspection_id=aid)) == sorted(
            e["client_id"] for e in entries)


def test_lost_refresh_response_loses_nothing(app_server, app_world, phones):
    """The server rotates the refresh token but its answer never arrives. The phone keeps the old one and
    presents it again: a server with a grace window for that answers with a new pair and the work goes on;
    one without (rotation reuse revokes the family) answers 401, and the phone asks to sign in again.
    Either way the queued answer reaches the server once."""
    from inspect_api.inspections.models import ResponseWrite

    app = app_server.app
    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    saved = app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=5)  # the phone refreshes before each request
    try:
        lead = phones("lead")
        lead.login(w.lead_user.username)
        lead.download(aid)
        item = next(i for i in app_world.items if not i.get("veto"))
        _open_section_of(lead, aid, item["id"])
        app_server.recorder.drop.append(lambda method, path: method == "POST" and path == "/api/v1/auth/refresh")
        answer_item(lead, item["id"], "pass")
        end = time.time() + 120
        while time.time() < end:
            if [e["status"] for e in lead.outbox()] == ["applied"] or lead.js("return !!document.querySelector('#b-session')"):
                break
            time.sleep(0.5)
        assert len(app_server.recorder.dropped) == 1
        if lead.js("return !!document.querySelector('#b-session')"):
            # This server does not accept a reused refresh token: the phone asks to sign in, keeping the answer.
            refused = [h for h in app_server.recorder.hits if h.path == "/api/v1/auth/refresh" and h.status == 401]
            assert refused, "the session ended without the server refusing the refresh"
            assert lead.unsent() == 1
            lead.login(w.lead_user.username)
        entries = lead.wait_synced()
        assert [e["status"] for e in entries] == ["applied"]
        with app.app_context():
            assert [r.client_id for r in ResponseWrite.objects(inspection_id=aid)] == [entries[0]["client_id"]]
    finally:
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = saved


QUOTA_SHIM = """(() => {
  // What a phone whose storage is nearly full reports (headless Chromium pads estimate()).
  const real = StorageManager.prototype.estimate;
  StorageManager.prototype.estimate = async function () {
    const e = await real.call(this);
    const quota = window.__reportedQuota || %d;
    return { ...e, quota };
  };
})();"""


def test_storage_nearly_full_warns_before_anything_is_lost(app_server, app_world, phones, tmp_path):
    from inspect_api.evidence.models import Evidence

    w, aid = app_world.world, app_world.aid
    check_in_by_api(app_server, app_world)
    lead = phones("lead")
    lead.login(w.lead_user.username)
    lead.download(aid)
    lead.wait_offline_ready()
    usage = lead.js_async("const done = arguments[arguments.length - 1]; navigator.storage.estimate().then((e) => done(e.usage))")
    quota = usage + 5 * 1024 * 1024
    lead.cdp("Storage.overrideQuotaForOrigin", {"origin": app_server.base, "quotaSize": quota})
    lead.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": QUOTA_SHIM % quota})
    lead.offline()  # the photos stay on the phone
    item = next(i for i in app_world.items if i["deductions"] and not i.get("veto"))
    lead.open(f"#a/{aid}")
    lead.wait("return !!document.querySelector('#b-storage')")
    assert "存储空间即将用尽" in lead.text("#b-storage") and "已保存的记录不会丢失" in lead.text("#b-storage")
    _open_section_of(lead, aid, item["id"])
    answer_item(lead, item["id"], "deduct", (item["deductions"][0]["code"],))
    card = f'.item[data-item="{item["id"]}"]'
    stored = 0
    for n in range(6):
        lead.upload(f'#photo-{item["id"]}', write_jpeg(tmp_path / f"p{n}.jpg", 40 + n, size=(2200, 1650), quality=95))
        lead.wait(f"return document.querySelectorAll('{card} figure.thumb').length === {stored + 1} "
                  f"|| !document.querySelector('{card} .problems').hidden")
        if not lead.js(f"return document.querySelector('{card} .problems').hidden"):
            break
        stored += 1
    assert stored >= 1
    assert "手机存储空间不足，本次内容未保存" in lead.text(f"{card} .problems")
    assert "已保存的记录不受影响" in lead.text(f"{card} .problems")
    lead.shot("20-storage-full")
    # The phone's own check said no. If the estimate is wrong (it says there is room), the write itself
    # fails (QuotaExceededError): the same message, and again nothing stored before is touched.
    lead.js("window.__reportedQuota = 10 * 1024 * 1024 * 1024; document.querySelector(arguments[0]).hidden = true",
            f"{card} .problems")
    before = [e["client_id"] for e in lead.outbox()]
    for n in range(6, 12):
        lead.upload(f'#photo-{item["id"]}', write_jpeg(tmp_path / f"p{n}.jpg", 40 + n, size=(2200, 1650), quality=95))
        lead.wait(f"return document.querySelectorAll('{card} figure.thumb').length === {stored + 1} "
                  f"|| !document.querySelector('{card} .problems').hidden")
        if not lead.js(f"return document.querySelector('{card} .problems').hidden"):
            break
        stored += 1
    assert "手机存储空间不足，本次内容未保存" in lead.text(f"{card} .problems")
    entries = lead.outbox()
    assert [e["client_id"] for e in entries][:len(before)] == before
    photos = [e for e in entries if e["kind"] == "photo"]
    assert len(photos) == stored

    lead.online()
    entries = lead.wait_synced(timeout=180)
    assert all(e["status"] == "applied" for e in entries)
    with app_server.app.app_context():
        assert sorted(p.client_id for p in Evidence.objects(owner_type="inspection", owner_id=aid, kind="photo")) == \
            sorted(e["client_id"] for e in photos)


def test_new_version_is_offered_and_never_forced(app_server, app_world, phones):
    w, aid = app_world.world, app_world.aid
    lead = phones("lead")
    lead.login(w.lead_user.username)
    lead.download(aid)
    lead.wait_offline_ready()
    old = lead.js("return document.body.dataset.version")
    shell = app_server.app.extensions["inspector_app"]
    saved = shell["version"]
    shell["version"] = "feedfacecafe0001"  # a deploy: the worker script's bytes change
    try:
        lead.go(f"#a/{aid}")
        lead.js("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        lead.wait("return !!document.querySelector('#b-update')", timeout=60)
        # Offered, not taken: the page still runs the old version, its screen and data untouched.
        assert lead.js("return document.body.dataset.version") == old
        assert lead.js("return document.body.dataset.route") == f"a/{aid}"
        lead.shot("21-update-offered")
        time.sleep(3)
        assert lead.js("return document.body.dataset.version") == old
        lead.click("#apply-update")
        lead.wait("return document.body.dataset.version === 'feedfacecafe0001'", timeout=60)
        lead.wait("return !!document.querySelector('.overview')")
        assert lead.js("return !!navigator.serviceWorker.controller")
    finally:
        shell["version"] = saved


def test_poster_link_leads_into_the_app_and_a_far_check_in_is_flagged(app_server, app_world, phones):
    from inspect_api.inspections.models import Inspection

    w, aid = app_world.world, app_world.aid
    lead = phones("lead")
    lead.locate(ZIBO[0] + 0.012, ZIBO[1], 25)  # about 1.3 km north of the institution
    # The phone's camera opens the poster's URL: the public page, with the check-in token.
    lead.driver.get(app_world.qr_payload)
    lead.wait("return !!document.querySelector('a[href^=\"/app/#checkin\"]')")
    lead.shot("22-public-page-handoff")
    lead.click('a[href^="/app/#checkin"]')
    lead.wait("return !!document.querySelector('#password')")
    assert "已读取机构海报上的签到码" in lead.text()
    lead.type("#username", w.lead_user.username)
    lead.type("#password", APP_PASSWORD)
    lead.click("form button[type=submit]")
    lead.wait(f"return document.body.dataset.route === 'a/{aid}/checkin'", timeout=60)
    lead.wait("return document.querySelector('#qr-state').textContent.includes('已读取签到二维码')")
    lead.click("#locate")
    lead.wait("return document.querySelector('#gps-state').textContent.includes('精度 ±25 米')")
    lead.click("#confirm-checkin")
    lead.wait("return document.querySelector('#checkin-state') "
              "&& document.querySelector('#checkin-state').textContent.includes('已标记')", timeout=60)
    assert "超出签到半径" in lead.text("#checkin-state")
    lead.shot("23-checkin-flagged")
    with app_server.app.app_context():
        checkin = Inspection.objects.get(id=aid).checkin
        assert checkin.flagged and checkin.flag_reasons == ["beyond_radius"] and checkin.distance_m > 1000
        assert str(round(checkin.distance_m, 1)) in lead.text("#checkin-state")
