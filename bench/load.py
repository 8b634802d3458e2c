"""Load benchmark: the API under gunicorn on loopback vs a bare Flask endpoint, same run.

Starts two gunicorn servers on 127.0.0.1 (the app with demo data, and a
one-line Flask app), drives each with 32 concurrent clients for a bounded
time, and prints requests per second and p50/p99 latency per endpoint beside
the bare baseline.  The machine's speed drifts within a run (shared cores), so
each endpoint is driven in ``--turns`` short turns, each right after a turn of
the bare endpoint of the same length, and its ratio is taken against those
paired bare turns only.  The bundle is requested for each of the demo
inspector's assignments in turn (their open findings differ from run to
run).  Targets: bundle and list endpoints p99 under 50 ms (DESIGN §11); my
assignments, the bundle and the public results page at
>= 50 % of the bare endpoint's requests per second in the same run (issue
#18, target 4), each printed ok or missed.  Public results are measured
twice: as served (the short public response cache on) and from a second
server with the cache off, which is the cost of rendering them; the target
is judged on both.  The machine's load average is printed at start and end
(clients and servers share its cores: compare ratios from the same run).
The last line is a JSON summary.

The app's store (``--store``): ``memory`` (default) is the in-process store,
loaded with the demo world in gunicorn's master before it forks (``--preload``),
so every worker reads the same data (a write stays in the worker that made
it; the bench only reads).  ``local`` is a throwaway SecantusDB started for
the run (never the ``make run`` store under ``var/``): every request then
also pays that server's round trips, which cost several times a MongoDB
server's (a Python server), so its ratios measure that server as much as the
app.  Issue #18 measured its baseline on the in-process store.

    .venv/bin/python bench/load.py [--seconds 8] [--clients 32] [--store memory|local]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _stop(proc: subprocess.Popen) -> None:
    """Stop a server started here: SIGTERM, then SIGKILL if it has not exited within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(app_spec: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    cmd = [PY, "-m", "gunicorn", app_spec, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--worker-class", "gthread", "--threads", "8", "--preload", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + READY_SECONDS  # loading the demo world on a loaded machine takes minutes
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
    proc.kill()
    raise SystemExit("server did not become ready")


READY_SECONDS = 600
TIMEOUT = 60  # seconds a request may take before the run fails (a loaded machine)


def _client(args) -> list[float]:
    """One client process: several threads issuing GETs of the urls in turn until the deadline."""
    urls, headers, deadline, threads = args
    latencies: list[float] = []
    lock = threading.Lock()

    def loop():
        session = requests.Session()
        local = []
        turn = 0
        while time.time() < deadline:
            url = urls[turn % len(urls)]
            turn += 1
            t0 = time.perf_counter()
            r = session.get(url, headers=headers, timeout=TIMEOUT)
            local.append(time.perf_counter() - t0)
            if r.status_code >= 400:
                raise SystemExit(f"{url} answered {r.status_code}")
        with lock:
            latencies.extend(local)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies


def drive(urls: list[str], headers: dict[str, str], seconds: float, clients: int) -> list[float]:
    """The latencies of ``clients`` concurrent clients issuing GETs of ``urls`` (each in turn) for ``seconds``."""
    processes = 4
    per_process = max(1, clients // processes)
    deadline = time.time() + seconds
    with mp.Pool(processes) as pool:
        parts = pool.map(_client, [(urls, headers, deadline, per_process)] * processes)
    return [x for part in parts for x in part]


def figures(latencies: list[float], seconds: float) -> dict[str, float]:
    latencies = sorted(latencies)
    n = len(latencies)
    return {"requests": n, "rps": round(n / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2)}


def drive_paired(targets: dict[str, tuple[list[str], dict]], bare_url: str, seconds: float, clients: int,
                 turns: int) -> tuple[dict[str, dict], dict[str, dict]]:
    """Each target driven for ``seconds`` in ``turns`` turns, each turn right after a bare turn of the same
    length: (figures per target, figures of the bare turns paired with it)."""
    turn = seconds / turns
    own: dict[str, list[float]] = {name: [] for name in targets}
    bare: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(turns):
        for name, (urls, headers) in targets.items():
            bare[name] += drive([bare_url], {}, turn, clients)
            own[name] += drive(urls, headers, turn, clients)
    return ({name: figures(xs, seconds) for name, xs in own.items()},
            {name: figures(xs, seconds) for name, xs in bare.items()})


def _report(name: str, r: dict[str, float]) -> None:
    print(f"{name:24s} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms"
          f"   ({r['requests']} requests)")


BARE_APP = textwrap.dedent("""
    from flask import Flask, jsonify
    app = Flask("bare")

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/bare")
    def bare():
        return jsonify({"items": [], "total": 0})
""")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--turns", type=int, default=4,
                        help="turns per endpoint, each paired with a bare turn of the same length")
    parser.add_argument("--store", choices=("memory", "local"), default="memory",
                        help="memory = the in-process store (default); local = a SecantusDB started for the run")
    args = parser.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    print(f"load bench: {args.clients} clients, {args.seconds:g} s per endpoint in {args.turns} turns (each after "
          f"a bare turn), {args.workers} workers, store {args.store}; load average {load_start} on "
          f"{os.cpu_count()} CPUs", flush=True)

    env = dict(os.environ, INSPECT_ENV="development", INSPECT_SCHEDULER_IN_PROCESS="false",
               INSPECT_LOG_LEVEL="WARNING", INSPECT_PUBLIC_RATE_LIMIT='"100000 per minute"')
    for name in ("MONGODB_URI", "INSPECT_MONGODB_URI", "INSPECT_STORE", "INSPECT_MONGODB_DB"):
        env.pop(name, None)
    tmp = Path(tempfile.mkdtemp())
    server = None
    if args.store == "memory":
        env.update(INSPECT_STORE="memory", INSPECT_MONGODB_URI="memory://")
    else:
        sys.path.insert(0, str(ROOT))
        from inspect_api import localdb

        server = localdb.spawn(tmp / "data", sync_on_commit=False, detach=False)
        env.update(INSPECT_MONGODB_URI=server.uri, INSPECT_MONGODB_DB="inspect_load_bench")
        print(f"local SecantusDB {server.version} at {server.uri} (a folder of its own, removed at the end)",
              flush=True)
    try:
        return _run(args, env, tmp, load_start)
    finally:
        if server is not None:
            os.kill(server.pid, signal.SIGTERM)
            os.waitpid(server.pid, 0)
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, env: dict[str, str], tmp: Path, load_start: list[float]) -> int:
    (tmp / "bare_app.py").write_text(BARE_APP)
    api_port, bare_port = _free_port(), _free_port()
    api = _start("inspect_api.wsgi:app", api_port, args.workers, env, ROOT)
    try:
        bare = _start("bare_app:app", bare_port, args.workers, dict(env, PYTHONPATH=str(tmp)), tmp)
    except BaseException:
        _stop(api)
        raise
    try:
        base = f"http://127.0.0.1:{api_port}/api/v1"
        logins = [requests.post(f"{base}/auth/login", json={"username": "insp01", "password": "demo12345"},
                                timeout=TIMEOUT).json() for _ in range(4)]
        for ended in logins[1:]:  # other sessions of the user logged out: the revocation check has work to do
            requests.post(f"{base}/auth/logout", json={"refresh_token": ended["refresh_token"]}, timeout=TIMEOUT)
        auth = {"Authorization": f"Bearer {logins[0]['access_token']}"}
        assignments = requests.get(f"{base}/me/assignments", headers=auth, timeout=TIMEOUT).json()["items"]
        if not assignments:
            raise SystemExit("demo inspector insp01 has no assignments")
        uncached_port = _free_port()
        uncached = _start("inspect_api.wsgi:app", uncached_port, args.workers,
                          dict(env, INSPECT_PUBLIC_CACHE_SECONDS="0"), ROOT)
        try:
            # The bundles of all the inspector's assignments, in turn: the demo draws differ from run to run, and
            # a bundle's cost with them (its open findings), so one bundle would not compare across runs.
            targets = {
                "me": ([f"{base}/me"], auth),  # the authenticated trivial request: token, user, session check
                "me_assignments": ([f"{base}/me/assignments"], auth),
                "bundle": ([f"{base}/assignments/{a['id']}/bundle" for a in assignments], auth),
                "checklist": ([f"{base}/checklists/DB37T4086-2020/versions/1"], auth),
                "public_results": ([f"{base}/public/results"], {}),
                "public_results_uncached": ([f"http://127.0.0.1:{uncached_port}/api/v1/public/results"], {}),
            }
            for name, (urls, headers) in targets.items():
                for url in urls:
                    if requests.get(url, headers=headers, timeout=TIMEOUT).status_code != 200:
                        raise SystemExit(f"{name}: {url} does not answer 200")
            results, paired_bare = drive_paired(targets, f"http://127.0.0.1:{bare_port}/bare", args.seconds,
                                                args.clients, args.turns)
        finally:
            _stop(uncached)
    finally:
        for proc in (api, bare):
            _stop(proc)
    for name, r in results.items():
        _report(name, r)
        _report("  bare, its turns", paired_bare[name])
    summary = {"bench": "load", "store": args.store, "clients": args.clients, "seconds": args.seconds,
               "turns": args.turns, "workers": args.workers, "load_average_start": load_start}
    for name, r in results.items():
        summary[f"{name}_rps"] = r["rps"]
        summary[f"{name}_p50_ms"] = r["p50_ms"]
        summary[f"{name}_p99_ms"] = r["p99_ms"]
        summary[f"{name}_paired_bare_rps"] = paired_bare[name]["rps"]
        summary[f"{name}_rps_ratio_vs_bare"] = round(r["rps"] / paired_bare[name]["rps"], 3)
    api_p99 = [r["p99_ms"] for n, r in results.items() if n in ("bundle", "me_assignments")]
    summary["target_p99_ms"] = 50
    summary["meets_target"] = bool(api_p99) and max(api_p99) < 50
    print(f"\ntarget 4: >= {RPS_TARGET:.0%} of bare Flask's requests per second in the turns paired with each")
    target4 = {}
    for name in TARGET_4:
        r, bare_r = results[name], paired_bare[name]
        ratio = r["rps"] / bare_r["rps"]
        target4[name] = "ok" if ratio >= RPS_TARGET else "missed"
        print(f"  {name:24s} {ratio:6.1%} of bare ({bare_r['rps']:.1f} req/s)   p50 {r['p50_ms']:7.2f} ms   "
              f"p99 {r['p99_ms']:7.2f} ms   {'ok' if ratio >= RPS_TARGET else 'MISSED'}")
    summary["target_4_rps_ratio"] = RPS_TARGET
    summary["target_4"] = target4
    summary["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average at end {summary['load_average_end']}")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


RPS_TARGET = 0.5  # issue #18 target 4: requests per second at least half of bare Flask's in the same run
TARGET_4 = ("me_assignments", "bundle", "public_results", "public_results_uncached")


if __name__ == "__main__":
    sys.exit(main())
