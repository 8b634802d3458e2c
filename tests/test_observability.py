"""Request ids, metrics, security headers and CORS."""

from __future__ import annotations

import pytest

SCRAPER = {"Authorization": "Bearer " + "t" * 40}


@pytest.fixture
def client(app_factory):
    """A client of an app whose /metrics is open to the scraper token above."""
    app = app_factory(metrics_bearer_token="t" * 40)
    with app.app_context():
        yield app.test_client()


def test_request_id_is_returned_and_propagated(client):
    r = client.get("/healthz")
    assert len(r.headers["X-Request-ID"]) >= 8
    r = client.get("/healthz", headers={"X-Request-ID": "abcdef123456"})
    assert r.headers["X-Request-ID"] == "abcdef123456"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"})
    assert r.headers["X-Request-ID"] != "bad id <script>"


def test_metrics_expose_request_latency(client):
    client.get("/healthz")
    body = client.get("/metrics", headers=SCRAPER).get_data(as_text=True)
    assert "inspect_http_request_seconds_bucket" in body
    assert 'endpoint="/healthz"' in body


def test_html_pages_get_security_headers(client):
    r = client.get("/api/v1/docs")
    assert r.mimetype == "text/html"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_only_for_configured_origins(app_factory):
    app = app_factory(cors_origins=["https://app.example.cn"])
    with app.app_context():
        c = app.test_client()
        ok = c.options("/api/v1/me", headers={"Origin": "https://app.example.cn",
                                              "Access-Control-Request-Method": "GET"})
        assert ok.status_code == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example.cn"
        other = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers


def test_sweep_and_photo_pipeline_are_measured(client, make_user, login):
    import io
    from datetime import datetime, timezone

    from PIL import Image

    from inspect_api.clock import utcnow
    from inspect_api.evidence import service as evidence
    from inspect_api.rectification.escalation import run_sweep

    def count(name: str) -> float:
        for line in client.get("/metrics", headers=SCRAPER).get_data(as_text=True).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    sweeps, photos = count("inspect_sweep_seconds_count"), count("inspect_photo_pipeline_seconds_count")
    run_sweep(datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc), deliver=False)
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 60)).save(out, "JPEG")
    evidence.store_photo(out.getvalue(), owner_type="inspection", owner_id="x", institution_id="i", region="370302",
                         label="ZB-1", client_id="c", uploaded_by="u", item_id=None, now=utcnow())
    assert count("inspect_sweep_seconds_count") == sweeps + 1
    assert count("inspect_photo_pipeline_seconds_count") == photos + 1


_WORKER = """
from inspect_api.app import create_app
from inspect_api.observability import SWEEP_DURATION
app = create_app("testing")
with app.app_context():
    c = app.test_client()
    for _ in range({n}):
        assert c.get("/healthz").status_code == 200
SWEEP_DURATION.observe(0.3)
"""

_SCRAPE = """
from inspect_api.app import create_app
app = create_app("testing")
with app.app_context():
    r = app.test_client().get("/metrics", headers={"Authorization": "Bearer " + "t" * 40})
    assert r.status_code == 200
    print(r.get_data(as_text=True))
"""


def test_metrics_aggregate_every_process_in_multiprocess_mode(tmp_path):
    """Under gunicorn each worker is a process: one scrape must see all of them (PROMETHEUS_MULTIPROC_DIR)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin", "INSPECT_METRICS_BEARER_TOKEN": "t" * 40,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}  # created on first use

    def run(code: str) -> str:
        r = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                           timeout=180)
        assert r.returncode == 0, r.stderr[-3000:]
        return r.stdout

    run(_WORKER.format(n=2))  # two "workers" that served requests and swept, then exited
    run(_WORKER.format(n=3))
    body = run(_SCRAPE)  # a third process answers the scrape
    lines = body.splitlines()
    assert "inspect_sweep_seconds_count 2.0" in lines
    healthz = [line for line in lines if line.startswith("inspect_http_request_seconds_count{")
               and 'endpoint="/healthz"' in line]
    assert len(healthz) == 1 and healthz[0].endswith(" 5.0"), healthz
