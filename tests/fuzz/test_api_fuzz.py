"""Fuzz every documented operation with schemathesis, as each role.

Every operation of the OpenAPI document is generated (a few derandomized
cases each, so the whole run stays within a few minutes) and each case is
sent as the four roles: anonymous, a city office, the demo lead inspector and
an institution account.  Path parameters are often replaced by ids of real
demo objects, so that responses about real objects (reports, draws, orders,
published results) are checked too, not only 404s.  The checks: no 5xx, and
every response matches its documented schema and content type.  Runs on the
demo data set.
"""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from inspect_api.app import create_app
from tests.openapi import contract
from tests.store import reset_store

OVERRIDES = {"demo_data": True, "public_rate_limit": "1000000 per minute", "login_max_failures": 1000000,
             "login_address_max_failures": 1000000,
             "scheduler_in_process": False}
ROLES = {"anonymous": None, "office": "office", "inspector": "insp01", "institution": "inst01"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 3

# The schema is read from an app built at import; requests go to it.  The
# store it reads is (re)seeded with demo data by the module fixture below,
# because other test modules in the same worker reset the store per test.
_APP = contract.install(create_app("testing", overrides=dict(OVERRIDES, demo_data=False)))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _APP)

# Ids of real demo objects by path parameter name, filled by the ``demo_app`` fixture.
REAL_IDS: dict[str, list[str]] = {}


def _real_ids() -> dict[str, list[str]]:
    from inspect_api.auth.models import User
    from inspect_api.directory.models import Conflict, Inspector, Institution
    from inspect_api.draws.models import Draw, Plan
    from inspect_api.evidence.models import Evidence
    from inspect_api.inspections.models import Assignment
    from inspect_api.notify.models import Notification
    from inspect_api.publication.models import Notice, PublishedResult
    from inspect_api.rectification.models import Finding, Order

    def ids(model, attribute="id"):
        return [str(getattr(doc, attribute)) for doc in model.objects.only(attribute).limit(50)]

    assignments = ids(Assignment)
    return {"assignment_id": assignments, "inspection_id": assignments, "institution_id": ids(Institution),
            "public_id": ids(Institution, "public_id"), "inspector_id": ids(Inspector), "conflict_id": ids(Conflict),
            "user_id": ids(User), "plan_id": ids(Plan), "draw_id": ids(Draw), "order_id": ids(Order),
            "finding_id": ids(Finding), "notice_id": ids(Notice), "result_id": ids(PublishedResult),
            "evidence_id": ids(Evidence), "photo_id": ids(Evidence), "notification_id": ids(Notification),
            "code": ["DB37T4086-2020", "DB37T4087-2020", "YY-01", "YY-03"], "variant": ["thumb", "display", "original"]}


@schema.hook("map_path_parameters")
def _real_objects(_context, path_parameters):
    """Three times in four, a path parameter names a real demo object (chosen from the generated value)."""
    if not path_parameters:
        return path_parameters
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        choices = REAL_IDS.get(name)
        if not choices:
            continue
        pick = int(hashlib.sha256(repr(value).encode()).hexdigest(), 16)
        if pick % 4:
            mapped[name] = choices[(pick // 4) % len(choices)]
    return mapped


@pytest.fixture(scope="module")
def demo_app():
    reset_store(OVERRIDES)
    seeded = create_app("testing", overrides=OVERRIDES)
    with seeded.app_context():
        if not seeded.extensions.get("inspect_demo_accounts"):  # a real MongoDB: seed explicitly
            from inspect_api.demo import load_demo
            load_demo()
        REAL_IDS.update(_real_ids())
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


def test_every_documented_operation_is_fuzzed():
    """Schemathesis can build cases for every operation of the document (none is skipped as unusable)."""
    spec = _APP.test_client().get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == documented


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case, role_headers, demo_app):
    with demo_app.app_context():
        for headers in role_headers.values():
            # Schemathesis asks for gzip (requests' default headers) but does not decode a WSGI response: the
            # bundle and the checklist answer gzip-coded to a client that takes it (tested in their own files).
            case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"}, checks=CHECKS)
