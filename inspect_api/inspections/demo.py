"""Demo inspections in every state, for the inspector accounts ``insp01`` (lead) and ``insp02`` (member).

- assigned: a targeted inspection whose bundle has been fetched (inspection created, not checked in);
- checked in: answers in progress (part of the checklist, one deduction with a photo);
- submitted: every item answered, findings with generated photos (Pillow, in memory), the three
  signatures, a score, a rectification order (整改通知书) and a report with its verification hash.

Runs after the directory (and draws) seeders and before the rectification seeder.
The check-ins are recorded through :func:`checkin.record_checkin` as if the
poster had been scanned (seeding runs without a request, so no QR token is
minted).  Idempotent: a second run finds the demo assignments and stops.
"""

from __future__ import annotations

import io
import logging
import random
import uuid
from datetime import timedelta

from PIL import Image, ImageDraw

from inspect_api.scoping import prefix_range
from inspect_api.auth.models import User
from inspect_api.demo import DemoContext
from inspect_api.errors import DomainError
from inspect_api.inspections import answers, assignments, checkin, photos, records, signatures, submission
from inspect_api.inspections.models import Assignment

log = logging.getLogger(__name__)
DEDUPE = "demo:inspections:"


def _uuid(ctx_seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "inspect-demo:" + ctx_seed))


def _photo(seed: int, label: str) -> bytes:
    """A small photo-like JPEG (shapes over a gradient)."""
    rnd = random.Random(seed)
    im = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(14):
        x0, y0 = rnd.randrange(800), rnd.randrange(600)
        box = (x0, y0, x0 + rnd.randrange(60, 300), y0 + rnd.randrange(40, 220))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    draw.text((20, 20), label, fill=(255, 255, 255))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=82)
    return out.getvalue()


def _signature(seed: int) -> bytes:
    rnd = random.Random(seed)
    im = Image.new("RGBA", (480, 180), (255, 255, 255, 0))
    draw = ImageDraw.Draw(im)
    pts = [(30 + i * 38, 90 + rnd.randrange(-55, 55)) for i in range(12)]
    draw.line(pts, fill=(20, 20, 60, 255), width=5)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _answers(items, deducted, when, tag):
    batch = []
    for item in items:
        if item["id"] in deducted:
            batch.append({"client_id": _uuid(f"{tag}:{item['id']}"), "item_id": item["id"], "base_revision": 0,
                          "client_updated_at": when, "result": "deduct",
                          "deduction_codes": [item["deductions"][0]["code"]], "note": "现场检查发现该问题，已拍照留证"})
        else:
            batch.append({"client_id": _uuid(f"{tag}:{item['id']}"), "item_id": item["id"], "base_revision": 0,
                          "client_updated_at": when, "result": "pass", "deduction_codes": [], "note": None})
    return batch


def seed(ctx: DemoContext) -> None:
    if Assignment.objects(__raw__={"dedupe_key": prefix_range(DEDUPE)}).first() is not None:
        return
    from inspect_api.directory.conflicts import conflict_pairs
    from inspect_api.directory.models import Institution

    lead_user = User.objects(username="insp01", role="inspector").first()
    member_user = User.objects(username="insp02", role="inspector").first()
    if lead_user is None or member_user is None or not lead_user.inspector_id or not member_user.inspector_id:
        log.info("inspections demo skipped: accounts insp01/insp02 are missing")
        return
    team = [lead_user.inspector_id, member_user.inspector_id]
    candidates = ctx.data.get("institutions") or list(Institution.objects.order_by("created_at").limit(200))
    conflicts = conflict_pairs(inspector_ids=team)
    with_account = {u.institution_id for u in User.objects(role="institution")}
    usable = [i for i in candidates if i.status == "active" and i.location and i.kind != "community_station"
              and not any((t, str(i.id)) in conflicts for t in team)]
    usable.sort(key=lambda i: (str(i.id) not in with_account, str(i.created_at)))
    if len(usable) < 3:
        log.info("inspections demo skipped: fewer than three suitable institutions")
        return
    submitted_inst, progress_inst, assigned_inst = usable[0], usable[1], usable[2]
    try:
        _seed(ctx, lead_user, member_user, team, submitted_inst, progress_inst, assigned_inst)
    except DomainError as exc:  # demo data must never stop the app from starting
        log.warning("inspections demo incomplete: %s (%s)", exc.message, exc.code)


def _assignment(ctx, team, institution, key, due_days, note):
    return assignments.create_assignment(
        institution_id=str(institution.id), region=institution.region, team=team, source="targeted",
        checklist_code=assignments.default_checklist_code(institution.kind), now=ctx.now - timedelta(days=3),
        dedupe_key=DEDUPE + key, reason="special", reason_note=note,
        due_date=(ctx.now + timedelta(days=due_days)).date(), created_by="demo")


