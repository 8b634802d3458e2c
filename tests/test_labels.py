"""The label tables front ends read instead of holding their own vocabulary."""

from __future__ import annotations

from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.directory.schemas import LicenceSchema
from inspect_api.draws.models import DRAW_STATES, PLAN_STATES, STRATIFICATIONS
from inspect_api.inspections.models import ASSIGNMENT_STATUSES, INSPECTION_STATES
from inspect_api.auth.models import ROLES
from inspect_api.rectification.models import FINDING_STATUSES, REVIEW_QUEUE_NAMES
from inspect_api.rectification.views import REVIEW_QUEUES
from tests.conftest import assert_error


def _codes(table):
    return [row["code"] for row in table]


def test_every_code_of_every_enumeration_has_a_chinese_name(client, make_user, login):
    assert_error(client.get("/api/v1/labels"), 401)
    body = client.get("/api/v1/labels", headers=login(make_user("institution", "370302"))).get_json()
    assert _codes(body["institution_kinds"]) == list(INSTITUTION_KINDS)
    assert _codes(body["finding_statuses"]) == list(FINDING_STATUSES)
    for name, codes in (("roles", ROLES), ("plan_states", PLAN_STATES), ("draw_states", DRAW_STATES),
                        ("stratifications", STRATIFICATIONS), ("assignment_statuses", ASSIGNMENT_STATUSES),
                        ("inspection_states", INSPECTION_STATES), ("review_queues", REVIEW_QUEUE_NAMES)):
        assert sorted(_codes(body[name])) == sorted(codes), name
    assert set(REVIEW_QUEUES) == set(REVIEW_QUEUE_NAMES)
    licence_kinds = LicenceSchema().fields["kind"].validators[0].choices
    assert sorted(_codes(body["licence_kinds"])) == sorted(licence_kinds)
    for name, table in body.items():
        for row in table:
            assert row["label"] and any("\u4e00" <= ch <= "\u9fff" for ch in row["label"]), (name, row)
