"""Assignments, targeted inspections and the offline bundle."""

from __future__ import annotations

import gzip
import uuid
import zlib

from tests.conftest import assert_error


def test_my_assignments_lists_own_only(client, world, as_user):
    r = client.get("/api/v1/me/assignments", headers=as_user(world.lead_user))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["id"] == str(world.assignment.id)
    assert item["institution_name"] == world.institution.name
    assert item["random"] is True
    r = client.get("/api/v1/me/assignments", headers=as_user(world.outsider_user))
    assert r.get_json()["total"] == 0
    r = client.get("/api/v1/me/assignments?status=submitted", headers=as_user(world.lead_user))
    assert r.get_json()["total"] == 0
    due = world.assignment.due_date.isoformat()
    r = client.get(f"/api/v1/me/assignments?date_from={due}&date_to={due}", headers=as_user(world.lead_user))
    assert r.get_json()["total"] == 1
    r = client.get("/api/v1/me/assignments?date_from=2099-01-01", headers=as_user(world.lead_user))
    assert r.get_json()["total"] == 0


def test_my_assignments_carry_address_and_team_names_in_one_query(client, world, as_user, monkeypatch):
    """A phone lists its day without one request per row: institution address and public id come with
    each item from one directory query for the whole page; the team's names are stored with each
    assignment (an assignment stored without them is named by one query for the page)."""
    from datetime import datetime, timezone

    from inspect_api.inspections import assignments
    from inspect_api.inspections.models import Assignment
    from tests.inspections.helpers import make_institution

    now = datetime.now(timezone.utc)
    for n in range(3):
        other = make_institution(now, name=f"第{n}康养中心")
        assignments.create_assignment(institution_id=str(other.id), region=other.region,
                                      team=[str(world.member.id), str(world.lead.id)], source="draw",
                                      checklist_code="DB37T4086-2020", now=now, dedupe_key=f"draw:views:{other.id}")
    calls = {"institution_cards_read": 0, "inspector_cards_read": 0}
    for name in calls:
        real = getattr(assignments, name)  # the directory reads as the assignments module asks for them

        def counted(*args, _real=real, _name=name, **kwargs):
            read = _real(*args, **kwargs)
            calls[_name] += read is not None  # None: nothing to read
            return read

        monkeypatch.setattr(assignments, name, counted)
    body = client.get("/api/v1/me/assignments", headers=as_user(world.lead_user)).get_json()
    assert body["total"] == 4 and calls == {"institution_cards_read": 1, "inspector_cards_read": 0}
    # Stored before the names were: looked up, once for the page.
    Assignment.objects.update(unset__team_names=True)
    again = client.get("/api/v1/me/assignments", headers=as_user(world.lead_user)).get_json()
    assert again["items"] == body["items"] and calls == {"institution_cards_read": 2, "inspector_cards_read": 1}
    first = next(i for i in body["items"] if i["id"] == str(world.assignment.id))
    assert first["institution_address"] == world.institution.address
    assert first["institution_public_id"] == world.institution.public_id
    assert first["team_members"] == [
        {"inspector_id": str(world.lead.id), "role": "lead", "name": "张建国"},
        {"inspector_id": str(world.member.id), "role": "member", "name": "李晓梅"}]
    led_by_member = [i for i in body["items"] if i["id"] != str(world.assignment.id)]
    assert all(i["team_members"][0] == {"inspector_id": str(world.member.id), "role": "lead", "name": "李晓梅"}
               for i in led_by_member)


def test_assignment_scope(client, world, as_user):
    url = f"/api/v1/assignments/{world.assignment.id}"
    assert client.get(url, headers=as_user(world.member_user)).status_code == 200
    assert client.get(url, headers=as_user(world.office_user)).status_code == 200
    assert_error(client.get(url, headers=as_user(world.outsider_user)), 404, "ASSIGNMENT_NOT_FOUND")
    assert_error(client.get(url, headers=as_user(world.other_office_user)), 404, "ASSIGNMENT_NOT_FOUND")
    assert_error(client.get(url, headers=as_user(world.institution_user)), 403)
    assert_error(client.get("/api/v1/assignments/nonsense", headers=as_user(world.lead_user)), 404)


