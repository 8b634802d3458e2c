"""Survey results: per institution and quarter, published with enough answers, trends and CSV for offices,
low means feeding the next draw's risk weight."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from inspect_api.directory.models import Institution
from inspect_api.draws.snapshot import risk_settings, weight_of
from inspect_api.surveys import results
from inspect_api.surveys.models import SurveyResult
from tests.conftest import assert_error
from tests.surveys.conftest import INSTITUTIONAL


def _answers(phones, home, n: int, score: int = 4, comment=None):
    for _ in range(n):
        r = phones().answer(home.public_id, score, comment=comment)
        assert r.status_code == 201 and r.get_json()["status"] == "counted", r.get_json()


def test_results_are_public_only_with_ten_answers_and_never_with_comments(homes, phones, client):
    _answers(phones, homes["a"], 10, 4, comment="夜班护工态度冷淡，请改进")
    phones().answer(homes["a"].public_id, {**{q: 5 for q in INSTITUTIONAL}, "meals": 1})
    _answers(phones, homes["b"], 9, 5)
    shown = results.public_results(str(homes["a"].id))
    assert len(shown["published"]) == 1 and shown["pending"] is None
    quarter = shown["published"][0]
    assert quarter["count"] == 11 and quarter["quarter"] == "2026Q4"
    meals = next(q for q in quarter["questions"] if q["id"] == "meals")
    assert meals["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 10, "5": 0} and meals["mean"] == round(41 / 11, 2)
    assert quarter["mean"] == round((10 * 4 * 6 + 5 * 5 + 1) / (11 * 6), 2)
    page = client.get(f"/p/institutions/{homes['a'].public_id}").get_data(as_text=True)
    assert "满意度测评" in page and "有效答卷 11 份" in page and "夜班护工" not in page
    small = results.public_results(str(homes["b"].id))
    assert small["published"] == [] and small["pending"]["quarter"] == "2026Q4"
    page = client.get(f"/p/institutions/{homes['b'].public_id}").get_data(as_text=True)
    assert "不足 10 份，暂不公布" in page and "有效答卷 9 份" not in page


def test_offices_see_trends_and_export_csv(homes, phones, clock, make_user, login):
    clock.set(datetime(2026, 8, 10, 2, 0, tzinfo=timezone.utc))
    _answers(phones, homes["a"], 3, 2)
    clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc))
    _answers(phones, homes["a"], 4, 5)
    Institution.objects(id=homes["b"].id).update_one(set__name="=HYPERLINK(\"http://x\")养老院")
    _answers(phones, homes["b"], 1, 3, comment="食堂不错")
    office = login(make_user("office_admin", "370300"))
    c = phones().client
    trend = c.get(f"/api/v1/surveys/results?institution_id={homes['a'].id}", headers=office).get_json()
    assert [(i["quarter"], i["count"], i["mean"]) for i in trend["items"]] == [("2026Q4", 4, 5.0), ("2026Q3", 3, 2.0)]
    region = c.get("/api/v1/surveys/results?quarter_from=2026Q4&quarter_to=2026Q4", headers=office).get_json()
    assert {i["institution_id"] for i in region["items"]} == {str(homes["a"].id), str(homes["b"].id)}
    r = c.get("/api/v1/surveys/results.csv", headers=office)
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][0] == "季度" and len(rows) == 4
    names = [row[3] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")养老院" in names
    comments = c.get(f"/api/v1/surveys/responses?institution_id={homes['b'].id}", headers=office).get_json()
    assert comments["items"][0]["comment"] == "食堂不错"
    far = login(make_user("office_admin", "370400"))
    assert_error(c.get(f"/api/v1/surveys/results?institution_id={homes['a'].id}", headers=far), 404)
    assert_error(c.get("/api/v1/surveys/results?region=370302", headers=far), 422, "REGION_OUT_OF_SCOPE")
    assert c.get("/api/v1/surveys/results", headers=far).get_json()["total"] == 0


def test_a_low_mean_raises_the_next_draws_weight_once_the_quarter_ends(homes, phones, clock):
    clock.set(datetime(2026, 8, 10, 2, 0, tzinfo=timezone.utc))
    _answers(phones, homes["a"], 10, 2)  # published and low
    _answers(phones, homes["b"], 4, 1)  # low but too few answers to say anything
    risk = risk_settings({"per_low_satisfaction": 0.5})
    before = weight_of(Institution.objects.get(id=homes["a"].id), risk)
    assert results.close_quarters(datetime(2026, 9, 20, 2, tzinfo=timezone.utc))["settled"] == 0  # not ended yet
    stats = results.close_quarters(datetime(2026, 10, 8, 2, tzinfo=timezone.utc))
    assert stats == {"settled": 2, "low": 1}
    assert results.close_quarters(datetime(2026, 10, 9, 2, tzinfo=timezone.utc))["settled"] == 0  # once only
    home = Institution.objects.get(id=homes["a"].id)
    assert home.risk.low_satisfaction == 1
    assert weight_of(home, risk) == "1.500000" and before == "1.000000"
    assert Institution.objects.get(id=homes["b"].id).risk.low_satisfaction == 0
    assert SurveyResult.objects.get(key=f"{homes['a'].id}:2026Q3").low is True


def test_recount_repairs_a_lost_increment(homes, phones):
    _answers(phones, homes["a"], 3, 4)
    SurveyResult.objects(key=f"{homes['a'].id}:2026Q4").update_one(set__count=99)
    fixed = results.recount(SurveyResult.objects.get(key=f"{homes['a'].id}:2026Q4"),
                            datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert fixed.count == 3 and fixed.sums["care"] == 12
