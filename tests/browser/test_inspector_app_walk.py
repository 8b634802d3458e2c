"""A whole inspection in the inspector's app, from sign-in to the submitted report, in real Chromium.

Two phones (two browser profiles): the lead and the member. The lead scans a
photo of the poster (decoded in the app), reports a position (CDP geolocation),
answers every item (two with deductions and the photos their evidence rule
asks for), signs and has the institution's representative sign; the member
signs on their own phone; the lead submits and opens the report. Screenshots of
each screen at 390 px go to ``test-output/screenshots/app-*.png``. The server
then holds every answer, photo and signature exactly once, and the score the
app showed as provisional is the one the server computed.
"""

from __future__ import annotations

import time

from tests.browser.inspector_app import (  # noqa: F401 - fixtures
    app_server, app_world, draw_signature, fill_checklist, phones, write_jpeg)


def test_whole_inspection_from_sign_in_to_report(app_server, app_world, phones, tmp_path):
    from inspect_api.evidence.models import Evidence
    from inspect_api.inspections.models import Inspection, ItemResponse, ResponseWrite
    from inspect_api.rectification.models import Order

    w, aid = app_world.world, app_world.aid
    lead = phones("lead")
    lead.open()
    lead.shot("01-login")
    lead.login(w.lead_user.username)
    lead.wait(f"return !!document.querySelector('.assignment[data-id=\"{aid}\"]')")
    home = lead.text()
    assert w.institution.name in home and w.institution.address in home and "组长 张建国 · 组员 李晓梅" in home
    lead.shot("02-home")
    lead.download(aid)
    lead.shot("03-home-downloaded")

    # Installable: a manifest, icons and a service worker controlling the page.
    lead.wait_offline_ready()
    assert lead.cdp("Page.getInstallabilityErrors")["installabilityErrors"] == []

    lead.click(f'.assignment[data-id="{aid}"] a.button')
    lead.wait("return !!document.querySelector('.overview')")
    assert "尚未签到" in lead.text()
    lead.shot("04-overview")

    # Check-in: a photo of the poster, decoded in the app (no BarcodeDetector in headless Chromium).
    assert lead.js("return 'BarcodeDetector' in window") is False
    lead.go(f"#a/{aid}/checkin")
    lead.upload("#qr-photo", app_world.poster_photo)
    lead.wait("return document.querySelector('#qr-state').textContent.includes('已读取签到二维码')")
    lead.click("#locate")
    lead.wait("return document.querySelector('#gps-state').textContent.includes('精度 ±12 米')")
    lead.shot("05-checkin")
    lead.click("#confirm-checkin")
    lead.wait("return document.querySelector('#checkin-state') "
              "&& document.querySelector('#checkin-state').textContent.includes('已签到')", timeout=60)
    assert "距机构" in lead.text("#checkin-state") and "已标记" not in lead.text("#checkin-state")

    # The checklist: two findings with the photos their evidence rule asks for, everything else 符合.
    bundle = lead.js_async("""const done = arguments[arguments.length - 1];
        import('/app/static/store.js').then((s) => s.bundle(arguments[0])).then((b) => done(b.data));""", aid)
    sections = bundle["checklist"]["content"]["sections"]
    deducted = [i for i in app_world.items if not i.get("veto") and i["deductions"]][:2]
    special, photos = {}, 0
    for n, item in enumerate(deducted):
        shots = [write_jpeg(tmp_path / f"finding-{n}-{k}.jpg", 100 + 10 * n + k)
                 for k in range(max(1, item["evidence"]["min_photos"]))]
        photos += len(shots)
        special[item["id"]] = {"result": "deduct", "codes": [item["deductions"][0]["code"]],
                               "note": "现场发现问题，已拍照", "photos": shots}
    kind = bundle["institution"]["kind"]
    fill_checklist(lead, aid, sections, kind, special, only=range(0, 1))
    lead.shot("06-section")
    fill_checklist(lead, aid, sections, kind, special, only=range(1, len(sections)))
    lead.wait_synced()
    lead.go("#sync")
    lead.shot("07-sync-queue")
    entries = lead.outbox()
    assert {e["status"] for e in entries} <= {"applied"}, entries
    assert sum(1 for e in entries if e["kind"] == "photo") == photos

    provisional = lead.js_async("""const done = arguments[arguments.length - 1];
        Promise.all([import('/app/static/store.js'), import('/app/static/scoring.js')]).then(async ([s, sc]) => {
          const b = (await s.bundle(arguments[0])).data; const answers = await s.answersOf(arguments[0]);
          const responses = {};
          for (const [id, a] of answers) responses[id] = {result: a.result, deductions: a.deduction_codes};
          const r = sc.score(b.checklist.content, responses, b.institution.kind);
          done([r.score_text, r.grade]);
        });""", aid)

    # Signatures: the member on their own phone; the lead for self and the institution's representative.
    member = phones("member")
    member.login(w.member_user.username)
    member.download(aid)
    member.go(f"#a/{aid}/sign")
    assert member.js("return !!document.querySelector('#sign-me') && !document.querySelector('#sign-rep')")
    draw_signature(member, "#pad-me", seed=2)
    member.click('button[data-save="me"]')
    member.wait("return document.querySelector('#signed').textContent.includes('李晓梅')")
    member.shot("08-sign-member")
    member.wait_synced()

    lead.go(f"#a/{aid}/sign")
    draw_signature(lead, "#pad-me", seed=1)
    lead.click('button[data-save="me"]')
    lead.wait("return !document.querySelector('#pad-me')")
    lead.type("#rep-name", "王院长")
    draw_signature(lead, "#pad-rep", seed=3)
    lead.click('button[data-save="rep"]')
    lead.wait("return document.querySelector('#signed').textContent.includes('王院长')")
    lead.wait_synced()
    lead.go(f"#a/{aid}/sign")
    lead.wait("return document.querySelector('#signed').textContent.includes('李晓梅 · 已上传')")
    lead.shot("09-sign-lead")

    # Submission: the result, findings, order number and the report.
    lead.go(f"#a/{aid}/submit")
    lead.wait("return !!document.querySelector('#submit')")
    lead.shot("10-submit")
    lead.click_until("#submit", "return !!document.querySelector('#submit-state, #result')")
    lead.wait("return !!document.querySelector('#result')", timeout=90)
    lead.wait("return document.querySelector('#order-number').textContent.includes('编号')")
    lead.shot("11-result")
    with app_server.app.app_context():
        inspection = Inspection.objects.get(id=aid)
        order = Order.objects.get(inspection_id=aid)
    result_text = lead.text("#result")
    assert f"{inspection.result['score']:.2f} 分" in result_text and inspection.result["grade_name"] in result_text
    assert order.number in result_text
    assert all(f["item_text"] in result_text for f in inspection.findings)
    # The provisional score the app computed offline is the server's score, to the cent.
    assert provisional == [f"{inspection.result['score']:.2f}", inspection.result["grade"]]

    before = set(lead.driver.window_handles)
    lead.click("#open-report")
    deadline = time.time() + 30
    while not set(lead.driver.window_handles) - before and time.time() < deadline:
        time.sleep(0.1)
    new = set(lead.driver.window_handles) - before
    assert new, "the report did not open"
    main = lead.driver.current_window_handle
    lead.driver.switch_to.window(new.pop())
    lead.wait("return document.readyState === 'complete' && document.body.innerText.includes('监督检查报告')")
    report = lead.js("return document.body.innerText")
    assert inspection.code in report and w.institution.name in report and inspection.report_hash in report
    lead.driver.close()
    lead.driver.switch_to.window(main)

    # On the server: everything exactly once.
    with app_server.app.app_context():
        answered = sum(len(section["items"]) for section in sections)  # 不适用 included
        assert ItemResponse.objects(inspection_id=aid).count() == answered
        # Each write the phones made (by client id) is on the server once; nothing else is.
        assert sorted(r.client_id for r in ResponseWrite.objects(inspection_id=aid)) == sorted(
            e["client_id"] for e in entries if e["kind"] == "response")
        assert sorted(p.client_id for p in Evidence.objects(owner_type="inspection", owner_id=aid, kind="photo")) == \
            sorted(e["client_id"] for e in entries if e["kind"] == "photo")
        phone_signatures = [e["client_id"] for phone in (lead, member) for e in phone.outbox() if e["kind"] == "signature"]
        assert sorted(s.client_id for s in inspection.signatures) == sorted(phone_signatures)
        assert Evidence.objects(owner_type="inspection", owner_id=aid, kind="signature").count() == 3
        assert sorted(s.signer_role for s in inspection.signatures) == ["institution_representative", "lead", "member"]
        assert [f["item_id"] for f in inspection.findings] == [i["id"] for i in deducted]
    assert not [e for e in lead.severe() if "Failed to load resource" not in e], lead.severe()
