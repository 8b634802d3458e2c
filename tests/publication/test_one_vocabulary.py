"""One inspection, every surface: the same labels, the same score, the same veto reason, Beijing time (#14, 1–3).

A real inspection goes through the phone's flow (check-in, answers, a photo, signatures, submission) with a
failed veto item (一票否决), a 较重 and a 一般 finding; the office publishes it and cites its findings in a
notice.  Then the inspection API, the printed report, the public API, the public pages (detail, list, home,
institution), the results CSV, the notice page and the notices CSV must all print the engine's score with
its two places and the checklist format's labels, and say in words which veto item decided the grade.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from html import unescape

import pytest

from checklists.spec import SEVERITIES
from inspect_api import vocabulary
from tests.inspections.helpers import applicable_items, build_world, cid, jpeg, photo_form, sign_all
from tests.inspections.test_checkin_responses import check_in

VETO, MAJOR, MINOR = "4086-3-01", "4086-2-02", "4086-2-05"


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _raw_block(html: str, tag: str, containing: str) -> str:
    """The markup of the ``<tag>`` element (article, tr) that contains ``containing``."""
    for part in re.split(rf"<{tag}[ >]", html)[1:]:
        part = part.split(f"</{tag}>")[0]
        if containing in unescape(part):
            return part
    raise AssertionError(f"no <{tag}> with {containing!r}")


def _block(html: str, tag: str, containing: str) -> str:
    """The text of that element, whitespace collapsed."""
    return re.sub(r"\s+", " ", _text(_raw_block(html, tag, containing))).replace(" ：", "：").replace("： ", "：")


def _csv(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def inspected(app, client, as_user):
    """A submitted, published inspection with a failed veto item, cited by a published notice."""
    world = build_world()
    lead, member, office = as_user(world.lead_user), as_user(world.member_user), as_user(world.office_user)
    assert check_in(client, world, lead).status_code == 200
    items = {i["id"]: i for i in applicable_items(world.institution.kind)}
    chosen = {VETO: items[VETO]["deductions"][0]["code"], MAJOR: items[MAJOR]["deductions"][0]["code"],
              MINOR: next(d["code"] for d in items[MINOR]["deductions"] if float(d["points"]) == 0.5)}
    batch = [{"client_id": cid(), "item_id": i, "base_revision": 0, "client_updated_at": "2026-11-23T09:40:00+08:00",
              "result": "deduct" if i in chosen else "pass", "deduction_codes": [chosen[i]] if i in chosen else []}
             for i in items]
    assert client.put(f"/api/v1/inspections/{world.assignment.id}/responses", json={"items": batch},
                      headers=lead).status_code == 200
    for n, item_id in enumerate(chosen):
        for k in range(items[item_id]["evidence"]["min_photos"]):
            r = client.post(f"/api/v1/inspections/{world.assignment.id}/photos", headers=member,
                            data=photo_form(jpeg(10 * n + k), item_id), content_type="multipart/form-data")
            assert r.status_code == 201, r.get_json()
    sign_all(client, world, lead, member)
    submitted = client.post(f"/api/v1/inspections/{world.assignment.id}/submit", headers=lead)
    assert submitted.status_code == 200, submitted.get_json()
    published = client.post(f"/api/v1/inspections/{world.assignment.id}/publish", json={}, headers=office)
    assert published.status_code == 201, published.get_json()
    from inspect_api.rectification.models import Finding

    order_id = submitted.get_json()["order_id"]
    today = datetime.now(timezone.utc).date().isoformat()
    notice = client.post("/api/v1/notices", headers=office, json={
        "period_from": "2026-01-01", "period_to": today,
        "finding_ids": [str(f.id) for f in Finding.objects(order_id=order_id)]}).get_json()
    assert client.post(f"/api/v1/notices/{notice['id']}/publish", headers=office).status_code == 200
    return {"world": world, "inspection": submitted.get_json(), "result_id": published.get_json()["id"],
            "notice_id": notice["id"], "items": items, "lead": lead, "office": office}


def test_one_inspection_reads_the_same_on_every_surface(client, inspected):
    world, inspection, items = inspected["world"], inspected["inspection"], inspected["items"]
    rid, nid = inspected["result_id"], inspected["notice_id"]
    severity = {f["item_id"]: f["severity"] for f in inspection["findings"]}
    assert severity == {VETO: "critical", MAJOR: "major", MINOR: "minor"}
    labels = {i: SEVERITIES[s] for i, s in severity.items()}  # 严重 / 较重 / 一般
    texts = {i: items[i]["text"] for i in severity}
    # The engine: 98 applicable points, 4.5 lost -> 95.408... -> 95.41 (one place would print 95.4).
    assert inspection["result"]["score"] == 95.41 and inspection["result"]["grade"] == "fail"
    assert inspection["result"]["veto_failed"] == [VETO]
    score = vocabulary.score_text(inspection["result"]["score"])
    assert score == "95.41"

    # The printed report.
    report = client.get(f"/api/v1/inspections/{world.assignment.id}/report", headers=inspected["office"])
    assert report.status_code == 200
    html = report.get_data(as_text=True)
    assert f"<td>{score}</td>" in html and "<td>不合格</td>" in html
    for item_id, label in labels.items():
        assert f'<td data-label="严重程度">{label}<' in _raw_block(html, "tr", texts[item_id]), item_id

    # The public API.
    api = client.get(f"/api/v1/public/results/{rid}").get_json()
    assert api["score"] == 95.41 and api["grade_name"] == "不合格"
    assert {f["item_id"]: f["severity_name"] for f in api["findings"]} == labels
    assert [v["item_id"] for v in api["veto_failed"]] == [VETO] and texts[VETO] in api["grade_reason"]

    # The public pages.
    detail = client.get(f"/p/results/{rid}").get_data(as_text=True)
    assert f'<strong class="score">{score}</strong>' in detail
    for item_id, label in labels.items():
        assert f"严重程度：{label}" in _block(detail, "article", texts[item_id])
    for page in ("/p/results", "/p/", f"/p/institutions/{world.institution.public_id}"):
        card = _block(client.get(page).get_data(as_text=True), "article", world.institution.name)
        assert f"得分 {score} 不合格" in card and "一票否决项不符合" in card, page

    # The results CSV.
    row = next(r for r in _csv(client.get("/api/v1/public/results.csv").data) if r["公开编号"] == rid)
    assert (row["得分"], row["等级"], row["问题数"]) == (score, "不合格", "3")

    # The notice, on its page and in the notices CSV.
    notice = client.get(f"/p/notices/{nid}").get_data(as_text=True)
    rows = [r for r in _csv(client.get("/api/v1/public/notices.csv").data) if r["通报公开编号"] == nid]
    assert {r["问题"]: r["严重程度"] for r in rows} == {texts[i]: labels[i] for i in labels}
    for item_id, label in labels.items():
        assert f"严重程度：{label}" in _block(notice, "article", texts[item_id])

    # No surface speaks an older dialect (major was 一般 and minor 轻微 on some of them).
    for body in (html, detail, notice, client.get("/api/v1/public/notices.csv").data.decode("utf-8")):
        assert "轻微" not in body


def test_a_veto_failure_says_which_item_decided_the_grade(client, inspected):
    """Item 2: 95.41 and 不合格 side by side, with the failed veto item named in plain words."""
    world, items = inspected["world"], inspected["items"]
    detail = _text(client.get(f"/p/results/{inspected['result_id']}").get_data(as_text=True))
    assert "为什么得分95.41分却评为“不合格”" in detail
    assert items[VETO]["text"] in detail and "与得分高低无关" in detail
    assert items[VETO]["deductions"][0]["text"] in detail  # what was found, not only the rule
    report = _text(client.get(f"/api/v1/inspections/{world.assignment.id}/report",
                              headers=inspected["office"]).get_data(as_text=True))
    assert "一票否决" in report and items[VETO]["text"] in report and "与得分高低无关" in report


def test_people_read_beijing_time_and_machines_read_an_offset(client, inspected):
    """Item 3: every time a person reads is Beijing time and says so; CSV and datetime attributes carry +08:00."""
    from inspect_api.inspections.models import Inspection

    world = inspected["world"]
    stored = Inspection.objects.get(id=world.assignment.id)
    html = client.get(f"/api/v1/inspections/{world.assignment.id}/report",
                      headers=inspected["office"]).get_data(as_text=True)
    concluded = vocabulary.beijing_time(stored.submission_started_at)
    assert "检查结束时间（北京时间）" in html and f">{concluded}</time>" in html
    assert f'datetime="{vocabulary.beijing_iso(stored.submission_started_at)}"' in html
    verify = client.get(f"/p/reports/{world.assignment.id}/verify?h={stored.report_hash}").get_data(as_text=True)
    day = vocabulary.beijing_date(stored.submitted_at)
    assert re.search(rf"<dt>检查日期</dt><dd><time [^>]*>{day}</time></dd>", verify)  # a date where it says 日期
    assert "检查结束时间" in verify and "（北京时间）" in verify
    row = next(r for r in _csv(client.get("/api/v1/public/results.csv").data)
               if r["公开编号"] == inspected["result_id"])
    published = datetime.fromisoformat(row["公开时间"])
    assert row["公开时间"].endswith("+08:00") and published.utcoffset().total_seconds() == 8 * 3600
    for r in _csv(client.get("/api/v1/public/notices.csv").data):
        assert r["发布时间"].endswith("+08:00")
    page = client.get(f"/p/results/{inspected['result_id']}").get_data(as_text=True)
    assert re.search(r'公开日期 <time datetime="[0-9T:-]+\+08:00">', page)
