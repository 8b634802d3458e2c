import json
import subprocess
import sys
from pathlib import Path

import yaml

from checklists import content_hash, diff, load_text, shipped_checklists

from .helpers import small_checklist

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "checklists", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_content_hash_is_canonical():
    doc = small_checklist()
    reordered = dict(reversed(list(doc.items())))
    assert content_hash(doc) == content_hash(reordered)
    assert content_hash(doc) == content_hash(load_text(yaml.safe_dump(doc, allow_unicode=True)))
    assert len(content_hash(doc)) == 64
    changed = small_checklist()
    changed["sections"][0]["items"][0]["text"] += "。"
    assert content_hash(changed) != content_hash(doc)
    # the exact canonical form (sha256 of sorted, compact, non-ASCII JSON)
    import hashlib

    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert content_hash(doc) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_diff_reports_added_removed_changed():
    old = small_checklist()
    new = small_checklist()
    new["sections"][0]["items"][1]["points"] = 19
    new["sections"][0]["items"][1]["text"] = "新的要求"
    moved = new["sections"][1]["items"].pop(0)
    new["sections"][0]["items"].append(moved)
    removed = new["sections"][1]["items"].pop()  # T-2-03
    new["sections"][1]["items"].append({**removed, "id": "T-2-04"})
    new["sections"][1]["items"][0]["na_allowed"] = False  # T-2-02: key value changed
    result = diff(old, new)
    assert result["added"] == ["T-2-04"]
    assert result["removed"] == ["T-2-03"]
    assert result["changed"] == [
        {"id": "T-1-02", "fields": ["points", "text"]},
        {"id": "T-2-01", "fields": ["section"]},
        {"id": "T-2-02", "fields": ["na_allowed"]},
    ]
    assert diff(old, old) == {"added": [], "removed": [], "changed": []}


def test_shipped_checklists_paths():
    paths = shipped_checklists()
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    assert all(p.suffix == ".yaml" and p.is_file() for p in paths)
    assert len(paths) >= 2


def test_cli_validates_shipped_files():
    proc = run_cli("validate", *shipped_checklists())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("OK ") == len(shipped_checklists())


def test_cli_exits_non_zero_on_bad_file(tmp_path):
    doc = small_checklist()
    doc["sections"][0]["items"][1]["points"] = 25
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_checklist(), ensure_ascii=False), encoding="utf-8")
    proc = run_cli("validate", good, bad)
    assert proc.returncode == 1
    assert f"OK {good}" in proc.stdout
    assert f"{bad}: sections[0].points:" in proc.stderr


def test_cli_refuses_unsafe_yaml(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("code: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    proc = run_cli("validate", evil)
    assert proc.returncode == 1
    assert "python/object/apply" in proc.stderr


def test_cli_hash_and_diff(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps(small_checklist(), ensure_ascii=False), encoding="utf-8")
    proc = run_cli("hash", a)
    assert proc.returncode == 0 and proc.stdout.split()[0] == content_hash(small_checklist())
    proc = run_cli("diff", a, a)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"added": [], "removed": [], "changed": []}
    proc = run_cli("validate")
    assert proc.returncode == 2
