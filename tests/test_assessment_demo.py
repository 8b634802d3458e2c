"""The demo world shows the assessment beyond the site visit: a concluded ledger check with a finding in
rectification, two quarters of survey results on both sides of the threshold, and the map of the demo city."""

from __future__ import annotations

from inspect_api.draws import reads, records
from inspect_api.draws.models import Draw
from inspect_api.ledgers.models import LedgerCheck
from inspect_api.rectification.models import Finding, Order
from inspect_api.surveys import results
from inspect_api.surveys.models import SurveyResponse, SurveyResult


def test_demo_assessment_world(app_factory):
    app = app_factory(demo_data=True)
    with app.app_context():
        if not app.extensions.get("inspect_demo_accounts"):  # a real server: load the demo explicitly
            from inspect_api.demo import load_demo

            load_demo()
        concluded = LedgerCheck.objects.get(state="concluded")
        draw = Draw.objects.get(id=concluded.draw_id)
        assert reads.verify_draw(draw)["ok"] and records.record_of(draw)["plan"]["kind"] == "desk_review"
        order = Order.objects.get(id=concluded.order_id)
        assert order.source == "ledger_check" and Finding.objects(order_id=str(order.id)).count() >= 1
        assert LedgerCheck.objects(state="requested", overdue=True).count() >= 1  # missed deadlines escalated
        quarters = sorted({r.quarter for r in SurveyResult.objects})
        assert len(quarters) == 2
        for quarter in quarters:
            counts = [r.count for r in SurveyResult.objects(quarter=quarter)]
            assert max(counts) >= 10 and min(counts) < 10
        assert SurveyResult.objects(low=True).count() == 1  # an ended quarter's low mean became a risk event
        assert SurveyResponse.objects(status="held").count() == 6
        published = SurveyResult.objects(count__gte=10, quarter=quarters[-1]).first()
        assert results.public_results(published.institution_id)["published"]
        client = app.test_client()
        feed = client.get("/api/v1/public/map.geojson?region=370300").get_json()
        assert len(feed["features"]) >= 50 and {f["properties"]["region"][:4] for f in feed["features"]} == {"3703"}
        assert any(f["properties"]["satisfaction"] for f in feed["features"])
        page = client.get("/p/map").get_data(as_text=True)
        assert "淄川区" in page and "张店区" in page and "一键导航" in page
