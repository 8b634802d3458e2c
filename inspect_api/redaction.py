"""Redaction of personal data of residents from text that becomes public.

Rules, applied in order:

* names marked by the inspector in a note — ``[[张三]]``, ``〖张三〗`` or
  ``{{张三}}`` — become ``某某`` (surname kept out as well);
* resident ID-card numbers (18 characters, the last may be ``X``; and the old
  15-digit form) become ``[身份证号已隐去]``;
* mobile numbers (``1[3-9]`` + 9 digits, optionally ``+86``/``86`` and
  separated by spaces or dashes) become ``[电话已隐去]``; landline numbers with
  an area code (``0533-1234567``) likewise;
* e-mail addresses become ``[邮箱已隐去]``.

Digits are matched only when not embedded in a longer run of digits, so
amounts, dates and item codes survive.

Rules catch what has a shape; a resident's plain name has none.  The office
therefore chooses, at preview and publish, terms to mask (:func:`mask_terms`:
``张秀英`` → ``张**``, everywhere in the public snapshot) and whether free-text
notes are published at all (the API leaves them out unless asked).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

NAME_MARK = "某某"
ID_MARK = "[身份证号已隐去]"
PHONE_MARK = "[电话已隐去]"
EMAIL_MARK = "[邮箱已隐去]"

_MARKED_NAME = re.compile(r"\[\[[^\[\]\n]{1,32}\]\]|〖[^〖〗\n]{1,32}〗|\{\{[^{}\n]{1,32}\}\}")
_ID18 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def redact(text: str | None) -> str | None:
    """``text`` with residents' personal data removed (None stays None)."""
    if text is None:
        return None
    out = _MARKED_NAME.sub(NAME_MARK, str(text))
    out = _EMAIL.sub(EMAIL_MARK, out)
    out = _ID18.sub(ID_MARK, out)
    out = _ID15.sub(ID_MARK, out)
    out = _MOBILE.sub(PHONE_MARK, out)
    out = _LANDLINE.sub(PHONE_MARK, out)
    return out


def contains_personal_data(text: str | None) -> bool:
    """True when :func:`redact` would change ``text``."""
    return text is not None and redact(text) != text


# Office-chosen terms (names of residents and the like) masked in a published result.
MAX_TERMS = 50
TERM_MIN_LENGTH = 2  # a single character would mask far too much
TERM_MAX_LENGTH = 50


def normalize_terms(terms: Iterable[str] | None) -> list[str]:
    """Stripped, de-duplicated terms; raises ValueError (with a Chinese message) when out of bounds."""
    out: list[str] = []
    for raw in terms or ():
        term = str(raw).strip()
        if not TERM_MIN_LENGTH <= len(term) <= TERM_MAX_LENGTH:
            raise ValueError(f"隐去词须为 {TERM_MIN_LENGTH}–{TERM_MAX_LENGTH} 个字符（不含首尾空白）")
        if term.casefold() not in {t.casefold() for t in out}:
            out.append(term)
    if len(out) > MAX_TERMS:
        raise ValueError(f"隐去词最多 {MAX_TERMS} 个")
    return out


def mask(term: str) -> str:
    """``张秀英`` → ``张**``: the first character stays, every other becomes ``*``."""
    return term[:1] + "*" * (len(term) - 1)


def mask_terms(text: str | None, terms: list[str]) -> str | None:
    """``text`` with every occurrence of each term masked (longest first, case-insensitive)."""
    if text is None or not terms:
        return text
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    return pattern.sub(lambda m: mask(m.group(0)), str(text))


def mask_everywhere(value: Any, terms: list[str], *, keep: frozenset[str] = frozenset()) -> Any:
    """``value`` (nested dicts and lists) with :func:`mask_terms` applied to every string, except under the
    keys in ``keep`` (identifiers, codes and dates, which must stay usable)."""
    if not terms:
        return value
    if isinstance(value, str):
        return mask_terms(value, terms)
    if isinstance(value, list):
        return [mask_everywhere(v, terms, keep=keep) for v in value]
    if isinstance(value, dict):
        return {k: v if k in keep else mask_everywhere(v, terms, keep=keep) for k, v in value.items()}
    return value
