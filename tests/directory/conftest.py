"""Directory test helpers: a valid credit code factory and an office with headers."""

from __future__ import annotations

import random

import pytest

from inspect_api.directory.creditcode import generate


@pytest.fixture
def codes():
    rng = random.Random(42)

    def make(region: str = "370302") -> str:
        return generate(rng, region)

    return make


@pytest.fixture
def office(make_user, login):
    user = make_user("office_admin", "370300", username="city_office")
    return user, login(user)


@pytest.fixture
def county_office(make_user, login):
    user = make_user("office_admin", "370302", username="zichuan_office")
    return user, login(user)


@pytest.fixture
def new_institution(client, office, codes):
    def create(**fields):
        body = {"name": "淄川区测试医养结合中心", "credit_code": codes(fields.get("region", "370302")),
                "kind": "combined", "region": "370302"} | fields
        r = client.post("/api/v1/institutions", json=body, headers=office[1])
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return create
