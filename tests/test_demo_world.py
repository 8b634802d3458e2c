"""The demo data set is one consistent world (issue #13 items 6 and 7).

After ``load_demo`` every stored object is walked and every id or link it
holds is followed through the public surface: assignments → inspections →
reports (each rendered) → photos and signatures; rectification orders →
their inspections, findings → checklist items and photos; published results,
notices and draws → their public pages; and every link on the public site,
crawled from ``/p/``.  A dangling id anywhere fails with the object that
holds it.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from inspect_api.auth.models import User
from inspect_api.directory.models import Inspector, Institution
from inspect_api.draws.models import Draw, Plan
from inspect_api.evidence.models import Evidence
from inspect_api.inspections.models import Assignment, Inspection
from inspect_api.notify.models import Notification
from inspect_api.publication.models import Notice, PublishedResult
from inspect_api.rectification.models import Finding, Order

DEMO = {"demo_data": True, "public_rate_limit": "1000000 per minute"}


@pytest.fixture(scope="module")
def world():
    """The demo app (built once for the module: loading the demo takes a while)."""
    from inspect_api import db
    from inspect_api.app import create_app
    from inspect_api.config import load_config
    from inspect_api.demo import load_demo

    db.connect(load_config("testing", DEMO))
    db.database().client.drop_database(db.database().name)
    app = create_app("testing", overrides=DEMO)
    with app.app_context():
        if not app.extensions.get("inspect_demo_accounts"):  # a real MongoDB: seed explicitly
            load_demo()
        client = app.test_client()
        token = client.post("/api/v1/auth/login", json={"username": "province", "password": "demo12345"})
        assert token.status_code == 200, token.get_json()
        yield app, client, {"Authorization": "Bearer " + token.get_json()["access_token"]}


def _ok(client, path: str, headers=None, *, what: str) -> object:
    r = client.get(path, headers=headers or {})
    assert r.status_code == 200, f"{what}: GET {path} → {r.status_code} {r.get_data(as_text=True)[:300]}"
    return r


def _items(client, headers, code: str, version: int) -> set[str]:
    content = _ok(client, f"/api/v1/checklists/{code}/versions/{version}", headers,
                  what=f"checklist {code} v{version}").get_json()["checklist"]
    return {str(i["id"]) for s in content["sections"] for i in s["items"]}


def test_the_demo_has_every_kind_of_object(world):
    """The walk below means something only if the demo holds objects of every kind."""
    counts = {cls.__name__: cls.objects.count() for cls in
              (Institution, Inspector, User, Plan, Draw, Assignment, Inspection, Evidence, Order, Finding,
               PublishedResult, Notice, Notification)}
    assert all(counts.values()), counts
    assert Inspection.objects(state="submitted").count() >= 7, counts


def test_every_assignment_and_inspection_resolves_and_every_report_renders(world):
    _app, client, office = world
    for a in Assignment.objects:
        what = f"assignment {a.id} ({a.dedupe_key})"
        _ok(client, f"/api/v1/assignments/{a.id}", office, what=what)
        _ok(client, f"/api/v1/institutions/{a.institution_id}", office, what=what)
        if a.draw_id:
            _ok(client, f"/api/v1/draws/{a.draw_id}", office, what=what)
        if a.plan_id:
            _ok(client, f"/api/v1/plans/{a.plan_id}", office, what=what)
        if a.parent_order_id:
            _ok(client, f"/api/v1/rectifications/{a.parent_order_id}", office, what=what)
        for inspector_id in a.team:
            _ok(client, f"/api/v1/inspectors/{inspector_id}", office, what=what)
    reports = 0
    for ins in Inspection.objects:
        what = f"inspection {ins.id} ({ins.code})"
        assert Assignment.objects(id=ins.id).first() is not None, f"{what}: no assignment"
        view = _ok(client, f"/api/v1/inspections/{ins.id}", office, what=what).get_json()
        for photo in view["photos"]:
            _ok(client, f"/api/v1/photos/{photo['id']}/thumb", office, what=what)
        for signature in view["signatures"]:
            _ok(client, f"/api/v1/photos/{signature['evidence_id']}/display", office, what=what)
        if ins.state != "submitted":
            continue
        assert ins.report and ins.report_hash, f"{what}: submitted without a frozen report"
        html = _ok(client, f"/api/v1/inspections/{ins.id}/report", office, what=what).get_data(as_text=True)
        assert ins.code in html and ins.report_hash in html
        reports += 1
        _ok(client, f"/p/reports/{ins.id}/verify?h={ins.report_hash}", what=what)
        items = _items(client, office, ins.checklist_code, ins.checklist_version)
        for f in ins.findings:
            assert f["item_id"] in items, f"{what}: finding on unknown item {f['item_id']}"
            for photo_id in f.get("photo_ids") or []:
                _ok(client, f"/api/v1/photos/{photo_id}/thumb", office, what=what)
        if ins.order_id:
            order = _ok(client, f"/api/v1/rectifications/{ins.order_id}", office, what=what).get_json()
            assert order["inspection_id"] == str(ins.id)
        else:
            assert not ins.findings, f"{what}: findings without a rectification order"
    assert reports == Inspection.objects(state="submitted").count()


def test_every_rectification_order_belongs_to_a_real_submitted_inspection(world):
    _app, client, office = world
    for order in Order.objects:
        what = f"order {order.number} ({order.id})"
        _ok(client, f"/api/v1/rectifications/{order.id}", office, what=what)
        if order.source == "ledger_check":  # a desk review's order: it belongs to a concluded ledger check
            check_id = order.inspection_id.removeprefix("ledger:")
            ins = _ok(client, f"/api/v1/ledger-checks/{check_id}", office, what=what).get_json()
            assert ins["state"] == "concluded" and ins["order_id"] == str(order.id), what
        else:
            ins = _ok(client, f"/api/v1/inspections/{order.inspection_id}", office, what=what).get_json()
            assert ins["state"] == "submitted" and ins["order_id"] == str(order.id), what
            _ok(client, f"/api/v1/inspections/{order.inspection_id}/report", office, what=what)
        assert ins["institution_id"] == order.institution_id, what
        items = _items(client, office, ins["checklist_code"], ins["checklist_version"])
        assert order.checklist_code == ins["checklist_code"], what
        for f in Finding.objects(order_id=str(order.id)):
            assert f.item_id in items, f"{what}: finding {f.seq} on unknown item {f.item_id}"
            for photo_id in f.photo_ids:
                _ok(client, f"/api/v1/photos/{photo_id}/thumb", office, what=what)
            for answer in f.answers:
                for photo_id in answer.photo_ids:
                    _ok(client, f"/api/v1/photos/{photo_id}/thumb", office, what=what)
            if f.reinspection is not None:
                _ok(client, f"/api/v1/assignments/{f.reinspection.assignment_id}", office, what=what)
    assert Finding.objects.count() == sum(o.finding_count for o in Order.objects)


def test_every_published_object_has_its_public_pages(world):
    _app, client, office = world
    for result in PublishedResult.objects:
        what = f"published result {result.id} ({result.code})"
        _ok(client, f"/api/v1/public/results/{result.id}", what=what)
        _ok(client, f"/p/results/{result.id}", what=what)
        for photo_id in result.photo_ids:
            _ok(client, f"/p/results/{result.id}/photos/{photo_id}", what=what)
        _ok(client, f"/p/institutions/{result.institution_public_id}", what=what)
        ins = _ok(client, f"/api/v1/inspections/{result.inspection_id}", office, what=what).get_json()
        assert ins["state"] == "submitted" and ins["order_id"] == result.order_id, what
    for notice in Notice.objects(status__in=("published", "retracted")):
        what = f"notice {notice.id}"
        _ok(client, f"/api/v1/public/notices/{notice.id}", what=what)
        _ok(client, f"/p/notices/{notice.id}", what=what)
        for finding_id in notice.finding_ids:
            assert Finding.objects(id=finding_id).first() is not None, f"{what}: unknown finding {finding_id}"
    for draw in Draw.objects:
        what = f"draw {draw.id}"
        _ok(client, f"/api/v1/public/draws/{draw.id}", what=what)
        _ok(client, f"/api/v1/public/draws/{draw.id}/record.json", what=what)
        _ok(client, f"/p/draws/{draw.id}", what=what)
        _ok(client, f"/api/v1/plans/{draw.plan_id}", office, what=what)
    for institution in Institution.objects(status="active"):
        _ok(client, f"/p/institutions/{institution.public_id}", what=f"institution {institution.name}")


def test_every_user_notification_and_evidence_points_at_something_real(world):
    _app, client, office = world
    for user in User.objects:
        if user.institution_id:
            _ok(client, f"/api/v1/institutions/{user.institution_id}", office, what=f"user {user.username}")
        if user.inspector_id:
            _ok(client, f"/api/v1/inspectors/{user.inspector_id}", office, what=f"user {user.username}")
    for note in Notification.objects:
        what = f"notification {note.id} ({note.kind})"
        assert User.objects(id=note.user_id).first() is not None, what
        data = note.data or {}
        if data.get("order_id"):
            _ok(client, f"/api/v1/rectifications/{data['order_id']}", office, what=what)
        if data.get("finding_id"):
            assert Finding.objects(id=data["finding_id"]).first() is not None, what
        if data.get("inspection_id"):
            _ok(client, f"/api/v1/inspections/{data['inspection_id']}", office, what=what)
    for item in Evidence.objects:
        what = f"evidence {item.id} ({item.owner_type})"
        _ok(client, f"/api/v1/photos/{item.id}/thumb", office, what=what)
        if item.owner_type == "inspection":
            assert Inspection.objects(id=item.owner_id).first() is not None, what
        else:
            assert Finding.objects(id=item.owner_id).first() is not None, what


HREF = re.compile(r'(?:href|src)="([^"#]+)"')


def test_every_link_on_the_public_site_resolves(world):
    """Crawl ``/p/`` and follow every same-site link (pages, open data, photos, stylesheets)."""
    _app, client, _office = world
    seen, queue = set(), deque(["/p/"])
    while queue and len(seen) < 1500:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200, f"link {url} → {r.status_code}"
        if r.mimetype != "text/html":
            continue
        for href in HREF.findall(r.get_data(as_text=True)):
            target = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if target.netloc and target.netloc not in ("localhost", "127.0.0.1:8000"):
                continue  # external (public_base_url QR targets point at this site too, checked by path)
            path = target.path + (f"?{target.query}" if target.query else "")
            if path.startswith(("/p/", "/api/v1/public/", "/static/")) and path not in seen:
                queue.append(path)
    assert len(seen) > 20, seen


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("what", ["institutions", "inspectors"])
def test_the_demo_directory_exports_and_imports_back_unchanged(world, what, fmt):
    """The reviewed case: 32 demo institutions were "updated" (and lost their licence start dates)."""
    import io

    _app, client, office = world
    data = _ok(client, f"/api/v1/{what}/export.{fmt}", office, what=f"{what} export").data
    r = client.post(f"/api/v1/{what}/import?dry_run=1", headers=office, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), f"{what}.{fmt}")})
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["created"] == 0 and report["updated"] == 0 and report["unchanged"] == report["rows"] > 0, report
