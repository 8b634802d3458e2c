"""Photo positions are checked like check-ins (issue #13 item 15): an EXIF position beyond the check-in
radius is flagged, and the report shows it."""

from __future__ import annotations

import pytest

from inspect_api.inspections.models import Inspection
from tests.evidence.imagegen import make_exif
from tests.inspections.helpers import ZIBO, fill_all, jpeg, photo_form, sign_all
from tests.inspections.test_checkin_responses import check_in


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 2)


def _photo_at(lat: float | None, lon: float | None, seed: int) -> bytes:
    if lat is None:
        return jpeg(seed)
    return jpeg(seed, exif=make_exif(gps=(_dms(lat), "N", _dms(lon), "E")).tobytes())


ON_SITE = (ZIBO[0] + 0.0004, ZIBO[1])  # about 45 m north of the institution
FAR_AWAY = (ZIBO[0] + 0.171, ZIBO[1])  # about 19 km north (the reviewed case)


def _upload(client, world, headers, item_id, data):
    r = client.post(f"/api/v1/inspections/{world.assignment.id}/photos", data=photo_form(data, item_id),
                    headers=headers, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_photo_taken_19_km_away_is_flagged_like_a_check_in(client, world, as_user):
    lead = as_user(world.lead_user)
    assert check_in(client, world, lead).status_code == 200
    item = "4086-1-03"
    near = _upload(client, world, lead, item, _photo_at(*ON_SITE, seed=1))
    far = _upload(client, world, lead, item, _photo_at(*FAR_AWAY, seed=2))
    unknown = _upload(client, world, lead, item, _photo_at(None, None, seed=3))
    assert near["position_flags"] == [] and near["distance_m"] == pytest.approx(44.5, abs=5)
    assert far["position_flags"] == ["beyond_radius"] and far["distance_m"] == pytest.approx(19015, rel=0.01)
    assert unknown["position_flags"] == [] and unknown["distance_m"] is None
    view = client.get(f"/api/v1/inspections/{world.assignment.id}", headers=lead).get_json()
    assert {p["id"]: p["position_flags"] for p in view["photos"]} == {
        near["id"]: [], far["id"]: ["beyond_radius"], unknown["id"]: []}


def test_the_radius_is_the_check_in_radius(app_factory):
    from tests.inspections.helpers import build_world

    app = app_factory(checkin_radius_m=25000)
    with app.app_context():
        world = build_world()
        client = app.test_client()
        token = client.post("/api/v1/auth/login", json={"username": world.lead_user.username,
                                                        "password": "Passw0rd!23"}).get_json()["access_token"]
        lead = {"Authorization": "Bearer " + token}
        assert check_in(client, world, lead).status_code == 200
        assert _upload(client, world, lead, "4086-1-03", _photo_at(*FAR_AWAY, seed=2))["position_flags"] == []


def test_the_report_shows_photos_taken_beyond_the_radius(client, world, as_user):
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    assert check_in(client, world, lead).status_code == 200
    deducted = fill_all(client, world, lead)
    far_id = None
    for n, item in enumerate(deducted):
        for k in range(item["evidence"]["min_photos"]):
            position = FAR_AWAY if (n, k) == (0, 0) else ON_SITE
            photo = _upload(client, world, member, item["id"], _photo_at(*position, seed=10 * n + k))
            far_id = far_id or (photo["id"] if position == FAR_AWAY else None)
    sign_all(client, world, lead, member)
    assert client.post(f"/api/v1/inspections/{world.assignment.id}/submit", headers=lead).status_code == 200
    report = Inspection.objects.get(id=world.assignment.id).report
    assert [p["id"] for p in report["photos_beyond_radius"]] == [far_id]
    shown = [p for f in report["findings"] for p in f["photos"] if p["id"] == far_id]
    assert shown and shown[0]["position_flags"] == ["beyond_radius"]
    html = client.get(f"/api/v1/inspections/{world.assignment.id}/report", headers=lead).get_data(as_text=True)
    assert "1 张照片的拍摄位置超出签到半径" in html and "超出签到半径（" in html
