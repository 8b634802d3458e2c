"""Test-store helpers shared by fixtures: start from an empty database, never drop a foreign one."""

from __future__ import annotations

from typing import Any

from inspect_api import db
from inspect_api.config import load_config


def _refuse_foreign(name: str, verb: str) -> None:
    if not name.endswith("_test"):
        raise RuntimeError(f"refusing to {verb} database {name!r}: test runs {verb} only databases named *_test")


def drop_test_database(name: str | None = None) -> None:
    """Drop this run's database; refuses any database whose name does not end in ``_test``."""
    name = name or db.database().name
    _refuse_foreign(name, "drop")
    db.database().client.drop_database(name)


def empty_test_database() -> None:
    """Start this run's database empty.  On a server its collections are emptied and their indexes
    kept (the app's start-up then finds them made: recreating ~35 collections' indexes per test was
    a fifth of a wire-lane test's set-up); on mongomock it is dropped.  Refuses a foreign database."""
    database = db.database()
    _refuse_foreign(database.name, "empty")
    if db.is_embedded():
        database.client.drop_database(database.name)
        return
    for name in database.list_collection_names():
        if not name.startswith("system."):
            database[name].delete_many({})


def reset_store(overrides: dict[str, Any] | None = None) -> None:
    """Connect to this lane's store and start from an empty test database."""
    db.connect(load_config("testing", overrides or {}))
    empty_test_database()
