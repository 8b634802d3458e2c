"""Append to and verify the hash-chained audit log (DESIGN §10).

The hash of an entry is SHA-256 over the canonical JSON of its content plus
the previous entry's hash.  Appending reads the last entry and inserts
``seq + 1``; the unique index on ``seq`` makes a concurrent writer fail and
retry, so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api.audit.models import AuditEvent
from inspect_api.clock import isoformat, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it: a user id and display name, or the system."""

    id: str | None = None
    name: str = "system"
    region: str | None = None
    ip: str | None = None


SYSTEM = Actor()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return isoformat(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def entry_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": isoformat(event.at),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "region": event.region,
        "ip": event.ip,
        "data": _jsonable(event.data or {}),
        "prev_hash": event.prev_hash,
    }


def record(action: str, *, actor: Actor = SYSTEM, target_type: str | None = None,
           target_id: str | None = None, region: str | None = None,
           data: dict[str, Any] | None = None, now: datetime | None = None) -> AuditEvent:
    """Append one event to the chain and return it."""
    now = now or utcnow()
    payload = _jsonable(data or {})
    for _attempt in range(50):
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        event = AuditEvent(seq=seq, at=now.replace(microsecond=(now.microsecond // 1000) * 1000),
                           actor_id=actor.id, actor_name=actor.name, action=action,
                           target_type=target_type, target_id=str(target_id) if target_id is not None else None,
                           region=region or actor.region, ip=actor.ip, data=payload, prev_hash=prev)
        event.hash = entry_hash(_content(event))
        try:
            event.save(force_insert=True)
            return event
        except (NotUniqueError, DuplicateKeyError):
            continue
    raise RuntimeError("audit chain contention: could not append after 50 attempts")


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def iter_events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").no_cache()


def verify_chain() -> ChainReport:
    """Walk the chain in order; report the first entry whose hash or link is wrong."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in iter_events():
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"entry {expected_seq} is missing (found {event.seq})")
        if event.prev_hash != prev:
            return ChainReport(False, checked, event.seq, "prev_hash does not match the previous entry")
        if entry_hash(_content(event)) != event.hash:
            return ChainReport(False, checked, event.seq, "content does not match its hash (entry altered)")
        prev = event.hash
        expected_seq += 1
        checked += 1
    return ChainReport(True, checked)
