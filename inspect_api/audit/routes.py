"""The audit log for offices: the events of their region and the verification of the hash chain."""

from __future__ import annotations

from flask import jsonify

from inspect_api.audit import listing
from inspect_api.audit import schemas as s
from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of, paginate

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="审计日志（全程留痕）与哈希链校验")
EVENT_PAGE = page_of(s.AuditEventSchema)()


def _subtree_codes(region: str) -> list[str]:
    from inspect_api.directory.regions import list_regions

    return [r.code for r in list_regions(within=region)]


@blp.route("/audit/events", methods=["GET"])
@blp.doc(operationId="listAuditEvents")
@login_required("office_admin")
@blp.arguments(s.AuditListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, EVENT_PAGE)
def list_events(filters, paging):
    """Audit events of the office's region subtree, newest first (filter by action or target)."""
    page = paginate(listing.events_in(_subtree_codes(current_user().region), **filters), paging["page"],
                    paging["per_page"])
    return jsonify(already_dumped(EVENT_PAGE, {**page, "items": [listing.event_view(e) for e in page["items"]]}))


@blp.route("/audit/verify", methods=["GET"])
@blp.doc(operationId="verifyAuditChain")
@login_required("office_admin")
@blp.response(200, s.ChainVerificationSchema)
def verify():
    """Walk the whole hash chain and report whether it is intact, naming the first broken entry."""
    return listing.verification(utcnow())
