from __future__ import annotations

import csv
import io
import re

from inspect_api.publication.routes import csv_safe
from tests.conftest import assert_error
from tests.publication.world import XSS, make_institution


def _publish(client, world, as_user, key, body=None, **kw):
    ins = world.inspect(key, **kw)
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json=body or {}, headers=as_user(world.office))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_unpublished_result_is_404_everywhere(client, world, as_user):
    ins = world.inspect("a")
    assert client.get(f"/p/results/{ins.id}").status_code == 404
    assert_error(client.get(f"/api/v1/public/results/{ins.id}"), 404)
    assert client.get("/p/results/nonsense").status_code == 404
    assert client.get("/api/v1/public/results").get_json()["total"] == 0
    html = client.get("/p/results").get_data(as_text=True)
    assert world.institution.name not in html
    r = client.get("/p/results/nonsense")
    assert "不存在" in r.get_data(as_text=True)


def test_public_pages_render_with_qr_and_content(client, world, as_user):
    rid = _publish(client, world, as_user, "a")
    for url, expect in (("/p/", world.institution.name), ("/p/results", world.institution.name),
                        (f"/p/results/{rid}", "张建国"), (f"/p/institutions/{world.institution.public_id}", "0533-5180000"),
                        ("/p/notices", "问题通报")):
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert "<h1>" in html and 'class="page-qr"' in html and "<svg" in html, url
        assert expect in html, url
        assert "370302195001011234" not in html and "13805331234" not in html and "张秀英" not in html


def test_institution_profile_counts_open_and_overdue(client, world, as_user):
    from inspect_api.rectification.models import Finding

    ins = world.inspect("a")
    Finding.objects(order_id=ins.order_id, seq=1).update_one(set__overdue=True)
    html = client.get(f"/p/institutions/{world.institution.public_id}").get_data(as_text=True)
    assert '<strong>2</strong><span>未办结问题</span>' in html
    assert '<strong>1</strong><span>逾期未整改</span>' in html
    data = client.get(f"/api/v1/public/institutions/{world.institution.public_id}").get_json()
    assert data["open_findings"] == 2 and data["overdue_findings"] == 1
    assert client.get("/p/institutions/NOPE").status_code == 404


