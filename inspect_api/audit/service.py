"""Append to and verify the hash-chained audit log (DESIGN §10).

The hash of an entry is SHA-256 over the canonical JSON of its content plus
the previous entry's hash.  Every entry is its own document (the chain grows
as a collection, never inside one document).  Appending takes ``seq`` from an
atomic counter and links to entry ``seq - 1``; the unique index on ``seq``
means the chain never forks (see :func:`record`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from inspect_api import db
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
    """Append one event to the chain and return it.

    The sequence number comes from an atomic counter, so concurrent writers never race for the
    same number; each then waits for its predecessor to be written to link to its hash.  A number
    taken by a writer that died before writing it is filled, after :data:`GAP_WAIT_S`, with an
    ``audit.gap`` entry (the chain stays verifiable and says so); a writer whose number was filled
    that way (or taken by restored data) takes a new one.
    """
    now = now or utcnow()
    payload = _jsonable(data or {})
    for _attempt in range(20):
        seq = db.next_in_sequence(COUNTER_COLLECTION, COUNTER_KEY)
        event = AuditEvent(seq=seq, at=now.replace(microsecond=(now.microsecond // 1000) * 1000),
                           actor_id=actor.id, actor_name=actor.name, action=action,
                           target_type=target_type, target_id=str(target_id) if target_id is not None else None,
                           region=region or actor.region, ip=actor.ip, data=payload, prev_hash=_hash_of(seq - 1))
        event.hash = entry_hash(_content(event))
        try:
            event.save(force_insert=True)
            _remember(seq, event.hash)
            return event
        except (NotUniqueError, DuplicateKeyError):
            _catch_up_counter()
    raise RuntimeError("audit chain: could not append after 20 sequence numbers")


COUNTER_COLLECTION = "audit_counter"
COUNTER_KEY = "audit"
GAP_WAIT_S = 5.0


def _catch_up_counter() -> None:
    """After a collision the counter lags the stored chain (restored data, an older version): move it up."""
    last = AuditEvent.objects.order_by("-seq").only("seq").first()
    if last is not None:
        db.raise_counter(COUNTER_COLLECTION, COUNTER_KEY, last.seq)


# The last entry this process stored, by connection: a writer whose number follows it links to it without
# reading it back (entries are never rewritten; a number stored by another process is read as before).
_LAST_STORED: dict[str, Any] = {"generation": None, "seq": 0, "hash": None}
_LAST_LOCK = threading.Lock()


def _remember(seq: int, hash_: str) -> None:
    with _LAST_LOCK:
        if _LAST_STORED["generation"] != db.generation() or seq > _LAST_STORED["seq"]:
            _LAST_STORED.update(generation=db.generation(), seq=seq, hash=hash_)


def _remembered(seq: int) -> str | None:
    with _LAST_LOCK:
        if _LAST_STORED["generation"] == db.generation() and _LAST_STORED["seq"] == seq:
            return _LAST_STORED["hash"]
    return None


def _hash_of(seq: int, *, wait_s: float = GAP_WAIT_S) -> str:
    """The hash of entry ``seq`` (the genesis hash for 0), waiting for a concurrent writer to store it."""
    if seq <= 0:
        return GENESIS
    known = _remembered(seq)
    if known is not None:
        return known
    coll = AuditEvent._get_collection()
    deadline = time.monotonic() + wait_s
    delay = 0.002
    while True:
        doc = coll.find_one({"seq": seq}, {"hash": 1})
        if doc is not None:
            return doc["hash"]
        if time.monotonic() >= deadline:
            return _fill_gap(seq)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _fill_gap(seq: int) -> str:
    """Write an ``audit.gap`` entry for a number whose writer never stored it; return its hash."""
    now = utcnow()
    gap = AuditEvent(seq=seq, at=now.replace(microsecond=(now.microsecond // 1000) * 1000), actor_name="system",
                     action="audit.gap", data={"reason": f"sequence number taken but not written within {GAP_WAIT_S:g} s"},
                     prev_hash=_hash_of(seq - 1))
    gap.hash = entry_hash(_content(gap))
    try:
        gap.save(force_insert=True)
        return gap.hash
    except (NotUniqueError, DuplicateKeyError):  # its writer (or another filler) stored it meanwhile
        return AuditEvent._get_collection().find_one({"seq": seq}, {"hash": 1})["hash"]


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
