"""Clients generated from the live OpenAPI document run the phone's flows against a real server (issue #19).

TypeScript: openapi-typescript + openapi-fetch (versions pinned in ``ts/package-lock.json``, installed with
``npm ci`` when ``ts/node_modules`` is missing), the flow compiled with ``tsc --strict`` and run with node.
Python: openapi-python-client (pinned in the dev extra), the flow checked with ``mypy --strict``.
Each runs the inspector's flow (login → assignments → bundle → check-in → responses → photo → signatures →
submit → report) and the institution's (orders → answer) on the demo data, over loopback HTTP; the server
side is then checked directly.  Node is used by this test only, never at run time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from inspect_api.auth.models import User
from inspect_api.demo import DEMO_PASSWORD
from inspect_api.directory.institutions import get_institution
from inspect_api.directory.qr import qr_payload
from inspect_api.inspections.models import Assignment, Inspection
from inspect_api.rectification.models import Finding
from tests.inspections.helpers import jpeg, signature_png

HERE = Path(__file__).parent
TS = HERE / "ts"
VENV_BIN = Path(sys.executable).parent
NO_CASTS = re.compile(r"\bas\s+(any|unknown)\b|:\s*any\b|<any>|\bany\[\]|@ts-(ignore|expect-error|nocheck)")


@pytest.fixture
def demo_server(app_factory, tmp_path):
    """The demo world served on loopback, with what a phone would learn off-line (the posters' QR codes)."""
    app = app_factory(demo_data=True, scheduler_in_process=False, login_max_failures=1000)
    with app.app_context():
        if not app.extensions.get("inspect_demo_accounts"):  # a real MongoDB: seed explicitly
            from inspect_api.demo import load_demo
            load_demo()
        lead, member = User.objects.get(username="insp01"), User.objects.get(username="insp02")
        assigned = [a for a in Assignment.objects(status="assigned", team=lead.inspector_id)
                    if a.team[0] == lead.inspector_id and member.inspector_id in a.team]
        assert assigned, "the demo has an assignment insp01 leads with insp02"
        payloads = {a.institution_id: qr_payload(get_institution(a.institution_id))
                    for a in assigned}
        staff = {u.institution_id: u.username for u in User.objects(role="institution")}
        institution_user = next((staff[i] for i in payloads if i in staff), "inst01")
    (tmp_path / "photo.jpg").write_bytes(jpeg(7, (1024, 768)))
    (tmp_path / "signature.png").write_bytes(signature_png(3))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    spec = requests.get(f"{base}/api/v1/openapi.json", timeout=60)
    assert spec.status_code == 200
    (tmp_path / "openapi.json").write_text(spec.text, encoding="utf-8")
    env = {**os.environ, "API_BASE": base, "INSPECTOR_USER": "insp01", "INSPECTOR_PASSWORD": DEMO_PASSWORD,
           "MEMBER_USER": "insp02", "MEMBER_PASSWORD": DEMO_PASSWORD, "INSTITUTION_USER": institution_user,
           "INSTITUTION_PASSWORD": DEMO_PASSWORD, "QR_PAYLOADS": json.dumps(payloads),
           "PHOTO_PATH": str(tmp_path / "photo.jpg"), "SIGNATURE_PATH": str(tmp_path / "signature.png")}
    try:
        yield app, env, tmp_path
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, \
        f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def _summary(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def _check_server_side(app, summary: dict) -> None:
    """What the generated clients did is what the server holds."""
    inspector, institution = summary["inspector"], summary["institution"]
    with app.app_context():
        inspection = Inspection.objects.get(id=inspector["inspection_id"])
        assert inspection.state == "submitted" and inspection.code == inspector["code"]
        assert inspection.report_hash == inspector["report_hash"] and inspection.order_id == inspector["order_id"]
        assert [f["item_id"] for f in inspection.findings] == [inspector["finding_item"]]
        assert {s.signer_role for s in inspection.signatures} == {"lead", "member", "institution_representative"}
        finding = Finding.objects.get(id=institution["finding_id"])
        assert finding.status == "answered" and institution["status"] == "answered"
        assert finding.order_id == institution["order_id"]
    assert inspector["answered"] > 0 and inspector["thumb_bytes"] > 0


def _npm_ci() -> None:
    if not (TS / "node_modules" / ".package-lock.json").exists():
        npm = shutil.which("npm")
        assert npm, "npm (Node 20) is needed to build the TypeScript client"
        _run([npm, "ci", "--no-audit", "--no-fund"], cwd=TS, timeout=1800)


def test_typescript_client_runs_the_phone_flows(demo_server):
    app, env, tmp = demo_server
    source = (TS / "flow.ts").read_text(encoding="utf-8")
    assert not NO_CASTS.search(source), "the flow must stay fully typed (no any/unknown casts, no ts-ignore)"
    _npm_ci()
    work = tmp / "ts"
    work.mkdir()
    for name in ("flow.ts", "tsconfig.json"):
        shutil.copy(TS / name, work / name)
    (work / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (work / "node_modules").symlink_to(TS / "node_modules", target_is_directory=True)
    node = shutil.which("node")
    assert node, "node (20+) is needed to build the TypeScript client"
    _run([node, str(TS / "generate.mjs"), str(tmp / "openapi.json"), str(work / "api.d.ts")], cwd=work)
    _run([node, str(TS / "node_modules" / "typescript" / "bin" / "tsc"), "-p", "tsconfig.json"], cwd=work)
    summary = _summary(_run([node, str(work / "out" / "flow.js")], cwd=work, env=env))
    _check_server_side(app, summary)


def test_python_client_runs_the_phone_flows(demo_server):
    app, env, tmp = demo_server
    work = tmp / "py"
    work.mkdir()
    tool_env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    generated = _run([str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(tmp / "openapi.json"),
                      "--meta", "none", "--output-path", str(work / "inspect_api_client"),
                      "--config", str(HERE / "openapi-python-client.yaml")], cwd=work, env=tool_env)
    assert "WARNING" not in generated and "Unable" not in generated, generated
    shutil.copy(HERE / "python_flow.py", work / "python_flow.py")
    checked = _run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
                    "python_flow.py"], cwd=work, env=tool_env)
    assert "Success" in checked, checked
    summary = _summary(_run([sys.executable, "python_flow.py"], cwd=work, env={**env, "PYTHONPATH": str(work)}))
    _check_server_side(app, summary)
