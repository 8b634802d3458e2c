"""What only a server shows (wire lane only, see WIRE_ONLY in tests/conftest.py): query plans,
round trips per request, transactions under injected failures, the database going away, the
local server's refusals and several processes starting on one empty database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from inspect_api import db, localdb
from inspect_api.app import COMMANDS_HEADER, create_app
from inspect_api.demo import DEMO_PASSWORD
from tests.conftest import assert_error

ROOT = Path(__file__).resolve().parents[2]
READS = {"find", "aggregate", "count", "distinct"}
SESSION_KEYS = {"lsid", "$db", "$clusterTime", "txnNumber", "$readPreference", "startTransaction", "autocommit",
                "readConcern", "writeConcern"}


# ------------------------------------------------------------------ helpers

def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": "Bearer " + r.get_json()["access_token"]}


@pytest.fixture
def demo(app_factory):
    app = app_factory(demo_data=True, public_rate_limit="100000 per minute", login_max_failures=100000)
    with app.app_context():
        client = app.test_client()
        heads = {name: _login(client, name) for name in ("office", "county_office", "insp01", "inst01", "province")}
        yield app, client, heads


def _stages(plan) -> list[dict]:
    out = [plan]
    if isinstance(plan.get("inputStage"), dict):
        out += _stages(plan["inputStage"])
    for sub in plan.get("inputStages") or []:
        out += _stages(sub)
    return out


def _winning_plans(explained) -> list[dict]:
    found = []
    if isinstance(explained, dict):
        if isinstance(explained.get("winningPlan"), dict):
            found.append(explained["winningPlan"])
        for value in explained.values():
            found += _winning_plans(value)
    elif isinstance(explained, list):
        for value in explained:
            found += _winning_plans(value)
    return found


def _shape(name: str, cmd: dict) -> tuple[dict, list[tuple[str, int]], object]:
    """(filter, sort, hint) of a read command."""
    if name == "aggregate":
        match = next((s["$match"] for s in cmd.get("pipeline") or [] if "$match" in s), {})
        sort = next((s["$sort"] for s in cmd.get("pipeline") or [] if "$sort" in s), {})
        return match, list(sort.items()), cmd.get("hint")
    return cmd.get("filter") or cmd.get("query") or {}, list((cmd.get("sort") or {}).items()), cmd.get("hint")


def _equality_fields(flt: dict) -> set[str]:
    out = set()
    for key, value in flt.items():
        if key.startswith("$"):
            continue
        if not isinstance(value, dict) or set(value) == {"$eq"} or (set(value) == {"$in"} and len(value["$in"]) == 1):
            out.add(key)
    return out


def sort_covered(flt: dict, sort: list[tuple[str, int]], index_keys: list[tuple[str, int]]) -> bool:
    """MongoDB's rule for a sort served by an index walk (no in-memory sort): after the index keys the
    filter fixes by equality come the sort keys, in order, all in the index's direction or all reversed."""
    eq = _equality_fields(flt)
    sort = [(k, d) for k, d in sort if k not in eq]
    keys = list(index_keys)
    while keys and keys[0][0] in eq:
        keys.pop(0)
    head = keys[:len(sort)]
    if [k for k, _ in head] != [k for k, _ in sort]:
        return False
    same = all(int(a) == int(b) for (_, a), (_, b) in zip(head, sort))
    reverse = all(int(a) == -int(b) for (_, a), (_, b) in zip(head, sort))
    return same or reverse


def _index_keys(coll_name: str, hint, plan_keys) -> list[tuple[str, int]]:
    if isinstance(hint, dict):
        return list(hint.items())
    if isinstance(hint, str):
        return list(db.database()[coll_name].index_information()[hint]["key"])
    return list((plan_keys or {}).items())


# Collections read whole on purpose, with the reason.
WHOLE_READS = {"regions": "the built-in list of divisions (a few hundred rows), read whole once per process"}


