"""Storage behaviour that holds in both lanes: store selection, duplicates, counters, the audit
chain under concurrency, start-up seeding, index migration and document size bounds."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inspect_api import db
from inspect_api.app import STARTUP_TASKS, create_app
from inspect_api.audit import service as audit
from inspect_api.audit.models import AuditEvent
from inspect_api.catalog.models import ChecklistVersion, Matter
from inspect_api.config import load_config
from inspect_api.directory.creditcode import generate
from tests.conftest import assert_error
from tests.store import drop_test_database

ROOT = Path(__file__).resolve().parents[2]


def test_test_runs_never_drop_a_database_not_named_test(app):
    with pytest.raises(RuntimeError, match="refusing to drop database 'inspect'"):
        drop_test_database("inspect")
    with pytest.raises(RuntimeError, match="_test"):
        drop_test_database("inspect_test_backup")


def test_a_database_path_in_the_uri_is_only_the_auth_source():
    assert db._wire_uri("mongodb://u:pw@h:27017/production?replicaSet=rs0") == (
        "mongodb://u:pw@h:27017/?replicaSet=rs0", "production")
    assert db._wire_uri("mongodb://h1,h2/?replicaSet=rs0") == ("mongodb://h1,h2/?replicaSet=rs0", None)
    assert db._wire_uri("mongodb://h") == ("mongodb://h/", None)
    assert db.redact_uri("mongodb://admin:s3cret@db:27017/x") == "mongodb://admin:***@db:27017/x"
    assert db.redact_uri("mongodb://db:27017/") == "mongodb://db:27017/"


def test_the_store_in_use_is_named(app):
    text = db.describe()
    if db.is_embedded():
        assert "in-memory" in text and "NOT persisted" in text
    else:
        assert f"(database {db.database().name})" in text and db.database().name.endswith("_test")


def test_memory_store_is_one_setting_away():
    cfg = load_config("development", environ={"INSPECT_STORE": "memory"})
    assert cfg["store"] == "memory" and not cfg["mongodb_uri"]
    assert load_config("development", environ={})["store"] == "local"
    assert load_config("development", environ={"MONGODB_URI": "memory://"})["mongodb_uri"] == "memory://"


def test_unreachable_database_at_start_is_one_line_and_exit_1(tmp_path):
    """A server that does not answer: one line naming the URI without its password, exit 1, no traceback."""
    env = {"PATH": "/usr/bin:/bin", "INSPECT_ENV": "development", "INSPECT_MONGODB_TIMEOUT_MS": "300",
           "MONGODB_URI": "mongodb://admin:topsecret@127.0.0.1:9/?directConnection=true"}
    r = subprocess.run([sys.executable, "-m", "inspect_api", "verify-audit"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if "refusing to start" in line]
    assert len(lines) == 1, r.stderr
    assert "mongodb://admin:***@127.0.0.1:9/" in lines[0] and "topsecret" not in r.stderr + r.stdout


def test_concurrent_creation_of_the_same_user_and_institution_never_answers_500(app, make_user, as_user):
    """Losers of a unique-index race answer 409 in the error shape (or the domain's own 409), never 500."""
    office = make_user("office_admin", "370300", username="race_office")
    headers = as_user(office)
    code = generate(random.Random(5), "370302")
    barrier = threading.Barrier(8)

    def create(kind: str):
        client = app.test_client()
        barrier.wait()
        if kind == "user":
            return client.post("/api/v1/users", headers=headers, json={
                "username": "same_name", "password": "Secret123x", "role": "office_admin", "region": "370302"})
        return client.post("/api/v1/institutions", headers=headers, json={
            "name": "同名医养结合中心", "credit_code": code, "kind": "combined", "region": "370302"})

    for kind in ("user", "institution"):
        barrier.reset()
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(create, [kind] * 8))
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, (kind, statuses)
        for r in responses:
            if r.status_code == 409:
                assert_error(r, 409)


def test_counters_are_distinct_under_4_threads_x_300(app):
    """The in-process store's find_one_and_update is serialised; a server's is atomic anyway."""
    def take(_):
        return [db.next_in_sequence("test_counters", "k") for _ in range(300)]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for chunk in pool.map(take, range(4)) for n in chunk]
    assert len(numbers) == 1200 and len(set(numbers)) == 1200
    # Only the racing first upserts may skip a number (SecantusDB answers some of them with no document).
    assert max(numbers) <= 1200 + 3


