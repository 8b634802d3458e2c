"""Exceptions of the checklists library.

Both exceptions carry a list of problems rather than a single message, so that
an author (or an API client) sees every mistake of a file or a submission at
once instead of fixing them one run at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem found in a checklist document.

    ``source`` is the file name (or ``"<string>"``), ``path`` a location such
    as ``sections[2].items[5].deductions[1]`` (zero-based indices; empty for
    the document as a whole), ``message`` says what is wrong.
    """

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "path": self.path, "message": self.message}


class ChecklistError(ValueError):
    """A checklist document could not be loaded or is invalid.

    ``problems`` is a non-empty list of :class:`Problem`.
    """

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("ChecklistError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__("\n".join(lines))


class ScoringError(ValueError):
    """Responses cannot be scored against a checklist.

    ``problems`` is a non-empty list of dicts ``{"code", "item", "message_zh"}``:
    ``code`` a stable UPPER_SNAKE code, ``item`` the item id concerned (or
    ``None``), ``message_zh`` a Chinese message for the user.
    """

    def __init__(self, problems: list[dict[str, Any]]):
        if not problems:
            raise ValueError("ScoringError needs at least one problem")
        self.problems: list[dict[str, Any]] = list(problems)
        super().__init__(
            "; ".join(f"{p['code']} {p.get('item') or ''}: {p['message_zh']}" for p in self.problems)
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_problems(document: Any, source: str, path: str = "") -> list[Problem]:
    """A problem for every text (value or key) of a document holding a control character; tab and line
    breaks are allowed (multi-line YAML text)."""
    problems: list[Problem] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            found = _CONTROL.search(value)
            if found:
                problems.append(Problem(source, where, f"不能包含控制字符（U+{ord(found.group()):04X}）"))
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(key, where)
                walk(inner, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{where}[{index}]")

    walk(document, path)
    return problems
