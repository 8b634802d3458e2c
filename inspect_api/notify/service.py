"""Inbox first, channels after.

:func:`notify` writes one inbox notification per recipient, idempotently by
``dedupe_key`` (a replayed step never writes a second copy), and queues a
:class:`~inspect_api.notify.models.Delivery` per configured channel.
:func:`deliver_pending` (run by every sweep, after the escalation writes)
attempts due deliveries with a short timeout and reschedules failures with
exponential backoff; nothing a channel does can block or undo an inbox write.
Receivers dedupe by the notification id carried in every payload.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Iterable

import requests
from bson import ObjectId
from bson.errors import InvalidId

from inspect_api import db
from inspect_api.auth.models import User
from inspect_api.clock import as_utc, isoformat
from inspect_api import config as inspect_config
from inspect_api.errors import NotFound
from inspect_api.notify.models import Attempt, Delivery, Notification
from inspect_api.notify.templates import render
from inspect_api.observability import NOTIFICATION_FAILURES

log = logging.getLogger(__name__)


def _config(config: dict[str, Any] | None) -> dict[str, Any]:
    return inspect_config.current(config)


def notify(user_ids: Iterable[str], *, kind: str, params: dict[str, Any], data: dict[str, Any] | None = None,
           dedupe: str, region: str | None = None, now: datetime,
           config: dict[str, Any] | None = None) -> list[Notification]:
    """Write one inbox notification per user (once per ``dedupe`` + user) and queue channel deliveries."""
    ids = notify_many([{"user_ids": user_ids, "kind": kind, "params": params, "data": data, "dedupe": dedupe,
                        "region": region}], now=now, config=config)
    if not ids[0]:
        return []
    notes = Notification.objects(id__in=[ObjectId(i) for i in ids[0]])
    return sorted(notes, key=lambda n: n.user_id)  # a handful of recipients: ordered here, not by the server


def notify_many(specs: list[dict[str, Any]], *, now: datetime, config: dict[str, Any] | None = None) -> list[list[str]]:
    """Bulk form of :func:`notify`: one spec per message; returns the notification ids of each spec.

    Each spec has ``user_ids``, ``kind``, ``params``, ``data``, ``dedupe`` and
    ``region``.  The inbox documents get their ids here and are inserted
    unordered in chunks; for a document refused by its ``dedupe_key`` (a
    replay) the one already stored is read back by key; then the channel
    deliveries are queued.
    """
    docs: list[dict[str, Any]] = []
    keys_per_spec: list[list[str]] = []
    for spec in specs:
        users = list(dict.fromkeys(str(x) for x in spec.get("user_ids") or () if x))
        title, body = render(spec["kind"], spec.get("params") or {})
        keys = []
        for uid in users:
            key = f"{spec['dedupe']}:{uid}"
            keys.append(key)
            docs.append({"_id": ObjectId(), "user_id": uid, "kind": spec["kind"], "title": title, "body": body,
                         "data": dict(spec.get("data") or {}), "region": spec.get("region"), "dedupe_key": key,
                         "created_at": now})
        keys_per_spec.append(keys)
    if not docs:
        return [[] for _ in specs]
    coll = Notification._get_collection()
    refused = db.insert_ignoring_duplicates(coll, docs)
    by_key: dict[str, dict[str, Any]] = {}
    for d in docs:
        by_key.setdefault(d["dedupe_key"], d)
    if refused:  # their keys were taken: by an earlier run, or earlier in this batch
        taken = list({d["dedupe_key"] for d in refused})
        stored: dict[str, dict[str, Any]] = {}
        for i in range(0, len(taken), 5000):
            for doc in coll.find({"dedupe_key": {"$in": taken[i:i + 5000]}}, {"_id": 1, "dedupe_key": 1, "user_id": 1}):
                stored[doc["dedupe_key"]] = doc
        unwritten = {id(d) for d in refused}
        for key in taken:
            if id(by_key[key]) in unwritten:
                if key in stored:
                    by_key[key] = stored[key]
                else:
                    del by_key[key]
    # Deliveries are queued for stored and replayed ones alike (unique per notification and channel), so a
    # replay after a crash between the two inserts queues what is missing.
    queue_deliveries_raw(list(by_key.values()), now=now, config=config)
    return [[str(by_key[k]["_id"]) for k in keys if k in by_key] for keys in keys_per_spec]


def withdraw(notification_ids: list[str]) -> int:
    """Take back notifications written moments ago for an event that did not happen after all (a step the
    sweep could not record): they leave the inbox, and their channel deliveries not yet made are dropped.
    Returns how many left the inbox."""
    oids = [ObjectId(i) for i in notification_ids if ObjectId.is_valid(i)]
    if not oids:
        return 0
    removed = 0
    for i in range(0, len(oids), 1000):
        chunk = oids[i:i + 1000]
        Delivery._get_collection().delete_many({"notification_id": {"$in": [str(o) for o in chunk]},
                                                "status": "pending", "attempts": 0})
        removed += Notification._get_collection().delete_many({"_id": {"$in": chunk}}).deleted_count
    return removed


def queue_deliveries_raw(notes: list[dict[str, Any]], *, now: datetime,
                         config: dict[str, Any] | None = None) -> None:
    """Queue one delivery per configured channel for each notification (``{_id, user_id}`` dicts)."""
    cfg = _config(config)
    webhook_url = (cfg.get("webhook") or {}).get("url") or ""
    smtp_host = (cfg.get("smtp") or {}).get("host") or ""
    if not notes or not (webhook_url or smtp_host):
        return
    emails: dict[str, str] = {}
    if smtp_host:
        ids = list({ObjectId(n["user_id"]) for n in notes if ObjectId.is_valid(n["user_id"])})
        emails = {str(u.id): u.email for u in User.objects(id__in=ids).only("email") if u.email}
    docs = []
    for n in notes:
        if webhook_url:
            docs.append({"notification_id": str(n["_id"]), "channel": "webhook", "target": webhook_url,
                         "status": "pending", "attempts": 0, "next_attempt_at": now, "attempts_log": [],
                         "created_at": now})
        if smtp_host and emails.get(n["user_id"]):
            docs.append({"notification_id": str(n["_id"]), "channel": "email", "target": emails[n["user_id"]],
                         "status": "pending", "attempts": 0, "next_attempt_at": now, "attempts_log": [],
                         "created_at": now})
    if docs:
        db.insert_ignoring_duplicates(Delivery._get_collection(), docs)


# --- channels ---------------------------------------------------------------------


def payload(note: Notification) -> dict[str, Any]:
    """The JSON a webhook receiver gets (dedupe by ``id``)."""
    return {"id": str(note.id), "kind": note.kind, "title": note.title, "body": note.body,
            "user_id": note.user_id, "region": note.region, "data": note.data or {},
            "created_at": isoformat(note.created_at)}


def sign(body: bytes, secret: str) -> str:
    """``X-Signature`` header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _send_webhook(delivery: Delivery, note: Notification, cfg: dict[str, Any]) -> tuple[bool, int | None, str | None]:
    wh = cfg.get("webhook") or {}
    body = json.dumps(payload(note), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Notification-Id": str(note.id),
               "X-Signature": sign(body, str(wh.get("secret") or ""))}
    timeout = float(wh.get("timeout_seconds") or 5)
    try:
        resp = requests.post(delivery.target, data=body, headers=headers, timeout=(timeout, timeout))
    except requests.RequestException as exc:
        return False, None, f"{type(exc).__name__}: {str(exc)[:300]}"
    if 200 <= resp.status_code < 300:
        return True, resp.status_code, None
    return False, resp.status_code, f"HTTP {resp.status_code}"


