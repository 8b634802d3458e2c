"""Every public page at phone (390 px) and desktop (1280 px) width, in a real headless Chromium.

Fails on console errors (SEVERE), a missing h1, a missing QR code of the
page's own URL, missing expected content, or horizontal overflow; saves a
full-page screenshot of each under test-output/screenshots/.
"""

from __future__ import annotations

import base64
import re

import pytest

from tests.browser.conftest import SCREENSHOTS

WIDTHS = {"phone": 390, "desktop": 1280}


def _pages(app) -> list[tuple[str, str, list[str]]]:
    """(name, path, expected texts) of the pages to render, from the demo data."""
    from inspect_api.draws import service as draws
    from inspect_api.publication import service
    from inspect_api.publication.models import Notice

    with app.app_context():
        results = list(service.public_results().limit(50))
        failing = next(r for r in results if r.grade == "fail")
        published = Notice.objects(status="published").first()
        retracted = Notice.objects(status="retracted").first()
        overdue = next(r for r in results if service.institution_counts(r.institution_id)["overdue_findings"])
        draw = draws.public_draws().first()
        pages = [
            ("home", "/p/", ["医养结合机构监管信息公开", "最新公开的检查结果", "最新问题通报"]),
            ("results", "/p/results", ["检查结果公开", "筛选", "下载 CSV"]),
            ("results-filtered", "/p/results?grade=fail", ["不合格", failing.snapshot["institution"]["name"]]),
            ("result", f"/p/results/{failing.id}", ["检查结论", "检查组", "执法证号", "发现的问题", "整改状态"]),
            ("institution", f"/p/institutions/{overdue.institution_public_id}",
             ["逾期未整改", "公开联系方式", "近期检查结果"]),
            ("notices", "/p/notices", ["问题通报", published.title, "撤回理由"]),
            ("notice", f"/p/notices/{published.id}", [published.number, "通报问题清单"]),
            ("notice-retracted", f"/p/notices/{retracted.id}", ["本通报已撤回", retracted.retraction_reason]),
            ("bad-params", "/p/results?page=0", ["请求参数有误"]),
            ("draws", "/p/draws", ["双随机抽查记录"]),
        ]
        if draw is not None:
            pages.append(("draw", f"/p/draws/{draw.id}", ["抽查计划"]))
        pages += _assessment_pages()
    return pages


def _assessment_pages() -> list[tuple[str, str, list[str]]]:
    """The survey page, the map, and profiles showing ledger checks and published satisfaction results."""
    from inspect_api.directory.models import Institution
    from inspect_api.ledgers.models import LedgerCheck
    from inspect_api.surveys.models import SurveyResult

    published = SurveyResult.objects(count__gte=10).order_by("-quarter").first()
    home = Institution.objects.get(id=published.institution_id)
    concluded = LedgerCheck.objects.get(state="concluded")
    checked = Institution.objects.get(id=concluded.institution_id)
    return [
        ("survey", f"/p/institutions/{home.public_id}/survey", ["满意度测评", "很满意", "提交评价", "不会公开"]),
        ("institution-satisfaction", f"/p/institutions/{home.public_id}", ["满意度测评", "有效答卷", "总体均分"]),
        ("institution-ledger", f"/p/institutions/{checked.public_id}", ["台账资料抽查", concluded.code]),
        ("map", "/p/map", ["医养结合机构电子地图", "一键电话", "一键导航", "高德地图", "GCJ-02"]),
        ("map-district", "/p/map?region=370302", ["淄川区", "一键导航"]),
    ]


@pytest.fixture(scope="module")
def pages(live_server):
    return _pages(live_server["app"])


