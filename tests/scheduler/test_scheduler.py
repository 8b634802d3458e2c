"""The scheduler process: run-once, the leader lease, the in-process starter and readiness."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scheduler import core
from scheduler.__main__ import main, parse_now

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc)


def test_run_once_without_timezone_exits_2_with_clear_message(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run-once", "--now", "2027-03-01T09:00:00"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no timezone" in err and "+08:00" in err
    with pytest.raises(SystemExit) as exc:
        main(["run-once", "--now", "yesterday"])
    assert exc.value.code == 2


def test_parse_now_accepts_offsets():
    assert parse_now("2027-03-01T09:00:00+08:00") == NOW
    assert parse_now("2027-03-01T01:00:00Z") == NOW


def test_run_once_process(tmp_path):
    env = {"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([sys.executable, "-m", "scheduler", "run-once", "--now", "2027-03-01T09:00:00"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no timezone" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "scheduler", "run-once", "--now", "2027-03-01T09:00:00+08:00"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr[-2000:]
    assert '"business_date": "2027-03-01"' in good.stdout


def test_lease_makes_one_leader_and_expires(app):
    assert core.acquire_lease(now=NOW, seconds=60, holder="a")
    assert not core.acquire_lease(now=NOW + timedelta(seconds=10), seconds=60, holder="b")
    assert core.acquire_lease(now=NOW + timedelta(seconds=20), seconds=60, holder="a")  # renewal
    assert not core.acquire_lease(now=NOW + timedelta(seconds=70), seconds=60, holder="b")  # renewed until +80
    assert core.acquire_lease(now=NOW + timedelta(seconds=81), seconds=60, holder="b")  # expired: b takes over
    assert not core.acquire_lease(now=NOW + timedelta(seconds=82), seconds=60, holder="a")
    core.release_lease(holder="b")
    assert core.acquire_lease(now=NOW + timedelta(seconds=83), seconds=60, holder="a")


def test_sweep_job_skips_when_another_process_leads(app, monkeypatch):
    monkeypatch.setitem(core._state, "app", app)
    monkeypatch.setitem(core._state, "lease", None)
    core.acquire_lease(now=datetime.now(timezone.utc), seconds=600, holder="someone-else")
    assert not core.heartbeat_job()
    assert core.sweep_job() is None
    core.release_lease(holder="someone-else")
    assert core.sweep_job() is None  # the lease is free, but this process has not taken it yet
    assert core.heartbeat_job()
    stats = core.sweep_job()
    assert stats is not None and stats["steps"] == 0


def test_install_registers_starter_and_readiness(app_factory, client):
    app = app_factory(scheduler_in_process=True)
    assert callable(app.extensions.get("inspect_start_background"))
    plain = app_factory(scheduler_in_process=False, metrics_bearer_token="t" * 40)
    assert "inspect_start_background" not in plain.extensions
    scraper = {"Authorization": "Bearer " + "t" * 40}  # /readyz details are for scrapers
    with plain.app_context():
        c = plain.test_client()
        body = c.get("/readyz", headers=scraper).get_json()
        assert body["scheduler"] == {"last_sweep_age_seconds": None}
        from inspect_api.rectification.escalation import run_sweep

        run_sweep(NOW)
        age = c.get("/readyz", headers=scraper).get_json()["scheduler"]["last_sweep_age_seconds"]
        assert age is not None and age >= 0


def test_in_process_background_scheduler_starts_and_stops(app_factory, monkeypatch):
    app = app_factory(scheduler_in_process=True, sweep_interval_seconds=3600)
    monkeypatch.setitem(core._state, "scheduler", None)
    monkeypatch.setitem(core._state, "lease", None)
    sched = app.extensions["inspect_start_background"]()
    try:
        assert sched.running
        assert {"leader-heartbeat", "rectification-sweep", "daily-digest"} <= {j.id for j in sched.get_jobs()}
        assert app.extensions["inspect_start_background"]() is sched  # started once
    finally:
        sched.shutdown(wait=False)
        core._state["scheduler"] = None


def test_daily_digest_once_per_day(app, make_user):
    from tests.notify.world import build, finding
    from inspect_api.notify.models import Notification
    from inspect_api.rectification.escalation import daily_digest

    w = build(make_user)
    w.open([finding()])
    now = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)
    first = daily_digest(now)
    assert first >= 3 and daily_digest(now) == first
    assert Notification.objects(kind="digest.daily").count() == first
    assert "整改工作日报（2026-03-03）" in Notification.objects(kind="digest.daily").first().title


def test_sweep_covers_publication_deadlines(app, monkeypatch):
    """The scheduler's sweep also escalates results not published within 20 working days."""
    monkeypatch.setitem(core._state, "app", app)
    stats = core.sweep(datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc), deliver=False)
    assert "steps" in stats and set(stats["publication"]) >= {"selected", "steps", "notifications"}