def _batched_reads(cmd: dict) -> tuple[dict | None, list[dict]]:
    """An aggregate of ``inspect_api.batched``: its head read (None for a ``$documents`` seed) and each joined
    read as the query a server runs for it: the join's ``$in`` on its key (what is looked up in the index; the
    rest of its filter is tested on the rows found), then the rest of its pipeline."""
    pipeline = cmd.get("pipeline") or []
    seed = next((s.get("$set") or s["$documents"][0] for s in pipeline
                 if "$documents" in s or ("$set" in s and any(k.startswith("__k") for k in s["$set"]))), {})
    joined = []
    for stage in pipeline:
        spec = stage.get("$lookup")
        if not spec or not str(spec.get("localField", "")).startswith("__k"):
            continue
        rest = [stage for stage in spec.get("pipeline") or [] if "$match" not in stage]
        flt = {spec["foreignField"]: {"$in": seed[spec["localField"]]}}
        joined.append({"aggregate": spec["from"], "pipeline": [{"$match": flt}, *rest], "cursor": {}})
    if not joined:
        return cmd, []
    if "$documents" in (pipeline[0] if pipeline else {}):
        return None, joined
    head_stages = []
    for stage in pipeline:
        if "$group" in stage and "__rows" in stage["$group"]:
            break
        head_stages.append(stage)
    return {**cmd, "pipeline": head_stages}, joined


def check_plans(recorded) -> list[str]:
    """Explain every read (and every read batched into one aggregate, as the query a server runs for it): a
    collection scan, or a sort no index can serve, is a problem."""
    problems = []
    expanded = []
    for database, name, command in recorded:
        if name != "aggregate":
            expanded.append((database, name, command))
            continue
        head, joined = _batched_reads({k: v for k, v in command.items() if k not in SESSION_KEYS})
        expanded += [(database, name, read) for read in ([head] if head else []) + joined]
    for database, name, command in expanded:
        if name not in READS or database != db.database().name or command.get(name) in WHOLE_READS:
            continue
        cmd = {k: v for k, v in command.items() if k not in SESSION_KEYS}
        coll = cmd[name]
        if name == "find" and not cmd.get("filter") and not cmd.get("sort") and cmd.get("limit") in (1, -1):
            continue  # "any one document" (is the collection empty?)
        explained = db.database().command({"explain": cmd, "verbosity": "queryPlanner"})
        plans = _winning_plans(explained)
        assert plans, (name, cmd, explained)
        stages = [s for plan in plans for s in _stages(plan)]
        if any(s.get("stage") == "COLLSCAN" for s in stages):
            problems.append(f"COLLSCAN: {coll} {cmd}")
            continue
        flt, sort, hint = _shape(name, cmd)
        if not sort:
            continue
        secantus = (explained.get("serverInfo") or {}).get("host") == "secantus"
        if not secantus:  # a MongoDB planner says itself whether the sort was served by the index
            if any(s.get("stage") == "SORT" for s in stages):
                problems.append(f"SORT in memory: {coll} {cmd}")
            continue
        # SecantusDB always reports a SORT stage, even for an index walk in order: judge by MongoDB's rule.
        plan_keys = next((s.get("keyPattern") for s in stages if s.get("stage") == "IXSCAN"), None)
        if not sort_covered(flt, sort, _index_keys(coll, hint, plan_keys)):
            problems.append(f"sort not served by the index {hint or plan_keys}: {coll} {cmd}")
    return problems


LIST_PATHS = {
    "office": ["/api/v1/institutions", "/api/v1/institutions?q=%E5%8C%BB&region=370302", "/api/v1/inspectors",
               "/api/v1/inspectors?q=%E7%8E%8B", "/api/v1/conflicts", "/api/v1/users", "/api/v1/users?q=insp",
               "/api/v1/plans", "/api/v1/plans?state=drawn", "/api/v1/draws", "/api/v1/assignments",
               "/api/v1/assignments?status=submitted", "/api/v1/rectifications", "/api/v1/notices",
               "/api/v1/publication/pending", "/api/v1/me/notifications", "/api/v1/matters"],
    "insp01": ["/api/v1/me/assignments", "/api/v1/me/assignments?status=assigned", "/api/v1/rectifications",
               "/api/v1/me/notifications"],
    "inst01": ["/api/v1/rectifications", "/api/v1/me/notifications"],
    None: ["/api/v1/public/results", "/api/v1/public/results?region=370300", "/api/v1/public/institutions",
           "/api/v1/public/institutions?region=370302", "/api/v1/public/notices", "/api/v1/public/draws",
           "/api/v1/public/draws?region=370300", "/p/results", "/p/notices", "/p/draws"],
}


def _full_page(path: str) -> str | None:
    """The API list ``path`` one row per page: a full page does not tell its total, which is then counted."""
    if not path.startswith("/api/v1/") or path == "/api/v1/matters":
        return None
    return path + ("&" if "?" in path else "?") + "per_page=1"