def _set_width(driver, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _screenshot(driver, path) -> None:
    height = int(driver.execute_script("return Math.min(document.documentElement.scrollHeight, 6000)"))
    width = int(driver.execute_script("return window.innerWidth"))
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def _severe(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_public_pages_render_cleanly(live_server, driver, pages, width_name):
    from selenium.webdriver.common.by import By

    width = WIDTHS[width_name]
    base = live_server["base"]
    problems: list[str] = []
    _set_width(driver, width)
    driver.get_log("browser")  # start from an empty console
    for name, path, expected in pages:
        driver.get(base + path)
        label = f"{name} @ {width}px ({path})"
        status_ok = driver.execute_script("return document.readyState") == "complete"
        if not status_ok:
            problems.append(f"{label}: page did not finish loading")
        h1 = driver.find_elements(By.TAG_NAME, "h1")
        if len(h1) != 1 or not h1[0].text.strip():
            problems.append(f"{label}: expected exactly one non-empty h1, found {len(h1)}")
        qr = driver.find_elements(By.CSS_SELECTOR, "footer .page-qr svg[role=img]")
        if len(qr) != 1 or not qr[0].is_displayed():
            problems.append(f"{label}: the page QR code is missing")
        body = driver.find_element(By.TAG_NAME, "body").text
        for text in expected:
            if text and text not in body:
                problems.append(f"{label}: missing text {text!r}")
        if driver.execute_script("return document.documentElement.lang") != "zh-CN":
            problems.append(f"{label}: html lang is not zh-CN")
        overflow = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        if overflow[0] > overflow[1]:
            wide = driver.execute_script("""
                const w = window.innerWidth; const out = [];
                for (const el of document.querySelectorAll('body *')) {
                  const r = el.getBoundingClientRect();
                  if (r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
                  if (out.length > 5) break;
                }
                return out;""")
            problems.append(f"{label}: horizontal overflow {overflow[0]} > {overflow[1]} ({', '.join(wide)})")
        # headings must not skip levels (h1 → h3 without h2)
        levels = [int(t.tag_name[1]) for t in driver.find_elements(By.CSS_SELECTOR, "h1,h2,h3,h4,h5,h6")]
        for a, b in zip(levels, levels[1:]):
            if b > a + 1:
                problems.append(f"{label}: heading level jumps from h{a} to h{b}")
                break
        errors = [e for e in _severe(driver)
                  if not (name == "bad-params" and e.startswith(base + path) and "status of 400" in e)]
        if errors:
            problems.append(f"{label}: console errors: {errors}")
        _screenshot(driver, SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]', '_', name)}-{width}.png")
    assert not problems, "\n".join(problems)


def test_page_qr_encodes_the_page_url(live_server):
    """The QR code in the footer encodes the page's own absolute URL (checked on the server's SVG source)."""
    import qrcode  # noqa: F401 - the same library renders it; compare with a fresh rendering

    from inspect_api import qrcodes

    app = live_server["app"]
    client = app.test_client()
    base = live_server["base"]
    for path in ("/p/", "/p/results", "/p/notices"):
        html = client.get(path).get_data(as_text=True)
        expected = str(qrcodes.svg(base + path))
        assert expected in html, path


def test_script_injection_is_inert_in_the_browser(live_server, driver):
    """An institution name with a script renders as text and runs nothing."""
    from inspect_api.directory.models import Institution

    app = live_server["app"]
    with app.app_context():
        inst = Institution.objects(status="active").first()
        original = inst.name
        Institution.objects(id=inst.id).update_one(set__name='<img src=x onerror="window.__pwned=1">康宁<script>window.__pwned=2</script>')
    try:
        _set_width(driver, 390)
        driver.get(live_server["base"] + f"/p/institutions/{inst.public_id}")
        assert driver.execute_script("return window.__pwned === undefined")
        assert "<script>window.__pwned=2</script>" in driver.find_element("tag name", "h1").text
    finally:
        with app.app_context():
            Institution.objects(id=inst.id).update_one(set__name=original)


def test_the_map_orders_institutions_by_distance_with_consent(live_server, driver):
    """With geolocation granted, the page orders the feed by distance on the phone (no request carries it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = live_server["base"]
    _set_width(driver, 390)
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 36.80, "longitude": 118.05,
                                                                "accuracy": 30})
    driver.get(base + "/p/map")
    button = driver.find_element(By.ID, "near-me")
    assert button.is_displayed()
    button.click()
    WebDriverWait(driver, 30).until(lambda d: "已按距离排序" in d.find_element(By.ID, "near-status").text)
    texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#places .distance")]
    assert len(texts) == 20

    def metres(text: str) -> float:
        number = float(re.search(r"[0-9.]+", text).group())
        return number * 1000 if "公里" in text else number

    values = [metres(t) for t in texts]
    assert values == sorted(values) and values[0] < 3000
    first = driver.find_elements(By.CSS_SELECTOR, "#places .place")[0]
    hrefs = [a.get_attribute("href") for a in first.find_elements(By.CSS_SELECTOR, ".actions a")]
    assert any(h.startswith("geo:") for h in hrefs) and any(h.startswith("baidumap:") for h in hrefs)
    assert not _severe(driver)
    _screenshot(driver, SCREENSHOTS / "map-near-390.png")
    driver.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})


def test_a_resident_answers_the_survey_on_a_phone(live_server, driver):
    """390 px, no login, no script: choose on each question, submit, see the thanks; a second visit says so."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    from inspect_api.directory.models import Institution

    app = live_server["app"]
    with app.app_context():
        home = Institution.objects(status="active", kind="combined").order_by("-name").first()
    _set_width(driver, 390)
    driver.delete_all_cookies()
    driver.get(live_server["base"] + f"/p/institutions/{home.public_id}/survey")
    fieldsets = driver.find_elements(By.CSS_SELECTOR, "fieldset.question")
    assert len(fieldsets) == 6
    for fieldset in fieldsets:
        fieldset.find_elements(By.CSS_SELECTOR, "label")[1].click()  # 满意
    height = driver.execute_script("return document.querySelector('.scale label').getBoundingClientRect().height")
    assert height >= 44  # a finger-sized target
    driver.find_element(By.ID, "comment").send_keys("服务很好，电话 13912345678")
    old = driver.find_element(By.TAG_NAME, "h1")
    driver.find_element(By.CSS_SELECTOR, "button.big").click()
    WebDriverWait(driver, 30).until(staleness_of(old))
    assert "提交成功" in driver.find_element(By.TAG_NAME, "h1").text, driver.find_element(By.TAG_NAME, "body").text
    driver.get(live_server["base"] + f"/p/institutions/{home.public_id}/survey")
    assert "本季度已对该机构作过评价" in driver.find_element(By.TAG_NAME, "body").text
    assert not _severe(driver)
