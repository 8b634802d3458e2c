"""Directory entries as the office console lists them: institutions, and conflicts of interest with the names
they join."""

from __future__ import annotations

from typing import Any, Iterable

from bson import ObjectId

from inspect_api.directory.institutions import institution_names, point_latlon
from inspect_api.directory.models import DEPARTMENTS, INSTITUTION_KINDS, Conflict, Inspector
from inspect_api.dumped import moment, number, text, texts
from inspect_api.urls import public_base_url


def institution_views(institutions: Iterable[Any]) -> list[dict[str, Any]]:
    """Institutions (as stored, :func:`~inspect_api.db.as_stored`, or documents) as ``InstitutionSchema`` dumps
    them, built directly: dumping a page of twenty through marshmallow was a third of the office's list."""
    base = public_base_url()
    return [_institution_view(institution, base) for institution in institutions]


def _institution_view(i: Any, base: str) -> dict[str, Any]:
    latlon, risk = point_latlon(i.location), i.risk
    return {
        "id": str(i.id), "public_id": text(i.public_id), "public_url": f"{base}/p/institutions/{i.public_id}",
        "name": text(i.name), "credit_code": text(i.credit_code), "kind": text(i.kind),
        "kind_label": INSTITUTION_KINDS.get(i.kind, i.kind),
        "tags": texts(i.tags), "region": text(i.region), "address": text(i.address),
        "location": {"lat": latlon[0], "lon": latlon[1]} if latlon else None,
        "licences": None if i.licences is None else [
            {"kind": text(lic.kind), "number": text(lic.number), "valid_from": moment(lic.valid_from),
             "valid_until": moment(lic.valid_until)} for lic in i.licences],
        "care_beds": number(i.care_beds, int), "medical_beds": number(i.medical_beds, int),
        "contact_name": text(i.contact_name), "contact_phone": text(i.contact_phone), "status": text(i.status),
        "complaint_count": number(i.complaint_count, int),
        "risk": None if risk is None else {
            "past_findings": number(risk.past_findings, int),
            "overdue_rectifications": number(risk.overdue_rectifications, int),
            "rejected_answers": number(risk.rejected_answers, int),
            "last_inspected_at": moment(risk.last_inspected_at), "updated_at": moment(risk.updated_at)},
        "qr_version": number(i.qr_version, int), "created_at": moment(i.created_at),
        "updated_at": moment(i.updated_at),
    }


def inspector_views(inspectors: Iterable[Any]) -> list[dict[str, Any]]:
    """Inspectors (as stored, :func:`~inspect_api.db.as_stored`, or documents) as ``InspectorSchema`` dumps them,
    built directly: dumping a page through marshmallow was a quarter of the office's list."""
    return [{"id": str(i.id), "name": text(i.name), "certificate_no": text(i.certificate_no),
             "department": text(i.department), "department_label": DEPARTMENTS.get(i.department, i.department),
             "region": text(i.region), "qualifications": texts(i.qualifications), "active": number(i.active, bool),
             "load_cap": number(i.load_cap, int), "user_id": text(i.user_id),
             "employment_history": texts(i.employment_history), "phone": text(i.phone),
             "created_at": moment(i.created_at), "updated_at": moment(i.updated_at)} for i in inspectors]


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
