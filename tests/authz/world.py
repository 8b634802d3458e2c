"""A demo world with one object of each kind and a user for each role of the matrix.

Roles, relative to the target objects (a submitted inspection of an
institution in 370302, its rectification order, its photos, a drawn plan...):
none, office (city office 370300), other_office (370400), insp_team (the
inspection's lead), insp_other (an inspector not on the team), inst_owner (the
inspected institution's staff), inst_other (another institution's staff).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inspect_api.scoping import prefix_range
from inspect_api.app import create_app
from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.catalog.models import ChecklistVersion
from inspect_api.clock import utcnow
from inspect_api.directory.models import Conflict, Institution, Inspector
from inspect_api.draws.models import Draw
from inspect_api.evidence.models import Evidence
from inspect_api.inspections.models import Assignment, Inspection
from inspect_api.notify.models import Notification
from inspect_api.publication.models import Notice, PublishedResult
from inspect_api.rectification.models import Finding, Order
from tests.openapi import contract
from tests.store import reset_store

ROLES = ("none", "office", "other_office", "insp_team", "insp_other", "inst_owner", "inst_other")
PASSWORD = "Matrix123x"
OVERRIDES = {"demo_data": True, "public_rate_limit": "1000000 per minute", "login_max_failures": 1000000,
             "login_address_max_failures": 1000000,
             "scheduler_in_process": False}


@dataclass
class World:
    app: object
    ids: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def _user(username: str, role: str, region: str, **links) -> User:
    user = User(username=username, password_hash=passwords.hash_password(PASSWORD), role=role, region=region,
                display_name=username, created_at=utcnow(), **links)
    user.save()
    return user


def build_world() -> World:
    reset_store(OVERRIDES)
    app = contract.install(create_app("testing", overrides=OVERRIDES))
    ctx = app.app_context()
    ctx.push()
    if not app.extensions.get("inspect_demo_accounts"):
        from inspect_api.demo import load_demo
        load_demo()

    # A submitted inspection with a photo and an order (natural order differs between stores: choose explicitly).
    inspection = next((i for i in Inspection.objects(state="submitted").order_by("id")
                       if Evidence.objects(owner_type="inspection", owner_id=str(i.id), kind="photo").first()
                       and Order.objects(inspection_id=str(i.id)).first()), None)
    assert inspection is not None, "demo data has no submitted inspection with a photo and an order"
    institution = Institution.objects.get(id=inspection.institution_id)
    lead = Inspector.objects.get(id=inspection.team[0])
    # The outsider has no assignment at this institution at all (demo draws are random, so a
    # member of another team there would read the institution legitimately).
    assigned = {member for a in Assignment.objects(institution_id=str(institution.id)) for member in a.team}
    outsider = Inspector.objects(id__nin=sorted(assigned | set(inspection.team)),
                                 __raw__={"region": prefix_range("3703")}).first()
    other_institution = Institution.objects(id__ne=institution.id, __raw__={"region": prefix_range("3703")}).first()
    order = Order.objects.get(inspection_id=str(inspection.id))
    finding = Finding.objects(order_id=str(order.id)).order_by("seq").first()
    photo = Evidence.objects(owner_type="inspection", owner_id=str(inspection.id), kind="photo").first()
    draw = Draw.objects(state__in=["drawn", "amended"]).first()
    notice = Notice.objects(status="published").first()
    result = PublishedResult.objects.first()
    county = User.objects.get(username="county_office")
    office = User.objects.get(username="office")
    notification = Notification.objects(user_id=str(office.id)).first()
    conflict = Conflict.objects(__raw__={"region": prefix_range("3703")}).first()
    checklist = ChecklistVersion.objects(status="published").order_by("code").first()

    lead_user = User.objects(inspector_id=str(lead.id)).first() or _user("m_lead", "inspector", lead.region,
                                                                         inspector_id=str(lead.id))
    users = {
        "office": office,
        "other_office": _user("m_far_office", "office_admin", "370400"),
        "insp_team": lead_user,
        "insp_other": User.objects(inspector_id=str(outsider.id)).first()
        or _user("m_outsider", "inspector", outsider.region, inspector_id=str(outsider.id)),
        "inst_owner": _user("m_owner", "institution", institution.region, institution_id=str(institution.id)),
        "inst_other": _user("m_other_inst", "institution", other_institution.region,
                            institution_id=str(other_institution.id)),
    }
    world = World(app=app)
    client = app.test_client()
    world.headers["none"] = {}
    for role, user in users.items():
        password = PASSWORD if user.username.startswith("m_") else "demo12345"
        r = client.post("/api/v1/auth/login", json={"username": user.username, "password": password})
        assert r.status_code == 200, (role, r.get_json())
        world.headers[role] = {"Authorization": "Bearer " + r.get_json()["access_token"]}
    check, file_id, item_id = _ledger_check(institution, lead, outsider, users["inst_owner"])
    held = __import__("inspect_api.surveys.models", fromlist=["SurveyResponse"]).SurveyResponse.objects(
        __raw__={"status": "held", "region": prefix_range("3703")}).first()
    assert held is not None, "demo data has no held survey answer"
    world.ids = {
        "inspection_id": str(inspection.id), "assignment_id": str(inspection.id),
        "institution_id": str(institution.id), "public_id": institution.public_id,
        "inspector_id": str(lead.id), "user_id": str(county.id), "conflict_id": str(conflict.id),
        "order_id": str(order.id), "finding_id": str(finding.id), "evidence_id": str(photo.id),
        "variant": "thumb", "plan_id": draw.plan_id, "draw_id": str(draw.id),
        "notice_id": str(notice.id), "result_id": str(result.id),
        "notification_id": str(notification.id) if notification else "000000000000000000000000",
        "code": checklist.code, "version": str(checklist.version),
        "check_id": str(check.id), "file_id": file_id, "item_id": item_id, "response_id": str(held.id),
    }
    world.ids["pdf"] = _pdf()
    return world


def _pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _ledger_check(institution, lead, outsider, owner):
    """A ledger check of the matrix institution whose lead reviewer is the inspection's lead (not the outsider),
    with one uploaded file."""
    from inspect_api.ledgers import service as ledgers
    from inspect_api.ledgers import uploads

    member = Inspector.objects(id__nin=[lead.id, outsider.id], active=True, __raw__={"region": prefix_range("3703")}).first()
    code = "DB37T4087-2020-TZ" if institution.kind == "community_station" else "DB37T4086-2020-TZ"
    check = ledgers.create_check(institution_id=str(institution.id), region=institution.region,
                                 team=[str(lead.id), str(member.id)], checklist_code=code, now=utcnow(),
                                 dedupe_key="matrix:ledger")
    item_id = next(i["item_id"] for i in ledgers.request_items(ledgers.content_of(check), check.institution_kind)
                   if i["applies"])
    record, _ = uploads.upload(owner, str(check.id), item_id, data=_pdf(), name="matrix.pdf", client_id="matrix",
                               now=utcnow())
    return check, str(record.id), item_id