def _list_requests():
    """(who, path) of every list request: each list as the demo shows it, then one row per page."""
    for who, paths in LIST_PATHS.items():
        for path in paths:
            yield who, path
    for who, paths in LIST_PATHS.items():
        for path in paths:
            if _full_page(path):
                yield who, _full_page(path)


# ------------------------------------------------------------------ query plans

def test_list_endpoints_and_the_scheduler_use_indexes_for_filter_and_sort(demo):
    from inspect_api.publication.models import PublishedResult

    app, client, heads = demo
    # The public profile of every institution with a published result (where its poster's QR code leads).
    profiles = sorted({r.institution_public_id for r in PublishedResult.objects.only("institution_public_id")})
    recorded: list = []
    with db.count_commands(record=recorded):
        for who, path in _list_requests():
            r = client.get(path, headers=heads.get(who, {}))
            assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        for public_id in profiles:
            assert client.get(f"/p/institutions/{public_id}").status_code == 200
    problems = check_plans(recorded)
    assert not problems, "\n".join(problems)

    from inspect_api.rectification.escalation import daily_digest
    from scheduler.core import sweep

    swept: list = []
    with db.count_commands(record=swept):
        sweep(datetime(2027, 6, 1, 1, 0, tzinfo=timezone.utc), deliver=False)
        daily_digest(datetime(2027, 6, 1, 1, 0, tzinfo=timezone.utc))
    assert any(name == "find" for _, name, _ in swept)
    problems = check_plans(swept)
    assert not problems, "\n".join(problems)


def test_the_sort_rule_itself():
    idx = [("created_at", -1), ("_id", -1), ("region", 1)]
    assert sort_covered({"region": {"$gte": "3703", "$lt": "3704"}}, [("created_at", -1), ("_id", -1)], idx)
    assert sort_covered({}, [("created_at", 1), ("_id", 1)], idx)  # walked backwards
    assert not sort_covered({}, [("created_at", -1), ("_id", 1)], idx)
    assert not sort_covered({"region": {"$gte": "3703"}}, [("created_at", -1)], [("region", 1), ("created_at", -1)])
    assert sort_covered({"team": "x"}, [("created_at", -1), ("_id", -1)], [("team", 1), ("created_at", -1), ("_id", -1)])


# ------------------------------------------------------------------ round trips per request

BUDGETS = {"bundle": 5, "my_assignments": 3, "list_page": 3, "public_list": 3, "public_result": 4, "login": 4}
# Requests above their budget, with the count this test holds them to and why (README, "Round trips"); none
# today, and an entry no longer needed fails.
OVER_BUDGET: dict[str, tuple[int, str]] = {}


def _commands(response) -> int:
    assert COMMANDS_HEADER in response.headers, dict(response.headers)
    return int(response.headers[COMMANDS_HEADER])


