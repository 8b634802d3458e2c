"""PATCH of a plan validates nested entries whole, exactly as POST does (issue #13 item 8)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error
from tests.draws import plan_fixtures as fx


@pytest.mark.parametrize("body", [
    {"mandatory": [{"institution_id": "x"}]},                    # reason missing
    {"mandatory": [{"reason": "投诉较多"}]},                     # institution missing
    {"mandatory": [{"institution_id": "x", "reason": "投诉", "extra": 1}]},
])
def test_patch_with_an_incomplete_mandatory_entry_is_a_422_like_post(client, office, w, body):
    plan = fx.create_plan(client, office)
    post = assert_error(client.post("/api/v1/plans", json=fx.plan_body(**body), headers=office), 422)
    patch = assert_error(client.patch(f"/api/v1/plans/{plan['id']}", json=body, headers=office), 422)
    assert "mandatory" in patch["details"]["fields"]["json"]
    assert post["details"]["fields"]["json"]["mandatory"] == patch["details"]["fields"]["json"]["mandatory"]
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=office).get_json()["mandatory"] == []


def test_patch_keeps_top_level_fields_optional_and_applies_a_complete_entry(client, office, w):
    plan = fx.create_plan(client, office)
    target = str(w["institutions"][5].id)
    r = client.patch(f"/api/v1/plans/{plan['id']}", json={"mandatory": [{"institution_id": target, "reason": "投诉较多"}]},
                     headers=office)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["mandatory"] == [{"institution_id": target, "reason": "投诉较多"}]
    assert r.get_json()["name"] == plan["name"]  # untouched


def test_patch_with_an_incomplete_filters_object_keeps_its_defaults(client, office, w):
    plan = fx.create_plan(client, office)
    r = client.patch(f"/api/v1/plans/{plan['id']}", json={"filters": {"kinds": ["combined"]}}, headers=office)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["filters"]["statuses"] == ["active"]  # load_default applied inside the object
