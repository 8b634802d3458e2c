"""Accounts are bound to division codes that exist, not merely well-formed ones."""

from __future__ import annotations

import io

from inspect_api.__main__ import main
from inspect_api.audit.models import AuditEvent
from inspect_api.auth.models import User
from tests.conftest import TEST_PASSWORD, assert_error


def _user(region: str, username: str) -> dict:
    return {"username": username, "password": "Secret123", "role": "office_admin", "region": region}


def test_office_cannot_create_a_user_in_an_unknown_region(client, make_user, login):
    headers = login(make_user("office_admin", "370300", username="zibo"))
    # 370399 is well-formed and inside Zibo's prefix, but no such county exists.
    err = assert_error(client.post("/api/v1/users", headers=headers, json=_user("370399", "ghost")), 422,
                       "REGION_UNKNOWN")
    assert "region" in err["details"]["fields"]
    assert_error(client.post("/api/v1/users", headers=headers, json=_user("3703", "short")), 422)
    assert User.objects(username__in=["ghost", "short"]).count() == 0
    assert AuditEvent.objects(action="user.create").count() == 0
    ok = client.post("/api/v1/users", headers=headers, json=_user("370303", "zhoucun"))
    assert ok.status_code == 201, ok.get_json()


def test_create_admin_cli_refuses_an_unknown_region(app, monkeypatch, capsys):
    # The command builds its own app; hand it this test's app, so it writes to this store.
    monkeypatch.setattr("inspect_api.app.create_app", lambda *args, **kwargs: app)

    def run(region: str, username: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
        return main(["create-admin", "--username", username, "--region", region, "--password-stdin"])

    assert run("379900", "nowhere") == 1
    assert "REGION_UNKNOWN" in capsys.readouterr().err
    assert User.objects(username="nowhere").first() is None
    assert run("370000", "shandong") == 0
    assert "created office admin shandong for region 370000" in capsys.readouterr().out
    assert User.objects.get(username="shandong").role == "office_admin"
