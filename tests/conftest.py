"""Shared fixtures: an app with an empty store per test (``tests/app_reuse.py``), login helpers,
and the two storage lanes.

Lanes (``INSPECT_TEST_STORE``; ``make test`` runs both):

- ``wire``: every test over the MongoDB wire protocol.  Without ``MONGODB_URI`` each
  test process (each xdist worker) starts its own SecantusDB daemon on a free port with
  throwaway storage and stops it at the end; with ``MONGODB_URI`` the tests use that
  server instead.  Either way each worker has its own database ``inspect_<worker>_test``
  and only databases whose name ends in ``_test`` are ever dropped.
- ``memory``: every test on mongomock inside the process (the default without
  ``MONGODB_URI``).

The same tests run in both lanes, except those listed in :data:`WIRE_ONLY` below, the one
place a lane skips anything: what only a server has, the Chromium journeys, and the files
that never touch a store (:data:`STORE_FREE`), which run once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings

# Shared, noisy machines: no per-example deadlines (speed is measured by bench/),
# and no example database left behind in the work tree.
settings.register_profile("project", deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")

LANES = ("wire", "memory")
# Test files that never touch a store (pure libraries and page assets): they are the same in both lanes,
# so they run once, in the wire lane.  Collection refuses one that asks for a store fixture.
STORE_FREE = (
    "tests/checklists/", "tests/draws/test_dr1_conformance.py", "tests/draws/test_dr1_properties.py",
    "tests/evidence/test_phash.py", "tests/evidence/test_pipeline.py", "tests/publication/test_datum.py",
    "tests/publication/test_redaction.py", "tests/rectification/test_ladder.py", "tests/test_layering.py",
    "tests/test_public_stylesheet.py", "tests/test_templates_csp.py", "tests/test_vocabulary.py",
    "tests/test_workdays.py", "tests/test_compression.py", "tests/storage/test_as_stored.py",
    "tests/rectification/test_finding_dump.py", "tests/test_notification_dump.py",
    "tests/test_inspect_flask.py", "tests/test_json_provider.py", "tests/publication/test_notice_dump.py",
    "tests/test_audit_dump.py", "tests/test_survey_response_dump.py", "tests/publication/test_queue_dump.py",
    "tests/ledgers/test_check_dump.py", "tests/test_survey_result_dump.py", "tests/publication/test_published_dump.py",
)
STORE_FIXTURES = {"app", "app_factory", "client", "make_user", "login", "as_user"}
# The only lane-specific skips: test files, folders (ending in /) or node ids that run in the wire lane
# only, with the reason.
WIRE_ONLY: dict[str, str] = {
    "tests/storage/test_wire_only.py": "explain(), transactions, command monitoring and server faults exist only "
                                        "on a server (mongomock has no query planner, no sessions, sends no commands)",
    "tests/browser/": "headless-Chromium journeys through the pages, which hold no rules: what they ask of the "
                      "store goes through the API, which every API test checks in both lanes; run once, over the "
                      "wire (Chromium is most of the suite's time)",
    **{path: "never touches a store (listed in STORE_FREE): the same in both lanes, run once" for path in STORE_FREE},
}
_LANE: dict[str, Any] = {"name": None, "server": None, "tmp": None}


def lane() -> str:
    """The storage lane of this test run: ``wire`` or ``memory``."""
    return _LANE["name"] or _choose_lane()


def _choose_lane() -> str:
    chosen = os.environ.get("INSPECT_TEST_STORE") or ("wire" if os.environ.get("MONGODB_URI") else "memory")
    if chosen not in LANES:
        raise pytest.UsageError(f"INSPECT_TEST_STORE must be one of {', '.join(LANES)}, got {chosen!r}")
    return chosen


def _xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config):
    """Pick the lane and point every ``load_config`` of this process at its store."""
    name = _choose_lane()
    _LANE["name"] = name
    os.environ["INSPECT_TEST_STORE"] = name
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    if name == "memory":
        os.environ.pop("MONGODB_URI", None)
        os.environ.pop("INSPECT_MONGODB_URI", None)
        os.environ["INSPECT_STORE"] = "memory"
        return
    os.environ["INSPECT_MONGODB_DB"] = f"inspect_{worker}_test"
    if os.environ.get("MONGODB_URI") or _xdist_controller(config):
        return  # a given server; or the xdist controller, which runs no test
    from inspect_api import localdb

    _LANE["tmp"] = tempfile.mkdtemp(prefix=f"secantus-{worker}-")
    server = localdb.spawn(os.path.join(_LANE["tmp"], "data"), sync_on_commit=False, detach=False,
                           log_file=None)
    _LANE["server"] = server
    os.environ["MONGODB_URI"] = server.uri


def pytest_unconfigure(config):
    server = _LANE.get("server")
    if server is not None:
        import signal

        try:
            os.kill(server.pid, signal.SIGTERM)
            os.waitpid(server.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        _LANE["server"] = None
    if _LANE.get("tmp"):
        shutil.rmtree(_LANE["tmp"], ignore_errors=True)


def pytest_report_header(config):
    return f"storage lane: {lane()} (INSPECT_TEST_STORE; make test runs wire and memory)"


def _listed(table, nodeid: str):
    """The entry of ``table`` naming this test, its file or a folder above it."""
    path = nodeid.split("::")[0]
    for key in table:
        if key == nodeid or key == path or (key.endswith("/") and path.startswith(key)):
            return table[key] if isinstance(table, dict) else key
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _listed(STORE_FREE, item.nodeid) and STORE_FIXTURES & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid} is listed in STORE_FREE but uses a store fixture "
                                    f"({', '.join(sorted(STORE_FIXTURES & set(item.fixturenames)))})")
    if lane() == "wire":
        return
    for item in items:
        reason = _listed(WIRE_ONLY, item.nodeid)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"wire lane only: {reason}"))


from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.clock import utcnow
from tests import app_reuse
from tests.openapi import contract
from tests.store import drop_test_database, reset_store  # noqa: F401 - shared with other fixtures

TEST_PASSWORD = "Passw0rd!23"


@pytest.fixture
def app_factory():
    """An app with extra config overrides and an empty store, made ready as at start-up
    (``tests/app_reuse.py``: built once per process and overrides, reset for each test)."""
    handed_out: set[str] = set()

    def build(**overrides: Any):
        return app_reuse.app_for(overrides, handed_out)

    build.fresh = lambda **overrides: app_reuse.app_for(overrides, handed_out, fresh=True)
    yield build
    app_reuse.release(handed_out)


@pytest.fixture(autouse=True)
def _responses_match_the_document():
    """Every response a test caused matched its operation's documented response (tests/openapi/contract.py)."""
    contract.take_violations()
    yield
    found = contract.take_violations()
    if found:
        pytest.fail("responses that do not match the OpenAPI document:\n" + "\n".join(dict.fromkeys(found)),
                    pytrace=False)


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    """Create a user directly in the store (password: TEST_PASSWORD)."""
    counter = {"n": 0}

    def make(role: str = "office_admin", region: str = "370300", username: str | None = None, **fields) -> User:
        counter["n"] += 1
        user = User(username=username or f"{role}{counter['n']}", password_hash=passwords.hash_password(TEST_PASSWORD),
                    role=role, region=region, display_name=username or role, created_at=utcnow(), **fields)
        user.save()
        return user

    return make


@pytest.fixture
def login(client) -> Callable[..., dict[str, str]]:
    """Log in and return Authorization headers."""

    def do(user_or_name, password: str = TEST_PASSWORD) -> dict[str, str]:
        username = user_or_name if isinstance(user_or_name, str) else user_or_name.username
        r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.get_json()
        return {"Authorization": "Bearer " + r.get_json()["access_token"]}

    return do


@pytest.fixture
def as_user(client) -> Callable[[User], dict[str, str]]:
    """Authorization headers for a user created with TEST_PASSWORD (one login per user)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(user: User) -> dict[str, str]:
        if user.username not in cache:
            r = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
            assert r.status_code == 200, r.get_json()
            cache[user.username] = {"Authorization": "Bearer " + r.get_json()["access_token"]}
        return cache[user.username]

    return headers


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Check the single error shape and return the error object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert isinstance(err["message"], str) and err["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err["message"]
    if code is not None:
        assert err["code"] == code, err
    return err
