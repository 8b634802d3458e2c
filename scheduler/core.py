"""APScheduler wiring, the leader lease and the jobs.

Leadership.  Any number of scheduler processes may run (one leader, hot
standbys).  Who works is decided by one lease document in MongoDB
(``scheduler_leases``, ``_id: "scheduler"``: ``holder``, ``expires_at``,
``renewed_at``):

- every process runs a heartbeat job every ``scheduler_lease_seconds / 3``
  seconds.  It takes or renews the lease with one atomic conditional update
  (``holder == me`` or ``expires_at < now``), so the leader keeps the lease
  for as long as it is alive, however long a sweep takes and however long
  the sweep interval is; a standby takes over only once the lease has
  expired, i.e. the leader missed about three heartbeats in a row (crashed,
  hung, or lost the database);
- the sweep and the digest jobs check the lease in the database
  (``holder == me`` and unexpired) before they start, and skip otherwise;
- on shutdown the leader waits for a running job, then deletes the lease, so
  a standby takes over at its next heartbeat instead of after expiry.

Expiry compares the hosts' clocks: keep scheduler hosts NTP-synchronised
(skew far below the 2/3 of a lease between the last renewal and expiry).
A leader paused past its lease may finish a sweep it had begun while a new
leader starts one; that costs time, never a second notice, because the sweep
itself is idempotent (each escalation step is claimed once per finding by an
atomic conditional update, see :mod:`inspect_api.rectification.escalation`).

Job store.  APScheduler 3 does not support several schedulers sharing one
job store (each keeps its own wake-up timer and none is told of the others'
changes, so shared MongoDB job stores race on ``next_run_time`` and run jobs
twice or late).  Every process therefore keeps its jobs in a per-process
memory job store and re-creates them at start; the lease alone decides who
works.  Nothing is lost by not persisting jobs: the jobs are fixed (interval
sweep, daily digest, heartbeat), and the state that matters lives with the
data: each finding records which escalation steps were applied, so after any
downtime the next sweep applies each due step exactly once; a daily digest
missed during downtime is sent at start (at most once per office and day).

``python -m scheduler health`` (the container's health check) reports the
age of the last recorded sweep, whichever process ran it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

log = logging.getLogger(__name__)

LEASE_ID = "scheduler"
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
DEFAULT_LEASE_SECONDS = 90.0
_state: dict[str, Any] = {"app": None, "scheduler": None, "lease": None}


def _leases():
    from inspect_api import db

    return db.database()["scheduler_leases"]


def acquire_lease(*, now: datetime, seconds: float, holder: str = HOLDER, name: str = LEASE_ID) -> bool:
    """Take or renew the lease; True when ``holder`` is the leader until ``now + seconds``."""
    expires = now + timedelta(seconds=seconds)
    coll = _leases()
    for _attempt in range(2):
        doc = coll.find_one_and_update(
            {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
            {"$set": {"holder": holder, "expires_at": expires, "renewed_at": now}},
            return_document=ReturnDocument.AFTER)
        if doc is not None:
            return doc.get("holder") == holder
        try:
            coll.insert_one({"_id": name, "holder": holder, "expires_at": expires, "renewed_at": now})
            return True
        except DuplicateKeyError:
            # Created meanwhile: by another process, or by a heartbeat of ours running at the same instant
            # (the first one a scheduler runs at start).  Look again: ours to renew, or someone else's.
            continue
    return False  # someone else holds an unexpired lease


def holds_lease(*, now: datetime, holder: str = HOLDER, name: str = LEASE_ID) -> bool:
    """True when ``holder`` holds an unexpired lease at ``now`` (read from the database)."""
    return _leases().count_documents({"_id": name, "holder": holder, "expires_at": {"$gt": now}}, limit=1) > 0


def release_lease(*, holder: str = HOLDER, name: str = LEASE_ID) -> None:
    _leases().delete_one({"_id": name, "holder": holder})


def lease_holder(*, now: datetime, name: str = LEASE_ID) -> str | None:
    """The current leader, or None when the lease is free or expired."""
    doc = _leases().find_one({"_id": name, "expires_at": {"$gt": now}})
    return doc.get("holder") if doc else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class LeaderLease:
    """One process's view of the leader lease: heartbeat (take or renew), check, release.

    ``clock`` returns an aware datetime (injected in tests).  The lease lasts
    ``seconds``; the heartbeat period is a third of it, so a leader survives
    two missed heartbeats and a standby waits at most one lease plus one
    period to take over from a dead leader.
    """

    def __init__(self, seconds: float = DEFAULT_LEASE_SECONDS, *, holder: str = HOLDER, name: str = LEASE_ID,
                 clock: Callable[[], datetime] = _now):
        if seconds < 3:
            raise ValueError("scheduler_lease_seconds must be at least 3 (the heartbeat runs every third of it)")
        self.seconds = float(seconds)
        self.renew_seconds = self.seconds / 3
        self.holder = holder
        self.name = name
        self.clock = clock
        self.leader = False

    def heartbeat(self) -> bool:
        """Take the lease if it is free or expired, renew it if it is ours; True when we lead."""
        try:
            leader = acquire_lease(now=self.clock(), seconds=self.seconds, holder=self.holder, name=self.name)
        except PyMongoError:
            log.warning("lease heartbeat failed; leadership lapses unless the next one succeeds", exc_info=True)
            leader = False
        if leader != self.leader:
            log.info("scheduler %s %s the lease", self.holder, "took" if leader else "lost")
        self.leader = leader
        return leader

    def held(self, now: datetime | None = None) -> bool:
        """True when this process holds an unexpired lease (asked of the database, not remembered)."""
        return holds_lease(now=now or self.clock(), holder=self.holder, name=self.name)

    def release(self) -> None:
        release_lease(holder=self.holder, name=self.name)
        if self.leader:
            log.info("scheduler %s released the lease", self.holder)
        self.leader = False


def _app():
    app = _state["app"]
    if app is None:
        from inspect_api.app import create_app

        app = _state["app"] = create_app(overrides={"demo_data": False})
    return app


def _lease() -> LeaderLease:
    lease = _state["lease"]
    if lease is None:
        seconds = _app().config["INSPECT"].get("scheduler_lease_seconds") or DEFAULT_LEASE_SECONDS
        lease = _state["lease"] = LeaderLease(float(seconds))
    return lease


def sweep(now: datetime, *, deliver: bool = True) -> dict[str, Any]:
    """One sweep of every deadline the system escalates: rectification findings, then
    unpublished results (20 working days), then ledger document requests, then the survey
    results of ended quarters (low means feed the risk weights); their figures sit under
    ``publication``, ``ledgers`` and ``surveys``."""
    from inspect_api.ledgers.deadlines import sweep_request_deadlines
    from inspect_api.surveys.results import close_quarters
    from inspect_api.publication.deadlines import sweep_publication_deadlines
    from inspect_api.rectification.escalation import run_sweep

    stats = run_sweep(now, deliver=deliver)
    stats["publication"] = sweep_publication_deadlines(now)
    stats["ledgers"] = sweep_request_deadlines(now)
    stats["surveys"] = close_quarters(now)
    return stats


def heartbeat_job(lease: LeaderLease | None = None) -> bool:
    """Interval job (every lease/3 s, in every process): take or renew the leader lease."""
    with _app().app_context():
        return (lease or _lease()).heartbeat()


def sweep_job(lease: LeaderLease | None = None) -> dict[str, Any] | None:
    """Interval job: sweep as of now, only while this process holds the lease."""
    with _app().app_context():
        lease = lease or _lease()
        now = lease.clock()
        try:
            if not lease.held(now):
                log.info("sweep skipped: this process (%s) does not hold the lease", lease.holder)
                return None
            return sweep(now)
        except Exception:  # noqa: BLE001 - a failed sweep must not kill the scheduler; the next one catches up
            log.exception("sweep failed")
            return None


def digest_job(lease: LeaderLease | None = None) -> int | None:
    """Cron job: the daily digest, only while this process holds the lease (deduped per office and day)."""
    from inspect_api.rectification.escalation import daily_digest

    with _app().app_context():
        lease = lease or _lease()
        now = lease.clock()
        if not lease.held(now):
            log.info("digest skipped: this process (%s) does not hold the lease", lease.holder)
            return None
        return daily_digest(now)


def add_jobs(sched, cfg: dict[str, Any], lease: LeaderLease, *, now: datetime | None = None) -> None:
    """The heartbeat (at once, then every lease/3), the interval sweep and the daily digest."""
    from inspect_api.workdays import SHANGHAI

    now = now or _now()
    digest_hour = int(cfg.get("digest_hour") or 8)
    sched.add_job(heartbeat_job, "interval", seconds=lease.renew_seconds, args=[lease], id="leader-heartbeat",
                  replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None,
                  next_run_time=now)
    sched.add_job(sweep_job, "interval", seconds=int(cfg.get("sweep_interval_seconds") or 300), args=[lease],
                  id="rectification-sweep", replace_existing=True, coalesce=True, max_instances=1,
                  misfire_grace_time=None, next_run_time=now + timedelta(seconds=2))
    sched.add_job(digest_job, "cron", hour=digest_hour, minute=0, timezone="Asia/Shanghai", args=[lease],
                  id="daily-digest", replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=3600)
    if now.astimezone(SHANGHAI).hour >= digest_hour:
        # Jobs are not persisted: a digest missed while no scheduler ran goes out now (deduped per office and day).
        sched.add_job(digest_job, "date", run_date=now + timedelta(seconds=5), args=[lease],
                      id="daily-digest-catch-up", replace_existing=True, misfire_grace_time=None)


def jobstores() -> dict[str, Any]:
    """A per-process memory job store (see the module docstring for why not MongoDB)."""
    from apscheduler.jobstores.memory import MemoryJobStore

    return {"default": MemoryJobStore()}


def start_in_process(app) -> Any:
    """Start a BackgroundScheduler inside the server (``make run``); stopped at exit."""
    import atexit

    from apscheduler.schedulers.background import BackgroundScheduler

    if _state["scheduler"] is not None:
        return _state["scheduler"]
    _state["app"] = app
    cfg = app.config["INSPECT"]
    sched = BackgroundScheduler(jobstores=jobstores(), timezone="UTC")
    add_jobs(sched, cfg, _lease())
    sched.start()
    _state["scheduler"] = sched
    atexit.register(stop)
    log.info("in-process scheduler started: sweep every %ss", cfg.get("sweep_interval_seconds"))
    return sched


def stop(wait: bool = True) -> None:
    """Stop this process's scheduler (waiting for a running job), then release the lease."""
    sched, _state["scheduler"] = _state["scheduler"], None
    if sched is not None and sched.running:
        sched.shutdown(wait=wait)
    lease = _state["lease"]
    if lease is not None and _state["app"] is not None:
        try:
            with _state["app"].app_context():
                lease.release()
        except PyMongoError:
            log.warning("could not release the lease; it expires in %ss", lease.seconds, exc_info=True)


