"""Directory entries as the office console lists them: conflicts of interest with the names they join."""

from __future__ import annotations

from typing import Iterable

from bson import ObjectId

from inspect_api.directory.models import Conflict, Inspector
from inspect_api.directory.institutions import institution_names


def conflict_views(conflicts: Iterable[Conflict]) -> list[Conflict]:
    """Conflicts annotated with ``inspector_name`` and ``institution_name`` (two queries for the lot).

    The names are plain attributes on the loaded documents, for the output schema; nothing is saved."""
    conflicts = list(conflicts)
    inspector_ids = [ObjectId(c.inspector_id) for c in conflicts if ObjectId.is_valid(c.inspector_id)]
    inspectors = {str(i.id): i.name for i in Inspector.objects(id__in=inspector_ids).only("id", "name")} \
        if inspector_ids else {}
    institutions = institution_names(c.institution_id for c in conflicts)
    for conflict in conflicts:
        conflict.inspector_name = inspectors.get(conflict.inspector_id)
        conflict.institution_name = institutions.get(conflict.institution_id)
    return conflicts


def conflict_view(conflict: Conflict) -> Conflict:
    return conflict_views([conflict])[0]
