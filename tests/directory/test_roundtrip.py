"""Export → import of an unchanged file changes nothing, in CSV and XLSX (issue #13 item 13)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from inspect_api.directory.imports import EXPORT_EXTRA, INSPECTOR_COLUMNS, INSTITUTION_COLUMNS
from inspect_api.directory.models import Inspector, Institution, Licence
from tests.conftest import assert_error


def _header(data: bytes, fmt: str) -> list[str]:
    if fmt == "csv":
        return next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [c for c in next(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))]


def _import(client, headers, what, data, fmt, *, dry_run):
    url = f"/api/v1/{what}/import" + ("?dry_run=1" if dry_run else "")
    r = client.post(url, headers=headers, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), f"{what}.{fmt}")})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _snapshot(model) -> list[dict]:
    return [{k: v for k, v in doc.to_mongo().to_dict().items() if k not in ("updated_at",)}
            for doc in model.objects.order_by("id")]


@pytest.fixture
def directory(office, new_institution, client):
    full = new_institution(name="淄川区康宁医养中心", region="370302", kind="combined", tags=["养中融医", "医中延养"],
                           address="淄博市淄川区松龄路1号", location={"lat": 36.6512345, "lon": 117.9765432},
                           care_beds=120, medical_beds=20, contact_name="王院长", contact_phone="0533-5180000")
    Institution.objects(id=full["id"]).update_one(
        set__tags=["养中融医", "医中延养"],  # stored out of the canonical order (as older data may be)
        set__licences=[Licence(kind="medical_licence", number="PDY00001", valid_from=date(2022, 8, 3),
                               valid_until=date(2027, 3, 29)),
                       Licence(kind="care_filing", number="鲁370302养备0001", valid_from=date(2021, 1, 5)),
                       Licence(kind="medical_filing", number="备案-77")])
    new_institution(name="周村区社区医养服务站", region="370306", kind="community_station")
    bare = new_institution(name="张店区颐养院", region="370303", kind="care_home_clinic")
    Institution.objects(id=bare["id"]).update_one(set__status="suspended")
    h = office[1]
    for body in ({"name": "张建国", "certificate_no": "37030100001", "department": "health", "region": "370302",
                  "qualifications": ["医疗", "护理"], "load_cap": 12, "phone": "13800000001"},
                 {"name": "李晓梅", "certificate_no": "37030100002", "department": "civil_affairs",
                  "region": "370303"}):
        assert client.post("/api/v1/inspectors", json=body, headers=h).status_code == 201
    return h


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("what,model,columns", [("institutions", Institution, INSTITUTION_COLUMNS),
                                                ("inspectors", Inspector, INSPECTOR_COLUMNS)])
def test_an_unchanged_export_imports_as_zero_updates(client, directory, fmt, what, model, columns):
    before = _snapshot(model)
    data = client.get(f"/api/v1/{what}/export.{fmt}", headers=directory).data
    header = _header(data, fmt)
    # Every column an import accepts is exported (then the extras, e.g. the public id).
    assert header == [c.header for c in columns] + [h for _k, h in EXPORT_EXTRA[what]]
    for dry_run in (True, False):
        report = _import(client, directory, what, data, fmt, dry_run=dry_run)
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, len(before)), report
    assert _snapshot(model) == before  # nothing lost: licence start dates, filings, tags, locations


def test_licence_start_dates_are_exported_and_kept_by_files_without_the_column(client, directory):
    data = client.get("/api/v1/institutions/export.csv", headers=directory).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    kangning = next(r for r in rows if r["机构名称"] == "淄川区康宁医养中心")
    assert kangning["许可证有效期自"] == "2022-08-03" and kangning["许可证有效期至"] == "2027-03-29"
    # An office's own sheet without the start-date column: the stored start date stays.
    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["机构名称", "统一社会信用代码", "机构类型", "行政区划代码", "医疗机构执业许可证号", "许可证有效期至"])
    writer.writerow([kangning["机构名称"], kangning["统一社会信用代码"], kangning["机构类型"], "370302",
                     "PDY00001", "2028-12-31"])
    report = _import(client, directory, "institutions", sheet.getvalue().encode(), "csv", dry_run=False)
    assert report["updated"] == 1
    licences = {lic.kind: lic for lic in Institution.objects.get(name="淄川区康宁医养中心").licences}
    assert licences["medical_licence"].valid_from == date(2022, 8, 3)
    assert licences["medical_licence"].valid_until == date(2028, 12, 31)
    assert licences["care_filing"].number == "鲁370302养备0001"  # its column is absent: kept
    assert licences["medical_filing"].number == "备案-77"


def test_a_new_licence_number_starts_without_the_old_dates_and_bad_dates_are_row_errors(client, directory):
    kangning = Institution.objects.get(name="淄川区康宁医养中心")
    sheet = ("机构名称,统一社会信用代码,机构类型,行政区划代码,医疗机构执业许可证号,许可证有效期自,许可证有效期至\n"
             f"{kangning.name},{kangning.credit_code},医养结合机构（两证齐全）,370302,PDY00009,,2030-01-01\n")
    assert _import(client, directory, "institutions", sheet.encode(), "csv", dry_run=False)["updated"] == 1
    medical = next(lic for lic in Institution.objects.get(id=kangning.id).licences if lic.kind == "medical_licence")
    assert (medical.number, medical.valid_from, medical.valid_until) == ("PDY00009", None, date(2030, 1, 1))
    sheet = sheet.replace(",,2030-01-01", ",2031-01-01,2030-01-01")
    r = client.post("/api/v1/institutions/import", headers=directory, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(sheet.encode()), "x.csv")})
    err = assert_error(r, 422, "IMPORT_ROWS_INVALID")
    assert err["details"]["errors"][0]["code"] == "LICENCE_DATES_INVALID"
