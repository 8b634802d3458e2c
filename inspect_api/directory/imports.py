"""Spreadsheet import, template and export of the directories.

An import first validates every row (reporting ``{row, column, message}``
for each problem, row numbers as the spreadsheet shows them) and writes only
when no row has an error: all or nothing.  It upserts by credit code
(institutions) or certificate number (inspectors), so running the same file
again changes nothing and reports the rows as unchanged.  Columns present in
the file are applied (an empty optional cell clears the field); columns
absent from the file leave the stored values alone.  Unknown columns (such as
the ``公开编号`` of an export) are ignored, so an export can be edited and
imported back.

Without transactions the write phase is one bulk insert plus one update per
changed row; if it is interrupted, running the import again completes it
(creates what is missing, reports the rest unchanged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from inspect_api.audit import service as audit
from inspect_api.auth.service import actor_of
from inspect_api.directory.checks import require_office
from inspect_api.directory.institutions import INSTITUTION_FIELDS, apply_institution, location_error, move_conflicts_with, new_public_id, point_latlon
from inspect_api.directory.inspectors import rename_in_conflicts
from inspect_api.directory.regions import known_region_codes, region_names
from inspect_api.directory.creditcode import credit_code_error
from inspect_api.directory.models import (DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES, SERVICE_TAGS,
                                          Inspector, Institution, Licence, RiskProfile)
from inspect_api.directory.spreadsheets import read_table, write_csv, write_xlsx
from inspect_api.errors import Forbidden, Unprocessable
from inspect_api.schemas import control_character_error
from inspect_api.scoping import in_scope


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    note: str = ""


INSTITUTION_COLUMNS = [
    Column("name", "机构名称", True, "不超过 128 字"),
    Column("credit_code", "统一社会信用代码", True, "18 位，大写字母，校验码须正确"),
    Column("kind", "机构类型", True, "、".join(INSTITUTION_KINDS.values()) + "（或英文代码）"),
    Column("tags", "服务模式", False, "可多选，用顿号分隔：" + "、".join(SERVICE_TAGS)),
    Column("region", "行政区划代码", True, "六位代码，须在本辖区内"),
    Column("address", "地址"),
    Column("lat", "纬度", False, "WGS-84，-90 到 90，与经度同时填写"),
    Column("lon", "经度", False, "WGS-84，-180 到 180"),
    Column("care_beds", "养老床位", False, "非负整数"),
    Column("medical_beds", "医疗床位", False, "非负整数"),
    Column("contact_name", "联系人"),
    Column("contact_phone", "联系电话"),
    Column("status", "状态", False, "正常、暂停、关闭，默认正常"),
    Column("medical_licence_no", "医疗机构执业许可证号"),
    Column("medical_licence_from", "许可证有效期自", False, "日期，如 2022-08-03"),
    Column("medical_licence_until", "许可证有效期至", False, "日期，如 2027-12-31"),
    Column("care_filing_no", "养老机构备案号"),
]
INSPECTOR_COLUMNS = [
    Column("name", "姓名", True),
    Column("certificate_no", "执法证号", True, "不超过 32 位，不含空格"),
    Column("department", "所属部门", True, "、".join(DEPARTMENTS.values()) + "（或英文代码）"),
    Column("region", "行政区划代码", True, "六位代码，须在本辖区内"),
    Column("qualifications", "资质标签", False, "可多个，用顿号分隔"),
    Column("active", "是否在岗", False, "是或否，默认是"),
    Column("load_cap", "年度任务上限", False, "正整数，默认 25"),
    Column("phone", "联系电话"),
]
EXPORT_EXTRA = {"institutions": [("public_id", "公开编号")], "inspectors": []}
LIST_SPLIT = re.compile(r"[、,，;；/|\s]+")
TRUE_WORDS = {"是", "在岗", "true", "1", "yes", "y"}
FALSE_WORDS = {"否", "不在岗", "离岗", "false", "0", "no", "n"}


def _lookup(value: str, options: dict[str, str]) -> str | None:
    if value in options:
        return value
    for code, label in options.items():
        if value == label:
            return code
    return None


@dataclass
class RowResult:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, column: Column | str, message: str, code: str = "INVALID") -> None:
        header = column.header if isinstance(column, Column) else column
        self.errors.append({"row": self.row, "column": header, "message": message, "code": code})


def _map_headers(header: list[str], columns: list[Column]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, text in enumerate(header):
        for column in columns:
            if text in (column.header, column.key) and column.key not in index:
                index[column.key] = position
    missing = [c.header for c in columns if c.required and c.key not in index]
    if missing:
        raise Unprocessable("缺少必填列：" + "、".join(missing), code="IMPORT_COLUMNS_MISSING",
                            details={"missing": missing, "expected": [c.header for c in columns]})
    return index


def _cells(index: dict[str, int], cells: list[str]) -> dict[str, str]:
    return {key: (cells[pos] if pos < len(cells) else "") for key, pos in index.items()}


def _int(result: RowResult, column: Column, text: str, *, minimum: int) -> int | None:
    try:
        number = int(text)
    except ValueError:
        result.error(column, "应为整数")
        return None
    if number < minimum:
        result.error(column, f"应不小于 {minimum}")
        return None
    return number


def _date(result: RowResult, column: Column, text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    result.error(column, "日期格式应为 YYYY-MM-DD")
    return None


def _region(result: RowResult, column: Column, text: str, user, regions: set[str]) -> str | None:
    if not re.fullmatch(r"[1-9][0-9]{5}", text) or text not in regions:
        result.error(column, "未知的行政区划代码", "REGION_UNKNOWN")
        return None
    if not in_scope(user.region, text):
        result.error(column, "不在本辖区内，不能导入", "REGION_OUT_OF_SCOPE")
        return None
    return text


def _parse_institution(result: RowResult, raw: dict[str, str], user, regions: set[str]) -> None:
    cols = {c.key: c for c in INSTITUTION_COLUMNS}
    values = result.values
    name = raw.get("name", "")
    if not name:
        result.error(cols["name"], "必填")
    elif len(name) > 128:
        result.error(cols["name"], "不超过 128 字")
    else:
        values["name"] = name
    code = raw.get("credit_code", "")
    message = credit_code_error(code)
    if message:
        result.error(cols["credit_code"], message, "CREDIT_CODE_INVALID")
    else:
        values["credit_code"] = code
    kind = _lookup(raw.get("kind", ""), INSTITUTION_KINDS)
    if kind is None:
        result.error(cols["kind"], "未知的机构类型：" + (raw.get("kind") or "（空）"), "KIND_UNKNOWN")
    else:
        values["kind"] = kind
    if "tags" in raw:
        tags = [t for t in LIST_SPLIT.split(raw["tags"]) if t]
        unknown = [t for t in tags if t not in SERVICE_TAGS]
        if unknown:
            result.error(cols["tags"], "未知的服务模式：" + "、".join(unknown), "TAG_UNKNOWN")
        else:
            values["tags"] = tags
    region = _region(result, cols["region"], raw.get("region", ""), user, regions)
    if region:
        values["region"] = region
    for key, limit in (("address", 256), ("contact_name", 64), ("contact_phone", 32)):
        if key in raw:
            if len(raw[key]) > limit:
                result.error(cols[key], f"不超过 {limit} 字")
            else:
                values[key] = raw[key] or None
    if "lat" in raw or "lon" in raw:
        lat, lon = raw.get("lat", ""), raw.get("lon", "")
        if not lat and not lon:
            values["location"] = None
        elif not lat or not lon:
            result.error(cols["lat"] if not lat else cols["lon"], "经纬度须同时填写", "LOCATION_INCOMPLETE")
        else:
            message = location_error(lat, lon)
            if message:
                column = cols["lat"] if "纬度" in message or "数字" in message else cols["lon"]
                result.error(column, message, "LOCATION_OUT_OF_RANGE")
            else:
                values["location"] = {"lat": float(lat), "lon": float(lon)}
    for key in ("care_beds", "medical_beds"):
        if key in raw:
            values[key] = _int(result, cols[key], raw[key], minimum=0) if raw[key] else 0
    if "status" in raw:
        status = _lookup(raw["status"], INSTITUTION_STATUSES) if raw["status"] else "active"
        if status is None:
            result.error(cols["status"], "状态应为 正常、暂停 或 关闭", "STATUS_UNKNOWN")
        else:
            values["status"] = status
    if any(k in raw for k in ("medical_licence_no", "medical_licence_from", "medical_licence_until",
                              "care_filing_no")):
        # Per licence kind: the fields of the columns present (None: the row clears it); a kind whose
        # columns are absent keeps the stored licence.
        licences: dict[str, dict[str, Any] | None] = {}
        dated = raw.get("medical_licence_from") or raw.get("medical_licence_until")
        if raw.get("medical_licence_no"):
            licence: dict[str, Any] = {"number": raw["medical_licence_no"][:64]}
            for key, column in (("valid_from", "medical_licence_from"), ("valid_until", "medical_licence_until")):
                if column in raw:
                    licence[key] = _date(result, cols[column], raw[column]) if raw[column] else None
            if licence.get("valid_from") and licence.get("valid_until") and licence["valid_until"] < licence["valid_from"]:
                result.error(cols["medical_licence_until"], "有效期截止日期早于起始日期", "LICENCE_DATES_INVALID")
            licences["medical_licence"] = licence
        elif dated:
            result.error(cols["medical_licence_no"], "填写了有效期但缺少许可证号")
        elif "medical_licence_no" in raw:
            licences["medical_licence"] = None
        if "care_filing_no" in raw:
            licences["care_filing"] = {"number": raw["care_filing_no"][:64]} if raw["care_filing_no"] else None
        values["_licences"] = licences


def _parse_inspector(result: RowResult, raw: dict[str, str], user, regions: set[str]) -> None:
    cols = {c.key: c for c in INSPECTOR_COLUMNS}
    values = result.values
    name = raw.get("name", "")
    if not name or len(name) > 64:
        result.error(cols["name"], "必填，不超过 64 字")
    else:
        values["name"] = name
    cert = raw.get("certificate_no", "")
    if not cert or len(cert) > 32 or re.search(r"\s", cert):
        result.error(cols["certificate_no"], "必填，不超过 32 位且不含空格", "CERTIFICATE_INVALID")
    else:
        values["certificate_no"] = cert
    department = _lookup(raw.get("department", ""), DEPARTMENTS)
    if department is None:
        result.error(cols["department"], "未知的部门：" + (raw.get("department") or "（空）"), "DEPARTMENT_UNKNOWN")
    else:
        values["department"] = department
    region = _region(result, cols["region"], raw.get("region", ""), user, regions)
    if region:
        values["region"] = region
    if "qualifications" in raw:
        items = [t for t in LIST_SPLIT.split(raw["qualifications"]) if t]
        if any(len(t) > 32 for t in items):
            result.error(cols["qualifications"], "每个资质标签不超过 32 字")
        else:
            values["qualifications"] = items
    if "active" in raw:
        word = raw["active"].lower()
        if not word or word in TRUE_WORDS:
            values["active"] = True
        elif word in FALSE_WORDS:
            values["active"] = False
        else:
            result.error(cols["active"], "应为 是 或 否")
    if "load_cap" in raw:
        values["load_cap"] = _int(result, cols["load_cap"], raw["load_cap"], minimum=1) if raw["load_cap"] else 25
    if "phone" in raw:
        if len(raw["phone"]) > 32:
            result.error(cols["phone"], "不超过 32 位")
        else:
            values["phone"] = raw["phone"] or None


KINDS = {
    "institutions": {"columns": INSTITUTION_COLUMNS, "parse": _parse_institution, "key": "credit_code",
                     "model": Institution, "key_header": "统一社会信用代码", "label": "机构"},
    "inspectors": {"columns": INSPECTOR_COLUMNS, "parse": _parse_inspector, "key": "certificate_no",
                   "model": Inspector, "key_header": "执法证号", "label": "检查人员"},
}


def _merge_licences(existing: list[Licence] | None, imported: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored licences with the imported ones applied, in their stored order.

    ``imported`` maps a licence kind (medical licence, care filing) to the fields its columns gave,
    or to None when the row clears it; kinds it does not name are kept as stored.  A date whose
    column is absent keeps the stored value while the number stays the same.
    """
    out, applied = [], set()
    for lic in existing or []:
        stored = {"kind": lic.kind, "number": lic.number, "valid_from": lic.valid_from, "valid_until": lic.valid_until}
        if lic.kind not in imported or lic.kind in applied:
            out.append(stored)
            continue
        applied.add(lic.kind)
        given = imported[lic.kind]
        if given is not None:
            base = stored if given["number"] == lic.number else {"kind": lic.kind, "valid_from": None,
                                                                 "valid_until": None}
            out.append({**base, **given})
    for kind, given in imported.items():
        if kind not in applied and given is not None:
            out.append({"kind": kind, "valid_from": None, "valid_until": None, **given})
    return out


