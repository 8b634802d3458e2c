"""Command line: ``python -m inspect_api <command>``.

serve          run the API (development server; production uses gunicorn)
local-db       start, stop or show the local SecantusDB server of this checkout (data under var/)
create-admin   create the first office admin (password from a prompt or stdin)
verify-audit   check the audit hash chain; exit 1 naming the first broken entry
"""

from __future__ import annotations

import argparse
import getpass
import sys


def _serve(args) -> int:
    from inspect_api import db
    from inspect_api.app import create_app

    app = create_app()
    cfg = app.config["INSPECT"]
    if not cfg.get("public_base_url"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        cfg["public_base_url"] = f"http://{host}:{args.port}"
    accounts = app.extensions.get("inspect_demo_accounts") or []
    if cfg.get("demo_data") and not accounts:
        print("\nThe database already holds data: demo data not loaded again (demo accounts, if loaded before, "
              "keep password demo12345).")
    if accounts:
        print("\nDemo accounts (password for all: %s):" % accounts[0]["password"])
        for acc in accounts:
            print(f"  {acc['username']:<22} {acc['role']:<14} {acc['description']}")
    print(f"\nStore:   {db.describe()}")
    print(f"API:     http://{args.host}:{args.port}/api/v1/docs")
    print(f"Public:  http://{args.host}:{args.port}/p/\n", flush=True)
    starter = app.extensions.get("inspect_start_background")
    if starter:
        starter()
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def _create_admin(args) -> int:
    from inspect_api.app import create_app
    from inspect_api.auth import service
    from inspect_api.clock import utcnow
    from inspect_api.errors import DomainError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("passwords differ", file=sys.stderr)
            return 2
    app = create_app(overrides={"demo_data": False})
    with app.app_context():
        try:
            user = service.create_admin(args.username, password, args.region, now=utcnow(),
                                        min_length=app.config["INSPECT"]["password_min_length"])
        except DomainError as exc:
            print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
    print(f"created office admin {user.username} for region {user.region} (id {user.id})")
    return 0


def _verify_audit(_args) -> int:
    from inspect_api.app import create_app
    from inspect_api.audit.service import verify_chain

    app = create_app(overrides={"demo_data": False})
    with app.app_context():
        report = verify_chain()
    if report.ok:
        print(f"OK: {report.checked} audit entries, chain intact")
        return 0
    print(f"BROKEN at entry {report.broken_seq}: {report.reason} ({report.checked} entries verified before it)")
    return 1


def _local_db(args) -> int:
    from inspect_api import localdb
    from inspect_api.config import load_config

    root = localdb.store_root(load_config().get("local_db_dir"))
    if args.action == "start":
        server, started = localdb.ensure(root)
        print(f"{'started' if started else 'already running'}: {server.uri} (data {server.data_dir}, pid {server.pid})")
    elif args.action == "stop":
        print("stopped" if localdb.stop(root) else "not running")
    else:
        server = localdb.running(root)
        print(f"running: {server.uri} (data {server.data_dir}, pid {server.pid})" if server else "not running")
        return 0 if server else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inspect_api")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the development server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_serve)
    p = sub.add_parser("create-admin", help="create an office admin")
    p.add_argument("--username", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=_create_admin)
    p = sub.add_parser("local-db", help="the local SecantusDB server of this checkout (data under var/)")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(func=_local_db)
    p = sub.add_parser("verify-audit", help="verify the audit hash chain")
    p.set_defaults(func=_verify_audit)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
