"""Fixtures and helpers for driving the inspector's app (``/app/``) in headless Chromium.

A real loopback server (threaded werkzeug) serves the app and the API; a
recording middleware notes every request the server receives (so a test can
prove that nothing reached it while the phone was offline, and count writes)
and can drop the response of a chosen request after the server has handled it
(a response lost on the way back).

Network cuts use the DevTools protocol on the page (``Network.emulateNetworkConditions``
after ``Network.enable``).  Chromium applies that to the page's requests,
including those that pass through the service worker untouched (the app's
worker answers only shell files from its cache and leaves every API request to
the network), but NOT to fetches the service worker itself makes: measured on
Chromium 156, a ``fetch()`` inside the worker still reached the server while the
page was "offline".  The app never fetches from its worker except to precache
at install, and every offline test asserts on the server side that no API
request arrived during the cut, so the cut is proven, not assumed.

Phones are separate Chromium profiles (their own IndexedDB, service worker and
cache), 390 px wide, with geolocation granted and overridden by CDP.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, SCREENSHOTS
from tests.inspections.helpers import ZIBO, build_world

APP_PASSWORD = "Passw0rd!23"
_worlds = itertools.count(1)


# --------------------------------------------------------------------------- the server

@dataclass
class Hit:
    at: float
    method: str
    path: str
    status: int | None = None


@dataclass
class Recorder:
    """WSGI middleware: records requests; can drop the response of the next matching request, or hold the
    next requests of a path before answering them (``hold[path]``: seconds each, in turn)."""

    app: Callable
    hits: list[Hit] = field(default_factory=list)
    drop: list[Callable[[str, str], bool]] = field(default_factory=list)
    hold: dict[str, list[float]] = field(default_factory=dict)
    dropped: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        hit = Hit(time.time(), environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        with self.lock:
            self.hits.append(hit)
            rule = next((r for r in self.drop if r(hit.method, hit.path)), None)
            if rule is not None:
                self.drop.remove(rule)
            pause = self.hold[hit.path].pop(0) if self.hold.get(hit.path) else 0
        if pause:
            time.sleep(pause)
        if rule is None:
            def recording_start(status, headers, exc_info=None):
                hit.status = int(status.split()[0])
                return start_response(status, headers, exc_info)
            return self.app(environ, recording_start)
        # Handle the request fully, then cut the connection instead of answering.
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return lambda data: None

        body = self.app(environ, capture)
        try:
            for _chunk in body:
                continue
        finally:
            if hasattr(body, "close"):
                body.close()
        hit.status = captured.get("status")
        self.dropped.append(hit)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionResetError("response dropped by the test (lost on the way back)")

    def since(self, t0: float, prefix: str = "/api/") -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.at >= t0 and h.path.startswith(prefix)]

    def count(self, method: str, suffix: str, t0: float = 0) -> int:
        with self.lock:
            return sum(1 for h in self.hits if h.at >= t0 and h.method == method and h.path.endswith(suffix))


@pytest.fixture(scope="module")
def app_server(browser_tools):
    """The app on 127.0.0.1:<free port> with an empty store (each test builds its own world)."""
    from werkzeug.serving import make_server

    from inspect_api import db
    from inspect_api.app import create_app
    from inspect_api.config import load_config

    overrides = {"max_photo_bytes": 3_000_000}
    db.connect(load_config("testing", overrides))
    db.database().client.drop_database(db.database().name)
    app = create_app("testing", overrides=overrides)
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["INSPECT"]["public_base_url"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AppServer(app, base, recorder)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class AppServer:
    app: object
    base: str
    recorder: Recorder


# --------------------------------------------------------------------------- a world per test

@dataclass
class AppWorld:
    world: object
    aid: str
    qr_payload: str
    poster_photo: Path
    items: list[dict]


@pytest.fixture
def app_world(app_server, tmp_path):
    """Institution, team (lead, member), accounts and an assignment, plus a photo of the poster."""
    from inspect_api.directory.qr import qr_payload
    from tests.inspections.helpers import applicable_items

    with app_server.app.app_context():
        world = build_world(prefix=f"w{next(_worlds)}_")
        payload = qr_payload(world.institution)
        items = applicable_items(world.institution.kind)
    photo = tmp_path / "poster.jpg"
    photo.write_bytes(poster_photo(payload))
    return AppWorld(world, str(world.assignment.id), payload, photo, items)


def check_in_by_api(server: AppServer, world: AppWorld) -> None:
    """The lead checks in through the API (for tests about what happens after check-in)."""
    import uuid
    from datetime import datetime, timezone

    import requests

    s = requests.Session()
    r = s.post(f"{server.base}/api/v1/auth/login", json={"username": world.world.lead_user.username,
                                                          "password": APP_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    r = s.post(f"{server.base}/api/v1/inspections/{world.aid}/check-in", json={
        "client_id": str(uuid.uuid4()), "qr_token": world.qr_payload, "latitude": ZIBO[0], "longitude": ZIBO[1],
        "accuracy_m": 10, "captured_at": datetime.now(timezone.utc).isoformat()},
        headers={"Authorization": "Bearer " + r.json()["access_token"]}, timeout=30)
    assert r.status_code == 200, r.text


def sections_of(phone: "Phone", aid: str) -> list[dict]:
    """The checklist's sections as the phone holds them (its downloaded bundle)."""
    return phone.js_async("""const done = arguments[arguments.length - 1];
        import('/app/static/store.js').then((s) => s.bundle(arguments[0]))
          .then((b) => done(b.data.checklist.content.sections));""", aid)


