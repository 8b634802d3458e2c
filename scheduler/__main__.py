"""``python -m scheduler`` (run the scheduler) and ``python -m scheduler run-once --now <ISO 8601 with offset>``.

run-once replays one sweep as of a given moment (ops: a missed day); it does
not take the lease, since the sweep is idempotent and the operator asked for it.
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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