def test_numbers_distinct_through_the_order_counter_under_threads(app):
    from inspect_api.rectification.service import _next_number

    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: _next_number("370302", 2027), range(200)))
    assert len(set(numbers)) == 200


def test_counters_skip_numbers_already_used_after_a_restore(app):
    """The counter lags the data (a restore): the next number skips the used ones."""
    from inspect_api.rectification.service import _next_number

    assert db.next_in_sequence("test_counters", "restored", taken=lambda n: n in (1, 2)) == 3
    first = _next_number("370302", 2027)
    assert first == "ZG-370302-2027-0001"
    db.database()["rectification_counters"].update_one({"_id": "370302-2027"}, {"$set": {"seq": 0}})
    from inspect_api.rectification.models import Order
    from inspect_api.clock import utcnow
    now = utcnow()
    for number in ("ZG-370302-2027-0001", "ZG-370302-2027-0002"):
        Order(number=number, inspection_id=number, institution_id="i", region="370302", lead_inspector_id="x",
              finding_count=1, concluded_at=now, issued_at=now).save()
    assert _next_number("370302", 2027) == "ZG-370302-2027-0003"


def test_audit_chain_with_10_concurrent_writers_verifies(app, make_user, as_user):
    """10 concurrent audited requests: no 500, and the chain verify-audit walks is intact."""
    office = make_user("office_admin", "370300", username="audit_office")
    headers = as_user(office)
    before = AuditEvent.objects.count()
    barrier = threading.Barrier(10)

    def create(i):
        client = app.test_client()
        barrier.wait()
        return [client.post("/api/v1/users", headers=headers, json={
            "username": f"writer{i}_{k}", "password": "Secret123x", "role": "office_admin",
            "region": "370302"}).status_code for k in range(3)]

    with ThreadPoolExecutor(10) as pool:
        statuses = [s for chunk in pool.map(create, range(10)) for s in chunk]
    assert statuses == [201] * 30
    report = audit.verify_chain()
    assert report.ok, report
    assert report.checked == before + 30
    assert AuditEvent.objects(action="audit.gap").count() == 0


def test_audit_counter_catches_up_with_restored_entries_and_fills_gaps(app, monkeypatch):
    for i in range(3):
        audit.record("test.event", data={"i": i})
    db.database()[audit.COUNTER_COLLECTION].delete_many({})  # the counter lost (restored without it)
    event = audit.record("test.after_restore")
    assert event.seq == 4 and audit.verify_chain().ok
    # A writer that took number 5 and died: the next writer fills 5 with a gap entry and links to it.
    assert db.next_in_sequence(audit.COUNTER_COLLECTION, audit.COUNTER_KEY) == 5
    monkeypatch.setattr(audit, "GAP_WAIT_S", 0.05)
    monkeypatch.setattr(audit, "_hash_of", lambda seq, wait_s=0.05, _orig=audit._hash_of: _orig(seq, wait_s=wait_s))
    after = audit.record("test.after_gap")
    assert after.seq == 6
    assert AuditEvent.objects.get(seq=5).action == "audit.gap"
    report = audit.verify_chain()
    assert report.ok and report.checked == 6


def test_startup_tasks_run_concurrently_on_an_empty_database(app):
    """Several workers (threads here; processes on the wire lane) starting together: no error, each
    shipped checklist and default matter stored once."""
    import importlib

    drop_test_database()
    cfg = app.config["INSPECT"]
    errors = []
    barrier = threading.Barrier(4)

    def start():
        try:
            barrier.wait()
            db.ensure_indexes()
            for task in STARTUP_TASKS:
                module_name, func_name = task.split(":")
                getattr(importlib.import_module(module_name), func_name)(cfg)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    codes = [(c.code, c.version) for c in ChecklistVersion.objects]
    assert codes and len(codes) == len(set(codes))
    matters = [m.code for m in Matter.objects]
    assert matters and len(matters) == len(set(matters))


