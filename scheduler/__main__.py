"""``python -m scheduler`` (run the scheduler), ``python -m scheduler run-once --now <ISO 8601 with offset>``
and ``python -m scheduler health``.

run-once replays one sweep as of a given moment (ops: a missed day); it does
not take the lease, since the sweep is idempotent and the operator asked for it.

health is the scheduler container's health check: exit 0 when a sweep was
recorded in the database within ``--max-age`` seconds (default: two sweep
intervals plus one lease, the longest gap a leader failover explains), else
exit 1 with a one-line reason.  It reflects whether sweeps really happen, not
merely whether a process is up.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime


def parse_now(value: str) -> datetime:
    """An aware datetime; a value without a timezone is refused (it would be ambiguous)."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is not an ISO 8601 datetime (e.g. 2027-03-01T09:00:00+08:00)") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} has no timezone; give an offset, e.g. 2027-03-01T09:00:00+08:00 (Asia/Shanghai) "
            "or 2027-03-01T01:00:00Z")
    return dt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="escalation sweeps and daily digests")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the scheduler (default)")
    once = sub.add_parser("run-once", help="run one sweep as of --now and exit")
    once.add_argument("--now", required=True, type=parse_now, help="aware ISO 8601, e.g. 2027-03-01T09:00:00+08:00")
    once.add_argument("--no-deliver", action="store_true", help="record steps and inbox only; skip channels")
    health = sub.add_parser("health", help="exit 0 when a sweep was recorded recently, else 1 (health check)")
    health.add_argument("--max-age", type=float, default=None,
                        help="seconds (default: 2 x sweep_interval_seconds + scheduler_lease_seconds)")
    args = parser.parse_args(argv)

    if args.command == "health":
        return health_check(args.max_age)

    import logging

    logging.basicConfig(level=logging.INFO)
    if args.command == "run-once":
        from scheduler.core import _app, sweep

        app = _app()
        with app.app_context():
            stats = sweep(args.now, deliver=not args.no_deliver)
        print(json.dumps(stats, ensure_ascii=False, default=str))
        return 0
    from scheduler.core import run_forever

    return run_forever()


def health_check(max_age: float | None) -> int:
    """Connect without building the app (cheap enough for a 60 s health check) and report."""
    from datetime import timezone

    from inspect_api import db
    from inspect_api.config import ConfigError, load_config
    from scheduler.core import check_health, default_max_age

    try:
        cfg = load_config()
    except ConfigError as exc:
        print(f"unhealthy: {exc}")
        return 1
    db.connect(cfg)
    ok, message = check_health(now=datetime.now(timezone.utc),
                               max_age_seconds=max_age if max_age is not None else default_max_age(cfg))
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
