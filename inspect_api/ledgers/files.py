"""Checks of the documents an institution uploads for a ledger spot check (pure: bytes in, facts out).

Accepted: PDF, XLSX and images (JPEG, PNG, WebP, HEIC; the evidence photo
pipeline processes those).  The real type comes from the bytes, never from
the name or the declared content type; a name whose extension says another
type than the bytes (a ZIP renamed ``.pdf``) is refused.  Cheapest refusal
first: size, type, then the format's own checks.

* **PDF** (pypdf): it must parse, must not be encrypted, must have at most
  ``max_pdf_pages`` pages, and must carry no active or embedded content:
  JavaScript (``/JS``, ``/JavaScript``, a name tree of scripts), actions that
  launch programs, import data or submit forms (``/Launch``, ``/ImportData``,
  ``/SubmitForm``), additional actions (``/AA``), an ``/OpenAction`` that is an
  action, XFA forms, rich media, and embedded files or file attachments
  (``/EmbeddedFiles``, ``/EF``, ``/FileAttachment``).  Every object reachable
  from the trailer is visited (names decoded by pypdf, so ``/J#61vaScript``
  and objects in compressed object streams are seen), up to a bound.  An
  ``/OpenAction`` that is a plain destination (open at page 1, fit width) is a
  view setting, not an action, and is accepted.
* **XLSX**: a ZIP read by its central directory *before* openpyxl sees it:
  at most ``max_xlsx_entries`` entries, a declared uncompressed total of at
  most ``max_xlsx_uncompressed_bytes`` and no entry expanding more than
  ``max_xlsx_ratio`` times (a zip bomb is refused without inflating a byte;
  Python's zipfile never inflates past an entry's declared size).  Macros
  (``vbaProject.bin``) are refused; then openpyxl opens it read-only.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a refused file is reported to the uploader, not the log

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
EXTENSIONS = {
    ".pdf": {PDF}, ".xlsx": {XLSX},
    ".jpg": {"image/jpeg"}, ".jpeg": {"image/jpeg"}, ".png": {"image/png"}, ".webp": {"image/webp"},
    ".heic": {"image/heic", "image/heif"}, ".heif": {"image/heic", "image/heif"},
}
TYPE_NAMES = {PDF: "PDF", XLSX: "Excel（XLSX）", "application/zip": "ZIP 压缩包", "image/jpeg": "JPEG 图片",
              "image/png": "PNG 图片", "image/webp": "WebP 图片", "image/heic": "HEIC 图片", "image/heif": "HEIF 图片"}

# PDF keys and action types that make a document active or carry other files.
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/AA": "附加动作（AA）", "/XFA": "XFA 表单",
                "/RichMedia": "富媒体", "/EmbeddedFiles": "嵌入文件", "/EmbeddedFile": "嵌入文件", "/EF": "嵌入文件"}
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "启动程序（Launch）", "/ImportData": "导入数据",
                   "/SubmitForm": "提交表单", "/RichMediaExecute": "富媒体", "/Rendition": "多媒体播放"}
_ACTIVE_SUBTYPES = {"/FileAttachment": "附件注释", "/RichMedia": "富媒体", "/Screen": "多媒体"}
MAX_PDF_OBJECTS = 200_000


@dataclass(frozen=True)
class Limits:
    """Upload caps (config ``[ledgers]``); the defaults are the production values."""

    max_file_bytes: int = 20 * MIB
    max_pdf_pages: int = 100
    max_xlsx_uncompressed_bytes: int = 50 * MIB
    max_xlsx_ratio: int = 100
    max_xlsx_entries: int = 2000

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> "Limits":
        known = {k: int(v) for k, v in (cfg or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


class FileRejected(Exception):
    """An upload refused; ``status`` is the HTTP class (413, 415, 422), ``message`` Chinese."""

    def __init__(self, code: str, message: str, *, status: int = 422, details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


@dataclass(frozen=True)
class CheckedFile:
    """What an accepted upload is: its type, size, hash and (PDF) pages or (XLSX) sheets."""

    mime: str
    size: int
    sha256: str
    pages: int | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return self.mime in IMAGE_TYPES


def sniff(data: bytes) -> str:
    """The type from the magic bytes: PDF, a ZIP container, or an image; refuses anything else (415)."""
    head = bytes(data[:1024])
    if head.lstrip(b"\x00\t\n\r\x0c ").startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 16 and head[4:8] == b"ftyp":
        return "image/heic"  # HEIF brands are checked by the photo pipeline
    raise FileRejected("LEDGER_FILE_TYPE_UNSUPPORTED", "文件类型不受支持：请上传 PDF、Excel（XLSX）或 JPEG/PNG/WebP/HEIC 图片",
                       status=415)


def _check_extension(name: str | None, mime: str) -> None:
    ext = os.path.splitext(name or "")[1].lower()
    if not ext:
        return
    allowed = EXTENSIONS.get(ext)
    if allowed is None:
        raise FileRejected("LEDGER_FILE_TYPE_UNSUPPORTED", f"不支持扩展名为 {ext} 的文件：请上传 PDF、XLSX 或图片",
                           status=415, details={"extension": ext})
    if mime not in allowed:
        raise FileRejected("LEDGER_FILE_TYPE_MISMATCH",
                           f"文件扩展名 {ext} 与文件实际内容（{TYPE_NAMES.get(mime, mime)}）不符，请上传原始文件",
                           status=415, details={"extension": ext, "detected": mime})


def check_upload(data: bytes, name: str | None, limits: Limits = Limits()) -> CheckedFile:
    """Check one upload; return its facts or raise :class:`FileRejected`."""
    if not data:
        raise FileRejected("LEDGER_FILE_EMPTY", "文件为空")
    if len(data) > limits.max_file_bytes:
        raise FileRejected("LEDGER_FILE_TOO_LARGE", f"文件过大（上限 {limits.max_file_bytes / MIB:g} MB）", status=413,
                           details={"bytes": len(data), "max_bytes": limits.max_file_bytes})
    mime = sniff(data)
    if mime == "application/zip":
        sheets = check_xlsx(data, limits)  # a ZIP that is not a workbook is refused here
        _check_extension(name, XLSX)
        return CheckedFile(mime=XLSX, size=len(data), sha256=hashlib.sha256(data).hexdigest(), sheets=sheets)
    _check_extension(name, mime)
    if mime == PDF:
        pages = check_pdf(data, limits)
        return CheckedFile(mime=PDF, size=len(data), sha256=hashlib.sha256(data).hexdigest(), pages=pages)
    return CheckedFile(mime=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest())


# --------------------------------------------------------------------------- PDF

def _pdf_invalid(reason: str) -> FileRejected:
    return FileRejected("LEDGER_PDF_INVALID", "PDF 文件已损坏或格式不正确，无法打开", details={"reason": reason[:200]})


def check_pdf(data: bytes, limits: Limits = Limits()) -> int:
    """The page count of a safe PDF; refuses invalid, encrypted, too long or active/embedding PDFs."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise FileRejected("LEDGER_PDF_ENCRYPTED", "PDF 文件已加密或设置了打开密码，请上传未加密的文件")
            pages = len(reader.pages)
            if pages > limits.max_pdf_pages:
                raise FileRejected("LEDGER_PDF_TOO_MANY_PAGES",
                                   f"PDF 共 {pages} 页，超过每个文件 {limits.max_pdf_pages} 页的上限，请拆分后分别上传",
                                   details={"pages": pages, "max_pages": limits.max_pdf_pages})
            if pages == 0:
                raise _pdf_invalid("no pages")
            found = active_content(reader)
    except FileRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError, AssertionError) as exc:
        raise _pdf_invalid(f"{type(exc).__name__}: {exc}") from None
    if found:
        raise FileRejected("LEDGER_PDF_ACTIVE_CONTENT",
                           f"PDF 含有脚本、自动动作或嵌入文件（{'、'.join(found)}），存在安全风险，请另存为普通 PDF 后上传",
                           details={"features": found})
    return pages


