"""The deployment stack is well-formed (no Docker engine runs on CI machines)."""

from __future__ import annotations

import runpy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_stack_has_replica_set_api_and_scheduler():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"mongo", "mongo-init", "api", "scheduler"} <= set(services)
    assert "--replSet" in services["mongo"]["command"]
    assert "rs.initiate" in " ".join(services["mongo-init"]["entrypoint"])
    for name in ("api", "scheduler"):
        env = services[name]["environment"]
        assert env["INSPECT_ENV"] == "production"
        assert "replicaSet=rs0" in env["MONGODB_URI"]
        assert env["INSPECT_SECRET_KEY"].startswith("${INSPECT_SECRET_KEY:?")  # never a literal secret
    assert services["scheduler"]["command"] == ["python", "-m", "scheduler"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "USER inspect" in dockerfile and "deploy/gunicorn.conf.py" in dockerfile


def test_gunicorn_config_sizes_workers_from_cpu(monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    import multiprocessing
    assert settings["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert settings["wsgi_app"] == "inspect_api.wsgi:app"
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    assert runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["workers"] == 3
    # docker-compose passes an unset variable through as an empty string: that means the default.
    monkeypatch.setenv("GUNICORN_WORKERS", "")
    assert runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["workers"] == multiprocessing.cpu_count() * 2 + 1
