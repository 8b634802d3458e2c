"""Fixtures shared by the rectification tests: the notify world and an injected API clock."""

from __future__ import annotations

import pytest

from tests.notify.world import build
from tests.rectification.timing import Clock


@pytest.fixture
def world(app, make_user):
    return build(make_user)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr("inspect_api.rectification.routes.utcnow", c)
    return c
