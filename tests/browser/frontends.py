"""A small page-driving kit for the portal and console journeys (headless Chromium, real loopback server).

``Browser`` logs in and out through the pages, waits for what a person would
wait for (a heading, a text, a row), and ``shoot(name)`` takes the page at
1280 px and at 390 px into test-output/screenshots/, failing when the page
scrolls sideways at 390 px, has no single non-empty h1, or logged a
JavaScript error.  API answers that a page shows as a refusal (404 of
another region's record) are expected network errors, not JavaScript ones.
"""

from __future__ import annotations

import base64
import io
import random
import time
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import SCREENSHOTS

WAIT_SECONDS = 20


class Browser:
    def __init__(self, driver, base: str, app: str):
        self.d = driver
        self.base = base
        self.app = app
        self.shots: list[str] = []

    # ------------------------------------------------------------ navigation and waiting

    def open(self, path: str, expect: str | None = None) -> None:
        self.d.get(f"{self.base}/{self.app}{path}")
        self.ready(expect)

    def ready(self, expect: str | None = None) -> None:
        """Wait until the router has drawn a page (its h1), and for ``expect`` in the page when given."""
        self.until(lambda d: d.execute_script(
            "const h = document.querySelector('main h1, .login-page h1');"
            "return h && !document.querySelector('main > .loading') ? h.textContent : null"), "a page heading")
        if expect:
            self.see(expect)

    def until(self, condition, what: str):
        try:
            return WebDriverWait(self.d, WAIT_SECONDS, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except TimeoutException:
            text = self.d.execute_script("return document.body.innerText")
            alerts = [a.text for a in self.d.find_elements(By.CSS_SELECTOR, ".alert")]
            text = f"{text[:800]}\n...\n{text[-700:]}\n--- alerts ---\n{alerts}"
            raise AssertionError(f"timed out waiting for {what} on {self.d.current_url}\n--- page ---\n{text}") from None

    def see(self, text: str) -> None:
        self.until(lambda d: text in d.execute_script("return document.body.innerText"), repr(text))

    def text(self) -> str:
        return self.d.execute_script("return document.querySelector('main') ? "
                                     "document.querySelector('main').innerText : document.body.innerText")

    def h1(self) -> str:
        return self.d.find_element(By.CSS_SELECTOR, "main h1").text

    # ------------------------------------------------------------ session

    def login(self, username: str, password: str = "demo12345", expect: str | None = None) -> None:
        self.d.get(f"{self.base}/{self.app}/")
        self.d.execute_script("sessionStorage.clear()")
        self.d.get(f"{self.base}/{self.app}/")
        self.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.login"), "the login form")
        self.fill("form.login [name=username]", username)
        self.fill("form.login [name=password]", password)
        self.d.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        if expect is None:
            self.until(lambda d: d.find_elements(By.CSS_SELECTOR, "nav.main-nav a"), "the navigation after login")
            self.ready()
        else:
            self.see(expect)

    def logout(self) -> None:
        self.d.find_element(By.CSS_SELECTOR, "header.top .who button").click()
        self.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.login"), "the login form after logout")

    # ------------------------------------------------------------ forms

    def el(self, css: str, within=None):
        root = within or self.d
        return self.until(lambda d: (root.find_elements(By.CSS_SELECTOR, css) or [None])[0], css)

    def fill(self, css: str, value: str, within=None) -> None:
        field = self.el(css, within)
        if field.get_attribute("type") == "date":
            self.d.execute_script("arguments[0].value = arguments[1]", field, value)
            return
        field.clear()
        field.send_keys(value)

    def choose(self, css: str, *, value: str | None = None, text: str | None = None, within=None) -> None:
        select = Select(self.el(css, within))
        if value is not None:
            select.select_by_value(value)
        else:
            select.select_by_visible_text(text)

    def click(self, css: str, within=None) -> None:
        button = self.el(css, within)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def press(self, label: str, within=None) -> None:
        """Click the button whose text is ``label``."""
        root = within or self.d
        buttons = self.until(lambda d: [b for b in root.find_elements(By.TAG_NAME, "button")
                                        if b.text.strip() == label and b.is_enabled()], f"button {label!r}")
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", buttons[0])
        buttons[0].click()

    def submit(self, form_css: str) -> None:
        self.click(f"{form_css} button[type=submit]")

    def search(self, css: str, query: str, within=None) -> None:
        box = self.el(css, within)
        box.clear()
        box.send_keys(query + "\n")

    def option_appears(self, select_css: str, text: str) -> None:
        self.until(lambda d: any(text in o.text for o in d.find_elements(By.CSS_SELECTOR, f"{select_css} option")),
                   f"option {text!r} in {select_css}")

    # ------------------------------------------------------------ screenshots and page checks

    def _width(self, width: int) -> None:
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})

    def _capture(self, path: Path) -> None:
        height = int(self.d.execute_script("return Math.min(document.documentElement.scrollHeight, 8000)"))
        width = int(self.d.execute_script("return window.innerWidth"))
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))

    def shoot(self, name: str) -> None:
        """Screenshots at 1280 and 390 px; the page must not scroll sideways, must have one h1, no JS errors."""
        heads = [h for h in self.d.find_elements(By.CSS_SELECTOR, "h1") if h.text.strip()]
        assert len(heads) == 1, f"{name}: expected one non-empty h1, found {len(heads)}"
        assert self.d.execute_script("return document.documentElement.lang") == "zh-CN"
        self._capture(SCREENSHOTS / f"{self.app}-{name}-1280.png")
        try:
            self._width(390)
            time.sleep(0.15)
            sizes = self.d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            if sizes[0] > sizes[1]:
                wide = self.d.execute_script("""
                    const w = window.innerWidth; const out = [];
                    for (const el of document.querySelectorAll('body *')) {
                      const r = el.getBoundingClientRect();
                      if (r.right > w + 1) out.push(el.tagName.toLowerCase() + '.' + el.className);
                      if (out.length > 5) break;
                    }
                    return out;""")
                raise AssertionError(f"{name}: scrolls sideways at 390 px ({sizes[0]} > {sizes[1]}): {wide}")
            self._capture(SCREENSHOTS / f"{self.app}-{name}-390.png")
        finally:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.shots.append(name)
        self.no_script_errors(name)

    def no_script_errors(self, where: str) -> None:
        errors = [e["message"] for e in self.d.get_log("browser") if e.get("level") == "SEVERE"
                  and not ("/api/v1/" in e["message"] and "Failed to load resource" in e["message"])]
        assert not errors, f"{where}: console errors {errors}"


def jpeg_file(tmp: Path, seed: int, name: str) -> str:
    """A small photo-like JPEG on disk (for a file input)."""
    from PIL import Image, ImageDraw

    rnd = random.Random(seed)
    image = Image.new("RGB", (640, 480), tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rnd.randrange(640), rnd.randrange(480)
        draw.rectangle((x, y, x + rnd.randrange(40, 200), y + rnd.randrange(40, 160)),
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path = tmp / name
    path.write_bytes(out.getvalue())
    return str(path)
