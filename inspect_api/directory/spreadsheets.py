"""Reading and writing the spreadsheets offices keep their directories in (XLSX and CSV).

Reading: XLSX through openpyxl in read-only mode (the first sheet; formulas
read as their cached values), CSV in UTF-8 with or without BOM or in GB18030
(what Chinese Excel writes).  A file that claims to be XLSX but is not a ZIP
workbook, an old binary .xls, a ZIP whose members would expand beyond a cap
and a CSV that decodes in neither encoding are refused with 422 and a stable
code.  Writing: cells that a spreadsheet would run as a formula (starting with
``= + - @``, tab or CR) are prefixed with a single quote, and C0 control
characters that data stored before input refused them may still hold are
dropped (XLSX cannot hold them at all), so no export fails on stored data.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from typing import Any, Iterable, Iterator

from inspect_api.errors import Unprocessable

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 50000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What a worksheet cannot hold (openpyxl raises IllegalCharacterError): C0 controls but tab, LF, CR.
ILLEGAL_IN_CELLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading single quote and loses control characters
    a cell cannot hold; other values pass unchanged."""
    if isinstance(value, str):
        value = ILLEGAL_IN_CELLS.sub("", value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value


def cell_text(value: Any) -> str:
    """A cell as trimmed text: integral floats lose their ``.0``, dates become ISO, a neutralising quote is dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if (value.hour, value.minute, value.second) == (0, 0, 0) else value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text


def _is_xlsx_name(filename: str | None, mimetype: str | None) -> bool:
    return (filename or "").lower().endswith((".xlsx", ".xlsm")) or mimetype == XLSX_MIME


def read_table(data: bytes, filename: str | None = None, mimetype: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header texts and ``(row number, cell texts)`` of each non-empty data row (row numbers as Excel shows them)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unprocessable("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后上传", code="IMPORT_FORMAT_UNSUPPORTED")
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif _is_xlsx_name(filename, mimetype):
        raise Unprocessable("文件不是有效的 Excel 工作簿（.xlsx）", code="IMPORT_NOT_SPREADSHEET")
    else:
        rows = _csv_rows(data)
    header: list[str] | None = None
    out: list[tuple[int, list[str]]] = []
    for number, values in rows:
        cells = [cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            header = [c.replace("*", "").replace("＊", "").strip() for c in cells]
            continue
        if len(out) >= MAX_ROWS:
            raise Unprocessable(f"一次最多导入 {MAX_ROWS} 行", code="IMPORT_TOO_MANY_ROWS")
        out.append((number, cells))
    if header is None:
        raise Unprocessable("文件为空，缺少表头", code="IMPORT_EMPTY")
    return header, out


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise Unprocessable("工作簿解压后过大", code="IMPORT_NOT_SPREADSHEET")
            if "xl/workbook.xml" not in archive.namelist():
                raise Unprocessable("文件不是有效的 Excel 工作簿（.xlsx）", code="IMPORT_NOT_SPREADSHEET")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Unprocessable:
        raise
    except Exception:  # noqa: BLE001 - any parser failure means "not a workbook"
        raise Unprocessable("文件不是有效的 Excel 工作簿（.xlsx）", code="IMPORT_NOT_SPREADSHEET") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, values))
            if number > MAX_ROWS + 1000:
                raise Unprocessable(f"一次最多导入 {MAX_ROWS} 行", code="IMPORT_TOO_MANY_ROWS")
        return iter(rows)
    except Unprocessable:
        raise
    except Exception:  # noqa: BLE001
        raise Unprocessable("工作簿内容损坏，无法读取", code="IMPORT_NOT_SPREADSHEET") from None
    finally:
        workbook.close()


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM optional), else GB18030; neither → 422 IMPORT_ENCODING_INVALID."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise Unprocessable("CSV 文件编码无法识别，请使用 UTF-8 或 GB18030（GBK）编码保存", code="IMPORT_ENCODING_INVALID")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        raise Unprocessable("CSV 文件格式错误", code="IMPORT_NOT_SPREADSHEET") from None
    return iter(enumerate(rows, start=1))


def write_xlsx(headers: list[str], rows: Iterable[list[Any]], *, title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with BOM (so Excel opens it as UTF-8), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else (neutralise(v) if isinstance(v, str) else str(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
