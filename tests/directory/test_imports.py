"""Spreadsheet import/export: dry run, all-or-nothing, idempotence, bad files, scope, formula injection."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timezone

from openpyxl import Workbook, load_workbook

from inspect_api.directory.creditcode import generate
from inspect_api.directory.imports import INSPECTOR_COLUMNS, INSTITUTION_COLUMNS
from inspect_api.directory.models import Conflict, Inspector, Institution
from inspect_api.directory.spreadsheets import neutralise
from tests.conftest import assert_error

HEADERS = [c.header for c in INSTITUTION_COLUMNS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def inst_row(n: int, code: str, region: str = "370302", **over) -> list:
    row = {"机构名称": f"淄川区第{n}养老服务中心", "统一社会信用代码": code, "机构类型": "医养结合机构（两证齐全）",
           "服务模式": "医中延养、养中融医", "行政区划代码": region, "地址": f"山东省淄博市淄川区般阳路{n}号",
           "纬度": 36.65, "经度": 117.97, "养老床位": 100, "医疗床位": 20, "联系人": "王建国",
           "联系电话": "0533-5180000", "状态": "正常", "医疗机构执业许可证号": f"PDY{n:08d}",
           "许可证有效期自": "2023-01-01", "许可证有效期至": "2028-12-31", "养老机构备案号": f"鲁370302养备{n:04d}"} | over
    return [row[h] for h in HEADERS]


def upload(client, headers, data: bytes, filename: str, *, dry_run=False, what="institutions",
           content_type="application/octet-stream"):
    url = f"/api/v1/{what}/import" + ("?dry_run=1" if dry_run else "")
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename, content_type)})


def test_thousand_rows_dry_run_then_import_then_repeat(client, office):
    rng = random.Random(7)
    codes = [generate(rng, "370302") for _ in range(1000)]
    rows = [inst_row(n, codes[n], region=("370302", "370303", "370304")[n % 3]) for n in range(1000)]
    bad = dict(rows=[])
    broken = [list(r) for r in rows]
    broken[10][1] = codes[10][:17] + ("0" if codes[10][17] != "0" else "1")  # wrong check character (row 12)
    broken[500][2] = "美容院"  # unknown kind (row 502)
    broken[999][6] = 95.0  # latitude out of range (row 1001)
    h = office[1]
    r = upload(client, h, xlsx(broken), "机构名录.xlsx", dry_run=True)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["dry_run"] is True and report["valid"] is False and report["rows"] == 1000
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(12, "统一社会信用代码"), (502, "机构类型"),
                                                                   (1001, "纬度")]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in report["errors"])
    assert Institution.objects.count() == 0
    # the real import of the broken file writes nothing either
    err = assert_error(upload(client, h, xlsx(broken), "机构名录.xlsx"), 422, "IMPORT_ROWS_INVALID")
    assert len(err["details"]["errors"]) == 3
    assert Institution.objects.count() == 0
    del bad
    fixed = xlsx(rows)
    r = upload(client, h, fixed, "机构名录.xlsx")
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["created"], r.get_json()["updated"], r.get_json()["unchanged"]) == (1000, 0, 0)
    assert Institution.objects.count() == 1000
    assert len(set(Institution.objects.scalar("public_id"))) == 1000
    stored = Institution.objects(credit_code=codes[0]).first()
    assert stored.tags == ["医中延养", "养中融医"] and stored.care_beds == 100
    assert [lic.kind for lic in stored.licences] == ["medical_licence", "care_filing"]
    before = {d["_id"]: d for d in Institution.objects.as_pymongo()}
    r = upload(client, h, fixed, "机构名录.xlsx")
    assert (r.get_json()["created"], r.get_json()["updated"], r.get_json()["unchanged"]) == (0, 0, 1000)
    assert {d["_id"]: d for d in Institution.objects.as_pymongo()} == before


def test_update_by_credit_code_and_absent_columns_untouched(client, office, codes):
    h = office[1]
    code = codes()
    assert upload(client, h, xlsx([inst_row(1, code)]), "a.xlsx").get_json()["created"] == 1
    created = Institution.objects(credit_code=code).first()
    conflict = Conflict(inspector_id="0" * 24, institution_id=str(created.id), reason="relative", region="370302",
                        institution_name=created.name, created_at=datetime.now(timezone.utc))
    conflict.save()
    headers = ["统一社会信用代码", "机构名称", "机构类型", "行政区划代码", "养老床位"]
    r = upload(client, h, xlsx([[code, "改名后的中心", "combined", "370302", 150]], headers), "b.xlsx")
    assert (r.get_json()["updated"], r.get_json()["created"]) == (1, 0)
    doc = Institution.objects(credit_code=code).first()
    assert doc.name == "改名后的中心" and doc.care_beds == 150 and doc.contact_name == "王建国"
    assert Conflict.objects.get(id=conflict.id).institution_name == "改名后的中心"  # a conflict lists today's name


def test_duplicate_code_inside_one_import(client, office, codes):
    code = codes()
    r = upload(client, office[1], xlsx([inst_row(1, code), inst_row(2, codes()), inst_row(3, code)]), "d.xlsx",
               dry_run=True)
    errors = r.get_json()["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(4, "DUPLICATE_IN_FILE")]
    assert "第 2 行" in errors[0]["message"]


def test_duplicate_code_against_store_outside_scope(client, office, county_office, new_institution):
    other = new_institution(region="370303")
    row = inst_row(1, other["credit_code"], region="370302")
    r = upload(client, county_office[1], xlsx([row]), "x.xlsx", dry_run=True)
    assert [(e["row"], e["code"]) for e in r.get_json()["errors"]] == [(2, "REGION_OUT_OF_SCOPE")]
    assert_error(upload(client, county_office[1], xlsx([row]), "x.xlsx"), 403, "REGION_OUT_OF_SCOPE")
    assert Institution.objects.get(id=other["id"]).region == "370303"


def test_county_office_importing_into_another_county(client, county_office, codes):
    rows = [inst_row(1, codes(), region="370302"), inst_row(2, codes(), region="370303")]
    r = upload(client, county_office[1], xlsx(rows), "x.xlsx", dry_run=True)
    assert [(e["row"], e["column"], e["code"]) for e in r.get_json()["errors"]] == \
        [(3, "行政区划代码", "REGION_OUT_OF_SCOPE")]
    assert_error(upload(client, county_office[1], xlsx(rows), "x.xlsx"), 403, "REGION_OUT_OF_SCOPE")
    assert Institution.objects.count() == 0


def test_row_level_bad_input_reported(client, office, codes):
    rows = [inst_row(1, codes().lower()), inst_row(2, codes(), region="370399"), inst_row(3, codes(), 经度=200),
            inst_row(4, codes()[:-1]), inst_row(5, "91350100M0001OOY43"), inst_row(6, codes(), 服务模式="美容"),
            inst_row(7, codes(), 纬度="")]
    errors = upload(client, office[1], xlsx(rows), "x.xlsx", dry_run=True).get_json()["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [
        (2, "CREDIT_CODE_INVALID"), (3, "REGION_UNKNOWN"), (4, "LOCATION_OUT_OF_RANGE"), (5, "CREDIT_CODE_INVALID"),
        (6, "CREDIT_CODE_INVALID"), (7, "TAG_UNKNOWN"), (8, "LOCATION_INCOMPLETE")]


def test_missing_required_column(client, office):
    data = xlsx([["某机构"]], headers=["机构名称"])
    err = assert_error(upload(client, office[1], data, "x.xlsx", dry_run=True), 422, "IMPORT_COLUMNS_MISSING")
    assert "统一社会信用代码" in err["details"]["missing"]


def test_xlsx_that_is_not_a_spreadsheet(client, office):
    h = office[1]
    assert_error(upload(client, h, b"MZ\x90\x00 this is an executable", "evil.xlsx"), 422, "IMPORT_NOT_SPREADSHEET")
    assert_error(upload(client, h, b"%PDF-1.7 ...", "x.csv.xlsx",
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                 422, "IMPORT_NOT_SPREADSHEET")
    zipped = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    assert_error(upload(client, h, zipped.getvalue(), "fake.xlsx"), 422, "IMPORT_NOT_SPREADSHEET")
    assert_error(upload(client, h, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old.xls"), 422,
                 "IMPORT_FORMAT_UNSUPPORTED")


def test_csv_encodings(client, office, codes):
    h = office[1]
    utf8_bom = b"\xef\xbb\xbf" + csv_bytes([inst_row(1, codes())])
    r = upload(client, h, utf8_bom, "a.csv", dry_run=True)
    assert r.status_code == 200 and r.get_json()["valid"] and r.get_json()["created"] == 1
    gb = csv_bytes([inst_row(2, codes())], encoding="gb18030")
    r = upload(client, h, gb, "b.csv")
    assert r.status_code == 200 and r.get_json()["created"] == 1
    assert Institution.objects.first().name == "淄川区第2养老服务中心"
    plain = csv_bytes([inst_row(3, codes())])
    assert upload(client, h, plain, "c.csv").get_json()["created"] == 1


def test_csv_with_broken_encoding(client, office):
    broken = "机构名称,统一社会信用代码\n".encode("utf-8") + b"\xff\xfe\x80\x80\xff,abc\n"
    assert_error(upload(client, office[1], broken, "broken.csv"), 422, "IMPORT_ENCODING_INVALID")
    assert Institution.objects.count() == 0


def test_fifty_megabyte_upload_is_413(client, office):
    big = b"a" * (50 * 1024 * 1024)
    r = upload(client, office[1], big, "big.csv")
    assert_error(r, 413)


def test_import_cap_from_config(app_factory, make_user):
    app = app_factory(max_import_bytes=1024)
    with app.app_context():
        from tests.conftest import TEST_PASSWORD
        from inspect_api.auth import passwords
        from inspect_api.auth.models import User
        from inspect_api.clock import utcnow
        User(username="cap_office", password_hash=passwords.hash_password(TEST_PASSWORD), role="office_admin",
             region="370300", created_at=utcnow()).save()
        c = app.test_client()
        token = c.post("/api/v1/auth/login", json={"username": "cap_office", "password": TEST_PASSWORD}).get_json()
        headers = {"Authorization": "Bearer " + token["access_token"]}
        assert_error(upload(c, headers, b"x" * 5000, "x.csv"), 413, "IMPORT_TOO_LARGE")


def test_import_requires_office_and_file(client, office, make_user, login):
    assert_error(client.post("/api/v1/institutions/import", headers=office[1], content_type="multipart/form-data",
                             data={}), 422)
    inst_user = make_user("inspector", "370302", username="someone")
    assert_error(upload(client, login(inst_user), b"a,b\n", "x.csv"), 403)


def test_export_neutralises_formulas(client, office, new_institution):
    h = office[1]
    new_institution(name="=cmd|' /C calc'!A0", contact_name="+SUM(1,2)", address="@evil", contact_phone="-1+1")
    tabbed = new_institution(name="HYPERLINK", region="370303")  # a tab is refused at input now: stored earlier
    Institution.objects(id=tabbed["id"]).update_one(set__name="\t=HYPERLINK(\"x\")")
    r = client.get("/api/v1/institutions/export.csv", headers=h)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["机构名称", "统一社会信用代码", "机构类型"]
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'+SUM(1,2)" in cells and "'@evil" in cells and "'-1+1" in cells
    assert "'\t=HYPERLINK(\"x\")" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)
    r = client.get("/api/v1/institutions/export.xlsx", headers=h)
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert "'=cmd|' /C calc'!A0" in values
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert neutralise("\rx") == "'\rx" and neutralise(-5) == -5 and neutralise("正常") == "正常"


def test_export_respects_filters_and_scope_and_round_trips(client, office, county_office, new_institution):
    new_institution(name="淄川A", region="370302", kind="combined")
    new_institution(name="张店B", region="370303", kind="care_home_clinic")
    r = client.get("/api/v1/institutions/export.csv?kind=care_home_clinic", headers=office[1])
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["张店B"]
    r = client.get("/api/v1/institutions/export.xlsx", headers=county_office[1])
    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    assert [row[0] for row in ws.iter_rows(min_row=2, values_only=True)] == ["淄川A"]
    again = upload(client, county_office[1], r.data, "export.xlsx").get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_templates_have_chinese_headers(client, office):
    for what, columns in (("institutions", INSTITUTION_COLUMNS), ("inspectors", INSPECTOR_COLUMNS)):
        r = client.get(f"/api/v1/{what}/import-template.xlsx", headers=office[1])
        assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
        wb = load_workbook(io.BytesIO(r.data))
        header = [c.value for c in next(wb.worksheets[0].iter_rows())]
        assert header == [c.header + ("*" if c.required else "") for c in columns]
        assert wb.worksheets[1].title == "填写说明"


def test_inspector_import_idempotent(client, office):
    headers = [c.header for c in INSPECTOR_COLUMNS]
    rows = [["王建国", "37030210001", "卫生健康", "370302", "医疗监督、护理质量", "是", 20, "13900000001"],
            ["李秀英", "37030320002", "civil_affairs", "370303", "养老服务", "否", "", ""],
            ["赵某", "37030320003", "城管", "370303", "", "是", 0, ""]]
    h = office[1]
    report = upload(client, h, xlsx(rows, headers), "i.xlsx", what="inspectors", dry_run=True).get_json()
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "所属部门"), (4, "年度任务上限")]
    rows.pop()
    r = upload(client, h, csv_bytes(rows, headers, "gb18030"), "i.csv", what="inspectors")
    assert r.get_json()["created"] == 2
    again = upload(client, h, xlsx(rows, headers), "i.xlsx", what="inspectors").get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    li = Inspector.objects(certificate_no="37030320002").first()
    assert li.department == "civil_affairs" and li.active is False and li.load_cap == 25
    conflict = Conflict(inspector_id=str(li.id), institution_id="0" * 24, reason="relative", region="370303",
                        inspector_name=li.name, created_at=datetime.now(timezone.utc))
    conflict.save()
    rows[1][0] = "李秀瑛"  # a corrected name: a conflict lists today's name
    assert upload(client, h, xlsx(rows, headers), "i.xlsx", what="inspectors").get_json()["updated"] == 1
    assert Conflict.objects.get(id=conflict.id).inspector_name == "李秀瑛"
    exported = client.get("/api/v1/inspectors/export.csv", headers=h).data.decode("utf-8-sig")
    assert "37030210001" in exported and "卫生健康" in exported


def test_import_moving_an_institution_moves_its_conflicts(client, office, county_office, new_institution,
                                                          make_user, login):
    h = office[1]
    inst = new_institution(region="370302")
    declared = client.post("/api/v1/inspectors", headers=h, json={
        "name": "王建国", "certificate_no": "37030210001", "department": "health", "region": "370302"}).get_json()
    employed = client.post("/api/v1/inspectors", headers=h, json={
        "name": "李晓梅", "certificate_no": "37030210002", "department": "health", "region": "370302",
        "employment_history": [inst["id"]]}).get_json()
    r = client.post("/api/v1/conflicts", headers=h, json={"inspector_id": declared["id"],
                                                          "institution_id": inst["id"], "reason": "declared"})
    assert r.status_code == 201
    rows = client.get(f"/api/v1/conflicts?institution_id={inst['id']}", headers=county_office[1]).get_json()
    assert rows["total"] == 2 and {c["region"] for c in rows["items"]} == {"370302"}

    # The city office re-files the institution under Zhoucun (370303) by importing it.
    headers = ["统一社会信用代码", "机构名称", "机构类型", "行政区划代码"]
    moved = upload(client, h, xlsx([[inst["credit_code"], inst["name"], "combined", "370303"]], headers), "m.xlsx")
    assert moved.status_code == 200 and moved.get_json()["updated"] == 1, moved.get_json()
    assert Institution.objects.get(id=inst["id"]).region == "370303"

    # Its conflicts went with it: Zichuan no longer sees them, Zhoucun does.
    assert client.get(f"/api/v1/conflicts?institution_id={inst['id']}",
                      headers=county_office[1]).get_json()["total"] == 0
    zhoucun = login(make_user("office_admin", "370303", username="zhoucun_office"))
    rows = client.get(f"/api/v1/conflicts?institution_id={inst['id']}", headers=zhoucun).get_json()
    assert rows["total"] == 2 and {c["region"] for c in rows["items"]} == {"370303"}
    assert {c["inspector_id"] for c in rows["items"]} == {declared["id"], employed["id"]}
    conflict_id = rows["items"][0]["id"]
    assert_error(client.get(f"/api/v1/conflicts/{conflict_id}", headers=county_office[1]), 404)
    assert client.get(f"/api/v1/conflicts/{conflict_id}", headers=zhoucun).status_code == 200
