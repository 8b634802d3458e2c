"""Authorization matrix: every route of the OpenAPI document × every role, in one table.

Each row gives the expected status per role, in the order of ``ROLES``:
none, office (of the objects' region), other_office (another region),
insp_team (inspector on the team), insp_other (inspector not on it),
inst_owner (the institution's staff), inst_other (another institution).
``ok`` means authorization let the request through (any status below 500
other than 401, 403 and 404: 2xx, or a 409/422 about the request itself).
Writes listed in ``BODIES`` send a valid body, so that a scope refusal
(404) is not hidden behind a validation error; other writes send an empty
JSON body, so an allowed one usually answers 422.
A route without a row (or a row without a route) fails the test.

Set AUTHZ_RECORD=1 to print the observed table instead of checking it.
"""

from __future__ import annotations

import io
import os
import re
import uuid

import pytest
from PIL import Image

from tests.authz.world import ROLES, build_world

# Roles run denied-first, so the allowed (possibly mutating) calls come last.
RUN_ORDER = ("none", "other_office", "insp_other", "inst_other", "inst_owner", "insp_team", "office")
DENIED = {401, 403, 404}

def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, fmt)
    return out.getvalue()


def _files(**fields):
    """Multipart form data with a fresh client id (files given as (bytes, name))."""
    data = {"client_id": str(uuid.uuid4())}
    for key, value in fields.items():
        data[key] = (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
    return {"data": data, "content_type": "multipart/form-data"}


def _header_only_csv(what: str) -> dict:
    """A multipart upload of an import file with only its header row (nothing to write)."""
    from inspect_api.directory.imports import KINDS

    header = ",".join(c.header for c in KINDS[what]["columns"]) + "\n"
    return {"data": {"file": (io.BytesIO(header.encode("utf-8")), f"{what}.csv")},
            "content_type": "multipart/form-data"}


RECT = "/api/v1/rectifications/{order_id}/findings/{finding_id}"
BODIES = {
    f"POST {RECT}/answer": lambda w: {"json": {"description": "已按要求整改"}},
    f"POST {RECT}/extension": lambda w: {"json": {"reason": "需采购设备", "requested_deadline": "2030-06-28"}},
    f"POST {RECT}/extension/decision": lambda w: {"json": {"approve": False, "comment": "不同意延期"}},
    f"POST {RECT}/review": lambda w: {"json": {"decision": "reject", "comment": "证据不足"}},
    f"POST {RECT}/photos": lambda w: _files(file=(_image("JPEG"), "a.jpg")),
    "POST /api/v1/users/{user_id}/reset-password": lambda w: {"json": {"new_password": "NewPass123x"}},
    "POST /api/v1/inspections/{inspection_id}/check-in": lambda w: {"json": {
        "client_id": str(uuid.uuid4()), "qr_token": "not-a-token", "latitude": 36.8, "longitude": 118.0,
        "captured_at": "2026-11-23T02:00:00Z"}},
    "PUT /api/v1/inspections/{inspection_id}/responses": lambda w: {"json": {"items": [{
        "client_id": str(uuid.uuid4()), "item_id": "4086-1-01", "base_revision": 0,
        "client_updated_at": "2026-11-23T02:00:00Z", "result": "pass"}]}},
    "POST /api/v1/inspections/{inspection_id}/photos": lambda w: _files(item_id="4086-1-01",
                                                                       file=(_image("JPEG"), "p.jpg")),
    "POST /api/v1/inspections/{inspection_id}/signatures": lambda w: _files(
        signer_name="张三", signer_role="institution_representative", file=(_image("PNG"), "s.png")),
    "POST /api/v1/inspections/{inspection_id}/corrections": lambda w: {"json": {
        "client_id": str(uuid.uuid4()), "reason": "录入有误", "changes": [{"item_id": "4086-1-01", "result": "pass"}]}},
    "POST /api/v1/plans/{plan_id}/draw": lambda w: {"json": {"public_entropy": "matrix entropy"}},
    "POST /api/v1/plans/{plan_id}/amendments": lambda w: {"json": {
        "institution_id": w.ids["institution_id"], "inspector_id": w.ids["inspector_id"], "reason": "病假"}},
    "POST /api/v1/plans/{plan_id}/cancel": lambda w: {"json": {"reason": "计划调整"}},
    "POST /api/v1/institutions/import": lambda w: _header_only_csv("institutions"),
    "POST /api/v1/inspectors/import": lambda w: _header_only_csv("inspectors"),
    "PATCH /api/v1/conflicts/{conflict_id}": lambda w: {"json": {"note": "授权矩阵核对"}},
    "PATCH /api/v1/notices/{notice_id}": lambda w: {"json": {"title": "更新后的标题"}},
    "POST /api/v1/ledger-checks/{check_id}/items/{item_id}/files": lambda w: _files(file=(w.ids["pdf"], "a.pdf")),
    "PUT /api/v1/ledger-checks/{check_id}/items/{item_id}/score": lambda w: {"json": {"result": "pass",
                                                                                      "base_revision": 0}},
    "POST /api/v1/surveys/responses/{response_id}/review": lambda w: {"json": {"decision": "discard"}},
    "POST /api/v1/notices/{notice_id}/retract": lambda w: {"json": {"reason": "内容有误，予以撤回"}},
}

MATRIX: dict[str, str] = {
    # route                                                         none office other insp_team insp_other owner other_inst
    "GET /api/v1/calendar/overrides": "401 ok ok ok ok ok ok",
    "PUT /api/v1/calendar/overrides": "401 ok ok 403 403 403 403",
    "GET /api/v1/calendar/warnings": "401 ok ok ok ok ok ok",
    "GET /api/v1/rectifications": "401 ok ok ok ok ok ok",
    "GET /api/v1/rectifications/findings": "401 ok ok 403 403 403 403",
    "GET /api/v1/rectifications/{order_id}": "401 ok 404 ok 404 ok 404",
    "POST /api/v1/rectifications/{order_id}/acknowledge": "401 403 403 403 403 ok 404",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/photos": "401 403 403 403 403 ok 404",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/answer": "401 403 403 403 403 ok 404",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/extension": "401 403 403 403 403 ok 404",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/extension/decision": "401 ok 404 ok 404 403 403",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/review": "401 ok 404 ok 404 403 403",
    "POST /api/v1/rectifications/{order_id}/findings/{finding_id}/reinspection": "401 ok 404 ok 404 403 403",
    "GET /api/v1/me/notifications": "401 ok ok ok ok ok ok",
    "GET /api/v1/me/notifications/unread-count": "401 ok ok ok ok ok ok",
    "POST /api/v1/me/notifications/{notification_id}/read": "401 ok 404 404 404 404 404",
    "POST /api/v1/auth/login": "ok ok ok ok ok ok ok",
    "POST /api/v1/auth/refresh": "ok ok ok ok ok ok ok",
    "POST /api/v1/auth/logout": "ok ok ok ok ok ok ok",
    "GET /api/v1/me": "401 ok ok ok ok ok ok",
    "POST /api/v1/me/password": "401 ok ok ok ok ok ok",
    "POST /api/v1/users": "401 ok ok 403 403 403 403",
    "GET /api/v1/users": "401 ok ok 403 403 403 403",
    "GET /api/v1/users/{user_id}": "401 ok 404 403 403 403 403",
    "POST /api/v1/users/{user_id}/deactivate": "401 ok 404 403 403 403 403",
    "POST /api/v1/users/{user_id}/reactivate": "401 ok 404 403 403 403 403",
    "POST /api/v1/users/{user_id}/reset-password": "401 ok 404 403 403 403 403",
    "GET /api/v1/regions": "401 ok ok ok ok ok ok",
    "GET /api/v1/institutions": "401 ok ok 403 403 ok ok",
    "POST /api/v1/institutions": "401 ok ok 403 403 403 403",
    "GET /api/v1/institutions/import-template.xlsx": "401 ok ok 403 403 403 403",
    "GET /api/v1/institutions/export.xlsx": "401 ok ok 403 403 403 403",
    "GET /api/v1/institutions/export.csv": "401 ok ok 403 403 403 403",
    "POST /api/v1/institutions/import": "401 ok ok 403 403 403 403",
    "GET /api/v1/institutions/{institution_id}": "401 ok 404 ok 404 ok 404",
    "PATCH /api/v1/institutions/{institution_id}": "401 ok 404 403 403 403 403",
    "DELETE /api/v1/institutions/{institution_id}": "401 ok 404 403 403 403 403",
    "GET /api/v1/institutions/{institution_id}/qr.png": "401 ok 404 403 403 ok 404",
    "POST /api/v1/institutions/{institution_id}/qr/reissue": "401 ok 404 403 403 ok 404",
    "GET /api/v1/institutions/{institution_id}/poster-link": "401 ok 404 403 403 ok 404",
    "GET /api/v1/inspectors": "401 ok ok ok ok 403 403",
    "POST /api/v1/inspectors": "401 ok ok 403 403 403 403",
    "GET /api/v1/inspectors/import-template.xlsx": "401 ok ok 403 403 403 403",
    "GET /api/v1/inspectors/export.xlsx": "401 ok ok 403 403 403 403",
    "GET /api/v1/inspectors/export.csv": "401 ok ok 403 403 403 403",
    "POST /api/v1/inspectors/import": "401 ok ok 403 403 403 403",
    "GET /api/v1/inspectors/{inspector_id}": "401 ok 404 ok 404 403 403",
    "PATCH /api/v1/inspectors/{inspector_id}": "401 ok 404 403 403 403 403",
    "DELETE /api/v1/inspectors/{inspector_id}": "401 ok 404 403 403 403 403",
    "GET /api/v1/conflicts": "401 ok ok 403 403 403 403",
    "POST /api/v1/conflicts": "401 ok ok 403 403 403 403",
    "GET /api/v1/conflicts/{conflict_id}": "401 ok 404 403 403 403 403",
    "PATCH /api/v1/conflicts/{conflict_id}": "401 ok 404 403 403 403 403",
    "DELETE /api/v1/conflicts/{conflict_id}": "401 ok 404 403 403 403 403",
    "GET /api/v1/checklists": "401 ok ok ok ok ok ok",
    "POST /api/v1/checklists": "401 403 403 403 403 403 403",
    "GET /api/v1/checklists/{code}/versions/{version}": "401 ok ok ok ok ok ok",
    "POST /api/v1/checklists/{code}/versions/{version}/publish": "401 403 403 403 403 403 403",
    "GET /api/v1/checklists/{code}/diff": "401 ok ok ok ok ok ok",
    "GET /api/v1/matters": "401 ok ok ok ok ok ok",
    "POST /api/v1/matters": "401 403 403 403 403 403 403",
    "GET /api/v1/matters/{code}": "401 ok ok ok ok ok ok",
    "PATCH /api/v1/matters/{code}": "401 403 403 403 403 403 403",
    "DELETE /api/v1/matters/{code}": "401 403 403 403 403 403 403",
    "GET /api/v1/public/matters": "ok ok ok ok ok ok ok",
    "GET /api/v1/photos/{evidence_id}/{variant}": "401 ok 404 ok 404 ok 404",
    "GET /api/v1/me/assignments": "401 403 403 ok ok 403 403",
    "GET /api/v1/assignments": "401 ok ok 403 403 403 403",
    "POST /api/v1/assignments": "401 ok ok 403 403 403 403",
    "GET /api/v1/assignments/{assignment_id}": "401 ok 404 ok 404 403 403",
    "GET /api/v1/assignments/{assignment_id}/bundle": "401 ok 404 ok 404 403 403",
    "GET /api/v1/inspections/{inspection_id}": "401 ok 404 ok 404 403 403",
    "POST /api/v1/inspections/{inspection_id}/check-in": "401 403 403 ok 404 403 403",
    "PUT /api/v1/inspections/{inspection_id}/responses": "401 403 403 ok 404 403 403",
    "POST /api/v1/inspections/{inspection_id}/photos": "401 403 403 ok 404 403 403",
    "POST /api/v1/inspections/{inspection_id}/signatures": "401 403 403 ok 404 403 403",
    "POST /api/v1/inspections/{inspection_id}/submit": "401 403 403 ok 404 403 403",
    "POST /api/v1/inspections/{inspection_id}/corrections": "401 403 403 ok 404 403 403",
    "GET /api/v1/inspections/{inspection_id}/report": "401 ok 404 ok 404 403 403",
    "POST /api/v1/plans": "401 ok ok 403 403 403 403",
    "GET /api/v1/plans": "401 ok ok 403 403 403 403",
    "GET /api/v1/plans/{plan_id}": "401 ok 404 403 403 403 403",
    "PATCH /api/v1/plans/{plan_id}": "401 ok 404 403 403 403 403",
    "DELETE /api/v1/plans/{plan_id}": "401 ok 404 403 403 403 403",
    "POST /api/v1/plans/{plan_id}/commit": "401 ok 404 403 403 403 403",
    "POST /api/v1/plans/{plan_id}/draw": "401 ok 404 403 403 403 403",
    "POST /api/v1/plans/{plan_id}/amendments": "401 ok 404 403 403 403 403",
    "POST /api/v1/plans/{plan_id}/cancel": "401 ok 404 403 403 403 403",
    "GET /api/v1/plans/{plan_id}/draws": "401 ok 404 403 403 403 403",
    "GET /api/v1/draws": "401 ok ok 403 403 403 403",
    "GET /api/v1/draws/{draw_id}": "401 ok 404 403 403 403 403",
    "GET /api/v1/draws/{draw_id}/record.json": "401 ok 404 403 403 403 403",
    "GET /api/v1/draws/{draw_id}/verify": "401 ok 404 403 403 403 403",
    "GET /api/v1/public/draws": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/draws/{draw_id}": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/draws/{draw_id}/record.json": "ok ok ok ok ok ok ok",
    "POST /api/v1/inspections/{inspection_id}/publication-preview": "401 ok 404 403 403 403 403",
    "POST /api/v1/inspections/{inspection_id}/publish": "401 ok 404 403 403 403 403",
    "PUT /api/v1/inspections/{inspection_id}/publication": "401 ok 404 403 403 403 403",
    "GET /api/v1/publication/pending": "401 ok ok 403 403 403 403",
    "GET /api/v1/publication/published": "401 ok ok 403 403 403 403",
    "GET /api/v1/inspections/{inspection_id}/publication": "401 ok 404 403 403 403 403",
    "GET /api/v1/notices": "401 ok ok 403 403 403 403",
    "POST /api/v1/notices": "401 ok ok 403 403 403 403",
    "GET /api/v1/notices/candidates": "401 ok ok 403 403 403 403",
    "GET /api/v1/notices/{notice_id}": "401 ok 404 403 403 403 403",
    "PATCH /api/v1/notices/{notice_id}": "401 ok 404 403 403 403 403",
    "POST /api/v1/notices/{notice_id}/publish": "401 ok 404 403 403 403 403",
    "POST /api/v1/notices/{notice_id}/retract": "401 ok 404 403 403 403 403",
    "GET /api/v1/labels": "401 ok ok ok ok ok ok",
    "GET /api/v1/audit/events": "401 ok ok 403 403 403 403",
    "GET /api/v1/audit/verify": "401 ok ok 403 403 403 403",
    "GET /api/v1/public/results": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/results/{result_id}": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/results.csv": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/notices.csv": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/institutions": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/institutions/{public_id}": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/notices": "ok ok ok ok ok ok ok",
    "GET /api/v1/public/notices/{notice_id}": "ok ok ok ok ok ok ok",
    "GET /api/v1/questionnaires": "401 ok ok ok ok ok ok",
    "POST /api/v1/questionnaires": "401 403 403 403 403 403 403",
    "GET /api/v1/questionnaires/{code}/versions/{version}": "401 ok ok ok ok ok ok",
    "POST /api/v1/questionnaires/{code}/versions/{version}/publish": "401 403 403 403 403 403 403",
    "GET /api/v1/ledger-checks": "401 ok ok ok ok ok ok",
    "GET /api/v1/ledger-checks/{check_id}": "401 ok 404 ok 404 ok 404",
    "POST /api/v1/ledger-checks/{check_id}/items/{item_id}/files": "401 403 403 403 403 ok 404",
    "GET /api/v1/ledger-checks/{check_id}/files/{file_id}": "401 ok 404 ok 404 ok 404",
    "DELETE /api/v1/ledger-checks/{check_id}/files/{file_id}": "401 403 403 403 403 ok 404",
    "POST /api/v1/ledger-checks/{check_id}/submit": "401 403 403 403 403 ok 404",
    "PUT /api/v1/ledger-checks/{check_id}/items/{item_id}/score": "401 403 403 ok 404 403 403",
    "POST /api/v1/ledger-checks/{check_id}/conclude": "401 403 403 ok 404 403 403",
    "GET /api/v1/public/surveys/{public_id}": "ok ok ok ok ok ok ok",
    "POST /api/v1/public/surveys/{public_id}/answers": "ok ok ok ok ok ok ok",
    "POST /api/v1/surveys/staff-device": "401 ok ok ok ok ok ok",
    "GET /api/v1/surveys/results": "401 ok ok 403 403 403 403",
    "GET /api/v1/surveys/results.csv": "401 ok ok 403 403 403 403",
    "GET /api/v1/surveys/responses": "401 ok ok 403 403 403 403",
    "POST /api/v1/surveys/responses/{response_id}/review": "401 ok 404 403 403 403 403",
    "GET /api/v1/public/map.geojson": "ok ok ok ok ok ok ok",
}


@pytest.fixture(scope="module")
def world():
    return build_world()


def _routes(world) -> list[tuple[str, str]]:
    doc = world.app.test_client().get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path) for path, item in doc["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def _url(world, path: str) -> str:
    ids = dict(world.ids)
    if path.startswith("/api/v1/matters") or path.startswith("/api/v1/public/matters"):
        ids["code"] = "YY-01"
    if path.startswith("/api/v1/questionnaires"):
        ids["code"], ids["version"] = "SURVEY-INST", "1"
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def _call(world, method: str, path: str, role: str) -> int:
    client = world.app.test_client()
    kwargs = {"headers": world.headers[role]}
    body = BODIES.get(f"{method} {path}")
    if body is not None:
        kwargs.update(body(world))
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return getattr(client, method.lower())(_url(world, path), **kwargs).status_code


def _matches(expected: str, status: int) -> bool:
    if expected == "ok":
        return status not in DENIED and status < 500
    return status == int(expected)


def test_every_route_has_a_row_and_every_row_holds(world):
    routes = _routes(world)
    keys = [f"{method} {path}" for method, path in routes]
    observed: dict[str, dict[str, int]] = {}
    for method, path in routes:
        observed[f"{method} {path}"] = {role: _call(world, method, path, role) for role in RUN_ORDER}
    if os.environ.get("AUTHZ_RECORD"):
        for key in keys:
            row = " ".join(("ok" if observed[key][r] not in DENIED and observed[key][r] < 500
                            else str(observed[key][r])) for r in ROLES)
            print(f'    "{key}": "{row}",')
        pytest.fail("recording mode: copy the rows above into MATRIX after reviewing them")
    missing = [k for k in keys if k not in MATRIX]
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    stale = [k for k in MATRIX if k not in keys]
    assert not stale, f"rows for routes that no longer exist: {stale}"
    wrong = []
    for key in keys:
        expected = MATRIX[key].split()
        assert len(expected) == len(ROLES), key
        for role, exp in zip(ROLES, expected):
            if not _matches(exp, observed[key][role]):
                wrong.append(f"{key} as {role}: expected {exp}, got {observed[key][role]}")
    assert not wrong, "\n".join(wrong)
    assert all(s < 500 for row in observed.values() for s in row.values())
