"""Query strings: undeclared parameters are refused everywhere, an empty value means no filter (issue #13 item 10)."""

from __future__ import annotations

import re

import pytest

from inspect_api.directory.models import Institution
from tests.conftest import assert_error
from tests.publication.world import build_world

DUMMY_ID = "6b0b44cd2f0f933b5fdee3cb"


def _operations(app) -> list[tuple[str, str]]:
    spec = app.extensions["inspect_api_spec"].spec.to_dict()
    out = []
    for path, item in spec["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                concrete = path.replace("{variant}", "thumb")  # a closed set in the route
                out.append((method.upper(), re.sub(r"\{[^}]+\}", DUMMY_ID, concrete).replace(
                    f"versions/{DUMMY_ID}", "versions/1")))
    return out


def test_every_operation_refuses_an_undeclared_query_parameter(app, client, make_user, as_user):
    """As each role, every documented operation answers 422 naming the parameter, unless the role
    is refused first (401/403): the check comes after authentication and before anything else."""
    institution = Institution.objects.first()
    callers = {"anonymous": {},
               "office": as_user(make_user("office_admin", "370000")),
               "inspector": as_user(make_user("inspector", "370300")),
               "institution": as_user(make_user("institution", "370300",
                                                institution_id=str(institution.id) if institution else None))}
    operations = _operations(app)
    assert len(operations) > 100
    for method, path in operations:
        refused_by = []
        for role, headers in callers.items():
            r = client.open(f"{path}?zz_unknown=1&region[$ne]=", method=method, headers=headers)
            if r.status_code in (401, 403):
                assert role != "office" or r.status_code == 403, (method, path, role, r.status_code)
                continue
            err = assert_error(r, 422, "VALIDATION_ERROR")
            assert set(err["details"]["fields"]["query"]) == {"zz_unknown", "region[$ne]"}, (method, path, role)
            assert "zz_unknown" in err["message"]
            refused_by.append(role)
        assert refused_by, (method, path)


def test_anonymous_callers_of_protected_endpoints_learn_nothing_before_logging_in(client):
    assert_error(client.get("/api/v1/institutions?zz_unknown=1"), 401)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs", "/p/",
                                  "/p/notices", "/p/draws", "/api/v1/public/results.csv"])
def test_plain_and_public_endpoints_refuse_them_too(client, path):
    r = client.get(path + "?debug=1")
    assert r.status_code == 422, (path, r.status_code)


def test_operator_like_keys_on_open_data_are_refused_not_ignored(client):
    for path in ("/api/v1/public/results", "/api/v1/public/institutions", "/api/v1/public/notices",
                 "/api/v1/public/draws", "/api/v1/public/matters"):
        err = assert_error(client.get(path + "?region[$ne]=370300&kind[$gt]="), 422, "VALIDATION_ERROR")
        assert set(err["details"]["fields"]["query"]) == {"region[$ne]", "kind[$gt]"}


def test_an_empty_filter_means_no_filter(app, client, login):
    from inspect_api.publication import results

    w = build_world()
    results.publish(w.office, str(w.inspect("a").id), now=w.now)
    office = login(w.office)
    everything = client.get("/api/v1/public/results").get_json()
    assert everything["total"] >= 1
    for query in ("period=", "period=&region=&kind=&grade=", "page=&per_page="):
        r = client.get("/api/v1/public/results?" + query)
        assert r.status_code == 200, (query, r.get_json())
        assert r.get_json()["total"] == everything["total"]
    listed = client.get("/api/v1/institutions", headers=office).get_json()["total"]
    r = client.get("/api/v1/institutions?kind=&status=&q=&region=", headers=office)
    assert r.status_code == 200 and r.get_json()["total"] == listed
    assert client.get("/p/results?period=&region=&kind=&grade=").status_code == 200


def test_a_public_page_with_an_unknown_parameter_shows_the_chinese_error_page_with_a_clean_link(client):
    r = client.get("/p/results?from=singlemessage&region=370300")
    assert r.status_code == 422 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "链接参数有误" in html and "from" in html
    assert 'href="/p/results?region=370300"' in html


def test_the_poster_qr_code_opens_the_institution_page(app, client):
    from inspect_api.directory.qr import qr_payload

    w = build_world()
    payload = qr_payload(w.institution)
    path = payload[payload.index("/p/"):]
    assert "?t=" in path
    assert client.get(path).status_code == 200


def test_static_files_take_no_input_and_ignore_cache_busters(client):
    assert client.get("/static/public.css?v=20261128").status_code == 200
