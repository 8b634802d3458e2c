"""Public pages and open data share one rate-limit budget per client IP."""

from __future__ import annotations

from tests.conftest import assert_error


def test_public_endpoints_share_one_budget(app_factory):
    app = app_factory(public_rate_limit="3 per minute")
    with app.app_context():
        client = app.test_client()
        assert client.get("/api/v1/public/results").status_code == 200
        assert client.get("/api/v1/public/draws").status_code == 200
        assert client.get("/p/").status_code == 200
        err = assert_error(client.get("/api/v1/public/notices"), 429, "TOO_MANY_REQUESTS")
        assert err["details"] == {}
        limited = client.get("/api/v1/public/matters")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        # Another client is unaffected; authenticated API endpoints are not in this budget.
        other = client.get("/api/v1/public/results", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 200
        assert client.get("/healthz").status_code == 200


def test_rate_limits_can_be_switched_off(app_factory):
    app = app_factory(public_rate_limit="1 per minute", rate_limits_enabled=False)
    with app.app_context():
        client = app.test_client()
        assert all(client.get("/api/v1/public/results").status_code == 200 for _ in range(3))


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(app_factory):
    app = app_factory(public_rate_limit="1 per minute", trusted_proxy_hops=1)
    with app.app_context():
        client = app.test_client()
        via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
        first = client.get("/api/v1/public/results", environ_base=via_proxy, headers={"X-Forwarded-For": "1.1.1.1"})
        other = client.get("/api/v1/public/results", environ_base=via_proxy, headers={"X-Forwarded-For": "2.2.2.2"})
        assert first.status_code == 200 and other.status_code == 200
        again = client.get("/api/v1/public/results", environ_base=via_proxy, headers={"X-Forwarded-For": "1.1.1.1"})
        assert again.status_code == 429


def test_without_trusted_proxies_forwarded_headers_are_ignored(app_factory):
    app = app_factory(public_rate_limit="1 per minute")
    with app.app_context():
        client = app.test_client()
        assert client.get("/api/v1/public/results", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
        spoofed = client.get("/api/v1/public/results", headers={"X-Forwarded-For": "3.3.3.3"})
        assert spoofed.status_code == 429  # a client cannot buy a fresh budget with a made-up header
