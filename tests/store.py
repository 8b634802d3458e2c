"""Test-store helpers shared by fixtures: start from an empty database, never drop a foreign one."""

from __future__ import annotations

from typing import Any

from inspect_api import db
from inspect_api.config import load_config


def drop_test_database(name: str | None = None) -> None:
    """Drop this run's database; refuses any database whose name does not end in ``_test``."""
    name = name or db.database().name
    if not name.endswith("_test"):
        raise RuntimeError(f"refusing to drop database {name!r}: test runs drop only databases named *_test")
    db.database().client.drop_database(name)


def reset_store(overrides: dict[str, Any] | None = None) -> None:
    """Connect to this lane's store and start from an empty test database."""
    db.connect(load_config("testing", overrides or {}))
    drop_test_database()
