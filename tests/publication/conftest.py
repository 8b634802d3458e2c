from __future__ import annotations

import pytest

from tests.publication.world import PASSWORD, build_world


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def as_user(client):
    cache = {}

    def headers(user):
        if user.username not in cache:
            r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
            assert r.status_code == 200, r.get_json()
            cache[user.username] = {"Authorization": "Bearer " + r.get_json()["access_token"]}
        return cache[user.username]

    return headers
