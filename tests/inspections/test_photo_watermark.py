"""Photo watermarks show code, UTC+8 time and coordinates; without EXIF GPS the check-in position."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from PIL import Image

from inspect_api.evidence import pipeline, watermark
from inspect_api.evidence.models import Evidence
from tests.evidence.imagegen import make_exif
from tests.inspections.helpers import ZIBO, applicable_items, photo_form
from tests.inspections.test_checkin_responses import check_in


def _url(world, tail=""):
    return f"/api/v1/inspections/{world.assignment.id}{tail}"


def _jpeg(exif: bytes | None = None) -> bytes:
    """A plain white 1200 × 900 camera-less JPEG (no EXIF unless given)."""
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (255, 255, 255)).save(out, "JPEG", quality=92, **({"exif": exif} if exif else {}))
    return out.getvalue()


def _strip_rows(display: bytes) -> int:
    """Height of the darkened watermark strip: dark rows at the left edge, counted from the bottom."""
    im = Image.open(io.BytesIO(display)).convert("L")
    w, h = im.size
    rows = 0
    for y in range(h - 1, -1, -1):
        if im.getpixel((1, y)) > 180:
            break
        rows += 1
    return rows


def test_photo_without_exif_gps_is_watermarked_with_the_check_in_position(client, world, as_user):
    lead = as_user(world.lead_user)
    assert check_in(client, world, lead).status_code == 200
    data = _jpeg()
    assert pipeline.process_photo(data, label="x", now=datetime.now(timezone.utc)).gps is None
    item = applicable_items()[0]
    r = client.post(_url(world, "/photos"), data=photo_form(data, item["id"]), headers=lead,
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    display = client.get(r.get_json()["urls"]["display"], headers=lead)
    assert display.status_code == 200

    now = datetime.now(timezone.utc)
    two_lines = _strip_rows(pipeline.process_photo(data, label="ZB-2026-000001", now=now).display)
    three_lines = _strip_rows(pipeline.process_photo(data, label="ZB-2026-000001", now=now,
                                                     fallback_gps=ZIBO).display)
    assert three_lines > two_lines > 0
    assert _strip_rows(display.data) == three_lines  # code, time and the check-in coordinates
    lines = watermark.text_lines("ZB-2026-000001", now, None, ZIBO)
    assert lines[2] == "36.81310N 118.05490E (check-in)"
    # the photo's own fields stay empty: the position is the check-in's, not the camera's
    stored = Evidence.objects.get(id=r.get_json()["id"])
    assert stored.latitude is None and stored.longitude is None

    # a photo with its own GPS shows those coordinates (same three lines, no fallback)
    exif = make_exif(gps=((36.0, 48.0, 0.0), "N", (118.0, 3.0, 0.0), "E")).tobytes()
    r = client.post(_url(world, "/photos"), data=photo_form(_jpeg(exif), item["id"]), headers=lead,
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert Evidence.objects.get(id=r.get_json()["id"]).latitude == pytest.approx(36.8)
    assert _strip_rows(client.get(r.get_json()["urls"]["display"], headers=lead).data) == three_lines
