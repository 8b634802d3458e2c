"""Shared fixtures: a fresh app and store per test, and login helpers.

With ``MONGODB_URI`` set the same tests run against that server; each test
drops its database first.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings

# Shared, noisy machines: no per-example deadlines (speed is measured by bench/),
# and no example database left behind in the work tree.
settings.register_profile("project", deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")

from inspect_api.app import create_app
from inspect_api.config import load_config
from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.clock import utcnow
from inspect_api import db
from inspect_api.extensions import limiter
from tests.openapi import contract

TEST_PASSWORD = "Passw0rd!23"


@pytest.fixture
def app_factory():
    """Build an app with extra config overrides (fresh store each call)."""

    def build(**overrides: Any):
        # mongomock clients share one in-process store, and a real server keeps
        # data between runs: start every test from an empty database, then let
        # the app create indexes and its reference data as it does in production.
        db.connect(load_config("testing", overrides))
        db.database().client.drop_database(db.database().name)
        app = contract.install(create_app("testing", overrides=overrides))
        with app.app_context():
            limiter.reset()  # counters shared in MongoDB outlive an app; each test starts afresh
        return app

    return build


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
