"""The inspector app's shell: compressed size and first-load time in headless Chromium on loopback.

Serves the app (embedded store, no demo data) from a threaded werkzeug server
on 127.0.0.1 and loads ``/app/`` in fresh Chromium profiles (390 px):

- cold: a first visit over the network (no cache, no service worker), until
  the app has drawn its first screen (``performance.mark("app-ready")``);
- offline: the same profile reloaded with the network cut (DevTools), served by
  the service worker from its cache;
- baseline, same run: the public home page ``/p/`` (server-rendered, no
  scripts) cold, until its load event.

Prints the median of ``--runs`` visits for each and the shell's gzip size;
the last line is a JSON summary.  Issue #15 asks for under 150 KB compressed
and under 1 s first load on loopback; nothing here asserts a time.

    .venv/bin/python bench/app_shell.py [--runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve():
    import logging

    from werkzeug.serving import make_server

    from inspect_api import db
    from inspect_api.app import create_app
    from inspect_api.config import load_config

    overrides = {"demo_data": False, "log_level": "ERROR"}
    db.connect(load_config("testing", overrides))
    db.database().client.drop_database(db.database().name)
    app = create_app("testing", overrides=overrides)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}"


def shell_size(app) -> tuple[int, int, int]:
    client = app.test_client()
    body = client.get("/app/sw.js").get_data(as_text=True)
    urls = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1)) + ["/app/sw.js"]
    raw = compressed = 0
    for url in urls:
        data = client.get(url).data
        raw += len(data)
        compressed += len(gzip.compress(data, 9, mtime=0))
    return len(urls), raw, compressed


def browser(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", f"--user-data-dir={profile}", "--window-size=390,844"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


def app_ready(driver, timeout=30.0) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        mark = driver.execute_script("const m = performance.getEntriesByName('app-ready'); return m.length ? m[0].startTime : null")
        if mark is not None:
            return float(mark)
        time.sleep(0.05)
    raise SystemExit("the app did not draw its first screen")


def visit(base: str) -> dict[str, float]:
    profile = tempfile.mkdtemp(prefix="bench-app-")
    driver = browser(profile)
    try:
        driver.get("about:blank")
        driver.get(f"{base}/app/")
        cold = app_ready(driver)
        driver.execute_script("return navigator.serviceWorker.ready")
        for _ in range(100):
            if driver.execute_script("return !!navigator.serviceWorker.controller"):
                break
            time.sleep(0.1)
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
        driver.get("about:blank")
        driver.get(f"{base}/app/")
        offline = app_ready(driver)
        return {"cold_ms": cold, "offline_ms": offline}
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def baseline(base: str) -> float:
    profile = tempfile.mkdtemp(prefix="bench-public-")
    driver = browser(profile)
    try:
        driver.get(f"{base}/p/")
        return float(driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd || n.duration"))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app, server, base = serve()
    try:
        files, raw, compressed = shell_size(app)
        print(f"shell: {files} files, {raw / 1024:.1f} KiB raw, {compressed / 1024:.1f} KiB gzip -9 (budget 150 KB)")
        visits = [visit(base) for _ in range(args.runs)]
        public = [baseline(base) for _ in range(args.runs)]
    finally:
        server.shutdown()
    cold = statistics.median(v["cold_ms"] for v in visits)
    offline = statistics.median(v["offline_ms"] for v in visits)
    public_ms = statistics.median(public)
    runs = ", ".join(f"{v['cold_ms']:.0f}" for v in visits)
    print(f"first load (cold, network), until the first screen: median {cold:.0f} ms (runs: {runs})")
    print(f"reload offline (service worker), until the first screen: median {offline:.0f} ms")
    print(f"baseline: public home page /p/ cold, until load: median {public_ms:.0f} ms")
    print(json.dumps({"bench": "app_shell", "runs": args.runs, "shell_files": files, "shell_raw_bytes": raw,
                      "shell_gzip_bytes": compressed, "first_load_ms_median": round(cold, 1),
                      "offline_reload_ms_median": round(offline, 1), "baseline_public_home_ms_median": round(public_ms, 1)}))


if __name__ == "__main__":
    main()