def _check_in(lead_user, assignment, inspection, institution, when, offset_deg=0.0002):
    lon, lat = records.lonlat(institution)
    return checkin.record_checkin(lead_user, assignment, inspection, institution,
                                  inspector_id=lead_user.inspector_id, client_id=_uuid(f"checkin:{assignment.id}"),
                                  latitude=lat + offset_deg, longitude=lon, accuracy_m=9.0, captured_at=when,
                                  now=when)


def _seed(ctx, lead_user, member_user, team, submitted_inst, progress_inst, assigned_inst) -> None:
    # 1. assigned: the bundle was fetched (inspection exists), nobody on site yet.
    assigned = _assignment(ctx, team, assigned_inst, "assigned", 10, "养老机构消防安全专项检查")
    records.ensure_inspection(assigned, now=ctx.now - timedelta(days=2))

    # 2. checked in, answers in progress.
    progress = _assignment(ctx, team, progress_inst, "in-progress", 3, "冬季防跌倒、防走失专项检查")
    started = ctx.now - timedelta(hours=2)
    inspection = records.ensure_inspection(progress, now=started)
    _check_in(lead_user, progress, inspection, progress_inst, started)
    content = records.checklist_version(progress.checklist_code, progress.checklist_version)["content"]
    kind = progress_inst.kind
    items = [i for i in records.checklist_items(content) if records.applies(i, kind)]
    partial = items[: max(1, len(items) // 3)]
    deducted = [i["id"] for i in partial if not i.get("veto")][1:2]
    when = (started + timedelta(minutes=30)).isoformat()
    answers.sync_responses(member_user, str(inspection.id), _answers(partial, deducted, when, f"p:{progress.id}"),
                           now=started + timedelta(minutes=31))
    for item_id in deducted:
        photos.add_photo(member_user, str(inspection.id), _photo(7, inspection.code), item_id=item_id,
                         client_id=_uuid(f"photo:{progress.id}:{item_id}"), now=started + timedelta(minutes=33))

    # 3. submitted with findings, photos, signatures, order and report.
    done = _assignment(ctx, team, submitted_inst, "submitted", -1, "医疗护理质量专项检查")
    day = ctx.now - timedelta(days=1)
    inspection = records.ensure_inspection(done, now=day - timedelta(hours=3))
    _check_in(lead_user, done, inspection, submitted_inst, day - timedelta(hours=3))
    content = records.checklist_version(done.checklist_code, done.checklist_version)["content"]
    items = [i for i in records.checklist_items(content) if records.applies(i, submitted_inst.kind)]
    non_veto = [i for i in items if not i.get("veto")]
    deducted = [non_veto[1]["id"], non_veto[6]["id"], non_veto[12]["id"]] if len(non_veto) > 12 else \
        [i["id"] for i in non_veto[:2]]
    half = len(items) // 2
    when = (day - timedelta(hours=2)).isoformat()
    answers.sync_responses(lead_user, str(inspection.id), _answers(items[:half], deducted, when, f"s:{done.id}"),
                           now=day - timedelta(hours=2))
    answers.sync_responses(member_user, str(inspection.id), _answers(items[half:], deducted, when, f"s:{done.id}"),
                           now=day - timedelta(hours=2))
    by_id = {i["id"]: i for i in items}
    for n, item_id in enumerate(deducted):
        for k in range(max(1, int((by_id[item_id].get("evidence") or {}).get("min_photos") or 0))):
            photos.add_photo(member_user, str(inspection.id), _photo(100 + 10 * n + k, inspection.code),
                             item_id=item_id, client_id=_uuid(f"photo:{done.id}:{item_id}:{k}"),
                             now=day - timedelta(hours=1, minutes=30))
    from inspect_api.directory.inspectors import get_inspector

    lead = get_inspector(lead_user.inspector_id)
    member = get_inspector(member_user.inspector_id)
    for user, name, role, seed in ((lead_user, lead.name, "lead", 1), (member_user, member.name, "member", 2),
                                   (lead_user, submitted_inst.contact_name or "机构负责人",
                                    "institution_representative", 3)):
        signatures.add_signature(user, str(inspection.id), _signature(seed),
                                 client_id=_uuid(f"sig:{done.id}:{role}"), signer_name=name, signer_role=role,
                                 now=day - timedelta(hours=1))  # seeded: no login session
    submission.submit(lead_user, str(inspection.id), now=day - timedelta(minutes=50))
    ctx.data["inspections"] = {"assigned": str(assigned.id), "checked_in": str(progress.id),
                               "submitted": str(done.id)}
