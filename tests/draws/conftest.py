"""Fixtures shared by the draw tests: the directory world and a logged-in city office."""

from __future__ import annotations

import pytest

from tests.draws import plan_fixtures as fx


@pytest.fixture
def w(app):
    return fx.world()


@pytest.fixture
def office(make_user, login):
    return login(make_user("office_admin", "370300", username="city_office"))
