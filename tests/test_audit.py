"""The hash-chained audit log and its verify command."""

from __future__ import annotations

import subprocess
import sys

from inspect_api.audit import service as audit
from inspect_api.audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD


def test_logins_and_user_changes_are_chained(client, make_user, login):
    office = make_user(username="aud")
    client.post("/api/v1/auth/login", json={"username": "aud", "password": "wrong"})
    headers = login(office)
    client.post("/api/v1/users", headers=headers, json={"username": "newbie", "password": "Secret123",
                                                         "role": "office_admin", "region": "370302"})
    actions = [e.action for e in AuditEvent.objects.order_by("seq")]
    assert actions == ["auth.login_failed", "auth.login", "user.create"]
    assert audit.verify_chain().ok


def test_tampering_is_detected_and_named(app):
    for i in range(5):
        audit.record("test.event", data={"i": i})
    assert audit.verify_chain() == audit.ChainReport(True, 5)
    AuditEvent.objects(seq=3).update_one(set__data={"i": 99})
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 3
    AuditEvent.objects(seq=3).update_one(set__data={"i": 2})
    assert audit.verify_chain().ok
    AuditEvent.objects(seq=4).delete()
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 4


def test_verify_audit_cli_runs():
    out = subprocess.run([sys.executable, "-m", "inspect_api", "verify-audit"], capture_output=True, text=True,
                         env={"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK")


def test_create_admin_cli_reads_password_from_stdin():
    out = subprocess.run([sys.executable, "-m", "inspect_api", "create-admin", "--username", "root",
                          "--region", "370300", "--password-stdin"], input=TEST_PASSWORD + "\n",
                         capture_output=True, text=True, env={"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin"},
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "created office admin root" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "inspect_api", "create-admin", "--username", "root",
                          "--region", "3703", "--password-stdin"], input=TEST_PASSWORD + "\n",
                         capture_output=True, text=True, env={"INSPECT_ENV": "testing", "PATH": "/usr/bin:/bin"},
                         timeout=60)
    assert bad.returncode == 1 and "REGION_INVALID" in bad.stderr


def test_verify_audit_cli_names_the_first_tampered_entry(app, client, make_user, login, monkeypatch, capsys):
    from inspect_api.__main__ import main

    # The command builds its own app; hand it this test's app, so it reads this store
    # (each embedded store lives in its own client).
    monkeypatch.setattr("inspect_api.app.create_app", lambda *args, **kwargs: app)
    office = make_user(username="tamper_office")
    headers = login(office)
    client.post("/api/v1/users", headers=headers, json={"username": "newbie", "password": "Secret123",
                                                         "role": "office_admin", "region": "370302"})
    for i in range(3):
        audit.record("test.event", data={"i": i})
    assert main(["verify-audit"]) == 0
    assert capsys.readouterr().out.startswith("OK: 5 audit entries")

    # Someone edits the user.create entry (seq 2) directly in the store.
    target = AuditEvent.objects.get(seq=2)
    assert target.action == "user.create"
    AuditEvent.objects(seq=2).update_one(set__data={**target.data, "role": "inspector"})
    assert main(["verify-audit"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN at entry 2:") and "(1 entries verified before it)" in out, out
