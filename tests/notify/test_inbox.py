"""The inbox endpoints and the e-mail channel."""

from __future__ import annotations

from datetime import datetime, timezone

from inspect_api.notify import service as notify
from inspect_api.notify.models import Delivery, Notification
from tests.conftest import assert_error

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def test_inbox_list_read_and_unread_count(client, login, make_user):
    alice, bob = make_user("office_admin", username="alice"), make_user("office_admin", username="bob")
    notes = notify.notify([str(alice.id)], kind="rectification.reminder",
                          params={"order_number": "ZG-1", "seq": 1, "item_text": "消防", "deadline": "2026-03-23",
                                  "institution_name": "康养中心"}, dedupe="t1", now=NOW)
    notify.notify([str(alice.id)], kind="rectification.reminder", params={}, dedupe="t1", now=NOW)  # replay
    notify.notify([str(alice.id), str(bob.id)], kind="rectification.closed", params={"order_number": "ZG-1"},
                  dedupe="t2", now=NOW)
    h = login(alice)
    body = client.get("/api/v1/me/notifications", headers=h).get_json()
    assert body["total"] == 2
    assert any("ZG-1" in n["title"] and "康养中心" in n["body"] for n in body["items"])
    assert client.get("/api/v1/me/notifications/unread-count", headers=h).get_json() == {"unread": 2}
    r = client.post(f"/api/v1/me/notifications/{notes[0].id}/read", headers=h)
    assert r.status_code == 200 and r.get_json()["read"] is True
    assert client.get("/api/v1/me/notifications/unread-count", headers=h).get_json() == {"unread": 1}
    assert client.get("/api/v1/me/notifications?unread=true", headers=h).get_json()["total"] == 1
    # someone else's notification, or garbage ids: 404
    bobs = Notification.objects(user_id=str(bob.id)).first()
    assert_error(client.post(f"/api/v1/me/notifications/{bobs.id}/read", headers=h), 404, "NOTIFICATION_NOT_FOUND")
    assert_error(client.post("/api/v1/me/notifications/zzz/read", headers=h), 404)
    assert_error(client.get("/api/v1/me/notifications"), 401)


def test_email_channel_only_when_smtp_host_set(app_factory, make_user, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            self.host, self.port = host, port

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(msg)

    monkeypatch.setattr("inspect_api.notify.service.smtplib.SMTP", FakeSMTP)
    app = app_factory(smtp={"host": "smtp.example.org", "port": 2525, "sender": "jg@example.org"})
    with app.app_context():
        user = make_user("office_admin", username="mailme", email="mailme@example.org")
        nomail = make_user("office_admin", username="nomail")
        notify.notify([str(user.id), str(nomail.id)], kind="rectification.closed", params={"order_number": "ZG-9"},
                      dedupe="m1", now=NOW)
        assert Delivery.objects(channel="email").count() == 1
        stats = notify.deliver_pending(now=NOW)
        assert stats["delivered"] == 1
        assert sent[0]["To"] == "mailme@example.org" and "ZG-9" in sent[0]["Subject"]
        assert sent[0]["X-Notification-Id"]


def test_no_channel_configured_means_inbox_only(app, make_user):
    user = make_user("office_admin", username="solo")
    notify.notify([str(user.id)], kind="rectification.closed", params={}, dedupe="x", now=NOW)
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 0