def _send_email(delivery: Delivery, note: Notification, cfg: dict[str, Any]) -> tuple[bool, int | None, str | None]:
    smtp = cfg.get("smtp") or {}
    msg = EmailMessage()
    msg["Subject"] = note.title
    msg["From"] = smtp.get("sender") or "noreply@localhost"
    msg["To"] = delivery.target
    msg["X-Notification-Id"] = str(note.id)
    msg.set_content(note.body + "\n\n（本邮件由医养结合机构监管系统自动发送，请登录系统查看详情。）")
    timeout = float((cfg.get("webhook") or {}).get("timeout_seconds") or 5)
    try:
        with smtplib.SMTP(smtp["host"], int(smtp.get("port") or 25), timeout=timeout) as client:
            if smtp.get("starttls"):
                client.starttls()
            if smtp.get("username"):
                client.login(smtp["username"], smtp.get("password") or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        return False, None, f"{type(exc).__name__}: {str(exc)[:300]}"
    return True, None, None


SENDERS = {"webhook": _send_webhook, "email": _send_email}


def backoff(attempts: int, cfg: dict[str, Any]) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures: base × 2^(attempts−1)."""
    base = float((cfg.get("webhook") or {}).get("backoff_seconds") or 30)
    return timedelta(seconds=base * (2 ** max(0, attempts - 1)))


def deliver_one(delivery: Delivery, *, now: datetime, config: dict[str, Any] | None = None) -> bool:
    """Attempt one delivery; log it and schedule the retry (or give up after max_attempts)."""
    cfg = _config(config)
    note = Notification.objects(id=delivery.notification_id).first()
    if note is None:
        Delivery.objects(id=delivery.id).update_one(set__status="failed")
        return False
    started = time.monotonic()
    ok, status_code, error = SENDERS[delivery.channel](delivery, note, cfg)
    attempt = Attempt(at=now, ok=ok, status_code=status_code, error=error,
                      duration_ms=round((time.monotonic() - started) * 1000, 1))
    if not ok:
        NOTIFICATION_FAILURES.labels(delivery.channel).inc()
    attempts = delivery.attempts + 1
    max_attempts = int((cfg.get("webhook") or {}).get("max_attempts") or 5)
    if ok:
        Delivery.objects(id=delivery.id).update_one(push__attempts_log=attempt, set__attempts=attempts,
                                                    set__status="delivered", set__delivered_at=now,
                                                    unset__next_attempt_at=True)
    elif attempts >= max_attempts:
        log.warning("delivery %s via %s failed for good after %d attempts: %s", delivery.id, delivery.channel,
                    attempts, error)
        Delivery.objects(id=delivery.id).update_one(push__attempts_log=attempt, set__attempts=attempts,
                                                    set__status="failed", unset__next_attempt_at=True)
    else:
        Delivery.objects(id=delivery.id).update_one(push__attempts_log=attempt, set__attempts=attempts,
                                                    set__next_attempt_at=now + backoff(attempts, cfg))
    return ok


def deliver_pending(*, now: datetime, config: dict[str, Any] | None = None, limit: int = 500,
                    budget_seconds: float | None = None) -> dict[str, int]:
    """Attempt due deliveries (index-served query); stops at ``limit`` or when the time budget is spent.

    Each attempt first moves ``next_attempt_at`` forward with a conditional
    update (a lease), so two sweeps never send the same attempt twice at once.
    """
    cfg = _config(config)
    if budget_seconds is None:
        budget_seconds = float(cfg.get("delivery_budget_seconds") or 30)
    deadline = time.monotonic() + budget_seconds
    stats = {"attempted": 0, "delivered": 0, "failed": 0}
    due = list(Delivery.objects(status="pending", next_attempt_at__lte=now).order_by("next_attempt_at")
               .limit(limit))
    lease = timedelta(seconds=float((cfg.get("webhook") or {}).get("timeout_seconds") or 5) * 3)
    for delivery in due:
        if time.monotonic() > deadline:
            break
        claimed = Delivery.objects(id=delivery.id, status="pending",
                                   next_attempt_at=delivery.next_attempt_at).update_one(
            set__next_attempt_at=now + lease)
        if not claimed:
            continue
        stats["attempted"] += 1
        if deliver_one(delivery, now=now, config=cfg):
            stats["delivered"] += 1
        else:
            stats["failed"] += 1
    return stats


# --- inbox ------------------------------------------------------------------------


def inbox(user, *, unread: bool | None = None):
    query = Notification.objects(user_id=str(user.id))
    if unread is True:
        query = query.filter(read_at=None)
    elif unread is False:
        query = query.filter(read_at__ne=None)
    return query.order_by("-created_at", "-id").hint([("user_id", 1), ("created_at", -1), ("_id", -1)])


def unread_count(user) -> int:
    return Notification.objects(user_id=str(user.id), read_at=None).count()


def mark_read(user, notification_id: str, *, now: datetime) -> Notification:
    try:
        oid = ObjectId(str(notification_id))
    except (InvalidId, TypeError):
        raise NotFound("通知不存在", code="NOTIFICATION_NOT_FOUND") from None
    Notification.objects(id=oid, user_id=str(user.id), read_at=None).update_one(set__read_at=now)
    note = Notification.objects(id=oid, user_id=str(user.id)).first()
    if note is None:
        raise NotFound("通知不存在", code="NOTIFICATION_NOT_FOUND")
    return note


def deliveries_of(notification_id: str):
    return Delivery.objects(notification_id=str(notification_id))


__all__ = ["notify", "deliver_pending", "deliver_one", "sign", "payload", "inbox", "unread_count", "mark_read",
           "as_utc"]
