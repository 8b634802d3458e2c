"""QR check-in tokens, PNG codes, re-issue and the printable poster."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from itsdangerous import URLSafeSerializer
from PIL import Image

from inspect_api.directory import institutions, qr
from inspect_api.errors import Unprocessable
from tests.conftest import assert_error


def test_qr_png_is_a_valid_image_and_payload_round_trips(client, office, new_institution):
    inst = new_institution()
    r = client.get(f"/api/v1/institutions/{inst['id']}/qr.png", headers=office[1])
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = Image.open(io.BytesIO(r.data))
    image.verify()
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 200
    doc = institutions.get_institution(inst["id"])
    payload = qr.qr_payload(doc)
    assert payload.startswith(f"http://127.0.0.1:8000/p/institutions/{inst['public_id']}?t=")
    assert qr.public_url(doc) == inst["public_url"]
    assert qr.verify_checkin_token(qr.token_from_payload(payload)).id == doc.id


def _decode_qr(png: bytes) -> str:
    """Decode the QR code in a PNG with a real decoder (zxing-cpp): what a phone camera reads."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, found
    return found[0].text


def test_decoded_qr_token_checks_in_and_dies_with_a_reissue(client, as_user):
    from tests.inspections.helpers import ZIBO, build_world

    world = build_world()
    inst = world.institution
    office, lead = as_user(world.office_user), as_user(world.lead_user)

    def scan() -> tuple[str, str]:
        r = client.get(f"/api/v1/institutions/{inst.id}/qr.png", headers=office)
        assert r.status_code == 200 and r.mimetype == "image/png"
        payload = _decode_qr(r.data)
        url = urlsplit(payload)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"http://127.0.0.1:8000/p/institutions/{inst.public_id}"
        return payload, parse_qs(url.query)["t"][0]

    def check_in(token: str):
        return client.post(f"/api/v1/inspections/{world.assignment.id}/check-in", headers=lead, json={
            "client_id": str(uuid.uuid4()), "qr_token": token, "latitude": ZIBO[0], "longitude": ZIBO[1],
            "accuracy_m": 10.0, "captured_at": datetime.now(timezone.utc).isoformat()})

    old_payload, old_token = scan()
    assert qr.verify_checkin_token(old_token).id == inst.id
    assert client.post(f"/api/v1/institutions/{inst.id}/qr/reissue", headers=office).get_json()["qr_version"] == 2
    new_payload, new_token = scan()
    assert new_token != old_token
    # The old poster's code is refused, as a bare token and as the scanned URL.
    for scanned in (old_token, old_payload):
        assert_error(check_in(scanned), 422, "CHECKIN_TOKEN_REVOKED")
    r = check_in(new_token)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "checked_in" and r.get_json()["checkin"]["flagged"] is False


def test_reissue_revokes_old_token(client, office, new_institution):
    inst = new_institution()
    old = qr.make_checkin_token(institutions.get_institution(inst["id"]))
    r = client.post(f"/api/v1/institutions/{inst['id']}/qr/reissue", headers=office[1])
    assert r.status_code == 200 and r.get_json()["qr_version"] == 2
    with pytest.raises(Unprocessable) as exc:
        qr.verify_checkin_token(old)
    assert exc.value.code == "CHECKIN_TOKEN_REVOKED"
    new = qr.make_checkin_token(institutions.get_institution(inst["id"]))
    assert new != old and qr.verify_checkin_token(new).qr_version == 2


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJpIjoiMSJ9.forged"])
def test_garbled_tokens_refused(app, new_institution, token):
    new_institution()
    with pytest.raises(Unprocessable) as exc:
        qr.verify_checkin_token(token)
    assert exc.value.code == "CHECKIN_TOKEN_INVALID"


def test_forged_token_with_other_key_or_unknown_institution(app, new_institution):
    inst = new_institution()
    forged = URLSafeSerializer("another-secret", salt=qr.CHECKIN_SALT).dumps({"i": inst["id"], "v": 1})
    with pytest.raises(Unprocessable) as exc:
        qr.verify_checkin_token(forged)
    assert exc.value.code == "CHECKIN_TOKEN_INVALID"
    ghost = URLSafeSerializer(app.config["SECRET_KEY"], salt=qr.CHECKIN_SALT).dumps({"i": "0" * 24, "v": 1})
    with pytest.raises(Unprocessable) as exc:
        qr.verify_checkin_token(ghost)
    assert exc.value.code == "CHECKIN_TOKEN_INVALID"


def test_institution_user_can_reissue_own_poster_only(client, make_user, login, new_institution):
    mine, other = new_institution(), new_institution()
    headers = login(make_user("institution", "370302", username="inst_q", institution_id=mine["id"]))
    assert client.post(f"/api/v1/institutions/{mine['id']}/qr/reissue", headers=headers).status_code == 200
    assert_error(client.post(f"/api/v1/institutions/{other['id']}/qr/reissue", headers=headers), 404)
    assert client.get(f"/api/v1/institutions/{mine['id']}/qr.png", headers=headers).status_code == 200


def test_poster_page(client, office, new_institution):
    inst = new_institution(name="淄川区海报测试中心")
    link = client.get(f"/api/v1/institutions/{inst['id']}/poster-link", headers=office[1]).get_json()
    path = link["url"].replace("http://127.0.0.1:8000", "")
    assert path.startswith(f"/p/institutions/{inst['public_id']}/poster?k=")
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "淄川区海报测试中心" in html and "<svg" in html
    assert "执法人员现场检查签到 / 公众查询检查结果" in html
    assert client.get(f"/p/institutions/{inst['public_id']}/poster").status_code == 404  # no key: no token
    assert client.get(f"/p/institutions/{inst['public_id']}/poster?k=forged").status_code == 404
    assert client.get("/p/institutions/NOSUCHID/poster?k=x").status_code == 404
    client.post(f"/api/v1/institutions/{inst['id']}/qr/reissue", headers=office[1])
    assert client.get(path).status_code == 404  # links issued before a re-issue die with it


def test_poster_key_expires(app, new_institution):
    inst = institutions.get_institution(new_institution()["id"])
    key = qr.poster_key(inst)
    assert qr.poster_institution(inst.public_id, key).id == inst.id
    assert qr.poster_institution(inst.public_id, key, max_age=-1) is None
