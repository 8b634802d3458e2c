from __future__ import annotations

from hypothesis import given, strategies as st

from inspect_api.redaction import ID_MARK, NAME_MARK, PHONE_MARK, contains_personal_data, redact


def test_18_digit_id_numbers_removed_including_x_check_digit():
    assert redact("身份证号370302195001011234。") == f"身份证号{ID_MARK}。"
    assert redact("证件 37030219500101123X 与 37030219500101123x") == f"证件 {ID_MARK} 与 {ID_MARK}"


def test_15_digit_old_id_removed():
    assert redact("旧证370302500101123") == f"旧证{ID_MARK}"


def test_mobile_numbers_removed_in_common_spellings():
    for raw in ("13805331234", "138 0533 1234", "138-0533-1234", "+86 13805331234", "8613805331234"):
        assert redact(f"家属电话{raw}。") == f"家属电话{PHONE_MARK}。", raw


def test_landline_with_area_code_removed():
    assert redact("座机0533-5180000") == f"座机{PHONE_MARK}"


def test_marked_names_in_notes_removed():
    note = "老人[[张秀英]]与〖李四〗，以及{{王五}}床头无呼叫器"
    out = redact(note)
    assert "张秀英" not in out and "李四" not in out and "王五" not in out
    assert out.count(NAME_MARK) == 3
    assert out.endswith("床头无呼叫器")


def test_plain_text_numbers_and_dates_survive():
    text = "扣 2 分，检查日期 2026-11-23，记录编号 20261123，床位 120 张，金额 12345678901234567890 元"
    assert redact(text) == text
    assert not contains_personal_data(text)


def test_none_stays_none():
    assert redact(None) is None


@given(st.text(alphabet="0123456789", min_size=11, max_size=11).map(lambda s: "13" + s[2:]))
def test_every_mobile_shaped_number_is_removed(number):
    assert number not in redact(f"电话：{number}，请回电")
