"""Fuzz every documented operation with schemathesis, as each role.

Bounded budget (a few examples per operation); the checks are: no 5xx, every
response matches its documented schema and content type.  Runs on the demo
data set so that generated ids sometimes hit real objects.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from inspect_api import db
from inspect_api.app import create_app
from inspect_api.config import load_config

OVERRIDES = {"demo_data": True, "public_rate_limit": "1000000 per minute", "login_max_failures": 1000000,
             "login_address_max_failures": 1000000,
             "scheduler_in_process": False}
ROLES = {"anonymous": None, "office": "office", "inspector": "insp01", "institution": "inst01"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


# The schema is read from an app built at import; requests go to it.  The
# store it reads is (re)seeded with demo data by the module fixture below,
# because other test modules in the same worker reset the store per test.
_APP = create_app("testing", overrides=dict(OVERRIDES, demo_data=False))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _APP)


@pytest.fixture(scope="module")
def demo_app():
    db.connect(load_config("testing", OVERRIDES))
    db.database().client.drop_database(db.database().name)
    seeded = create_app("testing", overrides=OVERRIDES)
    if not seeded.extensions.get("inspect_demo_accounts"):  # a real MongoDB: seed explicitly
        from inspect_api.demo import load_demo
        with seeded.app_context():
            load_demo()
    return _APP


@pytest.fixture(scope="module")
def role_headers(demo_app):
    client = demo_app.test_client()
    headers = {}
    for role, username in ROLES.items():
        if username is None:
            headers[role] = {}
            continue
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "demo12345"})
        assert r.status_code == 200, r.get_json()
        headers[role] = {"Authorization": "Bearer " + r.get_json()["access_token"]}
    return headers


@schema.parametrize()
@settings(max_examples=3, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case, role_headers, demo_app):
    with demo_app.app_context():
        for headers in role_headers.values():
            case.call_and_validate(headers=headers, checks=CHECKS)