def section_index(sections: list[dict], item_id: str) -> int:
    return next(n for n, s in enumerate(sections) if any(i["id"] == item_id for i in s["items"]))


def poster_photo(payload: str, seed: int = 7) -> bytes:
    """A phone photo of the printed poster: the QR code on a sheet, on a wall, slightly off-centre."""
    import qrcode

    qr = qrcode.QRCode(border=4, box_size=9, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    code = qr.make_image(fill_color="black", back_color="white").convert("RGB")
    photo = Image.new("RGB", (2000, 1500), (168, 160, 150))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((380, 90, 1540, 1430), fill=(246, 246, 240))
    draw.rectangle((430, 140, 1490, 300), fill=(11, 79, 138))
    side = min(900, code.width)
    photo.paste(code.resize((side, side), Image.Resampling.NEAREST), (520, 420))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=88)
    return out.getvalue()


def write_jpeg(path: Path, seed: int, size=(1600, 1200), quality=85) -> Path:
    from tests.evidence.imagegen import photo_like

    photo_like(seed, size, noise=4.0).save(path, "JPEG", quality=quality)
    return path


# --------------------------------------------------------------------------- phones

class Phone:
    """One Chromium profile driven like a phone: 390 px, geolocation granted, DevTools at hand."""

    def __init__(self, name: str, base: str, profile: str | None = None):
        self.name = name
        self.base = base
        self.profile = profile or tempfile.mkdtemp(prefix=f"chromium-{name}-")
        self.driver = None
        self.offline_flag = False
        self.start()

    # ---- lifecycle

    def start(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={self.profile}", "--lang=zh-CN", "--window-size=390,844"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(60)
        self.cdp("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1,
                                                         "mobile": True})
        self.cdp("Browser.grantPermissions", {"origin": self.base, "permissions": ["geolocation"]})
        self.locate(ZIBO[0] + 0.0002, ZIBO[1] + 0.0001, 12)
        self.cdp("Network.enable", {})
        if self.offline_flag:
            self.offline()

    def quit(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None

    def kill(self):
        """The phone kills the browser: SIGKILL to this profile's browser process, no clean shutdown."""
        pid = self._browser_pid()
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists() or "zombie" in _proc_state(pid):
                break
            time.sleep(0.1)
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - the browser is gone; chromedriver may complain
            pass
        self.driver = None

    def _browser_pid(self) -> int:
        marker = f"--user-data-dir={self.profile}"
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            decoded = [a.decode("utf-8", "replace") for a in args if a]
            if marker in decoded and not any(a.startswith("--type=") for a in decoded) and "chrom" in decoded[0]:
                return int(entry.name)
        raise AssertionError(f"no browser process for profile {self.profile}")

    def cleanup(self):
        self.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ---- DevTools

    def cdp(self, command: str, params: dict | None = None):
        return self.driver.execute_cdp_cmd(command, params or {})

    def offline(self):
        self.offline_flag = True
        self.cdp("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})

    def online(self):
        self.offline_flag = False
        self.cdp("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})

    def locate(self, latitude: float, longitude: float, accuracy: float):
        self.cdp("Emulation.setGeolocationOverride", {"latitude": latitude, "longitude": longitude,
                                                      "accuracy": accuracy})

    # ---- the page

    def open(self, route: str = ""):
        """Load the app afresh (a new document, not a hash change) at ``route``."""
        self.driver.get("about:blank")
        self.driver.get(f"{self.base}/app/{route}")
        self.wait("return document.getElementById('view') && !document.querySelector('#view .loading')")

    def go(self, route: str):
        """Navigate inside the app and wait until that screen is drawn (``body[data-route]``)."""
        drawn = route.lstrip("#").split("?")[0] or "home"
        self.js("""document.body.dataset.route = '';
            if (location.hash === arguments[0]) import('/app/static/app.js').then((m) => m.app.render());
            else location.hash = arguments[0];""", route)
        self.wait(f"return document.body.dataset.route === {json.dumps(drawn)}")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script: str, *args):
        return self.driver.execute_async_script(script, *args)

    def wait(self, condition: str, timeout: float = 60, message: str = ""):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                if self.js(condition):
                    return
            except Exception as exc:  # noqa: BLE001 - page navigating; try again
                last = exc
            time.sleep(0.2)
        text = ""
        try:
            text = self.js("return document.body.innerText")[:2500]
        except Exception:  # noqa: BLE001
            pass
        raise AssertionError(f"[{self.name}] timed out waiting for {condition!r} {message}\n{last!r}\n{text}")

    def wait_offline_ready(self):
        """Until the service worker controls the page: the shell is cached, the app opens with no network.
        (A first install that fails is retried by the app with growing pauses.)  On a timeout the message says
        where the registration stands (installing, waiting, active) and what the shell cache holds."""
        try:
            self.wait("return !!navigator.serviceWorker.controller", timeout=180, message="(service worker)")
        except AssertionError as exc:
            state = self.js_async("""const done = arguments[arguments.length - 1];
                (async () => {
                  const reg = await navigator.serviceWorker.getRegistration('/app/');
                  const keys = await caches.keys();
                  const held = await Promise.all(keys.map(async (k) => [k, (await (await caches.open(k)).keys()).length]));
                  return {registration: !!reg, installing: reg && reg.installing && reg.installing.state,
                          waiting: reg && reg.waiting && reg.waiting.state, active: reg && reg.active && reg.active.state,
                          controller: !!navigator.serviceWorker.controller, caches: held};
                })().then(done, (e) => done(String(e)));""")
            raise AssertionError(f"{exc}\nservice worker: {state}") from None

    def text(self, css: str = "#view") -> str:
        return self.js("const el = document.querySelector(arguments[0]); return el ? el.innerText : ''", css)

    def click(self, css: str):
        """A real click (WebDriver) on the element; found again if the screen redrew it meanwhile."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        for attempt in range(5):
            self.wait(f"const el = document.querySelector({json.dumps(css)}); return !!el && !el.disabled")
            try:
                element = self.driver.find_element(By.CSS_SELECTOR, css)
                self.js("arguments[0].scrollIntoView({block: 'center'})", element)
                element.click()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def click_until(self, css: str, condition: str, *, attempts: int = 3, timeout: float = 10):
        """Click, and click again if ``condition`` does not follow: the screen may redraw (a background
        refresh) in the instant of the click, and the click then lands on a button no longer shown, as a tap
        would.  What the click starts must be safe to ask twice (a queued submission is)."""
        for attempt in range(attempts):
            self.click(css)
            try:
                self.wait(condition, timeout=timeout)
                return
            except AssertionError:
                if attempt == attempts - 1:
                    raise

    def type(self, css: str, text: str):
        from selenium.webdriver.common.by import By

        self.wait(f"return !!document.querySelector({json.dumps(css)})")
        element = self.driver.find_element(By.CSS_SELECTOR, css)
        element.clear()
        element.send_keys(text)

    def upload(self, css: str, path: Path):
        from selenium.webdriver.common.by import By

        self.wait(f"return !!document.querySelector({json.dumps(css)})")
        self.driver.find_element(By.CSS_SELECTOR, css).send_keys(str(path))

    def shot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.js("window.scrollTo(0, 0)")  # the sticky header belongs at the top of a full-page shot
        height = int(self.js("return Math.min(document.documentElement.scrollHeight, 9000)"))
        shot = self.cdp("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": {"x": 0, "y": 0, "width": 390, "height": height,
                                                             "scale": 1}})
        (SCREENSHOTS / f"app-{name}.png").write_bytes(base64.b64decode(shot["data"]))
        overflow = self.js("return document.documentElement.scrollWidth")
        assert overflow <= 390, f"{name}: horizontal overflow ({overflow}px)"

    def severe(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    # ---- the app

    def login(self, username: str, password: str = APP_PASSWORD):
        self.open("#login")
        self.type("#username", username)
        self.type("#password", password)
        self.click("form button[type=submit]")
        self.wait("return !document.querySelector('#password')", message="(login)")

    def outbox(self) -> list[dict]:
        """The app's outbox as the app holds it (read through its own store module)."""
        return self.js_async("""const done = arguments[arguments.length - 1];
            import('/app/static/store.js').then((s) => s.outbox()).then((rows) => done(rows.map((e) => ({
              seq: e.seq, kind: e.kind, status: e.status, item_id: e.item_id, client_id: e.client_id,
              attempts: e.attempts, message: e.message, code: e.code, name: (e.payload && e.payload.name) || null}))),
              (e) => done(String(e)));""")

    def unsent(self) -> int:
        return sum(1 for e in self.outbox() if e["status"] in ("pending", "sending", "conflict", "refused"))

    def wait_synced(self, timeout: float = 90):
        """Until nothing is pending or sending (conflicts and refusals stay for the inspector)."""
        self.js("import('/app/static/sync.js').then((s) => s.retryAllNow())")
        end = time.time() + timeout
        while time.time() < end:
            entries = self.outbox()
            if isinstance(entries, list) and not any(e["status"] in ("pending", "sending") for e in entries):
                return entries
            time.sleep(0.5)
        raise AssertionError(f"[{self.name}] outbox not drained: {self.outbox()}")

    def download(self, aid: str):
        self.go("#home")
        card = f'.assignment[data-id="{aid}"]'
        self.click(f"{card} button")
        self.wait(f"return document.querySelector('{card} .device').textContent.includes('已下载')")


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


@pytest.fixture
def phones(app_server):
    """Open phones by name (separate profiles); all are closed and removed after the test."""
    opened: list[Phone] = []

    def open_phone(name: str) -> Phone:
        phone = Phone(name, app_server.base)
        opened.append(phone)
        return phone

    yield open_phone
    for phone in opened:
        phone.cleanup()


# --------------------------------------------------------------------------- filling the checklist

def answer_item(phone: Phone, item_id: str, result: str, codes: tuple[str, ...] = (), note: str | None = None):
    """Answer one item on its section page through the app's own buttons."""
    card = f'.item[data-item="{item_id}"]'
    phone.click(f'{card} button.choice[data-result="{result}"]')
    for code in codes:
        phone.click(f'{card} input[data-code="{code}"]')
    if note is not None:
        phone.type(f"{card} textarea", note)
        phone.js(f"document.querySelector('{card} textarea').dispatchEvent(new Event('change'))")
    phone.wait(f"return document.querySelector('{card}').dataset.sync !== 'none'")


def fill_checklist(phone: Phone, aid: str, sections: list[dict], kind: str, special: dict[str, dict],
                   only: range | None = None):
    """Answer every item (of the sections in ``only``): ``special[item_id]`` = {result, codes, note,
    photos: [paths]}; others 符合 (or 不适用 where the item does not apply to the institution's kind)."""
    from checklists import applies_to

    for n, section in enumerate(sections):
        if only is not None and n not in only:
            continue
        phone.go(f"#a/{aid}/s/{n}")
        for item in section["items"]:
            plan = special.get(item["id"])
            if plan:
                answer_item(phone, item["id"], plan["result"], tuple(plan.get("codes", ())), plan.get("note"))
                for photo in plan.get("photos", ()):
                    phone.upload(f'#photo-{item["id"]}', photo)
                    phone.wait(f'return document.querySelectorAll(\'.item[data-item="{item["id"]}"] figure.thumb\').length'
                               f' >= 1')
            else:
                result = "pass" if applies_to(item, kind) else "na"
                phone.js("document.querySelector(arguments[0]).click()",
                         f'.item[data-item="{item["id"]}"] button.choice[data-result="{result}"]')
        phone.wait("return [...document.querySelectorAll('.item')].every((c) => c.dataset.sync !== 'none')")


def draw_signature(phone: Phone, canvas_css: str, seed: int = 1):
    """Sign with the pointer: a few strokes across the pad."""
    import random

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    rnd = random.Random(seed)
    phone.wait(f"return !!document.querySelector({json.dumps(canvas_css)})")
    canvas = phone.driver.find_element(By.CSS_SELECTOR, canvas_css)
    phone.js("arguments[0].scrollIntoView({block: 'center'})", canvas)
    size = canvas.size
    actions = ActionChains(phone.driver)
    for stroke in range(3):
        x = -size["width"] // 2 + 30 + stroke * 60
        y = rnd.randrange(-40, 40)
        actions.move_to_element_with_offset(canvas, x, y).click_and_hold()
        for _ in range(6):
            actions.move_by_offset(rnd.randrange(10, 25), rnd.randrange(-20, 20))
        actions.release()
    actions.perform()