def test_database_round_trips_per_request_stay_within_budget(demo):
    from inspect_api.publication.models import PublishedResult

    app, client, heads = demo
    seen: dict[str, list[tuple[str, int]]] = {}

    def measure(kind: str, path: str, response) -> None:
        assert response.status_code == 200, (path, response.status_code)
        seen.setdefault(kind, []).append((path, _commands(response)))

    measure("login", "login", client.post("/api/v1/auth/login", json={"username": "insp01", "password": DEMO_PASSWORD}))
    r = client.get("/api/v1/me/assignments", headers=heads["insp01"])
    measure("my_assignments", "/api/v1/me/assignments", r)
    bundle = f"/api/v1/assignments/{r.get_json()['items'][0]['id']}/bundle"
    client.get(bundle, headers=heads["insp01"])  # the first fetch creates the inspection
    measure("bundle", bundle, client.get(bundle, headers=heads["insp01"]))
    # A bundle whose institution has open orders also reads their findings.
    from inspect_api.inspections.models import Assignment
    from inspect_api.rectification.models import Order

    order = Order.objects(__raw__={"status": "open", "region": {"$gte": "3703", "$lt": "3704"}}).first()
    with_orders = f"/api/v1/assignments/{Assignment.objects(institution_id=order.institution_id).first().id}/bundle"
    client.get(with_orders, headers=heads["office"])
    r = client.get(with_orders, headers=heads["office"])
    assert r.get_json()["open_findings"], r.get_json()
    measure("bundle", with_orders, r)
    # A second published notice with items: a page of notices reads all its items' live status in one query.
    from inspect_api.auth.models import User
    from inspect_api.clock import utcnow
    from inspect_api.publication import notices
    from inspect_api.publication.models import Notice

    cited, office = Notice.objects(status="published").first(), User.objects.get(username="office")
    assert cited.items
    again = notices.draft_notice(office, {"period_from": cited.period_from, "period_to": cited.period_to,
                                          "finding_ids": list(cited.finding_ids)}, now=utcnow())
    notices.publish_notice(office, str(again.id), now=utcnow())
    assert Notice.objects(status="published", items__0__exists=True).count() == 2
    for who, path in _list_requests():
        if path.startswith("/p/") or path == "/api/v1/matters":
            continue
        kind = "public_list" if "/public/" in path else "list_page"
        measure(kind, path, client.get(path, headers=heads.get(who, {})))
    result = PublishedResult.objects.first()
    # An institution's public profile (where its poster's QR code leads) shows its results too.
    for path in (f"/api/v1/public/results/{result.id}", f"/p/results/{result.id}",
                 f"/p/institutions/{result.institution_public_id}"):
        measure("public_result", path, client.get(path))
    over, needed = [], set()
    for kind, counts in seen.items():
        for path, n in counts:
            key = path if path in OVER_BUDGET else kind
            limit = OVER_BUDGET.get(key, (BUDGETS[kind], ""))[0]
            if n > limit:
                over.append(f"{kind} {path}: {n} commands (limit {limit}, budget {BUDGETS[kind]})")
            if n > BUDGETS[kind]:
                needed.add(key)
    # An entry whose requests all came within budget is stale: remove it (and its line in the README).
    over += [f"OVER_BUDGET[{key!r}] is no longer needed" for key in OVER_BUDGET if key not in needed]
    assert not over, "\n".join(over)


# ------------------------------------------------------------------ transactions under injected failures

class _Boom(RuntimeError):
    pass


class _FailingCollection:
    """A pymongo collection whose ``method`` raises (the process dies between two writes)."""

    def __init__(self, real, method: str):
        self._real, self._method = real, method

    def __getattr__(self, name):
        if name == self._method:
            def fail(*args, **kwargs):
                raise _Boom(f"injected failure in {self._real.name}.{name}")
            return fail
        return getattr(self._real, name)


def _fail_on(monkeypatch, module, document_cls, method: str):
    real = db.collection

    def collection(cls):
        coll = real(cls)
        return _FailingCollection(coll, method) if cls is document_cls else coll

    monkeypatch.setattr(module.db, "collection", collection)


@pytest.fixture
def draw_world(app, make_user, login):
    from tests.draws import plan_fixtures as fx

    fx.world()
    return fx, login(make_user("office_admin", "370300", username="txn_office"))


def test_draw_commit_draw_amend_and_cancel_are_all_or_nothing(app, client, draw_world, monkeypatch):
    from inspect_api.draws import transitions
    from inspect_api.draws.models import Draw, Plan
    from inspect_api.inspections.models import Assignment

    fx, office = draw_world
    assert db.supports_transactions()
    plan = fx.create_plan(client, office)
    # commit: the draw is inserted, then the plan's flip fails
    _fail_on(monkeypatch, transitions, Plan, "update_one")
    assert client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office).status_code == 500
    assert Draw.objects(plan_id=plan["id"]).count() == 0 and Plan.objects.get(id=plan["id"]).state == "draft"
    monkeypatch.undo()
    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    # draw: the draw flips, then the plan's flip fails
    _fail_on(monkeypatch, transitions, Plan, "update_one")
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert r.status_code == 500
    assert Draw.objects.get(plan_id=plan["id"]).state == "committed"
    monkeypatch.undo()
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert r.status_code == 200, r.get_json()
    drawn = r.get_json()
    # amendment: the record is stored, then the plan's update fails; the team change is undone too
    target = drawn["targets"][0]
    assignment = Assignment.objects.get(draw_id=drawn["id"], institution_id=target["institution_id"])
    team_before = list(assignment.team)
    _fail_on(monkeypatch, transitions, Plan, "update_one")
    r = client.post(f"/api/v1/plans/{plan['id']}/amendments", headers=office, json={
        "institution_id": target["institution_id"], "inspector_id": target["team"][0]["id"], "reason": "因病请假"})
    assert r.status_code == 500
    draw = Draw.objects.get(id=drawn["id"])
    assert draw.amendment_count == 0 and draw.state == "drawn"
    assert Assignment.objects.get(id=assignment.id).team == team_before
    monkeypatch.undo()
    # cancellation: draw and plan flip, then cancelling the assignments fails
    real_update_many = transitions.cancel_unstarted_assignments

    def failing(*args, **kwargs):
        raise _Boom("injected failure cancelling assignments")

    monkeypatch.setattr(transitions, "cancel_unstarted_assignments", failing)
    assert client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "名录有误"},
                       headers=office).status_code == 500
    assert Draw.objects.get(id=drawn["id"]).state == "drawn" and Plan.objects.get(id=plan["id"]).state == "drawn"
    monkeypatch.setattr(transitions, "cancel_unstarted_assignments", real_update_many)
    r = client.post(f"/api/v1/plans/{plan['id']}/cancel", json={"reason": "名录有误"}, headers=office)
    assert r.status_code == 200, r.get_json()
    assert Assignment.objects(draw_id=drawn["id"], status="assigned").count() == 0


