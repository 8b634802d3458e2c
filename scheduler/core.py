"""APScheduler wiring, the leader lease and the jobs.

Every process may run the scheduler; before each job it takes or renews a
lease document in MongoDB (``scheduler_leases``) with ``find_one_and_update``
conditioned on "mine or expired", so exactly one process is the leader at a
time and the others skip.  The sweep itself is idempotent (see
:mod:`inspect_api.rectification.escalation`), so a lease lost mid-sweep
cannot cause a second notice either.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

LEASE_ID = "scheduler"
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_state: dict[str, Any] = {"app": None, "scheduler": None}


def _leases():
    from inspect_api import db

    return db.database()["scheduler_leases"]


def acquire_lease(*, now: datetime, seconds: float, holder: str = HOLDER, name: str = LEASE_ID) -> bool:
    """Take or renew the lease; True when ``holder`` is the leader until ``now + seconds``."""
    expires = now + timedelta(seconds=seconds)
    coll = _leases()
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
        return False  # someone else holds an unexpired lease


def release_lease(*, holder: str = HOLDER, name: str = LEASE_ID) -> None:
    _leases().delete_one({"_id": name, "holder": holder})


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _app():
    app = _state["app"]
    if app is None:
        from inspect_api.app import create_app

        app = _state["app"] = create_app(overrides={"demo_data": False})
    return app


def sweep(now: datetime, *, deliver: bool = True) -> dict[str, Any]:
    """One sweep of every deadline the system escalates: rectification findings, then
    unpublished results (20 working days); the second's figures sit under ``publication``."""
    from inspect_api.publication.service import sweep_publication_deadlines
    from inspect_api.rectification.escalation import run_sweep

    stats = run_sweep(now, deliver=deliver)
    stats["publication"] = sweep_publication_deadlines(now)
    return stats


def sweep_job() -> dict[str, Any] | None:
    """Interval job: sweep as of now if this process is the leader."""
    app = _app()
    with app.app_context():
        now = _now()
        if not acquire_lease(now=now, seconds=float(app.config["INSPECT"].get("scheduler_lease_seconds") or 60)):
            log.info("sweep skipped: another scheduler process holds the lease")
            return None
        try:
            return sweep(now)
        except Exception:  # noqa: BLE001 - a failed sweep must not kill the scheduler; the next one catches up
            log.exception("sweep failed")
            return None


def digest_job() -> int | None:
    from inspect_api.rectification.escalation import daily_digest

    app = _app()
    with app.app_context():
        now = _now()
        if not acquire_lease(now=now, seconds=float(app.config["INSPECT"].get("scheduler_lease_seconds") or 60)):
            return None
        return daily_digest(now)


def add_jobs(sched, cfg: dict[str, Any]) -> None:
    sched.add_job("scheduler.core:sweep_job", "interval", seconds=int(cfg.get("sweep_interval_seconds") or 300),
                  id="rectification-sweep", replace_existing=True, coalesce=True, max_instances=1,
                  misfire_grace_time=None, next_run_time=_now() + timedelta(seconds=2))
    sched.add_job("scheduler.core:digest_job", "cron", hour=int(cfg.get("digest_hour") or 8), minute=0,
                  timezone="Asia/Shanghai", id="daily-digest", replace_existing=True, coalesce=True,
                  max_instances=1, misfire_grace_time=3600)


def jobstores(cfg: dict[str, Any]) -> dict[str, Any]:
    """MongoDB job store when a real server is configured, memory otherwise."""
    from inspect_api import db

    if cfg.get("mongodb_uri") and not db.is_embedded():
        from apscheduler.jobstores.mongodb import MongoDBJobStore

        return {"default": MongoDBJobStore(database=cfg.get("mongodb_db") or "inspect", collection="scheduler_jobs",
                                           client=db.database().client)}
    from apscheduler.jobstores.memory import MemoryJobStore

    return {"default": MemoryJobStore()}


def start_in_process(app) -> Any:
    """Start a BackgroundScheduler inside the server (``make run``)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    if _state["scheduler"] is not None:
        return _state["scheduler"]
    _state["app"] = app
    cfg = app.config["INSPECT"]
    with app.app_context():
        sched = BackgroundScheduler(jobstores=jobstores(cfg), timezone="UTC")
        add_jobs(sched, cfg)
        sched.start()
    _state["scheduler"] = sched
    log.info("in-process scheduler started: sweep every %ss", cfg.get("sweep_interval_seconds"))
    return sched


def run_forever() -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = _app()
    cfg = app.config["INSPECT"]
    with app.app_context():
        sched = BlockingScheduler(jobstores=jobstores(cfg), timezone="UTC")
        add_jobs(sched, cfg)
    log.info("scheduler %s: sweep every %ss, digest daily at %s:00 Asia/Shanghai", HOLDER,
             cfg.get("sweep_interval_seconds"), cfg.get("digest_hour"))
    port = int(cfg.get("scheduler_metrics_port") or 0)
    if port:  # the API's /metrics shows its own process; the scheduler serves its sweep figures here
        from prometheus_client import start_http_server

        from inspect_api.observability import REGISTRY

        start_http_server(port, addr="0.0.0.0", registry=REGISTRY)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease()
    return 0
