"""Every kind of public page (and the printed report) at phone (390 px) and desktop (1280 px) width, in a real
headless Chromium, at the reader's normal and doubled text size.

Fails on console errors (SEVERE), a missing h1, a QR code of its own URL missing (or present on an error
page), missing expected content, sideways scrolling, label/value lists squeezing values below half their
width, or visible text under 14 px; saves a full-page screenshot of each under test-output/screenshots/
(``<kind>-<width>.png`` and ``<kind>-<width>-text200.png``).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.pages import (WIDTHS, horizontal_overflow, open_page, page_kinds, screenshot, set_text_size,
                                 set_width, small_text, squeezed_values)


@pytest.fixture(scope="module")
def pages(live_server):
    return page_kinds(live_server["app"])


def _severe(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_public_pages_render_cleanly(live_server, driver, pages, width_name):
    from selenium.webdriver.common.by import By

    width = WIDTHS[width_name]
    base = live_server["base"]
    problems: list[str] = []
    set_width(driver, width)
    driver.get_log("browser")  # start from an empty console
    for page in pages:
        open_page(driver, base, page)
        label = f"{page.name} @ {width}px ({page.path})"
        if driver.execute_script("return document.readyState") != "complete":
            problems.append(f"{label}: page did not finish loading")
        h1 = driver.find_elements(By.TAG_NAME, "h1")
        if len(h1) != 1 or not h1[0].text.strip():
            problems.append(f"{label}: expected exactly one non-empty h1, found {len(h1)}")
        qr = driver.find_elements(By.CSS_SELECTOR, "footer .page-qr svg[role=img]")
        if page.qr and (len(qr) != 1 or not qr[0].is_displayed()):
            problems.append(f"{label}: the page QR code is missing")
        if not page.qr and qr:
            problems.append(f"{label}: carries a QR code of itself")
        body = driver.find_element(By.TAG_NAME, "body").text
        for text in page.expected:
            if text and text not in body:
                problems.append(f"{label}: missing text {text!r}")
        if driver.execute_script("return document.documentElement.lang") != "zh-CN":
            problems.append(f"{label}: html lang is not zh-CN")
        overflow = horizontal_overflow(driver)
        if overflow:
            problems.append(f"{label}: scrolls sideways: {overflow}")
        levels = [int(t.tag_name[1]) for t in driver.find_elements(By.CSS_SELECTOR, "h1,h2,h3,h4,h5,h6")]
        for a, b in zip(levels, levels[1:]):
            if b > a + 1:
                problems.append(f"{label}: heading level jumps from h{a} to h{b}")
                break
        errors = [e for e in _severe(driver)
                  if not (page.status >= 400 and f"status of {page.status}" in e)]
        if errors:
            problems.append(f"{label}: console errors: {errors}")
        screenshot(driver, f"{page.name}-{width}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_pages_read_at_double_text_size(live_server, driver, pages, width_name):
    """With the root text size doubled (a reader's 200% setting), no page scrolls sideways and every value of a
    label/value list keeps at least half of its list's width (no one-character-per-line columns)."""
    width = WIDTHS[width_name]
    problems: list[str] = []
    set_width(driver, width)
    for page in pages:
        open_page(driver, live_server["base"], page)
        root = driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
        set_text_size(driver, 200)
        doubled = driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
        label = f"{page.name} @ {width}px, text 200% ({page.path})"
        if doubled != 2 * root:
            problems.append(f"{label}: the root size did not double ({root} → {doubled}px)")
        overflow = horizontal_overflow(driver)
        if overflow:
            problems.append(f"{label}: scrolls sideways: {overflow}")
        squeezed = squeezed_values(driver)
        if squeezed:
            problems.append(f"{label}: values squeezed below half the width: {squeezed[:5]}")
        if width == WIDTHS["phone"]:
            screenshot(driver, f"{page.name}-{width}-text200")
    assert not problems, "\n".join(problems)


def test_no_visible_text_is_smaller_than_14px(live_server, driver, pages):
    set_width(driver, WIDTHS["phone"])
    problems = []
    for page in pages:
        open_page(driver, live_server["base"], page)
        small = small_text(driver)
        if small:
            problems.append(f"{page.name}: {small[:5]}")
    assert not problems, "\n".join(problems)


def test_pages_honour_the_readers_browser_font_size(live_server, browser_tools, pages):
    """A reader who sets 24 px as the browser's default font size gets every page 1.5 times as large (the
    stylesheets' root is 100% and sizes are in rem), and it still fits a 390 px phone."""
    import shutil

    from tests.browser.conftest import start_chromium

    sizes = {}
    for default in (16, 24):
        drv, profile = start_chromium(browser_tools, prefs={"webkit.webprefs.default_font_size": default})
        try:
            set_width(drv, WIDTHS["phone"])
            for page in pages:
                open_page(drv, live_server["base"], page)
                sizes.setdefault(page.name, []).append(drv.execute_script(
                    "return [getComputedStyle(document.body).fontSize, getComputedStyle(document.querySelector('h1')).fontSize]"))
                assert horizontal_overflow(drv) is None, (page.name, default)
        finally:
            drv.quit()
            shutil.rmtree(profile, ignore_errors=True)
    for name, ((body16, h16), (body24, h24)) in sizes.items():
        assert (body16, body24) == ("16px", "24px"), name
        assert float(h24[:-2]) == pytest.approx(1.5 * float(h16[:-2])), name


def test_poster_print_button_calls_window_print(live_server, driver, pages):
    """The 打印 button works under the page's CSP: a same-origin script calls window.print (stubbed here)."""
    from selenium.webdriver.common.by import By

    poster = next(p for p in pages if p.name == "poster")
    set_width(driver, WIDTHS["desktop"])
    driver.get_log("browser")
    open_page(driver, live_server["base"], poster)
    driver.execute_script("window.__printed = 0; window.print = function () { window.__printed += 1; };")
    driver.find_element(By.CSS_SELECTOR, "button[data-action=print]").click()
    assert driver.execute_script("return window.__printed") == 1
    assert not _severe(driver)  # no CSP violation in the console
    scripts = driver.execute_script("return Array.from(document.scripts).map(s => [s.src, s.textContent.trim()])")
    base = live_server["base"]
    assert scripts and all(src.startswith(base + "/static/") and not body for src, body in scripts)


def test_script_injection_is_inert_in_the_browser(live_server, driver):
    """An institution name with a script renders as text and runs nothing."""
    from inspect_api.directory.models import Institution

    app = live_server["app"]
    with app.app_context():
        inst = Institution.objects(status="active").first()
        original = inst.name
        Institution.objects(id=inst.id).update_one(set__name='<img src=x onerror="window.__pwned=1">康宁<script>window.__pwned=2</script>')
    try:
        set_width(driver, 390)
        driver.get(live_server["base"] + f"/p/institutions/{inst.public_id}")
        assert driver.execute_script("return window.__pwned === undefined")
        assert "<script>window.__pwned=2</script>" in driver.find_element("tag name", "h1").text
    finally:
        with app.app_context():
            Institution.objects(id=inst.id).update_one(set__name=original)


def test_page_qr_encodes_the_page_url(live_server):
    """The QR code in the footer encodes the page's own absolute URL (checked on the server's SVG source)."""
    from inspect_api import qrcodes

    app = live_server["app"]
    client = app.test_client()
    base = live_server["base"]
    for path in ("/p/", "/p/results", "/p/notices", "/p/draws"):
        html = client.get(path).get_data(as_text=True)
        expected = str(qrcodes.svg(base + path))
        assert expected in html, path


def test_a_citizen_follows_the_draw_pages_instructions(live_server, driver, pages, tmp_path):
    """Item 4: the commands the draw page shows, run literally in an empty folder, download the record and the
    verifier and print OK; the verifier is the file whose SHA-256 the page shows, and it runs with the
    interpreter isolated from everything (-I -S)."""
    import hashlib
    import shlex
    import shutil
    import subprocess

    from selenium.webdriver.common.by import By

    draw = next(p for p in pages if p.name == "draw")
    set_width(driver, WIDTHS["phone"])
    open_page(driver, live_server["base"], draw)
    commands = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=verify] pre code.cmd")]
    assert len(commands) == 3 and commands[-1] == "python3 verify.py record.json", commands
    shown_sha = driver.find_element(By.ID, "verifier-sha256").text.strip()
    done = None
    for command in commands:
        argv = shlex.split(command)
        assert shutil.which(argv[0]), f"{argv[0]} is not installed"
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert done.stdout.strip() == "OK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json", "verify.py"]
    assert hashlib.sha256((tmp_path / "verify.py").read_bytes()).hexdigest() == shown_sha
    bare = subprocess.run(["python3", "-I", "-S", "verify.py", "record.json"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert (bare.returncode, bare.stdout.strip()) == (0, "OK"), bare.stderr
    # The download links the page offers point at the same two files.
    links = {a.get_attribute("download"): a.get_attribute("href")
             for a in driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=verify] a[download]")}
    assert links == {"record.json": shlex.split(commands[0])[-1], "verify.py": shlex.split(commands[1])[-1]}


def test_the_map_orders_institutions_by_distance_with_consent(live_server, driver):
    """With geolocation granted, the page orders the feed by distance on the phone (no request carries it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = live_server["base"]
    set_width(driver, WIDTHS["phone"])
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
    screenshot(driver, "map-near-390")
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
    set_width(driver, WIDTHS["phone"])
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
