"""Evidence storage: idempotent uploads, files stored once, reuse flag, scoped variant reads."""

from __future__ import annotations

import io
import random

from PIL import Image

from inspect_api import db
from inspect_api.clock import utcnow
from inspect_api.errors import DomainError
from inspect_api.evidence import service
from tests.conftest import assert_error


def _jpeg(seed: int, size=(800, 600)) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(30):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        img.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 120, y + 90))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _store(data: bytes, institution: str = "inst-a", client_id: str = "c1", owner: str = "insp-1", team=("i1", "i2")):
    return service.store_photo(data, owner_type="inspection", owner_id=owner, institution_id=institution,
                               region="370302", label="ZB-2026-000001", client_id=client_id, uploaded_by="u1",
                               item_id="4086-1", now=utcnow(), team=list(team))


def test_store_is_idempotent_and_files_are_deduplicated(app):
    data = _jpeg(1)
    first = _store(data)
    again = _store(data)
    assert first.id == again.id
    other_client = _store(data, client_id="c2")
    assert other_client.id != first.id
    assert other_client.original_file == first.original_file  # same bytes stored once
    assert db.files().find_one({"filename": first.sha256}) is not None


def test_same_client_id_with_other_bytes_is_a_conflict(app):
    _store(_jpeg(1))
    try:
        _store(_jpeg(2))
    except DomainError as exc:
        assert exc.status == 409 and exc.code == "CLIENT_ID_REUSED"
    else:
        raise AssertionError("expected a conflict")


def test_reused_photo_for_another_institution_is_flagged(app):
    data = _jpeg(7)
    first = _store(data, institution="inst-a")
    assert not first.reused
    # The same picture re-encoded, submitted for a different institution.
    img = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    img.resize((700, 525)).save(out, "JPEG", quality=75)
    second = _store(out.getvalue(), institution="inst-b", owner="insp-2", client_id="x")
    assert second.reused and str(first.id) in second.reused_of
    unrelated = _store(_jpeg(99), institution="inst-c", owner="insp-3", client_id="y")
    assert not unrelated.reused


def test_bad_image_is_refused_and_nothing_stored(app):
    try:
        _store(b"this is not an image at all")
    except DomainError as exc:
        assert exc.status == 415
    else:
        raise AssertionError("expected a refusal")
    from inspect_api.evidence.models import Evidence
    assert Evidence.objects.count() == 0


def test_variant_reads_are_scoped_and_cacheable(client, make_user, login):
    evidence = _store(_jpeg(3), team=("insp-on-team", "other"))
    office = make_user("office_admin", "370300")
    far_office = make_user("office_admin", "370400")
    on_team = make_user("inspector", "370302", inspector_id="insp-on-team")
    off_team = make_user("inspector", "370302", inspector_id="insp-elsewhere")
    owner = make_user("institution", "370302", institution_id="inst-a")
    stranger = make_user("institution", "370302", institution_id="inst-z")
    url = f"/api/v1/photos/{evidence.id}/thumb"
    for user in (office, on_team, owner):
        r = client.get(url, headers=login(user))
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert "immutable" in r.headers["Cache-Control"]
        Image.open(io.BytesIO(r.data)).verify()
    etag = r.headers["ETag"]
    assert client.get(url, headers=login(office) | {"If-None-Match": etag}).status_code == 304
    for user in (far_office, off_team, stranger):
        assert_error(client.get(url, headers=login(user)), 404)
    assert_error(client.get(url), 401)
    original = client.get(f"/api/v1/photos/{evidence.id}/original", headers=login(office))
    assert original.data[:2] == b"\xff\xd8" and "attachment" in original.headers["Content-Disposition"]
    assert_error(client.get(f"/api/v1/photos/{evidence.id}/huge", headers=login(office)), 404)


def _stored_before_v2(data: bytes, institution: str, client_id: str):
    """A photo as the v1 pipeline stored it: bare 16-hex hash, unprefixed bands."""
    from inspect_api.evidence import pipeline
    from inspect_api.evidence.models import Evidence
    legacy = pipeline.process_photo(data, label="OLD", now=utcnow()).phash_legacy
    evidence = Evidence(
        kind="photo", owner_type="inspection", owner_id="old-insp", client_id=client_id,
        client_key=f"inspection:old-insp:{client_id}", institution_id=institution, region="370302",
        uploaded_by="u0", uploaded_at=utcnow(), mime="image/jpeg", size=len(data), sha256="0" * 64,
        phash=legacy, phash_bands=[f"{i}:{(int(legacy, 16) >> (8 * i)) & 0xFF:02x}" for i in range(8)],
        original_file=service._put_file(data, "image/jpeg"))
    evidence.save(force_insert=True)
    return evidence


def test_photo_stored_before_hash_v2_is_still_found(app):
    data = _jpeg(11)
    old = _stored_before_v2(data, "inst-a", "legacy-1")
    img = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    img.resize((400, 300)).save(out, "JPEG", quality=80)
    again = _store(out.getvalue(), institution="inst-b", owner="insp-2", client_id="x")
    assert again.phash.startswith("v2:")
    assert again.reused and again.reused_of == [str(old.id)]
    assert not _store(_jpeg(98), institution="inst-c", owner="insp-3", client_id="y").reused


def test_hashes_of_different_versions_never_match(app):
    from inspect_api.evidence.models import Evidence
    data = _jpeg(12)
    first = _store(data, institution="inst-a")
    # A legacy record whose bare hex equals the new photo's v2 bits: same
    # bands modulo the prefix, zero bit distance -- and still no match.
    bits = first.phash[3:]
    Evidence.objects(id=first.id).update(set__phash=bits,
                                         set__phash_bands=[b[3:] for b in first.phash_bands])
    second = _store(data, institution="inst-b", owner="insp-2", client_id="x")
    assert not second.reused
