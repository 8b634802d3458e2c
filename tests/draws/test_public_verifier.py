"""``/p/verify.py``: one standard-library file anyone downloads to check a draw (issue #14, item 4).

The served file is ``inspect_api/draws/dr1.py`` byte for byte (the code the server draws with), the draw
page shows its SHA-256 and commands that work from any folder, and the file verifies the known-answer
vectors and a real draw record under ``python3 -I -S`` (no site-packages, no project on the path).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DR1 = REPO / "inspect_api" / "draws" / "dr1.py"
VECTORS = REPO.parent / "shared" / "vectors"


def _served(client) -> bytes:
    r = client.get("/p/verify.py")
    assert r.status_code == 200 and r.mimetype == "text/plain" and r.mimetype_params["charset"] == "utf-8"
    return r.data


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python3 -I -S verify.py ...`` in ``folder``: a bare interpreter, nothing of the project importable."""
    return subprocess.run([sys.executable, "-I", "-S", "verify.py", *args], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


def test_served_verifier_is_the_repository_file(client):
    body = _served(client)
    assert body == DR1.read_bytes()
    etag = client.get("/p/verify.py").headers["ETag"]
    assert etag.strip('"') == hashlib.sha256(body).hexdigest()
    assert client.get("/p/verify.py", headers={"If-None-Match": etag}).status_code == 304
    compile(body, "verify.py", "exec")  # one self-contained Python file
    imports = set(re.findall(r"^(?:from|import) ([a-z_][a-z_0-9]*)", body.decode("utf-8"), flags=re.M))
    assert imports <= set(sys.stdlib_module_names) | {"__future__"}, imports


def test_served_verifier_checks_the_known_answer_vectors_from_any_folder(client, tmp_path):
    (tmp_path / "verify.py").write_bytes(_served(client))
    for name in ("dr1-known-answer.json", "dr1-medium.json"):
        shutil.copy(VECTORS / name, tmp_path / name)
        done = _run(tmp_path, name)
        assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr
    record = json.loads((VECTORS / "dr1-known-answer.json").read_text(encoding="utf-8"))
    victim = record["result"]["targets"][3]
    record["result"]["teams"][victim][1] = "someone-else"
    (tmp_path / "edited.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    done = _run(tmp_path, "edited.json")
    assert done.returncode == 1 and done.stdout.startswith(f"result.teams.{victim}[1]: record has 'someone-else'")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    assert _run(tmp_path, "broken.json").returncode == 2
    assert _run(tmp_path, "missing.json").returncode == 2


@pytest.fixture
def demo_client(app_factory):
    return app_factory(demo_data=True).test_client()


def test_a_real_draw_record_verifies_with_the_commands_the_page_shows(demo_client, tmp_path):
    client = demo_client
    drawn = next(d for d in client.get("/api/v1/public/draws?per_page=100").get_json()["items"]
                 if d["state"] in ("drawn", "amended"))
    page = client.get(f"/p/draws/{drawn['id']}")
    html = unescape(page.get_data(as_text=True))
    commands = re.findall(r'<code class="cmd">(.*?)</code>', html)
    base = "http://127.0.0.1:8000"  # the testing config's public_base_url
    record_url = f"{base}/api/v1/public/draws/{drawn['id']}/record.json"
    assert commands == [f"curl -o record.json {record_url}", f"curl -o verify.py {base}/p/verify.py",
                        "python3 verify.py record.json"]
    served = _served(client)
    assert hashlib.sha256(served).hexdigest() in html
    # What the two curl commands fetch, saved under the names they give, then the third command.
    (tmp_path / "record.json").write_bytes(client.get(record_url.removeprefix(base)).data)
    (tmp_path / "verify.py").write_bytes(client.get("/p/verify.py").data)
    done = _run(tmp_path, "record.json")
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stderr
    plain = subprocess.run(["python3", "verify.py", "record.json"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert (plain.returncode, plain.stdout.strip()) == (0, "OK"), plain.stderr


# ------------------------------------------------------------------ item 5: the draw page in Chinese first

TERMS = ("commitment", "nonce", "seed", "public entropy")


def _visible_prose(html: str) -> str:
    """The page's text outside code, commands and the glossary (where the technical names belong)."""
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    main = re.sub(r'<section class="card glossary".*?</section>', " ", main, flags=re.S)
    main = re.sub(r"<(pre|code)[^>]*>.*?</\1>", " ", main, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", main))


def test_draw_page_speaks_chinese_first_with_each_term_explained_once(client, office, w):
    from tests.draws import plan_fixtures as fx

    plan, committed = fx.committed_plan(client, office)
    before = client.get(f"/p/draws/{committed['id']}").get_data(as_text=True)
    drawn = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": "2026-11-20 福彩3D 527"},
                        headers=office).get_json()
    after = client.get(f"/p/draws/{drawn['id']}").get_data(as_text=True)
    for html in (before, after):
        prose = _visible_prose(html)
        for term in TERMS:
            assert prose.count(term) <= 1, (term, prose.count(term))
            if term in prose:  # Chinese first, the technical term in parentheses after it
                assert re.search(rf"[\u4e00-\u9fff]（{term}[）,，]", prose), term
        assert "public_entropy" not in prose and "python -m" not in prose
        why = html.split('id="why"', 1)[1].split("</section>", 1)[0]
        assert len([s for s in _visible_prose('<main id="main">' + why + "</main>").split("。") if s.strip()]) == 2
        glossary = html.split('<section class="card glossary"', 1)[1].split("</section>", 1)[0]
        for word, term in (("承诺值", "commitment"), ("保密随机数", "nonce"), ("公开随机源", "public_entropy"),
                           ("种子", "seed"), ("SHA-256", "指纹"), ("抽取记录", "record.json")):
            assert re.search(rf"<dt>{word}</dt><dd>[^<]*{re.escape(term)}", glossary), word
    assert "自己动手验证" in after and "python3 verify.py record.json" in after
    assert "python3 verify.py record.json" not in before and "抽取完成后" in before
