"""Directory entries as the office console lists them: institutions, and conflicts of interest with the names
they join."""

from __future__ import annotations

from typing import Any, Iterable

from bson import ObjectId

from inspect_api.directory.institutions import institution_names, point_latlon
from inspect_api.directory.models import INSTITUTION_KINDS, Conflict, Inspector
from inspect_api.urls import public_base_url


def institution_views(institutions: Iterable[Any]) -> list[dict[str, Any]]:
    """Institutions (as stored, :func:`~inspect_api.db.as_stored`, or documents) as ``InstitutionSchema`` dumps
    them, built directly: dumping a page of twenty through marshmallow was a third of the office's list."""
    base = public_base_url()
    return [_institution_view(institution, base) for institution in institutions]


def _institution_view(i: Any, base: str) -> dict[str, Any]:
    latlon, risk = point_latlon(i.location), i.risk
    return {
        "id": str(i.id), "public_id": _text(i.public_id), "public_url": f"{base}/p/institutions/{i.public_id}",
        "name": _text(i.name), "credit_code": _text(i.credit_code), "kind": _text(i.kind),
        "kind_label": INSTITUTION_KINDS.get(i.kind, i.kind),
        "tags": None if i.tags is None else [str(tag) for tag in i.tags], "region": _text(i.region),
        "address": _text(i.address), "location": {"lat": latlon[0], "lon": latlon[1]} if latlon else None,
        "licences": None if i.licences is None else [
            {"kind": _text(lic.kind), "number": _text(lic.number), "valid_from": _iso(lic.valid_from),
             "valid_until": _iso(lic.valid_until)} for lic in i.licences],
        "care_beds": _int(i.care_beds), "medical_beds": _int(i.medical_beds),
        "contact_name": _text(i.contact_name), "contact_phone": _text(i.contact_phone), "status": _text(i.status),
        "complaint_count": _int(i.complaint_count),
        "risk": None if risk is None else {
            "past_findings": _int(risk.past_findings), "overdue_rectifications": _int(risk.overdue_rectifications),
            "rejected_answers": _int(risk.rejected_answers), "last_inspected_at": _iso(risk.last_inspected_at),
            "updated_at": _iso(risk.updated_at)},
        "qr_version": _int(i.qr_version), "created_at": _iso(i.created_at), "updated_at": _iso(i.updated_at),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _iso(value: Any) -> str | None:
    """A date or timestamp as marshmallow's ``Date``/``DateTime`` write it (``isoformat``)."""
    return None if value is None else value.isoformat()


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
