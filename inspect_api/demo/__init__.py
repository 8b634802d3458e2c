"""Demo data for the embedded store (``make run``); never loaded in production.

Each domain area contributes a ``seed(ctx)`` function, run in the order of
``SEEDERS``; they share objects through ``ctx.data`` and list the accounts
they create in ``ctx.accounts`` so that ``make run`` can print them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inspect_api.clock import utcnow

DEMO_PASSWORD = "demo12345"

SEEDERS = [
    "inspect_api.auth.demo",
    "inspect_api.directory.demo",
    "inspect_api.draws.demo",
    "inspect_api.inspections.demo",
    "inspect_api.rectification.demo",
    "inspect_api.publication.demo",
    "inspect_api.ledgers.demo",
    "inspect_api.surveys.demo",
]


@dataclass
class DemoContext:
    now: datetime
    accounts: list[dict[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def account(self, username: str, role: str, description: str) -> None:
        self.accounts.append({"username": username, "password": DEMO_PASSWORD, "role": role,
                              "description": description})


def load_demo(now: datetime | None = None) -> list[dict[str, str]]:
    """Seed every area's demo data; return the demo accounts."""
    ctx = DemoContext(now=now or utcnow())
    for module_name in SEEDERS:
        importlib.import_module(module_name).seed(ctx)
    return ctx.accounts
