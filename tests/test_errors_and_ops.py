"""The single error shape, operations endpoints and the OpenAPI document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate as validate_openapi

from tests.conftest import assert_error


SCRAPER = {"Authorization": "Bearer " + "t" * 40}


def test_healthz_readyz(app_factory):
    app = app_factory(metrics_bearer_token="t" * 40)
    with app.app_context():
        client = app.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        r = client.get("/readyz", headers=SCRAPER)
        assert r.status_code == 200 and r.get_json()["database"] == "ok"


def test_readyz_503_when_database_down(app_factory, monkeypatch):
    from inspect_api import db
    app = app_factory(metrics_bearer_token="t" * 40)
    monkeypatch.setattr(db, "ping", lambda: False)
    with app.app_context():
        r = app.test_client().get("/readyz", headers=SCRAPER)
        assert r.status_code == 503 and r.get_json()["error"]["code"] == "DATABASE_UNAVAILABLE"


def test_openapi_document_is_valid(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in doc["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_500_shape_hides_internals(app_factory):
    app = app_factory.fresh()  # a route added here: an app that has served no request

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    with app.app_context():
        r = app.test_client().get("/boom")
    err = assert_error(r, 500, "INTERNAL_ERROR")
    assert "secret" not in r.get_data(as_text=True)
    assert err["details"] == {}


def test_404_405_413_shapes(app, client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_error(client.delete("/api/v1/me"), 405, "METHOD_NOT_ALLOWED")
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_error(client.post("/api/v1/auth/login", data=big, content_type="application/json"), 413)


def test_production_refuses_unsafe_config(monkeypatch):
    from inspect_api.config import ConfigError, load_config
    with pytest.raises(ConfigError, match="MONGODB_URI"):
        load_config("production", environ={})
    with pytest.raises(ConfigError, match="default"):
        load_config("production", environ={"MONGODB_URI": "mongodb://db/x"})
    with pytest.raises(ConfigError, match="32 bytes"):
        load_config("production", environ={"MONGODB_URI": "mongodb://db/x", "INSPECT_SECRET_KEY": "short"})
    cfg = load_config("production", environ={"MONGODB_URI": "mongodb://db/x", "INSPECT_SECRET_KEY": "k" * 40})
    assert cfg["mongodb_uri"] == "mongodb://db/x"


def test_env_overrides_are_typed():
    from inspect_api.config import load_config
    cfg = load_config("testing", environ={"INSPECT_CHECKIN_RADIUS_M": "500", "INSPECT_DEADLINES__MAJOR": "10",
                                          "INSPECT_PUBLIC_BASE_URL": "https://x.example"})
    assert cfg["checkin_radius_m"] == 500 and cfg["deadlines"]["major"] == 10
    assert cfg["public_base_url"] == "https://x.example"


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser's recursion
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"items": [{"date": "2024-10-01", "working": true, "note": "' + b"x" * 10 + b'"}], "n": 1' + b"0" * 5000 + b"}",
], ids=["deep-array", "deep-object", "5001-digit-number"])
def test_json_the_parser_cannot_read_is_malformed_not_an_error(client, make_user, login, body):
    """A body nested deeper than the parser follows, or holding a number with more digits than Python converts,
    answers 400 MALFORMED_JSON, on the schema-parsed endpoints and on login and refresh, and changes nothing."""
    headers = login(make_user("office_admin", "370000"))
    before = client.get("/api/v1/calendar/overrides", headers=headers).get_json()
    r = client.put("/api/v1/calendar/overrides", data=body, content_type="application/json", headers=headers)
    assert_error(r, 400, "MALFORMED_JSON")
    assert client.get("/api/v1/calendar/overrides", headers=headers).get_json() == before
    for path in ("/api/v1/auth/login", "/api/v1/auth/refresh"):
        assert_error(client.post(path, data=body, content_type="application/json"), 400, "MALFORMED_JSON")
