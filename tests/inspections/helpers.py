"""Builders for inspection tests: a small world of institution, inspectors, accounts and an assignment."""

from __future__ import annotations

import io
import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image, ImageDraw

from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.directory.creditcode import generate
from inspect_api.directory.models import Inspector, Institution
from inspect_api.inspections import assignments, records

from tests.conftest import TEST_PASSWORD

PASSWORD = TEST_PASSWORD
ZIBO = (36.8131, 118.0549)  # lat, lon of the test institution
_seq = itertools.count(1)


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character)."""
    return generate(random.Random(n), "370300")


def make_institution(now: datetime, *, name: str = "淄川区康宁医养中心", region: str = "370302",
                     kind: str = "combined", lat: float = ZIBO[0], lon: float = ZIBO[1]) -> Institution:
    n = next(_seq) + random.randrange(10**6) * 100
    inst = Institution(public_id=f"T{n:07d}"[:8], name=name, credit_code=credit_code(n), kind=kind, region=region,
                       address="淄博市淄川区松龄路1号", location=[lon, lat], care_beds=120, medical_beds=20,
                       contact_name="王院长", contact_phone="0533-5180000", created_at=now)
    inst.save()
    return inst


def make_inspector(now: datetime, name: str, region: str = "370302") -> Inspector:
    n = next(_seq) + random.randrange(10**6) * 100
    inspector = Inspector(name=name, certificate_no=f"37030{n:08d}", department="health", region=region,
                          created_at=now)
    inspector.save()
    return inspector


def make_account(username: str, role: str, region: str, **links) -> User:
    user = User(username=username, password_hash=passwords.hash_password(PASSWORD), role=role, region=region,
                display_name=username, created_at=datetime.now(timezone.utc), **links)
    user.save()
    return user


@dataclass
class World:
    institution: Institution
    lead: Inspector
    member: Inspector
    outsider: Inspector
    lead_user: User
    member_user: User
    outsider_user: User
    office_user: User
    other_office_user: User
    institution_user: User
    assignment: object


def build_world(now: datetime | None = None, *, prefix: str = "") -> World:
    now = now or datetime.now(timezone.utc)
    institution = make_institution(now)
    lead = make_inspector(now, "张建国")
    member = make_inspector(now, "李晓梅")
    outsider = make_inspector(now, "赵志强")
    lead_user = make_account(f"{prefix}lead", "inspector", "370302", inspector_id=str(lead.id))
    member_user = make_account(f"{prefix}member", "inspector", "370302", inspector_id=str(member.id))
    outsider_user = make_account(f"{prefix}outsider", "inspector", "370302", inspector_id=str(outsider.id))
    office_user = make_account(f"{prefix}office", "office_admin", "370300")
    other_office_user = make_account(f"{prefix}jinan", "office_admin", "370100")
    institution_user = make_account(f"{prefix}inst", "institution", "370302", institution_id=str(institution.id))
    assignment = assignments.create_assignment(
        institution_id=str(institution.id), region=institution.region, team=[str(lead.id), str(member.id)],
        source="draw", checklist_code="DB37T4086-2020", now=now, dedupe_key=f"draw:test:{institution.id}",
        due_date=(now + timedelta(days=7)).date())
    return World(institution, lead, member, outsider, lead_user, member_user, outsider_user, office_user,
                 other_office_user, institution_user, assignment)


def jpeg(seed: int = 1, size: tuple[int, int] = (640, 480), exif: bytes | None = None) -> bytes:
    """A small photo-like JPEG made in memory."""
    rnd = random.Random(seed)
    im = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(12):
        x0, y0 = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.rectangle((x0, y0, x0 + rnd.randrange(40, 240), y0 + rnd.randrange(40, 200)),
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    im.save(buf, "JPEG", quality=85, **kwargs)
    return buf.getvalue()


def signature_png(seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    im = Image.new("RGBA", (400, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(im)
    points = [(20 + i * 36, 80 + rnd.randrange(-50, 50)) for i in range(11)]
    draw.line(points, fill=(0, 0, 0, 255), width=4)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def cid() -> str:
    return str(uuid.uuid4())


def checklist_items(code: str = "DB37T4086-2020") -> list[dict]:
    return records.checklist_items(records.checklist_version(code)["content"])


def applicable_items(kind: str = "combined", code: str = "DB37T4086-2020") -> list[dict]:
    from checklists import applies_to

    return [i for i in checklist_items(code) if applies_to(i, kind)]


def photo_form(data: bytes, item_id: str, client_id: str | None = None, filename: str = "photo.jpg") -> dict:
    return {"file": (io.BytesIO(data), filename), "item_id": item_id, "client_id": client_id or cid()}


def signature_form(name: str, role: str, client_id: str | None = None, seed: int = 1, **extra) -> dict:
    return {"file": (io.BytesIO(signature_png(seed)), "sig.png"), "client_id": client_id or cid(),
            "signer_name": name, "signer_role": role, **extra}


def fill_all(client, world, headers, *, deduct_first: int = 2, now_iso: str = "2026-11-23T09:40:00+08:00") -> list:
    """Answer every applicable item (the first ``deduct_first`` with a deduction); return the deducted items."""
    items = applicable_items(world.institution.kind)
    deducted = [i for i in items if not i.get("veto")][:deduct_first]
    batch = []
    for item in items:
        if item in deducted:
            batch.append({"client_id": cid(), "item_id": item["id"], "base_revision": 0, "client_updated_at": now_iso,
                          "result": "deduct", "deduction_codes": [item["deductions"][0]["code"]], "note": "现场发现问题"})
        else:
            batch.append({"client_id": cid(), "item_id": item["id"], "base_revision": 0, "client_updated_at": now_iso,
                          "result": "pass", "deduction_codes": []})
    r = client.put(f"/api/v1/inspections/{world.assignment.id}/responses", json={"items": batch}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return deducted


def sign_all(client, world, lead_headers, member_headers):
    url = f"/api/v1/inspections/{world.assignment.id}/signatures"
    for headers, form in ((lead_headers, signature_form(world.lead.name, "lead", seed=1)),
                          (member_headers, signature_form(world.member.name, "member", seed=2)),
                          (lead_headers, signature_form("王院长", "institution_representative", seed=3))):
        r = client.post(url, data=form, headers=headers, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
