"""The demo seeder draws one plan through the real lifecycle and leaves one committed."""

from __future__ import annotations

from inspect_api.demo import DemoContext
from inspect_api.draws import demo, reads
from inspect_api.draws.models import Draw, Plan
from inspect_api.inspections.models import Assignment
from tests.draws import plan_fixtures as fx


def test_demo_has_one_drawn_and_one_committed_plan(app, make_user):
    office = make_user("office_admin", "370300")
    world = fx.world()
    ctx = DemoContext(now=fx.NOW, data={"office": office, "institutions": world["institutions"],
                                        "inspectors": world["inspectors"]})
    demo.seed(ctx)
    assert sorted(p.state for p in Plan.objects) == ["committed", "drawn"]
    drawn = Draw.objects.get(state="drawn")
    assert drawn.public_entropy == demo.WITNESS_ENTROPY
    assert reads.verify_draw(drawn) == {"ok": True, "differences": []}
    assert Assignment.objects(draw_id=str(drawn.id)).count() > 0
    committed = Draw.objects.get(state="committed")
    assert committed.seed is None and committed.committed_at > drawn.committed_at
    demo.seed(ctx)  # idempotent
    assert Plan.objects.count() == 2


def test_demo_without_directory_does_nothing(app, make_user):
    office = make_user("office_admin", "370300")
    demo.seed(DemoContext(now=fx.NOW, data={"office": office}))
    assert Plan.objects.count() == 0
