"""A drawn desk-review plan over the draw tests' directory world, with accounts for every role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pytest

from inspect_api.ledgers.models import LedgerCheck
from inspect_api.workdays import SHANGHAI
from tests.draws import plan_fixtures as fx
from tests.rectification.timing import Clock

DRAWN_ON = date(2026, 11, 20)  # a Friday; 10 working days later is Friday 2026-12-04


def at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


@dataclass
class Desk:
    client: object
    clock: Clock
    office: dict
    plan: dict
    draw: dict
    checks: list
    users: dict = field(default_factory=dict)  # institution id / inspector id -> headers
    world: dict = field(default_factory=dict)

    def institution(self, check) -> dict:
        return self.users[check.institution_id]

    def reviewer(self, check, position: int = 0) -> dict:
        return self.users[check.team[position]]

    def outsider(self, check) -> dict:
        other = next(i for i in self.world["inspectors"] if str(i.id) not in check.team)
        return self.users[str(other.id)]

    def upload(self, check, item_id: str, data: bytes, name: str, headers: dict | None = None, client_id=None):
        return self.client.post(f"/api/v1/ledger-checks/{check.id}/items/{item_id}/files",
                                data={"client_id": client_id or str(uuid.uuid4()), "file": (_io(data), name)},
                                content_type="multipart/form-data", headers=headers or self.institution(check))

    def score(self, check, item_id: str, result: str = "pass", deductions=(), base: int = 0, position: int = 0,
              note: str | None = None):
        return self.client.put(f"/api/v1/ledger-checks/{check.id}/items/{item_id}/score",
                               json={"result": result, "deductions": list(deductions), "base_revision": base,
                                     "note": note}, headers=self.reviewer(check, position))


def _io(data: bytes):
    import io

    return io.BytesIO(data)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    c.set(at(DRAWN_ON))
    for target in ("inspect_api.draws.routes.utcnow", "inspect_api.ledgers.routes.utcnow",
                   "inspect_api.rectification.routes.utcnow"):
        monkeypatch.setattr(target, c)
    return c


@pytest.fixture
def desk(app, client, make_user, login, clock) -> Desk:
    world = fx.world()
    office = login(make_user("office_admin", "370300", username="city_office"))
    users = {}
    for inst in world["institutions"]:
        users[str(inst.id)] = login(make_user("institution", inst.region, institution_id=str(inst.id)))
    for person in world["inspectors"]:
        users[str(person.id)] = login(make_user("inspector", person.region, inspector_id=str(person.id)))
    body = fx.plan_body(name="2026 年下半年台账资料抽查", kind="desk_review", matters=["YY-06"], ratio=None, count=3,
                        stratification="none", required_departments=[])
    body.pop("checklist_code", None)
    r = client.post("/api/v1/plans", json=body, headers=office)
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert r.status_code == 201 and plan["kind"] == "desk_review" and plan["checklist_code"] == "DB37T4086-2020-TZ"
    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": fx.ENTROPY}, headers=office)
    assert r.status_code == 200, r.get_json()
    draw = r.get_json()
    checks = list(LedgerCheck.objects(draw_id=draw["id"]).order_by("created_at", "id"))
    return Desk(client=client, clock=clock, office=office, plan=plan, draw=draw, checks=checks, users=users,
                world=world)
