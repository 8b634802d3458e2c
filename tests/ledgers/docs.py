"""Documents for the ledger upload tests, made on the fly (real PDFs, workbooks, photos)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    return _write(writer)


def pdf_with_javascript() -> bytes:
    """A document-level script in the catalog's /Names /JavaScript name tree."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    action = writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                  NameObject("/JS"): TextStringObject("app.alert('x');")}))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), action])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    return _write(writer)


def pdf_with_open_action(action: DictionaryObject | ArrayObject) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer._root_object[NameObject("/OpenAction")] = action
    return _write(writer)


def launch_action() -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})


def fit_destination() -> ArrayObject:
    return ArrayObject([NumberObject(0), NameObject("/Fit")])


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    return _write(writer)


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("payload.exe", b"MZ not really")
    return _write(writer)


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "这不是 PDF")
    return out.getvalue()


def xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "培训签到"
    sheet.append(["日期", "姓名", "内容"])
    sheet.append(["2026-11-02", "张三", "跌倒预防"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bomb(expanded_mib: int = 64) -> bytes:
    """A workbook-shaped ZIP whose sheet expands to ``expanded_mib`` MiB (a few hundred KiB on the wire)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (expanded_mib * 1024 * 1024))
    return out.getvalue()


def jpeg(size=(800, 600), color=(120, 160, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=85)
    return out.getvalue()