def test_health_reflects_the_age_of_the_last_sweep(app, monkeypatch, capsys):
    from inspect_api import db
    from inspect_api.rectification.escalation import run_sweep

    now = datetime.now(timezone.utc)
    ok, message = core.check_health(now=now, max_age_seconds=600)
    assert not ok and message.startswith("unhealthy: no sweep recorded yet") and "no leader" in message
    run_sweep(NOW, deliver=False)  # recorded with the wall-clock time it ran
    core.acquire_lease(now=now, seconds=90, holder="host-1:42:abc")
    ok, message = core.check_health(now=now, max_age_seconds=600)
    assert ok and message.startswith("ok: last sweep") and "leader host-1:42:abc" in message
    # the leader stopped sweeping two hours ago
    db.database()["scheduler_state"].update_many({}, {"$set": {"last_run_at": now - timedelta(hours=2)}})
    ok, message = core.check_health(now=now, max_age_seconds=600)
    # the age is measured against the wall clock: a slow store may let a few seconds pass meanwhile
    assert not ok and re.search(r"last sweep 72[0-5]\d s ago \(limit 600 s\)", message), message
    # the command in docker-compose.yml: default limit = 2 sweep intervals + 1 lease (2 x 300 + 90 s)
    assert core.default_max_age(app.config["INSPECT"]) == 690
    monkeypatch.setenv("INSPECT_ENV", "testing")
    monkeypatch.setattr(db, "connect", lambda cfg: True)  # keep this test's store
    assert main(["health"]) == 1
    assert "limit 690 s" in capsys.readouterr().out
    run_sweep(NOW, deliver=False)
    assert main(["health"]) == 0
    assert main(["health", "--max-age", "7200"]) == 0
    assert capsys.readouterr().out.startswith("ok: last sweep")


def test_health_command_process_fails_without_a_sweep():
    env = {"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "scheduler", "health"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1, r.stderr[-2000:]
    assert r.stdout.strip().startswith("unhealthy: no sweep recorded yet")


def test_sweep_bench_measures_10k_on_the_embedded_store_and_says_what_it_did_not(capsys, monkeypatch):
    """bench/sweep.py --store memory: N=10,000 at most on the in-process store, and it says what it did not run."""
    import json
    import runpy

    bench = runpy.run_path(str(ROOT / "bench" / "sweep.py"), run_name="bench_sweep")
    default_max = bench["DEFAULT_EMBEDDED_MAX"]
    run, not_run = bench["plan_sizes"](bench["DEFAULT_SIZES"], embedded=True, embedded_max=default_max)
    assert run == [10000] and [x["n"] for x in not_run] == [100000]
    assert "MONGODB_URI" in not_run[0]["reason"] and "DESIGN §11" in not_run[0]["reason"]
    assert bench["plan_sizes"](bench["DEFAULT_SIZES"], embedded=False, embedded_max=default_max) == (
        [10000, 100000], [])
    # a small run end to end: the printed lines and the JSON line name what was and was not measured
    for name in ("MONGODB_URI", "INSPECT_MONGODB_URI"):
        monkeypatch.delenv(name, raising=False)
    assert bench["main"](["--store", "memory", "--n", "60", "--n", "100000"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "measured on the embedded store: N=60" in out
    assert any(line.startswith("not measured: N=100,000 (embedded store") for line in out)
    summary = json.loads(out[-1])
    assert summary["bench"] == "sweep" and summary["store"] == "embedded"
    assert summary["measured_n"] == [60] and [x["n"] for x in summary["not_measured"]] == [100000]
    assert summary["target_measured"] is False and summary["results"][0]["second_sweep_steps"] == 0
