"""Surveys under test: institutions of two kinds, anonymous devices (one test client each) and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from tests.draws import plan_fixtures as fx
from tests.rectification.timing import Clock

INSTITUTIONAL = ("care", "medical", "meals", "environment", "respect", "overall")


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    c.set(datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc))
    for target in ("inspect_api.surveys.web.utcnow", "inspect_api.surveys.routes.utcnow",
                   "inspect_api.surveys.pages.utcnow"):
        monkeypatch.setattr(target, c)
    return c


@dataclass
class Phone:
    """One anonymous device: its own cookie jar and address."""

    client: object
    address: str

    def form(self, public_id: str):
        return self.client.get(f"/api/v1/public/surveys/{public_id}", environ_base={"REMOTE_ADDR": self.address})

    def answer(self, public_id: str, scores: dict | int = 4, comment=None, token: str | None = None, headers=None):
        if token is None:
            r = self.form(public_id)
            assert r.status_code == 200, r.get_json()
            token = r.get_json()["token"]
        answers = {q: scores for q in INSTITUTIONAL} if isinstance(scores, int) else scores
        return self.client.post(f"/api/v1/public/surveys/{public_id}/answers", headers=headers or {},
                                json={"answers": answers, "comment": comment, "token": token},
                                environ_base={"REMOTE_ADDR": self.address})


@pytest.fixture
def phones(app):
    counter = {"n": 0}

    def make(address: str | None = None) -> Phone:
        counter["n"] += 1
        return Phone(client=app.test_client(), address=address or f"10.1.{counter['n'] // 250}.{counter['n'] % 250 + 1}")

    return make


@pytest.fixture
def homes(app, clock):
    """Two institutional homes in 370302, a community station, a closed home."""
    return {"a": fx.institution("370302", name="康宁医养中心"), "b": fx.institution("370302", kind="care_home_clinic"),
            "station": fx.institution("370303", kind="community_station"),
            "closed": fx.institution("370302", status="closed", name="已关闭养老院")}
