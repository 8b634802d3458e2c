"""Administrative divisions (行政区划): the built-in list, loaded once, and lookups by code.

Accounts are bound to regions that exist: :func:`region_exists` is registered
with auth when this module is imported.
"""

from __future__ import annotations

from typing import Any

from inspect_api import db
from inspect_api.auth.service import register_region_lookup
from inspect_api.directory.models import Region
from inspect_api.directory.regions_data import all_regions
from inspect_api.scoping import is_region_code, prefix_range, region_prefix


def ensure_regions(_config: dict | None = None) -> int:
    """Load the built-in division list (idempotent upserts; a start-up task); return how many rows were written."""
    existing = {r["code"]: r for r in Region.objects.as_pymongo()}
    ops = []
    for row in all_regions():
        have = existing.get(row["code"])
        if have and have.get("name") == row["name"] and have.get("parent") == row["parent"] \
                and have.get("level") == row["level"]:
            continue
        ops.append(({"code": row["code"]}, {"$set": {"name": row["name"], "parent": row["parent"],
                                                     "level": row["level"]}}))
    if ops:
        db.upsert_many(Region._get_collection(), ops)
    return len(ops)


def _regions_ready() -> None:
    # The store may have been emptied after start (tests drop the database): reload lazily.
    if Region._get_collection().find_one({}, {"_id": 1}) is None:  # no queryset: every region list asks
        ensure_regions()


def region_exists(code: str) -> bool:
    if not is_region_code(code):
        return False
    _regions_ready()
    return Region.objects(code=code).only("code").first() is not None


def known_region_codes() -> set[str]:
    _regions_ready()
    return set(Region.objects.scalar("code"))


def list_regions(*, parent: str | None = None, within: str | None = None) -> list[Any]:
    """Regions ordered by code, optionally the children of ``parent`` or the subtree of ``within``."""
    _regions_ready()
    query = Region.objects
    if parent:
        query = query.filter(parent=parent)
    if within:
        query = query.filter(__raw__={"code": prefix_range(region_prefix(within) if is_region_code(within) else within)})
    return [db.as_stored(Region, row) for row in query.order_by("code").as_pymongo()]  # read as stored


_REGION_NAMES: dict[str, str] = {}


def region_names() -> dict[str, str]:
    """Code → name of every division.  Divisions are the built-in list (``ensure_regions`` writes
    nothing else), so each process reads them once instead of on every request."""
    if not _REGION_NAMES:
        _regions_ready()
        _REGION_NAMES.update({r["code"]: r["name"] for r in Region.objects.only("code", "name").as_pymongo()})
    return dict(_REGION_NAMES)


register_region_lookup(region_exists)  # accounts are bound to regions that exist
