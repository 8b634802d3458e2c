"""The inspection done with no network: nothing is lost, and everything reaches the server exactly once.

The network is cut (DevTools, on both phones) right after the download. The
lead checks in, answers the whole checklist with findings and photos, reloads
the page, has the browser killed (SIGKILL) and started again on the same
profile, still offline, and signs; the member signs on their phone. The server
log proves nothing reached the API meanwhile. When the network comes back, the
responses of the first answers batch and of the first photo upload are lost on
the way back (the server handled them, the phone never heard): the phone sends
them again with the same client ids and the server keeps one of each. Counted
on the server by client id: every answer, photo and signature exactly once.
"""

from __future__ import annotations

import time

from tests.browser.inspector_app import (  # noqa: F401 - fixtures
    app_server, app_world, draw_signature, fill_checklist, phones, write_jpeg)


def test_inspection_done_offline_reaches_the_server_exactly_once(app_server, app_world, phones, tmp_path):
    from inspect_api.evidence.models import Evidence
    from inspect_api.inspections.models import Inspection, ItemResponse, ResponseWrite

    recorder = app_server.recorder
    w, aid = app_world.world, app_world.aid
    lead, member = phones("lead"), phones("member")
    for phone, user in ((lead, w.lead_user), (member, w.member_user)):
        phone.login(user.username)
        phone.download(aid)
        phone.wait_offline_ready()

    # The network is cut after the download.
    cut = time.time()
    lead.offline()
    member.offline()
    lead.go(f"#a/{aid}/checkin")
    lead.wait("return document.querySelector('#net').textContent === '离线'")
    lead.upload("#qr-photo", app_world.poster_photo)
    lead.wait("return document.querySelector('#qr-state').textContent.includes('已读取签到二维码')")
    lead.click("#locate")
    lead.wait("return document.querySelector('#gps-state').textContent.includes('精度')")
    lead.click("#confirm-checkin")
    lead.wait("return document.querySelector('#checkin-state') "
              "&& document.querySelector('#checkin-state').textContent.includes('签到已保存在本机')")
    assert "当前没有网络" in lead.text("#banners")
    lead.shot("12-offline-overview")

    bundle = lead.js_async("""const done = arguments[arguments.length - 1];
        import('/app/static/store.js').then((s) => s.bundle(arguments[0])).then((b) => done(b.data));""", aid)
    sections, kind = bundle["checklist"]["content"]["sections"], bundle["institution"]["kind"]
    deducted = [i for i in app_world.items if not i.get("veto") and i["deductions"]][:3]
    special = {}
    for n, item in enumerate(deducted):
        special[item["id"]] = {"result": "deduct", "codes": [item["deductions"][0]["code"]], "note": "离线记录的问题",
                               "photos": [write_jpeg(tmp_path / f"offline-{n}-{k}.jpg", 300 + 10 * n + k)
                                          for k in range(max(1, item["evidence"]["min_photos"]))]}
    half = len(sections) // 2
    fill_checklist(lead, aid, sections, kind, special, only=range(0, half))

    # Reloaded with no network: the app opens from the service worker, the answers are still there.
    queued = lead.unsent()
    lead.driver.refresh()
    lead.wait("return document.body.dataset.route === 'a/%s/checkin' || !!document.querySelector('#view > section')" % aid)
    lead.go(f"#a/{aid}/s/0")
    assert lead.js("return [...document.querySelectorAll('.item')].every((c) => c.dataset.sync === 'pending')")
    assert lead.unsent() == queued
    fill_checklist(lead, aid, sections, kind, special, only=range(half, len(sections)))

    # The phone kills the browser, still offline; it starts again on the same profile.
    queued = lead.unsent()
    lead.kill()
    lead.start()
    lead.open(f"#a/{aid}")
    lead.wait("return !!document.querySelector('.overview')")
    assert lead.unsent() == queued
    assert "签到已保存在本机" in lead.text("#checkin-state")

    lead.go(f"#a/{aid}/sign")
    draw_signature(lead, "#pad-me", seed=1)
    lead.click('button[data-save="me"]')
    lead.wait("return !document.querySelector('#pad-me')")
    lead.type("#rep-name", "王院长")
    draw_signature(lead, "#pad-rep", seed=3)
    lead.click('button[data-save="rep"]')
    lead.wait("return document.querySelector('#signed').textContent.includes('王院长')")
    member.go(f"#a/{aid}/sign")
    draw_signature(member, "#pad-me", seed=2)
    member.click('button[data-save="me"]')
    member.wait("return document.querySelector('#signed').textContent.includes('李晓梅')")
    lead.go("#sync")
    lead.wait("return document.querySelector('#badge').textContent === String(arguments[0])"
              .replace("arguments[0]", str(queued + 2)))
    lead.shot("13-offline-queue")
    assert recorder.since(cut) == [], "an API request reached the server while the phones were offline"

    # The network returns; two responses are lost on the way back and the phone sends again.
    recorder.drop.append(lambda method, path: method == "PUT" and path.endswith("/responses"))
    recorder.drop.append(lambda method, path: method == "POST" and path.endswith("/photos"))
    back = time.time()
    lead.online()
    entries = lead.wait_synced(timeout=240)
    assert {e["status"] for e in entries} <= {"applied", "duplicate"}, entries
    assert len(recorder.dropped) == 2
    assert any(e["status"] == "duplicate" for e in entries), "the lost batch came back as duplicates"
    assert recorder.count("PUT", "/responses", back) >= 2 and recorder.count("POST", "/photos", back) > 3
    member.online()
    member_entries = member.wait_synced(timeout=120)
    assert [e["status"] for e in member_entries] == ["applied"]

    lead.go("#sync")
    lead.shot("14-synced-queue")
    with app_server.app.app_context():
        inspection = Inspection.objects.get(id=aid)
        assert inspection.state == "checked_in" and inspection.checkin.flagged is False
        writes = sorted(r.client_id for r in ResponseWrite.objects(inspection_id=aid))
        assert writes == sorted(e["client_id"] for e in entries if e["kind"] == "response")
        assert ItemResponse.objects(inspection_id=aid).count() == sum(len(s["items"]) for s in sections)
        photos = sorted(p.client_id for p in Evidence.objects(owner_type="inspection", owner_id=aid, kind="photo"))
        assert photos == sorted(e["client_id"] for e in entries if e["kind"] == "photo")
        assert len(photos) == sum(len(plan["photos"]) for plan in special.values())
        signed = sorted(s.client_id for s in inspection.signatures)
        assert signed == sorted(e["client_id"] for e in entries + member_entries if e["kind"] == "signature")
        assert Evidence.objects(owner_type="inspection", owner_id=aid, kind="signature").count() == 3

    # And the lead submits: the server's score, the order.
    lead.go(f"#a/{aid}/submit")
    lead.click_until("#submit", "return !!document.querySelector('#submit-state, #result')")
    lead.wait("return !!document.querySelector('#result')", timeout=90)
    with app_server.app.app_context():
        inspection.reload()
        assert inspection.state == "submitted" and len(inspection.findings) == len(deducted)
