"""Two inspectors edit the same items: the conflict is shown with both versions, and both choices work.

The lead's phone is offline while it changes two answers; meanwhile the member
changes the same two on their phone (online, applied first). When the lead's
phone comes back, the server answers ``conflict`` for both with its version;
the app shows mine and the server's side by side. "Keep mine" sends mine again
on top of the server's revision (applied); "take the server's" adopts the
member's answer on the lead's phone and sends nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone

import requests

from tests.browser.inspector_app import (  # noqa: F401 - fixtures
    APP_PASSWORD, answer_item, app_server, app_world, phones, section_index, sections_of)
from tests.inspections.helpers import ZIBO


def _api_session(base, username):
    s = requests.Session()
    r = s.post(f"{base}/api/v1/auth/login", json={"username": username, "password": APP_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    return s


def test_concurrent_edits_conflict_and_both_choices_work(app_server, app_world, phones):
    from inspect_api.inspections.models import ItemResponse, ResponseWrite

    base, w, aid = app_server.base, app_world.world, app_world.aid
    # Already on site: checked in, two items answered 符合 (revision 1), through the API.
    api = _api_session(base, w.lead_user.username)
    r = api.post(f"{base}/api/v1/inspections/{aid}/check-in", json={
        "client_id": str(uuid.uuid4()), "qr_token": app_world.qr_payload, "latitude": ZIBO[0], "longitude": ZIBO[1],
        "accuracy_m": 10, "captured_at": datetime.now(timezone.utc).isoformat()}, timeout=30)
    assert r.status_code == 200, r.text
    x, y = [i for i in app_world.items if i["deductions"] and not i.get("veto")][:2]
    r = api.put(f"{base}/api/v1/inspections/{aid}/responses", json={"items": [
        {"client_id": str(uuid.uuid4()), "item_id": i["id"], "base_revision": 0, "result": "pass",
         "client_updated_at": datetime.now(timezone.utc).isoformat()} for i in (x, y)]}, timeout=30)
    assert r.json()["applied"] == 2, r.text

    lead, member = phones("lead"), phones("member")
    for phone, user in ((lead, w.lead_user), (member, w.member_user)):
        phone.login(user.username)
        phone.download(aid)
    sections = sections_of(lead, aid)
    section, section_y = section_index(sections, x["id"]), section_index(sections, y["id"])

    # The lead edits offline; the member edits the same items online, first.
    lead.offline()
    lead.go(f"#a/{aid}/s/{section}")
    answer_item(lead, x["id"], "deduct", (x["deductions"][0]["code"],), note="组长：现场发现问题")
    lead.go(f"#a/{aid}/s/{section_y}")
    answer_item(lead, y["id"], "fail", note="组长：不符合")
    member.go(f"#a/{aid}/s/{section}")
    answer_item(member, x["id"], "fail", note="组员：整项不符合")
    member.go(f"#a/{aid}/s/{section_y}")
    answer_item(member, y["id"], "deduct", (y["deductions"][0]["code"],), note="组员：扣分")
    member.wait_synced()
    assert all(e["status"] == "applied" for e in member.outbox())

    lead.online()
    entries = lead.wait_synced()
    conflicts = [e for e in entries if e["status"] == "conflict"]
    assert sorted(e["item_id"] for e in conflicts) == sorted([x["id"], y["id"]]), entries
    lead.go("#sync")
    lead.wait("return document.querySelectorAll('.entry.conflict .versions').length === 2")
    text = lead.text(".outbox")
    assert "组长：现场发现问题" in text and "组员：整项不符合" in text and "组员：扣分" in text and "组长：不符合" in text
    assert lead.js("return document.querySelector('#badge').textContent") == "2"
    lead.shot("15-conflict-queue")

    # Keep mine for X (on the item itself), take the server's for Y (in the queue).
    lead.go(f"#a/{aid}/s/{section}")
    card = f'.item[data-item="{x["id"]}"]'
    lead.wait(f"return document.querySelector('{card}').dataset.sync === 'conflict'")
    lead.shot("16-conflict-item")
    lead.click(f'{card} .conflict button[data-choice="mine"]')
    lead.go("#sync")
    lead.click(f'.entry.conflict[data-client="{next(e["client_id"] for e in conflicts if e["item_id"] == y["id"])}"] '
               'button[data-choice="server"]')
    entries = lead.wait_synced()
    assert not [e for e in entries if e["status"] in ("conflict", "pending", "sending", "refused")], entries
    lead.wait("return document.querySelector('#badge').hidden")

    # The member's phone may have sent an item twice (the answer, then its note): count its writes.
    member_writes = Counter(e["item_id"] for e in member.outbox() if e["kind"] == "response" and e["status"] == "applied")
    with app_server.app.app_context():
        server_x = ItemResponse.objects.get(inspection_id=aid, item_id=x["id"])
        server_y = ItemResponse.objects.get(inspection_id=aid, item_id=y["id"])
        assert (server_x.result, server_x.note) == ("deduct", "组长：现场发现问题")
        assert server_x.deduction_codes == [x["deductions"][0]["code"]]
        assert server_x.revision == 1 + member_writes[x["id"]] + 1  # the API's, the member's, then mine again
        assert (server_y.result, server_y.note) == ("deduct", "组员：扣分")
        assert server_y.revision == 1 + member_writes[y["id"]]  # the lead sent nothing more
        assert ResponseWrite.objects(inspection_id=aid, item_id=x["id"]).count() == server_x.revision
        assert ResponseWrite.objects(inspection_id=aid, item_id=y["id"]).count() == server_y.revision
    # The lead's phone now shows the member's answer for Y, synced at the server's revision.
    lead.go(f"#a/{aid}/s/{section_y}")
    card_y = f'.item[data-item="{y["id"]}"]'
    lead.wait(f"return document.querySelector('{card_y} button[data-result=deduct]').getAttribute('aria-pressed') === 'true'")
    assert lead.js(f"return document.querySelector('{card_y} textarea').value") == "组员：扣分"
    assert f"第 {1 + member_writes[y['id']]} 版" in lead.text(f"{card_y} .sync-state")

