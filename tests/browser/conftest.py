"""Headless Chromium against a real loopback server with the demo data.

The session fixture installs Debian's ``chromium``, ``chromium-driver`` and
``fonts-noto-cjk`` with apt-get when they are missing and the process is
root, and FAILS (never skips) when they still cannot be found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from tests.store import reset_store

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ["chromium", "chromium-driver", "fonts-noto-cjk"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return bool(out.strip())


def _missing() -> list[str]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if not _has_cjk_font():
        missing.append("CJK font (fonts-noto-cjk)")
    return missing


@pytest.fixture(scope="session")
def browser_tools() -> dict[str, str]:
    """Make sure Chromium, its driver and a CJK font are installed (apt-get as root), or fail."""
    log = ""
    if _missing() and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=1800)
            log += f"$ {' '.join(cmd)} → {done.returncode}\n{done.stderr[-2000:]}\n"
    missing = _missing()
    if missing:
        pytest.fail("浏览器测试环境不完整，缺少：" + "、".join(missing) +
                    "。请以 root 运行测试（自动 apt-get install " + " ".join(PACKAGES) + "）或手动安装。\n" + log)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return {"chromium": CHROMIUM, "chromedriver": CHROMEDRIVER}


@pytest.fixture(scope="module")
def live_server():
    """The app with the demo data on 127.0.0.1:<free port>, served from a thread."""
    from werkzeug.serving import make_server

    from inspect_api.app import create_app

    overrides = {"demo_data": True}
    reset_store(overrides)
    app = create_app("testing", overrides=overrides)
    demo = app.extensions.get("inspect_demo_accounts")
    if demo is None:  # a real MongoDB server: load the demo explicitly (an empty test database)
        from inspect_api.demo import DemoContext, SEEDERS  # noqa: F401
        from inspect_api.demo import load_demo

        with app.app_context():
            load_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["INSPECT"]["public_base_url"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"app": app, "base": base}
    finally:
        server.shutdown()
        thread.join(timeout=10)


def start_chromium(browser_tools, *, prefs: dict | None = None):
    """A headless Chromium (with ``prefs``: the reader's browser settings); returns (driver, profile dir)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_tools["chromium"]
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--lang=zh-CN", "--window-size=1280,900"):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(browser_tools["chromedriver"]), options=options)
    drv.set_page_load_timeout(60)
    return drv, profile


@pytest.fixture(scope="module")
def driver(browser_tools):
    drv, profile = start_chromium(browser_tools)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
