"""Bench: request cost in process at demo size and in a grown province (issue #18, targets 2 and 3).

    .venv/bin/python bench/api.py                    # the memory store, then a local SecantusDB it starts
    .venv/bin/python bench/api.py --store memory     # one store only (memory, local, or uri = MONGODB_URI)
    MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0' .venv/bin/python bench/api.py --store uri

For each store the app is built with the demo world (``make run``'s data) and
these requests are timed through Flask's test client, interleaved round by
round, beside a bare Flask JSON endpoint in the same process: the inspector's
``GET /api/v1/me``, ``/me/assignments`` and the offline bundles of its assignments (in turn);
the city office's ``/api/v1/institutions`` and ``/api/v1/assignments``; the
public ``/api/v1/public/results`` (its short response cache off, so the page
is rendered each time).  Then the world grows by 10,000 institutions, 2,000
inspectors and 20,000 assignments in the same city (the demo inspector on
its share of them, 20) and the same requests are timed again.

Targets (issue #18): on the memory store at demo size ``/me`` within 2x the
bare endpoint, the bundle <= 3 ms and my assignments <= 2 ms median (target
2); on each store every endpoint at the large size within 2x its demo-size
median (target 3), net of the machine's drift between the two sizes: each ratio
is divided by the bare endpoint's own (it does the same work at both sizes).
Each is printed ok or missed; the last line is a JSON
summary with the machine's load average at start and end (the machines these
runs share are noisy: compare ratios measured in the same run).

The large world is written as raw documents (``insert_many``, as
``bench/sweep.py`` does).  On the memory store mongomock checks every unique
index of every inserted document by testing every stored document in Python
(quadratic: hours at this size), so there the bench checks its generated
keys for uniqueness itself and stores the documents as mongomock's insert
does (time zones patched) without that scan.

Where the local server cannot meet target 3: SecantusDB materialises the
whole index range a query matches before sorting and paging it, so a page
of a list whose filter matches all 10,000 institutions (or 20,000
assignments) costs O(matching) there, not O(page); a hinted query walks the
whole hinted index (see the README's "Queries").  mongomock has
no indexes at all: every list query tests every document of its collection.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bson import ObjectId  # noqa: E402
from flask import Flask, jsonify  # noqa: E402

from inspect_api import db  # noqa: E402
from inspect_api.app import create_app  # noqa: E402
from inspect_api.auth.models import User  # noqa: E402
from inspect_api.demo import DEMO_PASSWORD  # noqa: E402
from inspect_api.directory.creditcode import generate as credit_code  # noqa: E402
from inspect_api.directory.models import DEPARTMENTS, INSTITUTION_KINDS, Institution, Inspector  # noqa: E402
from inspect_api.inspections.models import Assignment  # noqa: E402

CITY = "370300"
COUNTIES = ["370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323"]
LARGE = {"institutions": 10000, "inspectors": 2000, "assignments": 20000}
INSPECTOR_SHARE = 20  # assignments of the demo inspector among the large ones (2 of 2,001 per team: ~20 each)
ENDPOINTS = ("bare_flask", "me", "my_assignments", "bundle", "office_institutions", "office_assignments",
             "public_results")
TARGET_2 = {"me_vs_bare": 2.0, "bundle_ms": 3.0, "my_assignments_ms": 2.0}
TARGET_3_RATIO = 2.0


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def bare_client():
    """A bare Flask JSON endpoint: the baseline every request is compared with."""
    bare = Flask("bare")

    @bare.get("/bare")
    def bare_view():
        return jsonify({"items": [], "total": 0})

    return bare.test_client()


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    if r.status_code != 200:
        raise SystemExit(f"login {username}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return {"Authorization": "Bearer " + r.get_json()["access_token"]}


def requests_of(app) -> dict[str, tuple]:
    """(client, paths, headers) per endpoint.  The bundle's are those of every demo assignment of the inspector,
    taken in turn: the demo draws differ from run to run, and with them the institutions, checklists and
    histories of the inspector's assignments, so one bundle alone would not compare across runs."""
    client = app.test_client()
    inspector, office = _login(client, "insp01"), _login(client, "office")
    mine = client.get("/api/v1/me/assignments", headers=inspector).get_json()["items"]
    if not mine:
        raise SystemExit("demo inspector insp01 has no assignments")
    return {
        "bare_flask": (bare_client(), ["/bare"], {}),
        "me": (client, ["/api/v1/me"], inspector),
        "my_assignments": (client, ["/api/v1/me/assignments"], inspector),
        "bundle": (client, [f"/api/v1/assignments/{a['id']}/bundle" for a in mine], inspector),
        "office_institutions": (client, ["/api/v1/institutions"], office),
        "office_assignments": (client, ["/api/v1/assignments"], office),
        "public_results": (client, ["/api/v1/public/results"], {}),
    }


