"""An office's view of the audit log: the events of its region, newest first, and the chain's verdict.

Events are listed for the office's region subtree: the caller passes the
division codes of that subtree (the directory's region list), so that the
query is an ``$in`` over exact codes that the ``(region, -seq)`` index serves
in order (a merge of per-region scans, no in-memory sort).  Events without a
region (failed logins of unknown names, system jobs) are not listed for
offices.  Verification walks the whole chain: one office cannot verify only
its own entries, because each entry's hash covers its predecessor, which may
belong to any region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from inspect_api.audit.models import AuditEvent
from inspect_api.audit.service import verify_chain
from inspect_api.clock import isoformat
from inspect_api.dumped import number, text


def events_in(region_codes: Iterable[str], *, action: str | None = None, target_type: str | None = None,
              target_id: str | None = None):
    """Events whose region is one of ``region_codes``, newest first (a queryset)."""
    query: dict[str, Any] = {"region": {"$in": sorted(set(region_codes))}}
    if action:
        query["action"] = action
    if target_type:
        query["target_type"] = target_type
    if target_id:
        query["target_id"] = target_id
    return AuditEvent.objects(__raw__=query).order_by("-seq")


def event_view(event: AuditEvent) -> dict[str, Any]:
    """An audit event in ``AuditEventSchema``'s dumped form (sent as it is)."""
    return {"seq": number(event.seq, int), "at": isoformat(event.at), "actor_id": text(event.actor_id),
            "actor_name": text(event.actor_name), "action": text(event.action), "target_type": text(event.target_type),
            "target_id": text(event.target_id), "region": text(event.region), "ip": text(event.ip),
            "data": {str(key): value for key, value in (event.data or {}).items()}, "hash": text(event.hash),
            "prev_hash": text(event.prev_hash)}


def verification(now: datetime) -> dict[str, Any]:
    """Walk the chain; say whether it is intact, how many entries were checked and the first broken one."""
    report = verify_chain()
    message = (f"审计链完整：已校验 {report.checked} 条记录" if report.ok else
               f"审计链在第 {report.broken_seq} 条记录处断开（已校验 {report.checked} 条）")
    return {"ok": report.ok, "checked": report.checked, "broken_seq": report.broken_seq, "reason": report.reason,
            "message": message, "verified_at": isoformat(now)}