def active_content(reader) -> list[str]:
    """Names (Chinese) of the active or embedding features found in a parsed, unencrypted PDF."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found: list[str] = []

    def note(label: str) -> None:
        if label not in found:
            found.append(label)

    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise FileRejected("LEDGER_PDF_INVALID", "PDF 文件结构过于复杂，无法检查，请另存后上传",
                               details={"reason": "too many objects"})
        if isinstance(obj, DictionaryObject):
            for raw_key, value in obj.items():
                key = str(raw_key)
                if key in _ACTIVE_KEYS:
                    note(_ACTIVE_KEYS[key])
                elif key == "/OpenAction":
                    target = value.get_object() if isinstance(value, IndirectObject) else value
                    if isinstance(target, DictionaryObject):  # an action; a destination array is a view setting
                        note("打开时自动执行的动作（OpenAction）")
                elif key == "/S" and isinstance(value, NameObject) and str(value) in _ACTIVE_ACTIONS:
                    note(_ACTIVE_ACTIONS[str(value)])
                elif key == "/Subtype" and isinstance(value, NameObject) and str(value) in _ACTIVE_SUBTYPES:
                    note(_ACTIVE_SUBTYPES[str(value)])
                if key not in ("/Parent", "/P"):  # back links lead to objects reached anyway
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return found


# --------------------------------------------------------------------------- XLSX

def check_xlsx(data: bytes, limits: Limits = Limits()) -> list[str]:
    """The sheet names of a safe workbook; refuses other ZIPs, zip bombs and macro workbooks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise FileRejected("LEDGER_XLSX_INVALID", "Excel 文件已损坏或格式不正确", details={"reason": str(exc)[:200]}) from None
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRejected("LEDGER_FILE_TYPE_UNSUPPORTED",
                           "该压缩文件不是 Excel（XLSX）工作簿：不接受 ZIP 等压缩包，请上传 PDF、XLSX 或图片", status=415)
    if len(infos) > limits.max_xlsx_entries:
        raise FileRejected("LEDGER_XLSX_TOO_COMPLEX", f"Excel 文件内部条目过多（{len(infos)} 个，上限 {limits.max_xlsx_entries}）",
                           details={"entries": len(infos), "max_entries": limits.max_xlsx_entries})
    total = sum(i.file_size for i in infos)
    if total > limits.max_xlsx_uncompressed_bytes:
        raise FileRejected("LEDGER_XLSX_BOMB", f"Excel 文件解压后过大（约 {total / MIB:.0f} MB，上限 "
                                               f"{limits.max_xlsx_uncompressed_bytes / MIB:g} MB），可能是压缩炸弹",
                           status=413, details={"uncompressed_bytes": total,
                                                "max_uncompressed_bytes": limits.max_xlsx_uncompressed_bytes})
    for info in infos:
        if info.file_size > MIB and info.file_size > limits.max_xlsx_ratio * max(info.compress_size, 1):
            raise FileRejected("LEDGER_XLSX_BOMB", "Excel 文件压缩比异常，可能是压缩炸弹，已拒收", status=413,
                               details={"entry": info.filename[:100], "ratio": info.file_size // max(info.compress_size, 1),
                                        "max_ratio": limits.max_xlsx_ratio})
        if info.flag_bits & 0x1:
            raise FileRejected("LEDGER_XLSX_ENCRYPTED", "Excel 文件已加密，请上传未加密的文件")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise FileRejected("LEDGER_XLSX_MACROS", "Excel 文件含有宏，请另存为不含宏的 .xlsx 后上传")
    return _sheet_names(data)


def _sheet_names(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return list(workbook.sheetnames)
            finally:
                workbook.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken workbooks
        raise FileRejected("LEDGER_XLSX_INVALID", "Excel 文件已损坏或格式不正确", details={"reason": str(exc)[:200]}) from None