def test_an_index_whose_options_changed_is_migrated_not_a_crashed_boot(app):
    """An older deployment left a non-unique index where the code now declares a unique one."""
    coll = Matter._get_collection()
    coll.drop_indexes()
    coll.create_index([("code", 1)], name="code_1")  # same keys, no unique option
    coll.create_index([("active", 1), ("code", 1)], name="active_1_code_1")
    migrated = db.ensure_document_indexes(Matter)
    assert migrated == ["code_1"]
    info = coll.index_information()
    assert info["code_1"].get("unique") is True
    assert db.ensure_document_indexes(Matter) == []  # now in line: nothing to do
    create_app("testing")  # a whole start over the migrated indexes


def test_demo_data_goes_only_into_an_empty_database(app_factory):
    from inspect_api.app import _database_is_empty

    first = app_factory(demo_data=True)
    assert first.extensions.get("inspect_demo_accounts")
    with first.app_context():
        assert not _database_is_empty()
    if not db.is_embedded():  # each in-process store starts empty; a server keeps the data
        again = create_app("testing", overrides={"demo_data": True})  # same database, now holding data
        assert not again.extensions.get("inspect_demo_accounts")
    drop_test_database()
    with first.app_context():
        assert _database_is_empty()


def test_links_use_the_request_host_when_no_public_base_url_is_set(app_factory):
    from inspect_api.urls import public_base_url

    app = app_factory(public_base_url="")
    with app.test_request_context("/", base_url="http://127.0.0.1:8080"):
        assert public_base_url() == "http://127.0.0.1:8080"


def test_a_notice_is_capped_far_below_the_16_mib_document_limit(app):
    """Notice items are frozen inside the notice document, and MongoDB refuses documents over 16 MiB:
    the number of cited findings is capped (explicit lists by the schema, pre-selection by the service)."""
    from inspect_api.errors import Unprocessable
    from inspect_api.publication import notices
    from inspect_api.publication.models import NoticeItem

    widest = NoticeItem(finding_id="f" * 24, order_id="o" * 24, order_number="ZG-370302-2027-0001",
                        institution_id="i" * 24, institution_name="名" * 128, institution_public_id="p" * 16,
                        region="370302", item_text="问" * 500, clause="条" * 100, severity="critical",
                        status="open")
    import bson

    item_bytes = len(bson.encode(widest.to_mongo().to_dict()))
    assert notices.MAX_NOTICE_FINDINGS * item_bytes < 16 * 1024 * 1024 // 2, item_bytes
    notices._check_notice_size(notices.MAX_NOTICE_FINDINGS)
    with pytest.raises(Unprocessable) as exc:
        notices._check_notice_size(notices.MAX_NOTICE_FINDINGS + 1)
    assert exc.value.code == "NOTICE_TOO_MANY_FINDINGS"


def test_lookups_by_id_answer_as_a_scan_does(app):
    """A filter on ``_id`` alone (served by key on the in-process store, by the primary key on a server)
    finds exactly the documents a scan finds, ``$in`` in ``_id`` order, unknown ids left out."""
    from bson import ObjectId

    coll = db.database()["pk_lookup_probe"]
    ids = [ObjectId() for _ in range(6)]
    coll.insert_many([{"_id": i, "n": n} for n, i in enumerate(ids)])
    coll.insert_one({"_id": "text-id", "n": 99})
    assert coll.find_one({"_id": ids[3]})["n"] == 3
    assert coll.find_one({"_id": ObjectId()}) is None
    wanted = [ids[4], ids[1], ObjectId(), ids[4]]
    assert [d["n"] for d in coll.find({"_id": {"$in": wanted}})] == [1, 4]
    assert [d["n"] for d in coll.find({"_id": {"$in": ["text-id", ids[0]]}}).sort("n", 1)] == [0, 99]
    assert [d["n"] for d in coll.find({"_id": {"$in": []}})] == []
    coll.delete_one({"_id": ids[1]})
    assert [d["n"] for d in coll.find({"_id": {"$in": ids[:3]}})] == [0, 2]
    assert coll.update_one({"_id": ids[2]}, {"$set": {"n": 20}}).modified_count == 1
    assert coll.find_one({"_id": ids[2]})["n"] == 20