def _raise_exit(signum, frame):  # noqa: ARG001 - signal handler signature
    raise SystemExit(0)


def run_forever() -> int:
    """``python -m scheduler``: run until SIGTERM/SIGINT, then stop cleanly and release the lease."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    app = _app()
    cfg = app.config["INSPECT"]
    lease = _lease()
    sched = BlockingScheduler(jobstores=jobstores(), timezone="UTC")
    add_jobs(sched, cfg, lease)
    _state["scheduler"] = sched
    log.info("scheduler %s: lease %ss renewed every %ss, sweep every %ss, digest daily at %s:00 Asia/Shanghai",
             lease.holder, lease.seconds, lease.renew_seconds, cfg.get("sweep_interval_seconds"), cfg.get("digest_hour"))
    port = int(cfg.get("scheduler_metrics_port") or 0)
    if port:  # the API's /metrics shows its own processes; the scheduler serves its sweep figures here
        from prometheus_client import start_http_server

        from inspect_api.observability import metrics_registry

        start_http_server(port, addr="0.0.0.0", registry=metrics_registry())
    signal.signal(signal.SIGTERM, _raise_exit)  # docker stop: leave the loop, finish the job, release
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):  # Ctrl-C or SIGTERM: leave the loop
            sched.start()
    finally:
        stop()
    return 0


def check_health(*, now: datetime, max_age_seconds: float) -> tuple[bool, str]:
    """Healthy when some scheduler recorded a sweep within ``max_age_seconds``; a one-line reason."""
    from inspect_api import db
    from inspect_api.rectification.escalation import last_sweep_age_seconds

    if not db.ping():
        return False, "unhealthy: database unreachable"
    age = last_sweep_age_seconds()
    holder = lease_holder(now=now)
    leader = f"leader {holder}" if holder else "no leader holds the lease"
    if age is None:
        return False, f"unhealthy: no sweep recorded yet; {leader}"
    if age > max_age_seconds:
        return False, f"unhealthy: last sweep {age:.0f} s ago (limit {max_age_seconds:.0f} s); {leader}"
    return True, f"ok: last sweep {age:.0f} s ago (limit {max_age_seconds:.0f} s); {leader}"


def default_max_age(cfg: dict[str, Any]) -> float:
    """Two sweep intervals plus one lease: the longest gap a leader failover can explain."""
    interval = float(cfg.get("sweep_interval_seconds") or 300)
    return 2 * interval + float(cfg.get("scheduler_lease_seconds") or DEFAULT_LEASE_SECONDS)