def run_import(user, what: str, data: bytes, *, filename: str | None, mimetype: str | None, dry_run: bool,
               now: datetime) -> dict[str, Any]:
    """Validate the whole file; with ``dry_run`` report only, else write all rows or none."""
    require_office(user)
    spec = KINDS[what]
    header, rows = read_table(data, filename, mimetype)
    index = _map_headers(header, spec["columns"])
    regions = known_region_codes()
    results: list[RowResult] = []
    first_seen: dict[str, int] = {}
    key_name = spec["key"]
    by_key = {c.key: c for c in spec["columns"]}
    for number, cells in rows:
        result = RowResult(number)
        raw = _cells(index, cells)
        for key, text in raw.items():  # as every text field of the API: no control characters
            message = control_character_error(text)
            if message:
                result.error(by_key[key], message, "CONTROL_CHARACTER")
        spec["parse"](result, raw, user, regions)
        key = result.values.get(key_name)
        if key:
            if key in first_seen:
                result.error(spec["key_header"], f"与第 {first_seen[key]} 行重复", "DUPLICATE_IN_FILE")
            else:
                first_seen[key] = number
        results.append(result)

    model = spec["model"]
    keys = [r.values[key_name] for r in results if r.values.get(key_name)]
    existing = {getattr(doc, key_name): doc for doc in model.objects(**{f"{key_name}__in": keys})} if keys else {}
    plan: list[tuple[str, RowResult, Any, list[str]]] = []
    for result in results:
        if result.errors:
            continue
        doc = existing.get(result.values[key_name])
        if doc is None:
            plan.append(("create", result, None, []))
            continue
        if not in_scope(user.region, doc.region):
            result.error(spec["key_header"], f"该{spec['label']}已登记在本辖区以外，不能导入", "REGION_OUT_OF_SCOPE")
            continue
        changed = _changes(what, doc, result.values)
        plan.append(("update" if changed else "unchanged", result, doc, changed))

    errors = [e for r in results for e in r.errors]
    counts = {kind: sum(1 for p in plan if p[0] == kind) for kind in ("create", "update", "unchanged")}
    report = {"dry_run": dry_run, "rows": len(results), "valid": not errors, "created": counts["create"],
              "updated": counts["update"], "unchanged": counts["unchanged"], "errors": errors}
    if dry_run:
        return report
    if errors:
        details = {"errors": errors, "rows": len(results)}
        if any(e["code"] == "REGION_OUT_OF_SCOPE" for e in errors):
            raise Forbidden("文件中有不属于本辖区的记录，未导入任何数据", code="REGION_OUT_OF_SCOPE", details=details)
        raise Unprocessable(f"文件中有 {len(errors)} 处错误，未导入任何数据", code="IMPORT_ROWS_INVALID",
                            details=details)
    _write(what, user, plan, now)
    audit.record(f"{what[:-1]}.import", actor=actor_of(user), target_type=what[:-1], region=user.region,
                 data={"filename": (filename or "")[:128], "rows": len(results), "created": counts["create"],
                       "updated": counts["update"], "unchanged": counts["unchanged"]}, now=now)
    return report


