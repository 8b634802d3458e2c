"""The leader lease: heartbeats every lease/3, jobs only in the holder, release on shutdown.

Two lease holders ("a" and "b", standing for two scheduler processes) share one
database; each reads an explicit clock, so every expiry below is exact.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta, timezone

import pytest

from scheduler import core

T0 = datetime(2027, 3, 1, 1, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pair(app, clock, monkeypatch):
    monkeypatch.setitem(core._state, "app", app)
    return core.LeaderLease(90, holder="a", clock=clock), core.LeaderLease(90, holder="b", clock=clock)


def test_renew_period_is_a_third_of_the_lease_and_the_default_outlasts_it(app):
    lease = core.LeaderLease(90)
    assert lease.renew_seconds == 30 < lease.seconds
    configured = app.config["INSPECT"]["scheduler_lease_seconds"]
    assert core.LeaderLease(configured).renew_seconds * 3 == configured
    with pytest.raises(ValueError):
        core.LeaderLease(2)


def test_leader_keeps_the_lease_across_sweep_intervals_longer_than_the_lease(pair, clock):
    """The audited bug: a 60 s lease never renewed expired before each 300 s sweep, so any process took it."""
    a, b = pair
    assert a.heartbeat() and not b.heartbeat()
    sweeps = Counter()
    for tick in range(1, 41):  # 20 minutes of heartbeats every 30 s, sweeps every 300 s (> the 90 s lease)
        clock.advance(30)
        first, second = (a, b) if tick % 2 else (b, a)  # heartbeats race in either order
        first.heartbeat()
        second.heartbeat()
        assert a.leader and not b.leader
        assert a.held() and not b.held()
        if tick % 10 == 0:
            for lease in (b, a):
                if core.sweep_job(lease) is not None:
                    sweeps[lease.holder] += 1
    assert sweeps == Counter({"a": 4})
    assert core.lease_holder(now=clock()) == "a"


def test_standby_takes_over_only_after_the_leader_stops_renewing(pair, clock):
    a, b = pair
    assert a.heartbeat()
    # a hangs (no heartbeat); b keeps trying every 30 s and waits for expiry at +90 s
    for _ in range(2):
        clock.advance(30)
        assert not b.heartbeat() and core.sweep_job(b) is None
    clock.advance(29.9)
    assert not b.heartbeat()  # +89.9 s: still a's
    clock.advance(0.2)
    assert b.heartbeat() and b.held()  # +90.1 s: expired, b leads
    # a wakes up: its jobs check the lease first and skip; its heartbeat cannot take the lease back
    assert not a.held() and core.sweep_job(a) is None and core.digest_job(a) is None
    assert not a.heartbeat() and a.leader is False
    assert core.sweep_job(b) is not None


def test_release_on_shutdown_hands_over_at_the_next_heartbeat(pair, clock):
    a, b = pair
    assert a.heartbeat() and not b.heartbeat()
    a.release()
    clock.advance(1)  # long before the lease would have expired
    assert b.heartbeat() and not a.heartbeat()
    b.release()
    b.release()  # idempotent; never deletes another holder's lease
    assert a.heartbeat()
    b.release()
    assert core.lease_holder(now=clock()) == "a"


def test_digest_runs_only_in_the_holder(pair, clock, make_user):
    from tests.notify.world import build, finding

    a, b = pair
    build(make_user).open([finding()])
    clock.now = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)
    assert a.heartbeat() and not b.heartbeat()
    assert core.digest_job(b) is None
    assert core.digest_job(a) >= 3


def test_failover_after_an_outage_catches_up_each_due_step_once(pair, clock, make_user):
    """a sweeps, then dies; after a three-day outage b takes over and applies each missed step exactly once."""
    from inspect_api.calendar.service import current_calendar
    from inspect_api.notify.models import Notification
    from inspect_api.rectification import service as rs
    from inspect_api.workdays import SHANGHAI
    from tests.notify.world import build, finding

    a, b = pair
    w = build(make_user)
    f = rs.findings_of(w.open([finding("A1", "critical", 5)]))[0]
    cal = current_calendar()

    def at(day):
        return datetime.combine(day, time(9), tzinfo=SHANGHAI).astimezone(timezone.utc)

    clock.now = at(cal.add_working_days(f.deadline, -3))  # reminder day
    assert a.heartbeat() and not b.heartbeat()
    assert core.sweep_job(a)["steps"] == 1 and core.sweep_job(b) is None
    # a crashes; nothing runs for days, until b's next heartbeat past the department step
    clock.now = at(cal.add_working_days(f.deadline, 6))
    assert b.heartbeat()
    assert core.sweep_job(b)["steps"] == 2  # warning + department, caught up at once
    assert core.sweep_job(a) is None  # a, restarted from a stale state, does not work without the lease
    assert core.sweep_job(b)["steps"] == 0
    f.reload()
    assert f.step_codes == ["reminder", "warning", "department"]
    kinds = Counter(n.kind for n in Notification.objects(kind__startswith="rectification."))
    assert kinds["rectification.reminder"] == 1 and kinds["rectification.warning"] == 3
    assert kinds["rectification.department"] == 2


def test_jobs_use_a_memory_store_heartbeat_first_every_third_of_the_lease(app):
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    cfg = dict(app.config["INSPECT"], mongodb_uri="mongodb://db.example:27017/?replicaSet=rs0")
    stores = core.jobstores()
    assert isinstance(stores["default"], MemoryJobStore)  # even with a real MongoDB configured
    lease = core.LeaderLease(90, holder="a")
    sched = BackgroundScheduler(jobstores=stores, timezone="UTC")
    morning = datetime(2027, 3, 1, 6, 0, tzinfo=timezone.utc)  # 14:00 Shanghai: today's 08:00 digest is past
    core.add_jobs(sched, cfg, lease, now=morning)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"leader-heartbeat", "rectification-sweep", "daily-digest", "daily-digest-catch-up"}
    beat = jobs["leader-heartbeat"]
    assert beat.trigger.interval == timedelta(seconds=30) and beat.next_run_time == morning
    assert beat.args == (lease,) and jobs["rectification-sweep"].args == (lease,)
    assert jobs["rectification-sweep"].next_run_time > morning
    early = BackgroundScheduler(jobstores=core.jobstores(), timezone="UTC")
    core.add_jobs(early, cfg, lease, now=datetime(2027, 3, 1, 22, 0, tzinfo=timezone.utc))  # 06:00 Shanghai
    assert "daily-digest-catch-up" not in {j.id for j in early.get_jobs()}


def test_run_forever_releases_the_lease_when_stopped(app_factory, monkeypatch):
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    app = app_factory(scheduler_metrics_port=0)
    monkeypatch.setitem(core._state, "app", app)
    monkeypatch.setitem(core._state, "lease", None)
    monkeypatch.setitem(core._state, "scheduler", None)
    handlers = {}
    monkeypatch.setattr(signal, "signal", lambda sig, handler: handlers.__setitem__(sig, handler))
    seen = {}

    def fake_start(self, *args, **kwargs):  # one heartbeat, then docker stop
        seen["jobs"] = {j.id for j in self.get_jobs()}
        assert core.heartbeat_job()
        with app.app_context():
            seen["holder"] = core.lease_holder(now=datetime.now(timezone.utc))
        handlers[signal.SIGTERM](signal.SIGTERM, None)

    monkeypatch.setattr(BlockingScheduler, "start", fake_start)
    assert core.run_forever() == 0
    assert {"leader-heartbeat", "rectification-sweep", "daily-digest"} <= seen["jobs"]
    assert seen["holder"] == core.HOLDER
    with app.app_context():
        assert core.lease_holder(now=datetime.now(timezone.utc)) is None
    assert core._state["scheduler"] is None


def test_in_process_scheduler_stop_releases_the_lease(app_factory, monkeypatch):
    app = app_factory(scheduler_in_process=True, sweep_interval_seconds=3600)
    monkeypatch.setitem(core._state, "scheduler", None)
    monkeypatch.setitem(core._state, "lease", None)
    sched = app.extensions["inspect_start_background"]()
    assert sched.running and "leader-heartbeat" in {j.id for j in sched.get_jobs()}
    assert core.heartbeat_job()
    with app.app_context():
        assert core.lease_holder(now=datetime.now(timezone.utc)) == core.HOLDER
    core.stop()
    assert not sched.running
    with app.app_context():
        assert core.lease_holder(now=datetime.now(timezone.utc)) is None


def test_two_heartbeats_of_one_holder_at_the_same_instant_both_lead(app):
    """The first heartbeat a scheduler runs at start can meet another of the same process on an empty
    lease collection: the one whose insert collides looks again and finds the lease its own."""
    import threading

    now = datetime.now(timezone.utc)
    results, barrier = [], threading.Barrier(4)

    def beat():
        with app.app_context():
            barrier.wait()
            results.append(core.acquire_lease(now=now, seconds=30, holder="same-process"))

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4
    with app.app_context():
        assert core.acquire_lease(now=now, seconds=30, holder="another-process") is False