def test_an_order_and_its_findings_are_written_together(app, make_user, monkeypatch):
    from inspect_api.rectification import service as rs
    from inspect_api.rectification.models import Finding, Order
    from tests.notify.world import build, finding

    world = build(make_user)
    real = rs._new_finding
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Boom("injected failure between the order and its second finding")
        return real(*args, **kwargs)

    monkeypatch.setattr(rs, "_new_finding", failing)
    with pytest.raises(_Boom):
        world.open([finding("A1"), finding("A2"), finding("A3")], inspection_id="txn-1")
    assert Order.objects.count() == 0 and Finding.objects.count() == 0  # nothing half-written
    monkeypatch.setattr(rs, "_new_finding", real)
    order = world.open([finding("A1"), finding("A2"), finding("A3")], inspection_id="txn-1")
    assert Order.objects.count() == 1 and Finding.objects(order_id=str(order.id)).count() == 3


def test_a_notice_number_goes_back_when_its_publication_fails(app, make_user, monkeypatch):
    from datetime import date

    from inspect_api.publication import notices
    from inspect_api.publication.models import Notice, NoticeCounter
    from tests.notify.world import build

    build(make_user)
    office = make_user("office_admin", "370300", username="notice_txn_office")
    notice = notices.draft_notice(office, {"period_from": date(2026, 1, 1), "period_to": date(2026, 6, 30),
                                           "finding_ids": []}, now=datetime.now(timezone.utc))
    _fail_on(monkeypatch, notices, Notice, "update_one")
    with pytest.raises(_Boom):
        notices.publish_notice(office, str(notice.id), now=datetime.now(timezone.utc))
    assert Notice.objects.get(id=notice.id).status == "draft"
    assert NoticeCounter.objects.count() == 0  # the number taken inside the transaction went back
    monkeypatch.undo()
    published = notices.publish_notice(office, str(notice.id), now=datetime.now(timezone.utc))
    assert published.seq == 1 and published.status == "published"


# ------------------------------------------------------------------ the database going away and coming back