def measure(reqs: dict[str, tuple], rounds: int, budget_s: float, min_samples: int) -> dict[str, dict]:
    """Interleaved rounds (one request per endpoint per round); an endpoint stops once it has
    ``min_samples`` and has used ``budget_s`` (slow lists on an index-less store)."""
    samples: dict[str, list[float]] = {name: [] for name in reqs}
    for name, (client, paths, headers) in reqs.items():  # warm-up, and every request must succeed
        for path in paths * 3:
            r = client.get(path, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"{name} {path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    for turn in range(rounds):
        active = [n for n in reqs if len(samples[n]) < min_samples or sum(samples[n]) < budget_s]
        if not active:
            break
        for name in active:
            client, paths, headers = reqs[name]
            path = paths[turn % len(paths)]
            started = time.perf_counter()
            client.get(path, headers=headers)
            samples[name].append(time.perf_counter() - started)
    return {name: {"median_ms": round(statistics.median(xs) * 1000, 3), "min_ms": round(min(xs) * 1000, 3),
                   "samples": len(xs)} for name, xs in samples.items()}


# --------------------------------------------------------------------------- the grown world

def _when(rnd: random.Random, now: datetime) -> datetime:
    return now - timedelta(days=rnd.randint(1, 365), seconds=rnd.randint(0, 86399))


def large_world(inspector_id: str, inspector_name: str, now: datetime, seed: int = 18) -> dict[str, list[dict]]:
    """Raw documents of 10,000 institutions, 2,000 inspectors and 20,000 assignments in the city, stored as the
    app stores them (an assignment keeps its team's names, as ``create_assignment`` writes it)."""
    rnd = random.Random(seed)
    kinds, departments = list(INSTITUTION_KINDS), list(DEPARTMENTS)
    institutions = []
    for n in range(LARGE["institutions"]):
        region = COUNTIES[n % len(COUNTIES)]
        institutions.append({
            "_id": ObjectId(), "public_id": f"B{n:07d}", "name": f"基准测试第{n:05d}号医养结合中心",
            "credit_code": credit_code(rnd, region, org_type="52"), "kind": kinds[n % len(kinds)], "tags": [],
            "region": region, "address": f"淄博市测试路{n}号",
            "location": {"type": "Point", "coordinates": [round(117.9 + rnd.random() * 0.4, 6),
                                                          round(36.6 + rnd.random() * 0.3, 6)]},
            "licences": [], "care_beds": rnd.randint(20, 300), "medical_beds": rnd.randint(0, 40),
            "contact_name": "测试联系人", "contact_phone": "0533-0000000", "status": "active",
            "complaint_count": 0, "risk": {"past_findings": 0, "overdue_rectifications": 0, "rejected_answers": 0,
                                            "low_satisfaction": 0},
            "qr_version": 1, "created_at": _when(rnd, now)})
    inspectors = [{"_id": ObjectId(), "name": f"检查员{n:04d}", "certificate_no": f"BENCH{n:06d}",
                   "department": departments[n % len(departments)], "region": COUNTIES[n % len(COUNTIES)],
                   "qualifications": [], "active": True, "load_cap": 25, "employment_history": [],
                   "created_at": _when(rnd, now)} for n in range(LARGE["inspectors"])]
    own = set(rnd.sample(range(LARGE["assignments"]), INSPECTOR_SHARE))
    assignments = []
    for n in range(LARGE["assignments"]):
        inst = institutions[rnd.randrange(len(institutions))]
        members = rnd.sample(inspectors, 2)
        team, team_names = [str(x["_id"]) for x in members], [x["name"] for x in members]
        if n in own:
            team[1], team_names[1] = inspector_id, inspector_name
        created = _when(rnd, now)
        assignments.append({
            "_id": ObjectId(), "institution_id": str(inst["_id"]), "region": inst["region"], "team": team,
            "team_names": team_names, "source": "draw", "random": True, "matters": [], "checklist_code": "DB37T4086-2020",
            "due_date": datetime(created.year, created.month, created.day) + timedelta(days=30),
            "status": "assigned", "created_at": created, "updated_at": created, "dedupe_key": f"bench:{n}"})
    return {"institutions": institutions, "inspectors": inspectors, "assignments": assignments}


UNIQUE_KEYS = {"institutions": [("public_id",), ("credit_code",)], "inspectors": [("certificate_no",)],
               "assignments": [("region", "dedupe_key")]}


def _store_memory(collection, docs: list[dict]) -> None:
    """Store documents in mongomock as its insert does, without its per-document unique-index scan."""
    from mongomock import helpers

    existing = list(collection.find({}))
    for keys in UNIQUE_KEYS[collection.name]:
        seen = {tuple(d.get(k) for k in keys) for d in existing}
        for d in docs:
            value = tuple(d.get(k) for k in keys)
            if value in seen:
                raise SystemExit(f"{collection.name}: duplicate {keys} {value}")
            seen.add(value)
    store = collection._store
    for d in docs:
        store[d["_id"]] = helpers.patch_datetime_awareness_in_document(d)


def grow(embedded: bool) -> dict:
    """Add the large world to the demo world; returns the counts and the time taken."""
    user = User.objects.get(username="insp01")
    world = large_world(user.inspector_id, Inspector.objects.get(id=user.inspector_id).name,
                        datetime.now(timezone.utc))
    started = time.perf_counter()
    for model, name in ((Institution, "institutions"), (Inspector, "inspectors"), (Assignment, "assignments")):
        coll = model._get_collection()
        docs = world[name]
        if embedded:
            _store_memory(coll, docs)
        else:
            for i in range(0, len(docs), 1000):
                coll.insert_many(docs[i:i + 1000], ordered=False)
    return {"seconds": round(time.perf_counter() - started, 2),
            "institutions": Institution.objects.count(), "inspectors": Inspector.objects.count(),
            "assignments": Assignment.objects.count()}


# --------------------------------------------------------------------------- runs

def run_store(kind: str, store_cfg: dict, args) -> dict:
    # A long store timeout: on a loaded machine a slow heartbeat must not reset the pool under a bulk insert;
    # access tokens that outlive the run (growing the world on the local server can take longer than 15 minutes).
    overrides = {"demo_data": True, "log_level": "WARNING", "scheduler_in_process": False,
                 "public_cache_seconds": 0, "public_rate_limit": "1000000 per minute", "mongodb_timeout_ms": 120000,
                 "access_token_minutes": 240, **store_cfg}
    app = create_app("development", overrides=overrides)
    with app.app_context():
        reqs = requests_of(app)
        print(f"[{kind}] demo size: measuring {', '.join(ENDPOINTS)} ...", flush=True)
        demo = measure(reqs, args.rounds, args.budget, args.min_samples)
        grown = None
        large = None
        if not args.demo_only:
            print(f"[{kind}] growing the world ...", flush=True)
            grown = grow(db.is_embedded())
            print(f"[{kind}] grown in {grown['seconds']} s: {grown['institutions']:,} institutions, "
                  f"{grown['inspectors']:,} inspectors, {grown['assignments']:,} assignments", flush=True)
            large = measure(reqs, args.rounds, args.budget, args.min_samples)
        if kind == "uri":
            db.database().client.drop_database(store_cfg["mongodb_db"])
    return {"demo": demo, "large": large, "grown": grown}


def report(kind: str, result: dict) -> dict:
    demo, large = result["demo"], result["large"]
    out: dict = {"endpoints": {}}
    # The bare endpoint does the same work at both sizes: its own ratio is the machine's drift between the two
    # phases (a shared machine changes speed by minutes), and each endpoint's ratio is judged net of it.
    drift = (large["bare_flask"]["median_ms"] / demo["bare_flask"]["median_ms"]) if large is not None else 1.0
    print(f"\n[{kind}] {'endpoint':22s} {'demo median':>12s} {'large median':>13s} {'ratio':>7s} {'net':>7s}"
          f"  target 3 (<= 2x net of the bare endpoint's {drift:.2f}x)")
    for name in ENDPOINTS:
        d = demo[name]["median_ms"]
        row = {"demo_ms": d, "demo_samples": demo[name]["samples"]}
        line = f"[{kind}] {name:22s} {d:9.3f} ms"
        if large is not None:
            big = large[name]["median_ms"]
            ratio = round(big / d, 2)
            net = round(big / d / drift, 2)
            ok = net <= TARGET_3_RATIO
            row.update(large_ms=big, large_samples=large[name]["samples"], ratio=ratio, net_ratio=net,
                       target_3="ok" if ok else "missed")
            line += f" {big:10.3f} ms {ratio:6.2f}x {net:6.2f}x  {'ok' if ok else 'MISSED'}"
        out["endpoints"][name] = row
        print(line)
    bare = demo["bare_flask"]["median_ms"]
    me_ratio = round(demo["me"]["median_ms"] / bare, 2)
    checks = {"me_vs_bare": (me_ratio, me_ratio <= TARGET_2["me_vs_bare"], f"{me_ratio:.2f}x bare (<= 2x)"),
              "bundle_ms": (demo["bundle"]["median_ms"], demo["bundle"]["median_ms"] <= TARGET_2["bundle_ms"],
                            f"{demo['bundle']['median_ms']:.3f} ms (<= 3 ms)"),
              "my_assignments_ms": (demo["my_assignments"]["median_ms"],
                                    demo["my_assignments"]["median_ms"] <= TARGET_2["my_assignments_ms"],
                                    f"{demo['my_assignments']['median_ms']:.3f} ms (<= 2 ms)")}
    out["target_2"] = {}
    for key, (value, ok, text) in checks.items():
        out["target_2"][key] = {"value": value, "result": "ok" if ok else "missed"}
        if kind == "memory":
            print(f"[{kind}] target 2 {key:18s} {text:28s} {'ok' if ok else 'MISSED'}")
    if kind != "memory":
        out["target_2_note"] = "target 2 is set on the memory store; these figures are for comparison"
    if large is not None:
        out["drift"] = round(drift, 2)
        missed = [n for n, r in out["endpoints"].items() if r.get("target_3") == "missed"]
        out["target_3"] = "ok" if not missed else "missed"
        out["target_3_missed"] = missed
    out["grown"] = result["grown"]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("both", "memory", "local", "uri"), default=None,
                        help="both = memory then local (default without MONGODB_URI); uri = MONGODB_URI")
    parser.add_argument("--rounds", type=int, default=200, help="interleaved rounds (default 200)")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds an endpoint may use per size before it stops (at least --min-samples)")
    parser.add_argument("--min-samples", type=int, default=5)
    parser.add_argument("--demo-only", action="store_true", help="only the demo size (target 2)")
    parser.add_argument("--db", default="inspect_bench_api_test")
    args = parser.parse_args(argv)
    uri = os.environ.get("MONGODB_URI") or os.environ.get("INSPECT_MONGODB_URI")
    choice = args.store or ("uri" if uri else "both")
    kinds = ["memory", "local"] if choice == "both" else [choice]
    load_start = load_average()
    print(f"api bench: stores {', '.join(kinds)}; load average {load_start} on {os.cpu_count()} CPUs "
          "(a shared machine: compare ratios from the same run)", flush=True)
    summary: dict = {"bench": "api", "load_average_start": load_start, "stores": {}}
    for kind in kinds:
        server = folder = None
        if kind == "memory":
            cfg = {"mongodb_uri": "memory://", "store": "memory"}
        elif kind == "uri":
            if not uri:
                raise SystemExit("--store uri needs MONGODB_URI")
            if not args.db.endswith("_test"):
                raise SystemExit(f"refusing to use database {args.db!r}: use a name ending in _test")
            cfg = {"mongodb_uri": uri, "mongodb_db": args.db}
        else:
            from inspect_api import localdb

            folder = tempfile.mkdtemp(prefix="api-bench-")
            server = localdb.spawn(Path(folder) / "data", sync_on_commit=False, detach=False)
            cfg = {"mongodb_uri": server.uri, "mongodb_db": args.db}
            print(f"[local] SecantusDB {server.version} at {server.uri}", flush=True)
        try:
            if kind == "uri":
                _drop(cfg)
            result = run_store(kind, cfg, args)
        finally:
            if server is not None:
                os.kill(server.pid, signal.SIGTERM)
                os.waitpid(server.pid, 0)
                shutil.rmtree(folder, ignore_errors=True)
        summary["stores"][kind] = report(kind, result)
    summary["load_average_end"] = load_average()
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _drop(cfg: dict) -> None:
    """Start from an empty database on a given server (the demo world loads only into an empty one)."""
    import pymongo

    with pymongo.MongoClient(cfg["mongodb_uri"]) as client:
        client.drop_database(cfg["mongodb_db"])


if __name__ == "__main__":
    sys.exit(main())
