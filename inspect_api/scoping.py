"""Region scoping by administrative division code prefix (行政区划代码).

Six-digit codes: 370000 is a province, 370300 a city, 370302 a county.  A
region's subtree is every code starting with its prefix (trailing ``00`` pairs
removed), so an office of 370300 sees 370302 but not 370402.
"""

from __future__ import annotations

import re

REGION_RE = re.compile(r"^[1-9][0-9]{5}$")


def is_region_code(code: object) -> bool:
    """True when ``code`` is a syntactically valid six-digit division code."""
    return isinstance(code, str) and bool(REGION_RE.match(code))


def region_prefix(code: str) -> str:
    """Prefix shared by every code inside ``code``'s subtree."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_level(code: str) -> str:
    """'province', 'city' or 'county'."""
    return {2: "province", 4: "city", 6: "county"}[len(region_prefix(code))]


def parent_region(code: str) -> str | None:
    """The enclosing city or province code, or None for a province."""
    prefix = region_prefix(code)
    if len(prefix) == 6:
        return prefix[:4] + "00"
    if len(prefix) == 4:
        return prefix[:2] + "0000"
    return None


def in_scope(scope_code: str, code: str | None) -> bool:
    """True when region ``code`` lies inside the subtree of ``scope_code``."""
    return bool(code) and code.startswith(region_prefix(scope_code))


def prefix_range(prefix: str) -> dict[str, str]:
    """``{"$gte", "$lt"}`` bounds matching every string that starts with ``prefix`` (index-served)."""
    return {"$gte": prefix, "$lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)}


def region_range(scope_code: str) -> dict[str, str]:
    """Range query on a region field for ``scope_code``'s subtree: a server serves it from an index."""
    return prefix_range(region_prefix(scope_code))

