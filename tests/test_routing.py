"""Static routes win over parameter routes; ``Allow`` lists only what a route serves (issue #13 item 11)."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

STATIC = {
    "/api/v1/institutions/export.csv": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/institutions/export.xlsx": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/institutions/import-template.xlsx": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/institutions/import": {"POST", "OPTIONS"},
    "/api/v1/inspectors/export.csv": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/inspectors/import": {"POST", "OPTIONS"},
    "/api/v1/notices/candidates": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/public/results.csv": {"GET", "HEAD", "OPTIONS"},
    "/api/v1/me/notifications/unread-count": {"GET", "HEAD", "OPTIONS"},
}


def _allow(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("path", sorted(STATIC))
def test_options_on_a_static_route_lists_only_its_own_methods(client, path):
    r = client.open(path, method="OPTIONS")
    assert r.status_code == 200
    assert _allow(r) == STATIC[path]


def test_a_parameter_route_still_lists_all_of_its_methods(client):
    r = client.open("/api/v1/institutions/6b0b44cd2f0f933b5fdee3cb", method="OPTIONS")
    assert _allow(r) == {"GET", "HEAD", "OPTIONS", "PATCH", "DELETE"}


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "PUT"])
def test_other_methods_on_a_static_route_are_405_with_its_allow(client, make_user, as_user, method):
    office = as_user(make_user("office_admin", "370300"))
    r = client.open("/api/v1/institutions/export.csv", method=method, headers=office, json={"name": "x"})
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert _allow(r) == {"GET", "HEAD", "OPTIONS"}


def test_static_route_is_not_an_id_of_the_parameter_route_below_it(client, make_user, as_user):
    """``/institutions/import/qr.png`` is not the QR code of an institution whose id is ``import``."""
    office = as_user(make_user("office_admin", "370300"))
    assert_error(client.get("/api/v1/institutions/import/qr.png", headers=office), 404)


def test_rules_added_after_the_map_was_compiled_are_guarded_too():
    from flask import Flask
    from werkzeug.exceptions import MethodNotAllowed

    from inspect_api import routing

    app = Flask("late")
    routing.install(app)
    app.add_url_rule("/late/<thing>", "thing", lambda thing: thing, methods=["GET", "DELETE"])
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/late/fixed", "GET") == ("thing", {"thing": "fixed"})  # no static sibling yet
    app.add_url_rule("/late/fixed", "fixed", lambda: "fixed", methods=["GET"])
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/late/fixed", "GET") == ("fixed", {})
    assert adapter.match("/late/other", "DELETE") == ("thing", {"thing": "other"})
    with pytest.raises(MethodNotAllowed) as refused:
        adapter.match("/late/fixed", "DELETE")
    assert set(refused.value.valid_methods) == {"GET", "HEAD", "OPTIONS"}
    assert set(adapter.allowed_methods("/late/fixed")) == {"GET", "HEAD", "OPTIONS"}


def test_the_host_root_leads_to_the_public_site(client):
    for path in ("/", "/?from=poster"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/p/"
    assert client.get("/", follow_redirects=True).status_code == 200