def _institution_patch(doc: Institution | None, values: dict[str, Any]) -> dict[str, Any]:
    patch = {k: v for k, v in values.items() if not k.startswith("_")}
    if "_licences" in values:
        patch["licences"] = _merge_licences(doc.licences if doc else None, values["_licences"])
    return patch


def _changes(what: str, doc, values: dict[str, Any]) -> list[str]:
    if what == "institutions":
        probe = Institution(**{k: getattr(doc, k) for k in INSTITUTION_FIELDS})
        return apply_institution(probe, _institution_patch(doc, values))
    return [k for k, v in values.items() if getattr(doc, k) != v]


def _write(what: str, user, plan, now: datetime) -> None:
    new_docs = []
    taken: set[str] = set()
    for action, result, doc, _changed in plan:
        if action == "create":
            if what == "institutions":
                public_id = new_public_id(taken)
                taken.add(public_id)
                new = Institution(public_id=public_id, created_at=now, updated_at=now, risk=RiskProfile(),
                                  status="active")
                apply_institution(new, _institution_patch(None, result.values))
            else:
                new = Inspector(created_at=now, updated_at=now, **result.values)
            new.validate()
            new_docs.append(new)
        elif action == "update":
            if what == "institutions":
                changed = apply_institution(doc, _institution_patch(doc, result.values))
            else:
                changed = [key for key, value in result.values.items() if getattr(doc, key) != value]
                for key, value in result.values.items():
                    setattr(doc, key, value)
            doc.updated_at = now
            doc.save()
            if what == "institutions" and ("region" in changed or "name" in changed):
                move_conflicts_with(doc)  # as update_institution does
            elif what == "inspectors" and "name" in changed:
                rename_in_conflicts(doc)  # as update_inspector does
    if new_docs:
        (Institution if what == "institutions" else Inspector).objects.insert(new_docs, load_bulk=False)


