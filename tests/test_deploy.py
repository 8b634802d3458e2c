"""The deployment stack is well-formed (no Docker engine runs on CI machines)."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from inspect_api.config import DEFAULT_SECRET

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


def _gunicorn_settings() -> dict:
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


GOOD_PRODUCTION_ENV = {"INSPECT_ENV": "production", "MONGODB_URI": "mongodb://db.example:27017/?replicaSet=rs0",
                       "INSPECT_SECRET_KEY": "k" * 48}


def _production_env(monkeypatch, **env: str) -> None:
    for name in ("MONGODB_URI", "INSPECT_MONGODB_URI", "INSPECT_SECRET_KEY", "INSPECT_DEMO_DATA",
                 "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**GOOD_PRODUCTION_ENV, **env}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("env, reason", [
    ({"MONGODB_URI": ""}, "production requires MONGODB_URI"),
    ({"INSPECT_SECRET_KEY": "short"}, "shorter than 32 bytes"),
    ({"INSPECT_SECRET_KEY": DEFAULT_SECRET}, "default value"),
    ({"INSPECT_ENV": "staging"}, "INSPECT_ENV must be one of"),
])
def test_gunicorn_master_refuses_a_bad_configuration_before_forking(monkeypatch, capsys, env, reason):
    _production_env(monkeypatch, **env)
    on_starting = _gunicorn_settings()["on_starting"]
    with pytest.raises(SystemExit) as exc:
        on_starting(None)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1  # one line, no traceback


def test_gunicorn_master_accepts_a_good_configuration_and_empties_the_metrics_dir(monkeypatch, tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "histogram_123.db").write_bytes(b"stale")
    _production_env(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(metrics))
    settings = _gunicorn_settings()
    assert settings["on_starting"](None) is None
    assert list(metrics.iterdir()) == []
    # child_exit: a dead worker's live gauges leave the aggregated /metrics
    (metrics / "gauge_livesum_4242.db").write_bytes(b"x")
    (metrics / "histogram_4242.db").write_bytes(b"x")  # counters and histograms keep counting
    settings["child_exit"](None, types.SimpleNamespace(pid=4242))
    assert sorted(p.name for p in metrics.iterdir()) == ["histogram_4242.db"]


def test_gunicorn_with_a_bad_production_config_exits_instead_of_restarting_workers(tmp_path):
    """Without the on_starting hook the master restarts failing workers forever (this would time out)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INSPECT_ENV": "production",
           "INSPECT_SECRET_KEY": "k" * 48, "GUNICORN_BIND": "127.0.0.1:0", "GUNICORN_WORKERS": "1"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    r = subprocess.run([str(gunicorn), "-c", "deploy/gunicorn.conf.py"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "inspect-api: refusing to start: production requires MONGODB_URI" in r.stderr
    assert "Booting worker" not in r.stderr


def test_scheduler_has_its_own_health_check_and_the_api_aggregates_metrics():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    check = services["scheduler"]["healthcheck"]
    # the image's HEALTHCHECK probes :8000, which the scheduler does not serve
    assert check["test"] == ["CMD", "python", "-m", "scheduler", "health"]
    assert "8000" not in " ".join(check["test"])
    from scheduler.__main__ import main

    with pytest.raises(SystemExit) as exc:  # the subcommand exists (tests/scheduler runs it)
        main(check["test"][4:] + ["--help"])
    assert exc.value.code == 0
    api = services["api"]
    metrics_dir = api["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert metrics_dir.startswith("/tmp/") and metrics_dir in api["tmpfs"]  # emptied at every container start
    assert "PROMETHEUS_MULTIPROC_DIR" not in services["scheduler"]["environment"]  # one process, its own registry
    settings = _gunicorn_settings()
    assert callable(settings["on_starting"]) and callable(settings["child_exit"])
