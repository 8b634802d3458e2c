"""C0 control characters are refused in every text field; exports survive data stored before (issue #13 item 9)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from inspect_api.clock import utcnow
from inspect_api.directory.models import Institution
from inspect_api.schemas import MULTILINE_FIELDS
from tests.conftest import assert_error

DUMMY_ID = "6b0b44cd2f0f933b5fdee3cb"
BELL = "张\u0007三"
NOT_TEXT = ("binary", "uuid", "date", "date-time", "email")  # parsed before any text rule applies


def _string_properties(spec: dict, schema: dict) -> dict[str, dict]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        typed = prop.get("items") or {} if prop.get("type") == "array" else prop
        if typed.get("type") == "string" and typed.get("format") not in NOT_TEXT:
            out[name] = prop
    return out


def _cases(app):
    spec = app.extensions["inspect_api_spec"].spec.to_dict()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch"):
                continue
            content = ((op.get("requestBody") or {}).get("content") or {})
            for mime in ("application/json", "multipart/form-data"):
                if mime in content:
                    for name, prop in _string_properties(spec, content[mime]["schema"]).items():
                        yield method.upper(), re.sub(r"\{[^}]+\}", DUMMY_ID, path), mime, name, prop


@pytest.fixture
def callers(app, make_user, as_user):
    institution = Institution.objects.first()
    return [as_user(make_user("office_admin", "370000")), as_user(make_user("inspector", "370300")),
            as_user(make_user("institution", "370300",
                              institution_id=str(institution.id) if institution else None))]


# Uploaded documents (YAML/JSON) are checked whole by the checklists library: control characters are among
# the problems it lists, tab and line breaks are allowed anywhere in them (multi-line YAML text).
DOCUMENT_CODES = ("CHECKLIST_INVALID", "QUESTIONNAIRE_INVALID")


def _send(client, method, path, mime, headers, name, value, is_list):
    value = [value] if is_list else value
    if mime == "application/json":
        return client.open(path, method=method, headers=headers, json={name: value})
    return client.open(path, method=method, headers=headers, data={name: value},
                       content_type="multipart/form-data")


def test_every_text_field_of_every_body_refuses_control_characters(app, client, callers):
    """Each string field of each documented body, alone: a bell character is a 422 naming that field
    (tab and line breaks only where the field is multi-line)."""
    checked = 0
    for method, path, mime, name, prop in _cases(app):
        is_list = prop.get("type") == "array"
        location = "json" if mime == "application/json" else "form"
        for headers in callers:
            r = _send(client, method, path, mime, headers, name, "a\u0007b", is_list)
            if r.status_code in (401, 403):
                continue
            err = assert_error(r, 422)
            if err["code"] in DOCUMENT_CODES:  # a checklist or questionnaire: its validator lists every problem
                assert any(p["path"] in (name, f"{name}[0]") and "U+0007" in p["message"] for p in err["details"]["problems"]), \
                    (method, path, name, err)
                checked += 1
                break
            assert location in err["details"]["fields"], (method, path, name, err)
            messages = str(err["details"]["fields"][location].get(name))
            assert "控制字符" in messages and "U+0007" in messages, (method, path, name, err)
            lines = _send(client, method, path, mime, headers, name, "第一行\n第二行\t续", is_list)
            line_messages = str(((lines.get_json() or {}).get("error", {}).get("details", {}).get("fields", {})
                                 .get(location) or {}).get(name))
            assert ("控制字符" in line_messages) is (name not in MULTILINE_FIELDS), (method, path, name)
            checked += 1
            break
        else:
            pytest.fail(f"no role reaches the body of {method} {path}")
    assert checked > 60, checked


def test_the_reviewed_case_a_contact_name_with_a_bell_is_422_naming_the_field(client, make_user, as_user):
    import random

    from inspect_api.directory.creditcode import generate

    office = as_user(make_user("office_admin", "370300"))
    body = {"name": "淄川区测试医养结合中心", "credit_code": generate(random.Random(3), "370302"), "kind": "combined",
            "region": "370302", "contact_name": BELL}
    err = assert_error(client.post("/api/v1/institutions", json=body, headers=office), 422)
    assert list(err["details"]["fields"]["json"]) == ["contact_name"]
    assert Institution.objects.count() == 0
    created = client.post("/api/v1/institutions", json=body | {"contact_name": "张三"}, headers=office)
    assert created.status_code == 201, created.get_json()
    err = assert_error(client.patch(f"/api/v1/institutions/{created.get_json()['id']}", json={"address": "松龄路\n1号"},
                                    headers=office), 422)
    assert list(err["details"]["fields"]["json"]) == ["address"]


def test_query_values_with_control_characters_are_refused(client):
    err = assert_error(client.get("/api/v1/public/results?region=3703%0700"), 422, "VALIDATION_ERROR")
    assert "region" in err["details"]["fields"]["query"]
    assert client.get("/p/results?region=3703%0700").status_code == 422


def _legacy_institution(office_region="370300") -> Institution:
    """An institution stored before input refused control characters."""
    from tests.draws.plan_fixtures import institution

    inst = institution("370302", name="康宁\u0001医养中心")
    Institution.objects(id=inst.id).update_one(set__contact_name=BELL, set__address="松龄路\u000b1号",
                                               set__updated_at=utcnow())
    return Institution.objects.get(id=inst.id)


def test_exports_do_not_fail_on_control_characters_already_stored(client, make_user, as_user):
    office = as_user(make_user("office_admin", "370300"))
    _legacy_institution()
    xlsx = client.get("/api/v1/institutions/export.xlsx", headers=office)
    assert xlsx.status_code == 200, xlsx.get_data(as_text=True)[:300]
    rows = list(load_workbook(io.BytesIO(xlsx.data)).worksheets[0].iter_rows(values_only=True))
    assert "康宁医养中心" in rows[1] and "张三" in rows[1] and "松龄路1号" in rows[1]
    csv = client.get("/api/v1/institutions/export.csv", headers=office)
    assert csv.status_code == 200
    text = csv.data.decode("utf-8-sig")
    assert "张三" in text and "\u0007" not in text and "\u0001" not in text


def test_import_refuses_cells_with_control_characters_naming_row_and_column(client, make_user, as_user):
    from inspect_api.directory.creditcode import generate
    import random

    office = as_user(make_user("office_admin", "370300"))
    code = generate(random.Random(7), "370300")
    text = f"机构名称,统一社会信用代码,机构类型,行政区划代码,联系人\n康宁医养中心,{code},医养结合机构,370302,{BELL}\n"
    r = client.post("/api/v1/institutions/import", data={"file": (io.BytesIO(text.encode("utf-8")), "a.csv")},
                    content_type="multipart/form-data", headers=office)
    err = assert_error(r, 422, "IMPORT_ROWS_INVALID")
    assert {"row": 2, "column": "联系人", "code": "CONTROL_CHARACTER"}.items() <= err["details"]["errors"][0].items()
    assert Institution.objects.count() == 0
