"""Safe loading of checklist documents (YAML, and JSON since JSON is YAML).

Defences, in the order they run:

1. Size cap: documents over :data:`MAX_BYTES` (1 MiB) are refused before any
   parsing. The two shipped checklists are about 60 KB.
2. UTF-8 only (a UTF-8 byte-order mark is tolerated).
3. An event pass over the raw parse stream (``yaml.parse`` with the safe
   loader's parser; nothing is constructed yet) refuses:
   - **anchors and aliases altogether** (``&a`` / ``*a`` and therefore ``<<``
     merge keys). This closes "billion laughs" bombs whatever their shape and
     keeps the canonical JSON form identical to the source. Write repeated
     deductions out in full;
   - explicit tags other than the standard YAML ones (``!!str``, ``!!int`` …),
     so ``!!python/object/apply:os.system`` is named in a clear error instead
     of reaching a constructor;
   - nesting deeper than :data:`MAX_DEPTH` (the composer is recursive).
4. Construction with PyYAML's safe constructor only (``SafeConstructor``,
   exactly what ``yaml.safe_load`` uses), on libyaml's C parser when PyYAML
   was built with it (``yaml.CSafeLoader``, ~10x faster) and the pure Python
   ``yaml.SafeLoader`` otherwise. The only addition to the safe loader is a
   check refusing duplicate mapping keys (YAML would keep the last one
   silently, hiding an authoring mistake).

Every refusal raises :class:`~checklists.errors.ChecklistError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .errors import ChecklistError, Problem

#: Largest accepted document, in bytes.
MAX_BYTES = 1024 * 1024
#: Deepest accepted nesting of mappings and sequences.
MAX_DEPTH = 32

#: libyaml's parser with the safe constructor when available, else the pure Python safe loader.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_STANDARD_TAGS = {
    _STANDARD_TAG_PREFIX + name
    for name in ("str", "int", "float", "bool", "null", "seq", "map")
}


def _fail(source: str, message: str, path: str = "") -> ChecklistError:
    return ChecklistError([Problem(source, path, message)])


def _mark(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    if mark is None:
        return ""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _scan_events(text: str, source: str) -> None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BASE_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise _fail(
                    source,
                    f"不允许使用 YAML 别名（*{event.anchor}）：为防止“YAML 炸弹”，"
                    "清单中的锚点和别名一律拒绝，请完整写出重复内容",
                    _mark(event),
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise _fail(
                    source,
                    f"不允许使用 YAML 锚点（&{anchor}）：清单中的锚点和别名一律拒绝",
                    _mark(event),
                )
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in ("!", "?") and tag not in _STANDARD_TAGS:
                raise _fail(
                    source,
                    f"不允许的 YAML 标签 {tag}：只接受普通数据（字符串、数字、布尔、列表、映射）",
                    _mark(event),
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(source, f"嵌套层级超过 {MAX_DEPTH} 层", _mark(event))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _fail(source, f"YAML 语法错误：{exc}") from None


class _StrictSafeLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing duplicate mapping keys (collected, not raised)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, str]] = []

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML signature
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _value in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        mark = key_node.start_mark
                        self.duplicate_keys.append(
                            (f"line {mark.line + 1}, column {mark.column + 1}", key_node.value)
                        )
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct(text: str, source: str) -> Any:
    loader = _StrictSafeLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _fail(source, f"YAML 解析失败：{exc}") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits (Python's int conversion limit)
        raise _fail(source, f"数值无法解析（过长或格式不正确）：{str(exc)[:80]}") from None
    except RecursionError:  # pragma: no cover - depth is capped by the event scan
        raise _fail(source, "嵌套层级过深") from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise ChecklistError([Problem(source, where, f"重复的键 “{key}”") for where, key in loader.duplicate_keys])
    return document


def load_bytes(data: bytes, source: str = "<bytes>") -> Any:
    """Parse a checklist document from bytes; return the plain Python value.

    Raises :class:`ChecklistError` if the document is too large, not UTF-8,
    not well-formed, or uses aliases, anchors, custom tags, duplicate keys or
    excessive nesting. The result is *not* validated; see
    :func:`checklists.validator.validate` or :func:`load_checklist`.
    """
    if len(data) > MAX_BYTES:
        raise _fail(source, f"文件过大：{len(data)} 字节，上限 {MAX_BYTES} 字节")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(source, f"文件不是 UTF-8 编码：{exc}") from None
    return load_text(text, source)


def load_text(text: str, source: str = "<string>") -> Any:
    """Parse a checklist document from text (same checks as :func:`load_bytes`)."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        raise _fail(source, f"文件过大：{size} 字节，上限 {MAX_BYTES} 字节")
    _scan_events(text, source)
    return _construct(text, source)


def load_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse a checklist file (size is checked before reading it all)."""
    p = Path(path)
    source = str(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(source, f"无法读取文件：{exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _fail(source, f"文件过大：超过上限 {MAX_BYTES} 字节")
    return load_bytes(data, source)


def load_checklist(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checklist file and validate it; return the checklist dict.

    Raises :class:`ChecklistError` listing every problem found.
    """
    from .validator import check

    document = load_file(path)
    check(document, str(path))
    return document
