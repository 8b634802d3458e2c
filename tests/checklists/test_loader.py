import json

import pytest
import yaml

from checklists import ChecklistError, MAX_BYTES, load_bytes, load_checklist, load_file, load_text, validate

from .helpers import small_checklist

BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _messages(exc_info):
    return " ".join(p.message for p in exc_info.value.problems)


def test_yaml_bomb_is_refused():
    with pytest.raises(ChecklistError) as info:
        load_text(BOMB, "bomb.yaml")
    assert "别名" in _messages(info) or "锚点" in _messages(info)
    assert info.value.problems[0].source == "bomb.yaml"


def test_single_alias_is_refused_too():
    text = "x: &x {code: a, text: t, points: 1}\ny: *x\n"
    with pytest.raises(ChecklistError) as info:
        load_text(text)
    assert "别名" in _messages(info) or "锚点" in _messages(info)


def test_oversized_document_is_refused(tmp_path):
    big = b"# " + b"x" * MAX_BYTES + b"\ncode: A\n"
    with pytest.raises(ChecklistError) as info:
        load_bytes(big, "big.yaml")
    assert "过大" in _messages(info)
    path = tmp_path / "big.yaml"
    path.write_bytes(big)
    with pytest.raises(ChecklistError) as info:
        load_file(path)
    assert "过大" in _messages(info)
    with pytest.raises(ChecklistError):
        load_text(big.decode())


def test_python_object_tag_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    text = f"code: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ChecklistError) as info:
        load_text(text, "evil.yaml")
    assert "python/object/apply:os.system" in _messages(info)
    assert not marker.exists()


def test_other_custom_tags_are_refused():
    for text in ("a: !!binary aGVsbG8=\n", "a: !custom 1\n", "a: !!set {x}\n"):
        with pytest.raises(ChecklistError):
            load_text(text)


def test_duplicate_keys_are_refused():
    with pytest.raises(ChecklistError) as info:
        load_text("code: A\ntitle: x\ncode: B\n")
    assert "重复的键" in _messages(info)


def test_excessive_nesting_is_refused():
    with pytest.raises(ChecklistError) as info:
        load_text("[" * 200 + "]" * 200)
    assert "嵌套" in _messages(info)


def test_syntax_error_and_bad_encoding():
    with pytest.raises(ChecklistError) as info:
        load_text("a: [1, 2\nb: 3\n", "broken.yaml")
    assert "语法" in _messages(info)
    with pytest.raises(ChecklistError) as info:
        load_bytes("code: 测试".encode("gbk"))
    assert "UTF-8" in _messages(info)


def test_json_is_accepted_and_equals_yaml():
    doc = small_checklist()
    as_json = json.dumps(doc, ensure_ascii=False)
    as_yaml = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    assert load_text(as_json) == doc
    assert load_text(as_yaml) == doc
    assert load_bytes(as_json.encode("utf-8")) == doc
    assert validate(load_text(as_json)) == []


def test_load_checklist_validates(tmp_path):
    doc = small_checklist()
    doc["points"] = 99
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ChecklistError) as info:
        load_checklist(path)
    assert any(p.path == "points" and p.source == str(path) for p in info.value.problems)


def test_missing_file_is_a_checklist_error(tmp_path):
    with pytest.raises(ChecklistError):
        load_file(tmp_path / "nope.yaml")


def test_constructor_is_the_safe_one_even_without_the_event_scan(tmp_path):
    from checklists import loader

    assert issubclass(loader._StrictSafeLoader, yaml.constructor.SafeConstructor)
    assert not issubclass(loader._StrictSafeLoader, yaml.constructor.FullConstructor)
    marker = tmp_path / "pwned"
    with pytest.raises(ChecklistError):
        loader._construct(f"!!python/object/apply:os.system ['touch {marker}']", "x")
    assert not marker.exists()


def test_duplicate_keys_are_reported_with_their_line():
    with pytest.raises(ChecklistError) as info:
        load_text("a: 1\nb:\n  c: 1\n  c: 2\n", "d.yaml")
    (problem,) = info.value.problems
    assert problem.path.startswith("line 4")
