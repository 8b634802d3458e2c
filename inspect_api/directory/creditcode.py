"""Unified social credit code (统一社会信用代码, GB 32100-2015): check character and validation.

Eighteen characters over the 31-character alphabet ``0-9 A-H J-N P-R T-U W-Y``
(no I, O, S, V, Z); the last one is a check character computed from the first
17 with the weights below, modulo 31.
"""

from __future__ import annotations

import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(_INDEX[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: object) -> str | None:
    """None when ``code`` is a valid code, else a Chinese message saying what is wrong."""
    if not isinstance(code, str) or not code:
        return "统一社会信用代码不能为空"
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位（当前 {len(code)} 位）"
    if any("a" <= ch <= "z" for ch in code):
        return "统一社会信用代码须使用大写字母"
    bad = sorted({ch for ch in code if ch not in _INDEX})
    if bad:
        return "统一社会信用代码含有不允许的字符：" + "、".join(bad) + "（不使用 I、O、S、V、Z）"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验码错误"
    return None


def is_valid(code: object) -> bool:
    return credit_code_error(code) is None


def generate(rng: random.Random, region: str = "370300", *, org_type: str = "52") -> str:
    """A syntactically valid code (demo data and tests): type, region, 9-char org code, check."""
    body = org_type + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)
