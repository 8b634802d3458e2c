"""Satisfaction questionnaires (满意度测评问卷): format, validation, shipped files.

A questionnaire is a small YAML document beside the checklists, loaded by the
same safe loader (no anchors, no tags, 1 MiB cap) and versioned the same way
(``code`` + ``version``, content hash of the canonical JSON):

```yaml
code: SURVEY-INST               # [A-Za-z0-9][A-Za-z0-9._-]{0,63}
title: 医养结合机构服务满意度测评问卷
version: 1                      # bump on every content change
provenance: {derived_from: ..., official_text_checked: false, notes: ...}
kinds: [combined, care_home_clinic]   # institution kinds it is used for
intro: ...                      # optional: shown above the questions
scale: [很不满意, 不满意, 一般, 满意, 很满意]   # exactly five labels: scores 1..5
questions:                      # 1..20, answered on the scale
  - {id: care, text: 您对生活照料和护理服务满意吗？}
comment: {prompt: ..., max_length: 300}       # the one optional free-text comment
```

Residents and families answer anonymously: the format has no field for a
name, a phone number or a resident id, and :func:`validate` refuses one.
Pure library: stdlib and the checklist loader only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import ChecklistError, Problem, control_character_problems
from .loader import load_file
from .spec import KINDS

DATA_DIR = Path(__file__).resolve().parent / "data" / "questionnaires"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
QUESTION_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SCALE_POINTS = 5
MAX_QUESTIONS = 20
MAX_TEXT = 200
MAX_COMMENT = 1000
TOP_REQUIRED = ("code", "title", "version", "provenance", "kinds", "scale", "questions", "comment")
TOP_OPTIONAL = ("intro",)
PROVENANCE_REQUIRED = ("derived_from", "official_text_checked", "notes")


def _problem(problems: list[Problem], source: str, path: str, message: str) -> None:
    problems.append(Problem(source, path, message))


def _keys(problems: list[Problem], source: str, value: Any, path: str, required: tuple[str, ...],
          optional: tuple[str, ...] = ()) -> bool:
    if not isinstance(value, dict):
        _problem(problems, source, path, "应为映射（键值对）")
        return False
    for key in value:
        if key not in required and key not in optional:
            _problem(problems, source, f"{path}.{key}" if path else str(key), f"未知字段 “{key}”")
    for key in required:
        if key not in value:
            _problem(problems, source, path, f"缺少必填字段 “{key}”")
    return True


def _text(problems: list[Problem], source: str, value: Any, path: str, limit: int = MAX_TEXT) -> None:
    if not isinstance(value, str) or not value.strip():
        _problem(problems, source, path, "应为非空字符串")
    elif len(value) > limit:
        _problem(problems, source, path, f"不能超过 {limit} 个字符")


def validate(document: Any, source: str = "<questionnaire>") -> list[Problem]:
    """Every problem of a questionnaire document (an empty list means valid)."""
    problems: list[Problem] = control_character_problems(document, source)
    if not _keys(problems, source, document, "", TOP_REQUIRED, TOP_OPTIONAL):
        return problems
    if "code" in document and not (isinstance(document["code"], str) and CODE_RE.match(document["code"])):
        _problem(problems, source, "code", "编码格式不正确（字母、数字、点、下划线和连字符，最长 64 个字符）")
    for key in ("title", "intro"):
        if key in document:
            _text(problems, source, document[key], key, 500)
    version = document.get("version")
    if "version" in document and (isinstance(version, bool) or not isinstance(version, int)
                                  or not 1 <= version <= 1_000_000):
        _problem(problems, source, "version", "版本号应为 1–1000000 的整数")
    provenance = document.get("provenance")
    if "provenance" in document and _keys(problems, source, provenance, "provenance", PROVENANCE_REQUIRED):
        if "official_text_checked" in provenance and not isinstance(provenance["official_text_checked"], bool):
            _problem(problems, source, "provenance.official_text_checked", "应为布尔值")
        for key in ("derived_from", "notes"):
            if key in provenance:
                _text(problems, source, provenance[key], f"provenance.{key}", 1000)
    kinds = document.get("kinds")
    if "kinds" in document:
        if not isinstance(kinds, list) or not kinds:
            _problem(problems, source, "kinds", "应为非空的机构类型列表")
        else:
            for i, kind in enumerate(kinds):
                if not isinstance(kind, str) or kind not in KINDS:
                    _problem(problems, source, f"kinds[{i}]", f"未知的机构类型 {kind!r}")
            if len(set(map(str, kinds))) != len(kinds):
                _problem(problems, source, "kinds", "机构类型重复")
    scale = document.get("scale")
    if "scale" in document:
        if not isinstance(scale, list) or len(scale) != SCALE_POINTS:
            _problem(problems, source, "scale", f"量表应为 {SCALE_POINTS} 个选项（对应 1–{SCALE_POINTS} 分）")
        else:
            for i, label in enumerate(scale):
                _text(problems, source, label, f"scale[{i}]", 20)
    questions = document.get("questions")
    if "questions" in document:
        if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
            _problem(problems, source, "questions", f"问题应为 1–{MAX_QUESTIONS} 个")
        else:
            seen: set[str] = set()
            for i, question in enumerate(questions):
                path = f"questions[{i}]"
                if not _keys(problems, source, question, path, ("id", "text")):
                    continue
                qid = question.get("id")
                if not (isinstance(qid, str) and QUESTION_ID_RE.match(qid)):
                    _problem(problems, source, f"{path}.id", "问题编号应为小写字母开头的字母、数字或下划线（最长 32 个字符）")
                elif qid in seen:
                    _problem(problems, source, f"{path}.id", f"问题编号 “{qid}” 重复")
                else:
                    seen.add(qid)
                if "text" in question:
                    _text(problems, source, question["text"], f"{path}.text")
    comment = document.get("comment")
    if "comment" in document and _keys(problems, source, comment, "comment", ("prompt", "max_length")):
        if "prompt" in comment:
            _text(problems, source, comment["prompt"], "comment.prompt")
        limit = comment.get("max_length")
        if "max_length" in comment and (isinstance(limit, bool) or not isinstance(limit, int)
                                        or not 1 <= limit <= MAX_COMMENT):
            _problem(problems, source, "comment.max_length", f"意见字数上限应为 1–{MAX_COMMENT} 的整数")
    return problems


def check(document: Any, source: str = "<questionnaire>") -> None:
    """Raise :class:`ChecklistError` listing every problem of ``document``."""
    problems = validate(document, source)
    if problems:
        raise ChecklistError(problems)


def shipped_questionnaires() -> list[Path]:
    """Sorted paths of the questionnaires shipped in ``checklists/data/questionnaires``."""
    return sorted(DATA_DIR.glob("*.yaml"))


def load_questionnaire(path: Path) -> dict[str, Any]:
    """Load and validate one questionnaire file (raises ChecklistError)."""
    document = load_file(path)
    check(document, str(path.name))
    return document


def question_ids(document: dict[str, Any]) -> list[str]:
    """The question ids of a (valid) questionnaire, in order."""
    return [str(q["id"]) for q in document["questions"]]
