from __future__ import annotations

import pytest

from tests.publication.world import build_world


@pytest.fixture
def world(app):
    return build_world()
