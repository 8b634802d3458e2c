"""Layering: no two areas' services import each other (they meet through registered hooks).

Each pair below is checked both ways by parsing the modules with ``ast``: a
service-level module of one area (every module of its package except the
wiring layer: ``routes``, ``pages`` and the demo seeder) may use the other
area's ``models`` and ``schemas`` but none of its other modules.  Imports
inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inspect_api

PACKAGE_ROOT = Path(inspect_api.__file__).parent
WIRING = {"routes", "pages", "demo"}
SHARED = {"models", "schemas"}
PAIRS = [("inspections", "rectification")]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every name ``path`` imports, dotted in full (``from a import b`` yields ``a.b``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return out


def _service_modules(area: str) -> list[Path]:
    return sorted(p for p in (PACKAGE_ROOT / area).glob("*.py") if p.stem not in WIRING)


def _forbidden(name: str, other: str) -> bool:
    """Does the dotted ``name`` reach into ``other``'s services (anything but its models and schemas)?"""
    prefix = f"inspect_api.{other}"
    if name != prefix and not name.startswith(prefix + "."):
        return False
    rest = name[len(prefix) + 1:].split(".")
    return not (rest and rest[0] in SHARED)


def _violations(area: str, other: str) -> list[str]:
    found = []
    for path in _service_modules(area):
        for lineno, name in _imported_modules(path):
            if _forbidden(name, other):
                found.append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{lineno} imports {name}")
    return found


@pytest.mark.parametrize("area,other", [p for pair in PAIRS for p in (pair, pair[::-1])],
                         ids=lambda value: value)
def test_services_do_not_import_each_other(area, other):
    assert _service_modules(area), f"no modules found for {area}"
    assert _violations(area, other) == []


def _areas() -> list[str]:
    return sorted(p.name for p in PACKAGE_ROOT.iterdir() if (p / "__init__.py").is_file())


def test_no_two_areas_reach_into_each_others_services():
    """Dependencies point one way: for any two areas, at most one uses the other's services (a library
    both need lives at the top of the package, like ``inspect_api.redaction``)."""
    areas = _areas()
    assert {"inspections", "rectification", "publication", "surveys"} <= set(areas)
    both_ways = []
    for i, area in enumerate(areas):
        for other in areas[i + 1:]:
            there, back = _violations(area, other), _violations(other, area)
            if there and back:
                both_ways.append(f"{area} <-> {other}: {there[0]}; {back[0]}")
    assert both_ways == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from inspect_api.rectification import service as r\n"
                      "from inspect_api.rectification.models import Order\n"
                      "from inspect_api.rectification import schemas\n"
                      "from inspect_api import rectification\n", encoding="utf-8")
    names = _imported_modules(sample)
    assert sorted(n for _l, n in names if _forbidden(n, "rectification")) == [
        "inspect_api.rectification", "inspect_api.rectification.service"]
    assert not _forbidden("inspect_api.rectification.models.Order", "rectification")
    assert not _forbidden("inspect_api.rectificationx", "rectification")
