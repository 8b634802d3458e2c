"""/metrics only for configured scrapers; /readyz says ready or not to anyone else (issue #13 item 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import assert_error

TOKEN = "scrape-" + "x" * 40
README = Path(__file__).resolve().parents[1] / "README.md"


def test_metrics_are_closed_by_default(client):
    client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password"})
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        err = assert_error(client.get("/metrics", headers=headers), 403, "SCRAPER_ONLY")
        assert "inspect_" not in str(err)


def test_metrics_for_the_bearer_token_only(app_factory):
    app = app_factory(metrics_bearer_token=TOKEN)
    with app.app_context():
        client = app.test_client()
        assert_error(client.get("/metrics"), 403, "SCRAPER_ONLY")
        assert_error(client.get("/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1]}), 403)
        assert_error(client.get("/metrics", headers={"Authorization": TOKEN}), 403)
        r = client.get("/metrics", headers={"Authorization": "Bearer " + TOKEN})
        assert r.status_code == 200 and "inspect_http_request_seconds" in r.get_data(as_text=True)
        assert r.headers["Cache-Control"] == "no-store"


def test_metrics_for_allowed_addresses_only(app_factory):
    app = app_factory(metrics_allow_from=["10.1.0.0/16", "192.0.2.7"])
    with app.app_context():
        client = app.test_client()
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.200.3"}).status_code == 200
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
        assert_error(client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}), 403)
        assert_error(client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}), 403)


def test_a_malformed_allow_list_stops_the_start(app_factory):
    from inspect_api.config import ConfigError

    with pytest.raises(ConfigError, match="metrics_allow_from"):
        app_factory(metrics_allow_from=["10.0.0.0/33"])


def test_readyz_tells_anonymous_callers_only_ready_or_not(client, monkeypatch):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    from inspect_api import db

    monkeypatch.setattr(db, "ping", lambda: False)
    r = client.get("/readyz")
    assert r.status_code == 503 and r.get_json() == {"status": "unavailable"}


def test_readyz_details_for_scrapers(app_factory, monkeypatch):
    app = app_factory(metrics_bearer_token=TOKEN)
    with app.app_context():
        body = app.test_client().get("/readyz", headers={"Authorization": "Bearer " + TOKEN}).get_json()
        assert body["status"] == "ok" and body["database"] == "ok" and body["env"] == "testing"
        assert "scheduler" in body


def test_the_readme_scrape_config_scrapes(app_factory, tmp_path):
    """The README's Prometheus job, as Prometheus would run it: path, scheme, bearer credentials file."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    jobs = [job for block in blocks for job in (yaml.safe_load(block) or {}).get("scrape_configs", [])]
    (job,) = [j for j in jobs if j["job_name"] == "inspect-api"]
    assert job["authorization"]["type"] == "Bearer" and job["scheme"] == "http"
    credentials = tmp_path / "token"
    credentials.write_text(TOKEN + "\n")
    app = app_factory(metrics_bearer_token=TOKEN)
    with app.app_context():
        token = credentials.read_text().strip()  # Prometheus trims the file's trailing newline
        r = app.test_client().get(job["metrics_path"], headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.content_type.startswith("text/plain")
