"""Signatures on the inspection record: each one made in person, and recorded with who uploaded it.

- A team member signs only as themselves: the signer of a ``lead`` or
  ``member`` signature is the inspector of the calling account (from its
  token, never from the form), and the name stored is that inspector's name
  in the directory.  The lead signs as ``lead``, the others as ``member``.
- The institution's representative signs on the lead's device: only the
  lead uploads ``institution_representative`` signatures, with the
  representative's name as given.
- Every signature records the uploading user and the login (session id of
  the access token) it came from; the inspection view and the report show
  both.

Idempotent by ``client_id``: a retry returns the first signature.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.errors import Unprocessable
from inspect_api.inspections import records
from inspect_api.inspections.models import Inspection, SignatureRef


def _signer(inspection: Inspection, own_inspector: str, signer_role: str, inspector_id: str | None,
            signer_name: str | None) -> tuple[str | None, str]:
    """(inspector id, name) of the signature the caller may make, or a 422 saying why not."""
    team = list(inspection.team)
    is_lead = own_inspector == team[0]
    if signer_role == "institution_representative":
        if inspector_id:
            raise Unprocessable("机构代表签名不应指定执法人员", code="SIGNER_INVALID",
                                details={"fields": {"inspector_id": ["机构代表签名不填写"]}})
        if not is_lead:
            raise Unprocessable("机构代表须在检查组组长的设备上当面签名", code="REPRESENTATIVE_ON_LEAD_DEVICE")
        if not signer_name:
            raise Unprocessable("机构代表签名须填写签名人姓名", code="SIGNER_NAME_REQUIRED",
                                details={"fields": {"signer_name": ["缺少必填字段"]}})
        return None, signer_name
    if inspector_id and inspector_id != own_inspector:
        raise Unprocessable("只能以本人身份签名：签名人由登录账号确定", code="SIGNER_NOT_SELF",
                            details={"fields": {"inspector_id": ["须为本人（或不填写）"]}})
    if signer_role == "lead" and not is_lead:
        raise Unprocessable("组长签名须由检查组组长本人签署", code="SIGNER_NOT_LEAD")
    if signer_role == "member" and own_inspector not in team[1:]:
        raise Unprocessable("签名人不是检查组成员（组长请以组长身份签名）", code="SIGNER_NOT_MEMBER")
    person = records.team_view([own_inspector])[0]
    return own_inspector, person["name"] or signer_name or ""


def add_signature(user, inspection_id: str, data: bytes, *, client_id: str, signer_role: str,
                  signer_name: str | None = None, inspector_id: str | None = None, session_id: str | None = None,
                  now: datetime, config: dict[str, Any] | None = None) -> SignatureRef:
    """Store a signature made in person (see the module docstring); refused before check-in and after submission."""
    assignment, own_inspector = records.team_assignment(user, inspection_id)
    inspection = records.ensure_inspection(assignment, now=now)
    records.require_writable(inspection)
    for ref in inspection.signatures:
        if ref.client_id == client_id:
            return ref
    signer, name = _signer(inspection, own_inspector, signer_role, inspector_id, signer_name)
    stored = records.evidence_service().store_signature(
        data, owner_type="inspection", owner_id=str(inspection.id), institution_id=inspection.institution_id,
        region=inspection.region, client_id=client_id, uploaded_by=str(user.id), signer_name=name,
        signer_role=signer_role, now=now, team=list(inspection.team), config=config)
    ref = SignatureRef(evidence_id=str(stored.id), client_id=client_id, signer_role=signer_role, signer_name=name,
                       inspector_id=signer, uploaded_by=str(user.id), uploaded_session=session_id, signed_at=now)
    pushed = Inspection.objects(id=inspection.id, signatures__client_id__ne=client_id,
                                submission_started_at=None).update_one(push__signatures=ref, set__updated_at=now)
    if pushed:
        audit.record("inspection.signed", actor=actor_of(user), target_type="inspection",
                     target_id=str(inspection.id), region=inspection.region,
                     data={"signer_role": signer_role, "signer_name": name, "inspector_id": signer,
                           "evidence_id": str(stored.id), "uploaded_by": str(user.id), "session_id": session_id},
                     now=now)
        return ref
    inspection.reload()
    for existing in inspection.signatures:
        if existing.client_id == client_id:
            return existing
    records.require_writable(inspection)
    return ref
