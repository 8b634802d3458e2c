"""Directory entries as the office console lists them: conflicts of interest with the names they join."""

from __future__ import annotations

from typing import Iterable

from bson import ObjectId

from inspect_api.directory.models import Conflict, Inspector
from inspect_api.directory.institutions import institution_names


def conflict_views(conflicts: Iterable[Conflict]) -> list[Conflict]:
    """Conflicts with ``inspector_name`` and ``institution_name``: the names stored with each (kept current on
    a rename), looked up (one query each for the lot) only for a conflict recorded before names were stored.

    Names looked up are set on the loaded documents for the output schema; nothing is saved."""
    conflicts = list(conflicts)
    inspector_ids = [ObjectId(c.inspector_id) for c in conflicts
                     if not c.inspector_name and ObjectId.is_valid(c.inspector_id)]
    inspectors = {str(i.id): i.name for i in Inspector.objects(id__in=inspector_ids).only("id", "name")} \
        if inspector_ids else {}
    missing = [c.institution_id for c in conflicts if not c.institution_name]
    institutions = institution_names(missing) if missing else {}
    for conflict in conflicts:
        if not conflict.inspector_name:
            conflict.inspector_name = inspectors.get(conflict.inspector_id)
        if not conflict.institution_name:
            conflict.institution_name = institutions.get(conflict.institution_id)
    return conflicts


def conflict_view(conflict: Conflict) -> Conflict:
    return conflict_views([conflict])[0]