def test_script_in_institution_name_and_notes_is_escaped(client, world, as_user):
    evil = make_institution(world.now, name=f"康宁{XSS}医养")
    from inspect_api.publication.builders import finding

    rid = _publish(client, world, as_user, "evil", body={"include_notes": True}, institution=evil,
                   findings=[finding("4086-1-1", f"问题{XSS}", note=f"说明{XSS}<img src=x onerror=alert(1)>")])
    for url in ("/p/", "/p/results", f"/p/results/{rid}", f"/p/institutions/{evil.public_id}"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url
    assert "说明&lt;script&gt;" in client.get(f"/p/results/{rid}").get_data(as_text=True)  # the note is shown


def test_results_filters_and_paging(client, world, as_user):
    other = make_institution(world.now, name="博山区颐养院", region="370304", kind="community_station")
    _publish(client, world, as_user, "a", grade="good")
    _publish(client, world, as_user, "b", grade="fail", score=52.0, institution=other)
    assert client.get("/api/v1/public/results?grade=fail").get_json()["total"] == 1
    assert client.get("/api/v1/public/results?region=370304").get_json()["total"] == 1
    assert client.get("/api/v1/public/results?region=370300").get_json()["total"] == 2
    assert client.get("/api/v1/public/results?kind=community_station").get_json()["total"] == 1
    year = world.now.year
    assert client.get(f"/api/v1/public/results?period={year + 5}").get_json()["total"] == 0
    page = client.get("/api/v1/public/results?per_page=1&page=2").get_json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2
    html = client.get("/p/results?grade=fail").get_data(as_text=True)
    assert "博山区颐养院" in html and world.institution.name not in html
    html = client.get("/p/results?per_page=1").get_data(as_text=True)
    assert 'rel="next"' in html and "per_page=1" in html
    assert "本页没有记录" in client.get("/p/results?page=9").get_data(as_text=True)


def test_out_of_range_query_params(client, world):
    labels = {"page": "页码", "per_page": "每页条数", "grade": "等级", "region": "区划", "kind": "机构类型",
              "period": "检查期间"}
    for q in ("page=0", "page=-1", "page=abc", "page=100001", "per_page=0", "per_page=101", "grade=best",
              "region=12", "kind=hotel", "period=2026-13", "period=1999", "period=<script>"):
        r = client.get(f"/p/results?{q}")
        assert r.status_code == 400, q
        html = r.get_data(as_text=True)
        name = q.split("=")[0]
        assert "筛选条件有误" in html and "<h1>" in html, q
        if name not in ("page", "per_page"):  # the message also stands beside the field
            assert f'<span class="field-error" id="e-{name}">' in html and 'aria-invalid="true"' in html, q
        assert labels[name] + "应为" in html or labels[name] + "不是" in html, q  # the field as the page names it
        assert f"参数 {name}" not in html and "<script>" not in html
        assert 'class="page-qr"' not in html  # an error page carries no QR code of itself
        assert_error(client.get(f"/api/v1/public/results?{q}"), 422)
    r = client.get("/p/notices?page=0")
    assert r.status_code == 400 and "页码应为" in r.get_data(as_text=True)
    assert client.get("/p/draws?page=abc").status_code == 400
    assert_error(client.get("/api/v1/public/notices?per_page=1000"), 422)
    assert_error(client.get("/api/v1/public/institutions?region=abc"), 422)
    assert_error(client.get("/api/v1/public/results.csv?grade=x"), 422)


def test_a_refused_filter_keeps_the_form_filled_in(client, world, as_user):
    """Item 10: the reader's choices come back as sent, the wrong one marked, the message naming it in Chinese."""
    _publish(client, world, as_user, "a")
    r = client.get("/p/results?region=370302&kind=combined&grade=good&period=2026-13")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert '<option value="370302" selected>' in html and '<option value="combined" selected>' in html
    assert '<option value="good" selected>' in html
    assert re.search(r'<input id="f-period" name="period" value="2026-13"[^>]*aria-invalid="true"'
                     r'[^>]*aria-describedby="e-period"', html)
    assert '<a href="#f-period">检查期间应为年份（如 2026）或年月（如 2026-11）' in html
    assert "period 应为" not in html and world.institution.name not in html  # no results under a refused filter
    ok = client.get("/p/results?region=370302&kind=combined&period=2026").get_data(as_text=True)
    assert '<input id="f-period" name="period" value="2026"' in ok and "aria-invalid" not in ok


def test_etag_and_304(client, world, as_user):
    _publish(client, world, as_user, "a")
    for url in ("/api/v1/public/results", "/api/v1/public/institutions", "/api/v1/public/notices",
                "/api/v1/public/results.csv"):
        r = client.get(url)
        etag = r.headers["ETag"]
        assert etag
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_open_data_ids_are_stable_and_documented(client, world, as_user):
    rid = _publish(client, world, as_user, "a")
    assert client.get("/api/v1/public/results").get_json()["items"][0]["id"] == rid
    assert client.get(f"/api/v1/public/results/{rid}").get_json()["id"] == rid
    inst = client.get("/api/v1/public/institutions").get_json()
    assert world.institution.public_id in [i["id"] for i in inst["items"]]
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/public/results", "/api/v1/public/institutions", "/api/v1/public/notices",
                 "/api/v1/public/results.csv", "/api/v1/inspections/{inspection_id}/publish", "/api/v1/notices"):
        assert path in spec["paths"], path
    schema = spec["paths"]["/api/v1/public/results"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("PublicResultPage")


def test_csv_has_bom_and_is_formula_safe(client, world, as_user):
    evil = make_institution(world.now, name="=HYPERLINK(\"http://x\")")
    _publish(client, world, as_user, "evil", institution=evil)
    r = client.get("/api/v1/public/results.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][0] == "公开编号" and len(rows) == 2
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert csv_safe(value).startswith("'")
    assert csv_safe(52.5) == "52.5" and csv_safe("淄川") == "淄川"


def test_nothing_personal_or_unpublished_in_open_data(client, world, as_user):
    _publish(client, world, as_user, "a")
    world.inspect("b")  # submitted, not published
    body = client.get("/api/v1/public/results").get_data(as_text=True)
    assert "370302195001011234" not in body and "13805331234" not in body and "张秀英" not in body
    assert body.count('"code"') >= 1
    assert client.get("/api/v1/public/results").get_json()["total"] == 1


def test_injection_escaped_on_notice_pages_too(client, world, as_user):
    from inspect_api.publication.builders import finding
    from inspect_api.rectification.models import Finding

    evil = make_institution(world.now, name=f"康宁{XSS}")
    ins = world.inspect("evil", institution=evil, findings=[finding("4086-1-1", f"问题{XSS}", note=XSS)])
    ids = [str(f.id) for f in Finding.objects(order_id=ins.order_id)]
    headers = as_user(world.office)
    r = client.post("/api/v1/notices", json={"period_from": "2026-01-01", "period_to": "2026-12-31",
                                             "finding_ids": ids}, headers=headers)
    nid = r.get_json()["id"]
    client.post(f"/api/v1/notices/{nid}/publish", headers=headers)
    client.post(f"/api/v1/notices/{nid}/retract", json={"reason": f"理由{XSS}"}, headers=headers)
    for url in (f"/p/notices/{nid}", "/p/notices"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html, url
        assert "&lt;script&gt;" in html, url


def test_profile_from_poster_qr_ignores_the_checkin_token(client, world):
    """The token is echoed only into the fragment of the inspectors' check-in link (a fragment is never
    sent to a server: not in requests, logs or Referer); nowhere else on the page."""
    r = client.get(f"/p/institutions/{world.institution.public_id}?t=secret-token-value")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    handoff = f'href="/app/#checkin?p={world.institution.public_id}&amp;t=secret-token-value"'
    assert html.count("secret-token-value") == 1 and handoff in html and world.institution.name in html


def test_photos_are_private_unless_chosen(client, world, as_user):
    ins = world.inspect("a")
    r = client.post(f"/api/v1/inspections/{ins.id}/publish", json={"photo_ids": ["ph-2"]}, headers=as_user(world.office))
    rid = r.get_json()["id"]
    assert client.get(f"/p/results/{rid}/photos/ph-1").status_code == 404  # not chosen
    assert client.get(f"/p/results/{rid}/photos/ph-2").status_code == 404  # chosen, but no such stored evidence
    detail = client.get(f"/api/v1/public/results/{rid}").get_json()
    assert [f["photo_ids"] for f in detail["findings"]] == [[], ["ph-2"]]


def test_public_dates_are_shanghai_business_dates():
    from inspect_api.vocabulary import beijing_date

    assert beijing_date("2026-11-23T17:00:00Z") == "2026-11-24"
    assert beijing_date("2026-11-23T15:59:59Z") == "2026-11-23"
    assert beijing_date(None) == ""