@pytest.fixture
def own_server(tmp_path):
    data = tmp_path / "data"
    server = localdb.spawn(data, sync_on_commit=False, detach=False, log_file=tmp_path / "server.log")
    state = {"server": server}
    yield state, data, tmp_path
    for s in {state["server"].pid}:
        try:
            os.kill(s, signal.SIGKILL)
            os.waitpid(s, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_database_going_away_answers_503_and_service_resumes(own_server, make_user):
    state, data, tmp = own_server
    server = state["server"]
    app = create_app("testing", overrides={"mongodb_uri": server.uri, "mongodb_db": "outage_test",
                                           "mongodb_timeout_ms": 1500})
    with app.app_context():
        client = app.test_client()
        r = client.get("/api/v1/public/results")
        assert r.status_code == 200
        os.kill(server.pid, signal.SIGKILL)
        os.waitpid(server.pid, 0)
        r = client.get("/api/v1/public/results")
        err = assert_error(r, 503, "DATABASE_UNAVAILABLE")
        assert err["details"] == {}
        state["server"] = localdb.spawn(data, port=server.port, sync_on_commit=False, detach=False,
                                        log_file=tmp / "server.log")
        r = client.get("/api/v1/public/results")
        assert r.status_code == 200, r.get_data(as_text=True)[:300]


# ------------------------------------------------------------------ the local server's refusals

def test_local_store_refuses_a_folder_locked_by_another_process_and_a_newer_version(own_server):
    state, data, tmp = own_server
    root = tmp  # the folder layout of a local store: root/data is the WiredTiger home
    with pytest.raises(localdb.LocalStoreError, match="locked by another process"):
        localdb.ensure(root)
    os.kill(state["server"].pid, signal.SIGKILL)
    os.waitpid(state["server"].pid, 0)
    (root / "store.json").write_text(json.dumps({"secantusdb": "99.0.0"}))
    with pytest.raises(localdb.LocalStoreError, match="newer than the installed"):
        localdb.ensure(root)
    (root / "store.json").write_text(json.dumps({"secantusdb": localdb.installed_version()}))
    server, started = localdb.ensure(root)
    state["server"] = server
    assert started and localdb.answers(server.uri)
    again, started_again = localdb.ensure(root)
    assert again.pid == server.pid and not started_again  # reused, not a second server
    assert localdb.stop(root) and localdb.running(root) is None


# ------------------------------------------------------------------ several processes on one empty database

def test_several_processes_starting_together_on_an_empty_database(app):
    from inspect_api.catalog.models import ChecklistVersion, Matter
    from tests.store import drop_test_database

    drop_test_database()
    env = dict(os.environ, INSPECT_ENV="testing")
    code = "from inspect_api.app import create_app; create_app('testing'); print('started')"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    codes = [(c.code, c.version) for c in ChecklistVersion.objects]
    assert codes and len(codes) == len(set(codes))
    assert Matter.objects.count() == len(set(Matter.objects.scalar("code")))


# ------------------------------------------------------------------ the rate limiter's counters on the server

def test_rate_limit_counters_live_in_the_database(app_factory):
    from limits.storage import MongoDBStorage

    from inspect_api.extensions import limiter

    app = app_factory(public_rate_limit="2 per minute")
    client = app.test_client()
    with app.app_context():
        assert isinstance(limiter.storage, MongoDBStorage)
        assert [client.get("/api/v1/public/matters").status_code for _ in range(3)] == [200, 200, 429]
        assert db.database()["ratelimit_windows"].count_documents({}) >= 1


def test_rate_limit_headers_come_from_the_hit_and_login_reads_both_windows_at_once(app_factory):
    """A hit answers with its window (the headers cost no read); login's two windows and the account are one
    read; the limits still hold (per address across usernames)."""
    from inspect_api.ratelimit_store import RequestScopedMongoDBStorage
    from inspect_api.extensions import limiter

    app = app_factory(public_rate_limit="3 per minute", login_address_max_failures=2, login_max_failures=100)
    client = app.test_client()
    with app.app_context():
        assert isinstance(limiter.storage, RequestScopedMongoDBStorage)
        public = [client.get("/api/v1/public/matters") for _ in range(4)]
        assert [r.status_code for r in public] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in public[:3]] == ["2", "1", "0"]
        assert [_commands(r) for r in public[:3]] == [_commands(public[0])] * 3
        recorded: list = []
        with db.count_commands(record=recorded):
            r = client.post("/api/v1/auth/login", json={"username": "nobody1", "password": "wrong-password1"})
        assert r.status_code == 401 and r.headers["X-RateLimit-Remaining"] == "1"
        # both windows and the account named: one read (a join from a seed document of the keys)
        reads = [(name, json.dumps(cmd, default=str)) for _, name, cmd in recorded if name in READS]
        assert len(reads) == 1, reads
        name, text = reads[0]
        assert name == "aggregate" and '"ratelimit_windows"' in text and '"users"' in text
        assert "login:nobody1:" in text and "login-address:" in text and '"nobody1"' in text
        assert client.post("/api/v1/auth/login", json={"username": "nobody2", "password": "x1"}).status_code == 401
        assert client.post("/api/v1/auth/login", json={"username": "nobody3", "password": "x1"}).status_code == 429


# ------------------------------------------------------------------ the sweep writes in batches

