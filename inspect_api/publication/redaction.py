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
"""

from __future__ import annotations

import re

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
