"""Answer photos: uploaded through the evidence pipeline for one finding, then referenced by the answer."""

from __future__ import annotations

import io

from inspect_api.evidence.models import Evidence
from inspect_api.rectification import service as rs
from tests.conftest import assert_error
from tests.evidence.imagegen import encode, photo_like
from tests.notify.world import finding


def _upload(client, headers, url, data: bytes, client_id: str, name="p.jpg"):
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "client_id": client_id})


def test_upload_retry_and_answer_with_photo(client, login, world):
    order = world.open([finding("A1"), finding("A2")])
    f1, f2 = rs.findings_of(order)
    h = login(world.users["institution"])
    url = f"/api/v1/rectifications/{order.id}/findings/{f1.id}/photos"
    jpeg = encode(photo_like(1, (800, 600)), "JPEG", quality=85)
    r = _upload(client, h, url, jpeg, "c-1")
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    again = _upload(client, h, url, jpeg, "c-1")  # retried upload
    assert again.status_code == 201 and again.get_json()["id"] == photo["id"]
    assert Evidence.objects(owner_type="rectification_finding").count() == 1
    # a photo of another finding cannot be used
    assert_error(client.post(f"/api/v1/rectifications/{order.id}/findings/{f2.id}/answer", headers=h,
                             json={"description": "完成", "photo_ids": [photo["id"]]}), 422, "PHOTO_NOT_FOUND")
    r = client.post(f"/api/v1/rectifications/{order.id}/findings/{f1.id}/answer", headers=h,
                    json={"description": "已整改，见照片", "photo_ids": [photo["id"]]})
    assert r.status_code == 200 and r.get_json()["answers"][0]["photo_ids"] == [photo["id"]]
    # the reviewer (lead on the team) can read the photo
    lead = login(world.users["lead"])
    assert client.get(f"/api/v1/photos/{photo['id']}/thumb", headers=lead).status_code == 200


def test_bad_uploads(client, login, world):
    order = world.open([finding("A1")])
    f = rs.findings_of(order)[0]
    url = f"/api/v1/rectifications/{order.id}/findings/{f.id}/photos"
    h = login(world.users["institution"])
    err = assert_error(_upload(client, h, url, b"this is not an image at all", "c-2", name="fake.jpg"), 415)
    assert err["code"]
    err = assert_error(client.post(url, headers=h, content_type="multipart/form-data", data={"client_id": "c-3"}),
                       422, "VALIDATION_ERROR")
    assert err["details"]["fields"]["form"] == {"file": ["缺少必填字段"]}
    other = login(world.users["other_institution"])
    jpeg = encode(photo_like(2, (400, 300)), "JPEG")
    assert_error(_upload(client, other, url, jpeg, "c-4"), 404)
    assert_error(_upload(client, login(world.users["lead"]), url, jpeg, "c-5"), 403)
    assert Evidence.objects.count() == 0
