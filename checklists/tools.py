"""Helpers around checklist documents: hashing, diffing, compacting, shipping.

- :func:`content_hash` identifies a checklist version by content: the SHA-256
  of its canonical JSON (``sort_keys=True, ensure_ascii=False,
  separators=(",", ":")``, UTF-8) — the same canonical form the draw records
  use (DESIGN §5). Formatting, comments and key order of the YAML file do not
  change it; any change of content does.
- :func:`diff` compares two versions item by item.
- :func:`compact` is the form sent to phones.
- :func:`shipped_checklists` lists the YAML files packaged in ``checklists/data``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

DATA_DIR = Path(__file__).resolve().parent / "data"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(checklist: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of the checklist's canonical JSON."""
    return hashlib.sha256(canonical_json(checklist).encode("utf-8")).hexdigest()


def _items(checklist: Mapping[str, Any]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for section in checklist.get("sections", ()):
        for item in section.get("items", ()):
            out[item["id"]] = (section.get("id"), item)
    return out


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Compare two checklist versions by item id.

    Returns ``{"added": [ids], "removed": [ids], "changed": [{"id", "fields"}]}``:
    ``added`` in the new version's order, ``removed`` and ``changed`` in the
    old version's order. ``fields`` lists, sorted, the item keys whose value
    differs (a key present on one side only counts), plus the pseudo-field
    ``"section"`` when the item moved to another section.
    Checklist-level changes (bands, deadlines, titles) are not reported here;
    compare :func:`content_hash` for "anything changed at all".
    """
    old_items, new_items = _items(old), _items(new)
    added = [i for i in new_items if i not in old_items]
    removed = [i for i in old_items if i not in new_items]
    changed = []
    for item_id, (old_section, old_item) in old_items.items():
        if item_id not in new_items:
            continue
        new_section, new_item = new_items[item_id]
        fields = sorted(
            key for key in set(old_item) | set(new_item)
            if canonical_json(old_item.get(key)) != canonical_json(new_item.get(key))
            or (key in old_item) != (key in new_item)
        )
        if old_section != new_section:
            fields.append("section")
            fields.sort()
        if fields:
            changed.append({"id": item_id, "fields": fields})
    return {"added": added, "removed": removed, "changed": changed}


def compact(checklist: Mapping[str, Any]) -> dict[str, Any]:
    """Compact, JSON-ready form of a checklist for phones.

    The checklist itself with the long provenance ``notes`` removed (only
    ``derived_from`` and ``official_text_checked`` are kept), optional item
    fields left out when they hold their default (``veto: false``,
    ``na_allowed: false``, no ``kinds``), and ``content_hash`` of the *full*
    checklist added so a phone can tell the exact version it scored against.
    The phone must treat missing ``veto``/``na_allowed`` as ``false`` and a
    missing ``kinds`` as "applies to every kind of the checklist".
    """
    out = copy.deepcopy(dict(checklist))
    provenance = out.get("provenance")
    if isinstance(provenance, dict):
        out["provenance"] = {
            k: provenance[k] for k in ("derived_from", "official_text_checked") if k in provenance
        }
    for section in out.get("sections", ()):
        for item in section.get("items", ()):
            for key in ("veto", "na_allowed"):
                if item.get(key) is False:
                    del item[key]
            if "kinds" in item and not item["kinds"]:
                del item["kinds"]
    out["content_hash"] = content_hash(checklist)
    return out


def shipped_checklists() -> list[Path]:
    """Paths of the checklist YAML files shipped in ``checklists/data``, sorted."""
    try:
        root = Path(str(resources.files("checklists") / "data"))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - unusual installs
        root = DATA_DIR
    return sorted(p for p in root.glob("*.yaml") if p.is_file())
