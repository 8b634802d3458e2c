"""dr1 against the known-answer records of /work/shared/vectors, tampering, and the stdlib-only CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_api.draws import dr1

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT.parent / "shared" / "vectors"
VECTOR_NAMES = ("dr1-known-answer.json", "dr1-medium.json")


def _load(name: str) -> dict:
    path = VECTORS / name
    if not path.is_file():  # fail loudly: conformance must never be silently skipped
        raise AssertionError(f"known-answer vector missing: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def known() -> dict:
    return _load("dr1-known-answer.json")


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_vector_reproduces_commitment_seed_targets_and_teams(name):
    record = _load(name)
    assert dr1.make_commitment(record["params"], record["snapshot"], record["nonce"]) == record["commitment"]
    assert dr1.make_commitment("dr1", record["params"], record["snapshot"], record["nonce"]) == record["commitment"]
    assert dr1.make_seed(record["commitment"], record["public_entropy"]) == record["seed"]
    result = dr1.draw(record["params"], record["snapshot"], record["seed"])
    assert result["targets"] == record["result"]["targets"]
    assert result["teams"] == record["result"]["teams"]
    assert list(result["teams"]) == result["targets"]
    assert dr1.select_targets(record["params"], record["snapshot"], record["seed"]) == record["result"]["targets"]
    assert dr1.form_teams(record["params"], record["snapshot"], record["seed"],
                          record["result"]["targets"]) == record["result"]["teams"]
    assert dr1.verify(record) == []


def test_vectors_exercise_what_the_readme_promises(known):
    snap = known["snapshot"]
    assert len({i["stratum"] for i in snap["institutions"]}) > 1
    assert any(i["mandatory"] for i in snap["institutions"])
    assert known["params"]["required_departments"] and known["params"]["cross_region"]
    assert snap["conflicts"] and snap["previous_leads"] and any(x["load"] for x in snap["inspectors"])


def test_canonical_json_and_uniform_follow_the_text():
    assert dr1.canonical({"b": 1, "a": ["济南", 2.5]}) == '{"a":["济南",2.5],"b":1}'.encode("utf-8")
    import hashlib
    seed = "00" * 32
    digest = hashlib.sha256((seed + ":target:x").encode()).digest()
    assert dr1.uniform(seed, "target:x") == (int.from_bytes(digest[:8], "big") + 0.5) / 2 ** 64
    assert 0 < dr1.uniform(seed, "target:x") < 1


def test_changed_team_member_is_named(known):
    record = copy.deepcopy(known)
    victim = record["result"]["targets"][5]
    team = list(record["result"]["teams"][victim])
    spare = next(x["id"] for x in record["snapshot"]["inspectors"] if x["id"] not in team)
    record["result"]["teams"][victim][1] = spare
    diffs = dr1.verify(record)
    assert diffs == [f"result.teams.{victim}[1]: record has {spare!r}, recomputed {team[1]!r}"]


def test_changed_lead_is_named(known):
    record = copy.deepcopy(known)
    victim = record["result"]["targets"][-1]
    lead = record["result"]["teams"][victim][0]
    record["result"]["teams"][victim][0] = "insp9999"
    assert dr1.verify(record)[0] == f"result.teams.{victim}[0]: record has 'insp9999', recomputed {lead!r}"


def test_changed_target_is_named(known):
    record = copy.deepcopy(known)
    drawn = set(record["result"]["targets"])
    other = next(i["id"] for i in record["snapshot"]["institutions"] if i["id"] not in drawn)
    original = record["result"]["targets"][3]
    record["result"]["targets"][3] = other
    diffs = dr1.verify(record)
    assert diffs[0] == f"result.targets[3]: record has {other!r}, recomputed {original!r}"


def test_swapped_target_order_is_named(known):
    record = copy.deepcopy(known)
    targets = record["result"]["targets"]
    targets[0], targets[1] = targets[1], targets[0]
    assert dr1.verify(record)[0].startswith("result.targets[0]: ")


def test_dropped_target_and_team_are_named(known):
    record = copy.deepcopy(known)
    gone = record["result"]["targets"].pop()
    del record["result"]["teams"][gone]
    diffs = dr1.verify(record)
    assert "result.targets: record has 35 entries, recomputed 36" in diffs
    assert any(d.startswith(f"result.teams.{gone}: record has None") for d in diffs)


def test_changed_entropy_names_the_seed(known):
    record = copy.deepcopy(known)
    record["public_entropy"] += "!"
    assert dr1.verify(record) == [f"seed: record has {known['seed']!r}, recomputed "
                                  f"{dr1.make_seed(known['commitment'], record['public_entropy'])!r}"]


def test_changed_snapshot_names_the_commitment_first(known):
    record = copy.deepcopy(known)
    first = record["result"]["targets"][0]
    for inst in record["snapshot"]["institutions"]:
        if inst["id"] == first:
            inst["weight"] = "3.000000"
    assert dr1.verify(record)[0].startswith("commitment: record has ")


def test_changed_nonce_names_the_commitment(known):
    record = copy.deepcopy(known)
    record["nonce"] = "0" * 64
    assert [d.split(":")[0] for d in dr1.verify(record)] == ["commitment"]


def test_extra_fields_are_ignored(known):
    record = copy.deepcopy(known)
    record.update({"plan": {"name": "2026 年第四季度医养结合机构双随机抽查"}, "drawn_at": "2026-11-22T10:00:00+08:00",
                   "amendments": []})
    assert dr1.verify(record) == []


@pytest.mark.parametrize("field", ["nonce", "seed", "result", "params", "snapshot", "commitment"])
def test_missing_field_is_a_record_error(known, field):
    record = copy.deepcopy(known)
    del record[field]
    with pytest.raises(dr1.RecordError) as info:
        dr1.verify(record)
    assert info.value.field == field and field in str(info.value)


def test_other_algorithm_is_refused(known):
    with pytest.raises(dr1.RecordError, match="dr2"):
        dr1.verify(dict(known, algorithm="dr2"))


# ------------------------------------------------------------------ the CLI, stdlib only

def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-m", "inspect_api.draws.verify", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, input=stdin)


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_cli_says_ok_for_the_vectors(name):
    out = _cli(str(VECTORS / name))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "OK"


def test_cli_names_the_first_difference(known, tmp_path):
    record = copy.deepcopy(known)
    victim = record["result"]["targets"][7]
    team = list(record["result"]["teams"][victim])
    spare = next(x["id"] for x in record["snapshot"]["inspectors"] if x["id"] not in team)
    record["result"]["teams"][victim][1] = spare
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    out = _cli(str(path))
    assert out.returncode == 1
    assert out.stdout.strip() == f"result.teams.{victim}[1]: record has {spare!r}, recomputed {team[1]!r}"


def test_cli_reads_stdin(known):
    out = _cli("-", stdin=json.dumps(known, ensure_ascii=False))
    assert out.returncode == 0 and out.stdout.strip() == "OK"


def test_cli_bad_json_and_missing_fields_exit_2(known, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = _cli(str(bad))
    assert out.returncode == 2 and "JSON" in out.stderr
    out = _cli(str(tmp_path / "absent.json"))
    assert out.returncode == 2 and "无法读取" in out.stderr
    committed = {k: v for k, v in known.items() if k not in ("nonce", "seed", "result", "public_entropy")}
    partial = tmp_path / "committed.json"
    partial.write_text(json.dumps(committed, ensure_ascii=False), encoding="utf-8")
    out = _cli(str(partial))
    assert out.returncode == 2 and "nonce" in out.stderr
    broken = copy.deepcopy(known)
    broken["snapshot"]["institutions"][2]["weight"] = 1.5
    partial.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    out = _cli(str(partial))
    assert out.returncode == 2 and "snapshot.institutions[2].weight" in out.stderr


def test_cli_runs_without_site_packages_and_never_imports_flask():
    """-I -S: no site-packages at all (so no Flask to import), only the repo on sys.path."""
    code = (
        "import sys, runpy\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        f"sys.argv = ['verify', {str(VECTORS / 'dr1-known-answer.json')!r}]\n"
        "try:\n"
        "    runpy.run_module('inspect_api.draws.verify', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'werkzeug', 'mongoengine', 'pymongo', 'bson', 'marshmallow'))\n"
        "assert not heavy, heavy\n"
        "print('CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == ["OK", "CLEAN"]