# --------------------------------------------------------------------------- template and export

def template_xlsx(what: str) -> bytes:
    from openpyxl import Workbook
    import io

    columns = KINDS[what]["columns"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(KINDS[what]["label"] + "名录")
    sheet.append([c.header + ("*" if c.required else "") for c in columns])
    help_sheet = workbook.create_sheet("填写说明")
    help_sheet.append(["列名", "是否必填", "说明"])
    for c in columns:
        help_sheet.append([c.header, "必填" if c.required else "选填", c.note])
    if what == "institutions":
        help_sheet.append([])
        help_sheet.append(["说明", "", "按统一社会信用代码更新已有机构；文件中没有的列保持原值不变。"])
    else:
        help_sheet.append([])
        help_sheet.append(["说明", "", "按执法证号更新已有人员；文件中没有的列保持原值不变。"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _institution_row(doc: Institution, names: dict[str, str]) -> list[Any]:
    """One row in the order of ``INSTITUTION_COLUMNS`` (every importable field), then the extras."""
    latlon = point_latlon(doc.location)
    medical = next((lic for lic in doc.licences or [] if lic.kind == "medical_licence"), None)
    care = next((lic for lic in doc.licences or [] if lic.kind == "care_filing"), None)

    def day(value) -> str:
        return value.isoformat() if value else ""

    return [doc.name, doc.credit_code, INSTITUTION_KINDS.get(doc.kind, doc.kind),
            "、".join(sorted(doc.tags or [], key=SERVICE_TAGS.index)), doc.region, doc.address or "",
            latlon[0] if latlon else "", latlon[1] if latlon else "", doc.care_beds or 0, doc.medical_beds or 0,
            doc.contact_name or "", doc.contact_phone or "", INSTITUTION_STATUSES.get(doc.status, doc.status),
            medical.number if medical else "", day(medical.valid_from) if medical else "",
            day(medical.valid_until) if medical else "", care.number if care else "", doc.public_id]


def _inspector_row(doc: Inspector, names: dict[str, str]) -> list[Any]:
    return [doc.name, doc.certificate_no, DEPARTMENTS.get(doc.department, doc.department), doc.region,
            "、".join(doc.qualifications or []), "是" if doc.active else "否", doc.load_cap, doc.phone or ""]


def export(what: str, documents: Iterable, fmt: str) -> bytes:
    """The spreadsheet (``csv`` or ``xlsx``) of ``documents`` (or anything reading as they do, such as
    :func:`~inspect_api.db.as_stored` rows): the import columns, then the extras."""
    columns = KINDS[what]["columns"]
    headers = [c.header for c in columns] + [h for _k, h in EXPORT_EXTRA[what]]
    names = region_names()
    to_row = _institution_row if what == "institutions" else _inspector_row
    rows = (to_row(doc, names) for doc in documents)
    if fmt == "csv":
        return write_csv(headers, rows)
    return write_xlsx(headers, rows, title=KINDS[what]["label"] + "名录")
