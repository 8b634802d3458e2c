"""The public site as a resident reads it (issue #14): an institution's notices, the orders lists are in,
notices as open data (CSV), error pages without a QR code of themselves."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from inspect_api.publication import notices
from inspect_api.rectification.models import Finding
from tests.publication.world import make_institution


def _notice(client, headers, world, finding_ids, **extra) -> dict:
    today = world.now.date()
    body = {"period_from": (today - timedelta(days=90)).isoformat(), "period_to": today.isoformat(),
            "finding_ids": finding_ids, **extra}
    r = client.post("/api/v1/notices", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _publish_notice(client, headers, notice) -> dict:
    r = client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _publish_result(client, world, as_user, key, **kw) -> str:
    ins = world.inspect(key, **kw)
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={}, headers=as_user(world.office))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_institution_with_open_findings_links_the_notices_that_cite_it(client, world, as_user):
    """Item 8: open findings but no published result, yet a notice names it: the profile links that notice."""
    office = as_user(world.office)
    ins = world.inspect("unpublished")  # submitted, findings open, result not published
    ids = [str(f.id) for f in Finding.objects(order_id=ins.order_id)]
    cited = _publish_notice(client, office, _notice(client, office, world, ids, title="关于康宁医养中心问题的通报"))
    retracted = _publish_notice(client, office, _notice(client, office, world, ids[:1]))
    client.post(f"/api/v1/notices/{retracted['id']}/retract", json={"reason": "重复通报"}, headers=office)
    _notice(client, office, world, ids)  # a draft: never public
    other = _publish_notice(client, office, _notice(client, office, world, []))

    html = client.get(f"/p/institutions/{world.institution.public_id}").get_data(as_text=True)
    assert "暂无公开的检查结果" in html and "上述问题来自检查结果尚未公开的检查" in html
    section = html.split('id="cited"', 1)[1]
    assert f'href="/p/notices/{cited["id"]}"' in section and "关于康宁医养中心问题的通报" in section
    assert f'href="/p/notices/{retracted["id"]}"' in section and "已撤回" in section
    assert f'/p/notices/{other["id"]}' not in section and "涉及本机构问题 2 项" in section
    assert section.index(retracted["id"]) < section.index(cited["id"])  # 2号 before 1号
    stranger = make_institution(world.now, name="博山区颐养院")
    assert "暂无点名本机构的问题通报" in client.get(f"/p/institutions/{stranger.public_id}").get_data(as_text=True)


def test_results_by_inspection_date_and_notices_by_number_newest_first(client, world, as_user):
    """Item 9: the home page's results by inspection date (not by when they were published); notices by year
    and number, newest first, even when 2号 was dated before 1号."""
    other = make_institution(world.now, name="张店区福寿苑")
    third = make_institution(world.now, name="周村区康乐园")
    _publish_result(client, world, as_user, "recent", days_ago=3, institution=other)  # published first
    _publish_result(client, world, as_user, "old", days_ago=40, institution=third)
    _publish_result(client, world, as_user, "middle", days_ago=12)
    for page in ("/p/", "/p/results", ):
        html = client.get(page).get_data(as_text=True)
        order = [html.index(name) for name in ("张店区福寿苑", world.institution.name, "周村区康乐园")]
        assert order == sorted(order), page
    office = world.office
    first = notices.draft_notice(office, {"period_from": world.now.date() - timedelta(days=30),
                                          "period_to": world.now.date(), "finding_ids": []}, now=world.now)
    second = notices.draft_notice(office, {"period_from": world.now.date() - timedelta(days=30),
                                           "period_to": world.now.date(), "finding_ids": []}, now=world.now)
    notices.publish_notice(office, str(first.id), now=world.now)
    notices.publish_notice(office, str(second.id), now=world.now - timedelta(days=3))  # 2号, dated 3 days earlier
    numbers = [n["number"] for n in client.get("/api/v1/public/notices").get_json()["items"]]
    year = numbers[0][1:5]
    assert numbers == [f"〔{year}〕2号", f"〔{year}〕1号"]
    html = client.get("/p/notices").get_data(as_text=True)
    assert html.index(f"〔{year}〕2号") < html.index(f"〔{year}〕1号")
    home = client.get("/p/").get_data(as_text=True)
    assert home.index(f"〔{year}〕2号") < home.index(f"〔{year}〕1号")


def _rows(body: bytes) -> list[dict]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_notices_csv_like_results_csv(client, world, as_user):
    """Item 11: UTF-8 with BOM, formula-safe cells, one row per cited problem, strong ETag and 304."""
    office = as_user(world.office)
    ins = world.inspect("a")
    ids = [str(f.id) for f in Finding.objects(order_id=ins.order_id).order_by("seq")]
    cited = _publish_notice(client, office, _notice(client, office, world, ids, title="=HYPERLINK(\"x\")通报",
                                                    text="@SUM(1)"))
    empty = _publish_notice(client, office, _notice(client, office, world, []))
    client.post(f"/api/v1/notices/{empty['id']}/retract", json={"reason": "-误发，撤回"}, headers=office)
    r = client.get("/api/v1/public/notices.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.headers["Content-Disposition"].startswith(
        "attachment; filename=\"notices.csv\"")
    rows = _rows(r.data)
    mine = [row for row in rows if row["通报公开编号"] == cited["id"]]
    assert [row["问题序号"] for row in mine] == ["1", "2"]
    assert mine[0]["标题"] == "'=HYPERLINK(\"x\")通报"  # never evaluated by a spreadsheet
    assert mine[0]["机构名称"] == world.institution.name and mine[0]["严重程度"] == "较重"
    assert mine[1]["严重程度"] == "一般" and mine[0]["当前整改状态"] == "待整改"
    assert mine[0]["详情链接"].endswith(f"/p/notices/{cited['id']}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", mine[0]["发布时间"])
    (retracted,) = [row for row in rows if row["通报公开编号"] == empty["id"]]
    assert retracted["状态"] == "已撤回" and retracted["撤回理由"] == "'-误发，撤回" and retracted["问题"] == ""
    assert [row["通报公开编号"] for row in rows][0] == empty["id"]  # the public list's order: 2号 first
    etag = r.headers["ETag"]
    again = client.get("/api/v1/public/notices.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data
    assert "/api/v1/public/notices.csv" in client.get("/p/notices").get_data(as_text=True)


def test_error_pages_carry_no_qr_code_of_themselves(client, world, as_user):
    """Item 12: a 404 or 400 page is not worth sharing; every other public page keeps its QR code."""
    rid = _publish_result(client, world, as_user, "a")
    for path, status in (("/p/results/000000000000000000000000", 404), ("/p/notices/nonsense", 404),
                         ("/p/institutions/NOSUCH00", 404), ("/p/draws/000000000000000000000000", 404),
                         ("/p/results?page=0", 400), ("/p/notices?page=x", 400), ("/p/draws?page=0", 400),
                         ("/p/results?period=1999", 400)):
        r = client.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code == status, path
        assert "page-qr" not in html and "<svg" not in html, path
        assert "<h1>" in html and ("返回首页" in html or "筛选条件有误" in html), path
    for path in ("/p/", "/p/results", f"/p/results/{rid}", "/p/notices", "/p/draws"):
        assert 'class="page-qr"' in client.get(path).get_data(as_text=True), path
