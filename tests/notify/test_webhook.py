"""Webhook delivery against a real loopback HTTP server: timeouts and 500s are retried, never block the sweep."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inspect_api.calendar.service import current_calendar
from inspect_api.notify import service as notify
from inspect_api.notify.models import Delivery, Notification
from inspect_api.rectification import escalation
from inspect_api.rectification import service as rs
from inspect_api.rectification.models import Finding
from inspect_api.workdays import SHANGHAI
from tests.notify.world import build, finding

SECRET = "webhook-test-secret"


class Receiver:
    """A loopback HTTP server whose behaviour the test switches: 'hang', 'error' or 'ok'."""

    def __init__(self):
        self.mode = "ok"
        self.received: list[tuple[bytes, dict]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.mode == "hang":
                    receiver.release.wait(10)  # far longer than the client's timeout
                    return
                if receiver.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                receiver.received.append((body, dict(self.headers)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                """Keep the test output free of per-request log lines."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(app_factory, receiver, make_user):
    app = app_factory(webhook={"url": receiver.url, "secret": SECRET, "timeout_seconds": 0.3, "max_attempts": 5,
                               "backoff_seconds": 30})
    with app.app_context():
        yield app, build(make_user)


def at(d: date, hour: int = 9) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def test_webhook_timeout_and_500_are_retried_with_backoff_and_never_block(hooked, receiver):
    app, world = hooked
    order = world.open([finding("A1", "major", 15)])
    f = rs.findings_of(order)[0]
    issued = Notification.objects(kind="rectification.issued").first()
    day = at(current_calendar().add_working_days(f.deadline, -3))

    receiver.mode = "hang"
    stats = escalation.run_sweep(day)
    # the step and the inbox are written whatever the channel does
    assert Finding.objects.get(id=f.id).step_codes == ["reminder"]
    reminder = Notification.objects.get(kind="rectification.reminder")
    assert reminder.read_at is None
    assert stats["deliveries"]["attempted"] == 2 and stats["deliveries"]["delivered"] == 0
    d = Delivery.objects.get(notification_id=str(reminder.id), channel="webhook")
    assert d.status == "pending" and d.attempts == 1
    assert d.attempts_log[0].ok is False and "Timeout" in d.attempts_log[0].error
    assert d.next_attempt_at == (day + timedelta(seconds=30)).astimezone(d.next_attempt_at.tzinfo)

    # before the backoff has passed nothing is retried
    assert escalation.run_sweep(day + timedelta(seconds=10))["deliveries"]["attempted"] == 0

    receiver.mode = "error"
    second = day + timedelta(seconds=31)
    assert escalation.run_sweep(second)["deliveries"]["attempted"] == 2
    d.reload()
    assert d.attempts == 2 and d.attempts_log[1].status_code == 500 and d.status == "pending"
    assert d.next_attempt_at == (second + timedelta(seconds=60)).astimezone(d.next_attempt_at.tzinfo)

    receiver.mode = "ok"
    third = second + timedelta(seconds=61)
    assert escalation.run_sweep(third)["deliveries"]["delivered"] == 2
    d.reload()
    assert d.status == "delivered" and d.attempts == 3 and [a.ok for a in d.attempts_log] == [False, False, True]
    # the receiver can verify the signature and dedupe by notification id
    ids = set()
    for body, headers in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Signature"] == expected
        ids.add(json.loads(body)["id"])
    assert ids == {str(reminder.id), str(issued.id)}
    assert json.loads(receiver.received[0][0])["title"]
    # inbox unaffected by all of this; nothing re-sent afterwards
    assert Notification.objects(kind="rectification.reminder").count() == 1
    assert escalation.run_sweep(third + timedelta(days=1))["deliveries"]["attempted"] == 0


def test_webhook_gives_up_after_max_attempts(hooked, receiver):
    app, world = hooked
    world.open([finding("A1")])
    receiver.mode = "error"
    now = datetime(2026, 3, 2, 3, 0, tzinfo=SHANGHAI)
    for i in range(6):
        notify.deliver_pending(now=now + timedelta(hours=i * 10), config=app.config["INSPECT"])
    d = Delivery.objects.get()
    assert d.status == "failed" and d.attempts == 5 and d.next_attempt_at is None


def test_signature_helper_matches_hmac():
    body = json.dumps({"id": "x"}).encode()
    assert notify.sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