def test_sweep_write_commands_grow_with_batches_not_findings(app):
    import importlib.util

    spec = importlib.util.spec_from_file_location("sweep_bench", ROOT / "bench" / "sweep.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from inspect_api.rectification import escalation

    bench.populate(2500, outage=0.05)
    recorded: list = []
    with db.count_commands(record=recorded):
        first = escalation.run_sweep(bench.NOW, deliver=False)
    writes = [name for _, name, _ in recorded if name in ("insert", "update", "delete", "findAndModify")]
    assert first["steps"] > 250
    assert len(writes) <= first["steps"] / 100 + 12, (len(writes), first["steps"])


# ------------------------------------------------------------------ reads batched into one command

def test_batched_reads_answer_as_each_read_alone_in_one_command(app):
    """``read_together`` joins keyed reads onto a head read: the same rows, sorts, slices, projections and counts
    as each read sent by itself, in one command; an empty key list answers without asking; a head without rows
    still brings its joins."""
    from bson import ObjectId

    from inspect_api.batched import Read, _alone, read_together

    coll = db.database()["rectification_findings"]
    orders = [str(ObjectId()) for _ in range(3)]
    coll.insert_many([{"_id": ObjectId(), "order_id": orders[n % 3], "seq": n, "region": "370302",
                       "status": "open" if n % 2 else "accepted", "item_text": f"问题{n}"} for n in range(12)])
    ids = [d["_id"] for d in coll.find({}, {"_id": 1}).sort("_id", 1)]
    reads = [
        Read("rectification_findings", {"region": {"$gte": "3703", "$lt": "3704"}}, count=True),  # the head
        Read("rectification_findings", {"order_id": {"$in": orders[:2]}, "status": "open"},
             sort=(("seq", -1),), skip=1, limit=3, projection={"seq": 1, "order_id": 1}, key="order_id"),
        Read("rectification_findings", {"_id": {"$in": ids[2:6]}}, sort=(("seq", 1),)),
        Read("rectification_findings", {"_id": ids[7]}, projection={"item_text": 1}),
        Read("rectification_findings", {"order_id": {"$in": []}}, key="order_id"),
        None,
    ]
    alone = [None if r is None else _alone(r, planned=True) for r in reads]
    with db.count_commands() as counted:
        together = read_together(*reads)
    assert counted["count"] == 1, counted
    assert together == alone
    assert together[0] == 12 and [r["seq"] for r in together[1]] == [7, 3, 1] and together[4] == []

    headless = Read("rectification_findings", {"region": {"$gte": "3799", "$lt": "3800"}},
                    sort=(("seq", 1),), limit=5)
    with db.count_commands() as counted:
        rows, joined = read_together(headless, reads[2])
    assert rows == [] and joined == alone[2] and counted["count"] == 2  # the joins asked again, by themselves
    with pytest.raises(ValueError):  # a key must lead an index, or the join would read the collection whole
        Read("rectification_findings", {"item_text": "问题1"}, key="item_text")


# ------------------------------------------------------------------ a batch of answers costs the same at any size

def test_a_batch_of_answers_costs_the_same_commands_whatever_its_size(demo):
    """An inspector's phone syncs its queue in one request; the server's commands do not grow with its items."""
    import uuid

    from inspect_api.auth.models import User
    from inspect_api.clock import utcnow
    from inspect_api.inspections import answers, records
    from inspect_api.inspections.models import Assignment, Inspection, ItemResponse

    inspection = Inspection.objects(state="checked_in").first()
    assignment = Assignment.objects.get(id=inspection.id)
    lead = User.objects.get(role="inspector", inspector_id=assignment.team[0])  # lead first
    kind = records.institution_kind(inspection.institution_id)
    answered = {r.item_id for r in ItemResponse.objects(inspection_id=str(inspection.id))}
    free = [i for i in records.item_index(records.content_of(inspection)).values()
            if records.applies(i, kind) and i["id"] not in answered]
    assert len(free) >= 40

    def batch(items, base=0):
        return [{"client_id": str(uuid.uuid4()), "item_id": i["id"], "base_revision": base,
                 "client_updated_at": utcnow(), "result": "pass", "deduction_codes": [], "note": None}
                for i in items]

    counted = []
    for items in (free[:5], free[5:40]):
        with db.count_commands() as frame:
            out = answers.sync_responses(lead, str(inspection.id), batch(items), now=utcnow())
        assert out["applied"] == len(items)
        counted.append(frame["count"])
    assert counted[0] == counted[1], counted
    # edits of the 35 (conditional updates), half of them from a stale revision: the same count again
    edits = batch(free[5:22], base=1) + batch(free[22:40], base=7)
    with db.count_commands() as frame:
        out = answers.sync_responses(lead, str(inspection.id), edits, now=utcnow())
    assert (out["applied"], out["conflict"]) == (17, 18)
    assert frame["count"] <= counted[0] + 1, (frame["count"], counted)