def test_bundle_pins_version_and_answers_304(client, world, as_user):
    url = f"/api/v1/assignments/{world.assignment.id}/bundle"
    h = as_user(world.lead_user)
    r = client.get(url, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    etag = r.headers["ETag"]
    assert body["checklist"]["code"] == "DB37T4086-2020"
    assert body["checklist"]["version"] == 1
    assert body["checklist"]["content"]["sections"]
    assert body["assignment"]["checklist_version"] == 1
    assert [m["role"] for m in body["team"]] == ["lead", "member"]
    assert body["team"][0]["name"] == "张建国" and body["team"][0]["certificate_no"]
    assert body["institution"]["latitude"] == 36.8131 and body["institution"]["longitude"] == 118.0549
    assert body["checkin_rules"]["radius_m"] == 300
    assert body["inspection"]["id"] == str(world.assignment.id)
    assert body["inspection"]["code"].startswith("ZB-")
    assert body["previous_result"] is None
    r2 = client.get(url, headers={**h, "If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.headers["ETag"] == etag
    assert client.get(url, headers={**h, "If-None-Match": '"other"'}).status_code == 200
    assert_error(client.get(url, headers=as_user(world.outsider_user)), 404)
    # A change of what the bundle shows (the institution's contact) is a new bundle: the held tag no longer
    # matches, and the new tag revalidates.
    patched = client.patch(f"/api/v1/institutions/{world.institution.id}", headers=as_user(world.office_user),
                           json={"contact_phone": "0533-7654321"})
    assert patched.status_code == 200, patched.get_json()
    changed = client.get(url, headers={**h, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["institution"]["contact_phone"] == "0533-7654321"
    assert client.get(url, headers={**h, "If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_bundle_is_gzip_compressed_for_a_phone_that_takes_it(client, world, as_user):
    """The same bundle, a quarter of the bytes (the checklist content is compressed once per version)."""
    url = f"/api/v1/assignments/{world.assignment.id}/bundle"
    h = as_user(world.lead_user)
    plain = client.get(url, headers=h)
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    for _ in range(2):  # the kept content, compressed at the first request, serves the second
        zipped = client.get(url, headers={**h, "Accept-Encoding": "gzip, deflate, br"})
        assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.data) == plain.data
        assert zlib.decompressobj(31).decompress(zipped.data) == plain.data  # one member, as browsers read it
        assert len(zipped.data) < len(plain.data) / 3
        # Another representation of the same content: its own strong tag (RFC 9110 8.8.3).
        assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    refused = client.get(url, headers={**h, "Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data
    assert refused.headers["ETag"] == plain.headers["ETag"]
    # Either tag revalidates in either coding (the content is the same); the 304 names the coding asked for.
    for held in (plain.headers["ETag"], zipped.headers["ETag"], "W/" + zipped.headers["ETag"]):
        for coding, tag in (("gzip", zipped.headers["ETag"]), ("identity", plain.headers["ETag"])):
            r = client.get(url, headers={**h, "Accept-Encoding": coding, "If-None-Match": f'"other", {held}'})
            assert r.status_code == 304 and r.headers["ETag"] == tag and not r.data
    assert client.get(url, headers={**h, "Accept-Encoding": "gzip",
                                    "If-None-Match": plain.headers["ETag"][:-1] + '-br"'}).status_code == 200


def test_office_creates_targeted_assignment_idempotently(client, world, as_user):
    h = as_user(world.office_user)
    body = {"client_id": str(uuid.uuid4()), "institution_id": str(world.institution.id),
            "team": [str(world.member.id), str(world.outsider.id)], "reason": "complaint",
            "reason_note": "群众投诉夜间无护理人员值班", "due_date": "2026-12-01"}
    r = client.post("/api/v1/assignments", json=body, headers=h)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["source"] == "targeted" and created["random"] is False and created["reason"] == "complaint"
    assert created["checklist_code"] == "DB37T4086-2020"
    again = client.post("/api/v1/assignments", json=body, headers=h)
    assert again.status_code == 201 and again.get_json()["id"] == created["id"]
    listed = client.get("/api/v1/assignments?source=targeted", headers=h).get_json()
    assert listed["total"] == 1
    assert client.get("/api/v1/assignments", headers=as_user(world.other_office_user)).get_json()["total"] == 0
    # Outside the office's region: 404; bad reason: 422; inspector cannot create.
    assert_error(client.post("/api/v1/assignments", json={**body, "client_id": str(uuid.uuid4())},
                             headers=as_user(world.other_office_user)), 404)
    assert_error(client.post("/api/v1/assignments", json={**body, "reason": "whim"}, headers=h), 422)
    assert_error(client.post("/api/v1/assignments", json=body, headers=as_user(world.lead_user)), 403)
    one = client.post("/api/v1/assignments", json={**body, "client_id": str(uuid.uuid4()),
                                                   "team": [str(world.member.id)]}, headers=h)
    assert_error(one, 422)


def test_assigned_inspector_reads_the_institution_others_do_not(client, world, as_user):
    url = f"/api/v1/institutions/{world.institution.id}"
    for user in (world.lead_user, world.member_user):
        r = client.get(url, headers=as_user(user))
        assert r.status_code == 200 and r.get_json()["name"] == world.institution.name
    assert_error(client.get(url, headers=as_user(world.outsider_user)), 404)
    # The directory list stays office/institution only.
    assert_error(client.get("/api/v1/institutions", headers=as_user(world.lead_user)), 403)


def test_assignments_count_as_directory_history(client, world, as_user):
    office = as_user(world.office_user)
    r = client.delete(f"/api/v1/institutions/{world.institution.id}", headers=office)
    assert r.status_code == 200 and r.get_json()["outcome"] == "closed"
    r = client.delete(f"/api/v1/inspectors/{world.outsider.id}", headers=office)
    assert r.get_json()["outcome"] in ("deleted", "deactivated")
    r = client.delete(f"/api/v1/inspectors/{world.lead.id}", headers=office)
    assert r.status_code == 200 and r.get_json()["outcome"] == "deactivated"


def test_office_reading_an_unstarted_inspection_creates_nothing(client, world, as_user):
    from inspect_api.inspections.models import Inspection

    r = client.get(f"/api/v1/inspections/{world.assignment.id}", headers=as_user(world.office_user))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "assigned"
    assert Inspection.objects(id=world.assignment.id).count() == 0
    # The team's first read starts it, with its code.
    r = client.get(f"/api/v1/inspections/{world.assignment.id}", headers=as_user(world.lead_user))
    assert r.get_json()["code"] and Inspection.objects(id=world.assignment.id).count() == 1
