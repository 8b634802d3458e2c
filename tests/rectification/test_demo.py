"""The demo seeder produces orders in every state with their notifications."""

from __future__ import annotations

from datetime import datetime, timezone

from inspect_api.demo import DemoContext
from inspect_api.notify.models import Notification
from inspect_api.rectification import demo
from inspect_api.rectification.models import Finding, Order
from tests.notify.world import build


def test_demo_orders_in_every_state(app, make_user):
    w = build(make_user)
    ctx = DemoContext(now=datetime(2026, 6, 10, 3, 0, tzinfo=timezone.utc))
    ctx.data["institutions"] = [w.institution, w.other_institution]
    ctx.data["inspectors"] = [w.lead, w.member]
    demo.seed(ctx)
    assert Order.objects.count() == 11
    levels = {f.level for f in Finding.objects}
    assert {"reminder", "warning", "department", "office"} <= levels
    statuses = {f.status for f in Finding.objects}
    assert statuses == {"open", "answered", "reopened", "accepted"}
    assert Order.objects(status="closed").count() == 1
    assert Finding.objects(preselected_for_notice=True).count() >= 1
    assert {f.extension.status for f in Finding.objects(extension__ne=None)} == {"granted", "pending"}
    assert Finding.objects(reinspection__ne=None).count() == 1
    kinds = {n.kind for n in Notification.objects}
    assert {"rectification.issued", "rectification.reminder", "rectification.warning", "rectification.department",
            "rectification.office", "rectification.rejected", "rectification.closed"} <= kinds
    # Orders and the re-inspection they create name a checklist that exists (its bundle can be built).
    from inspect_api.catalog import service as catalog
    from inspect_api.inspections.models import Assignment
    assert all(catalog.latest_version(o.checklist_code) is not None for o in Order.objects)
    assert all(catalog.latest_version(a.checklist_code) is not None for a in Assignment.objects(reason="reinspection"))
    # every step recorded once
    for f in Finding.objects:
        assert len(f.step_codes) == len(set(f.step_codes))
    demo.seed(ctx)  # a second run adds nothing
    assert Order.objects.count() == 11


def test_demo_skips_without_directory(app):
    ctx = DemoContext(now=datetime(2026, 6, 10, 3, 0, tzinfo=timezone.utc))
    demo.seed(ctx)
    assert Order.objects.count() == 0
