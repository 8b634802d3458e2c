"""The office's publication queue countdown and its list of published results with their choices."""

from __future__ import annotations

from inspect_api.clock import utcnow
from inspect_api.publication import deadlines, sources
from inspect_api.publication.models import PublicationDeadline
from inspect_api.workdays import business_date
from tests.conftest import assert_error


def test_queue_counts_working_days_to_the_deadline(client, world, as_user):
    old = world.inspect("old", days_ago=60)
    fresh = world.inspect("fresh", days_ago=2)
    deadlines.sweep_publication_deadlines(utcnow())
    body = client.get("/api/v1/publication/pending", headers=as_user(world.office)).get_json()
    by_id = {i["inspection_id"]: i for i in body["items"]}
    cal = sources.working_calendar()
    today = business_date(utcnow())
    for ins in (old, fresh):
        item = by_id[str(ins.id)]
        assert item["working_days_left"] == cal.working_days_between(today, sources.as_date(
            PublicationDeadline.objects.get(inspection_id=str(ins.id)).deadline))
    assert by_id[str(old.id)]["working_days_left"] < 0 and by_id[str(old.id)]["overdue"] is True
    assert by_id[str(old.id)]["level"] and by_id[str(old.id)]["level_title"]
    assert 0 < by_id[str(fresh.id)]["working_days_left"] <= 20 and by_id[str(fresh.id)]["level_title"] is None


def test_published_results_with_the_offices_choices(client, world, as_user):
    ins = world.inspect("a")
    headers = as_user(world.office)
    url = f"/api/v1/inspections/{ins.id}/publication"
    assert_error(client.get(url, headers=headers), 404, "RESULT_NOT_PUBLISHED")
    body = {"photo_ids": ["ph-2"], "redact_terms": ["张秀英"], "include_notes": True}
    assert client.post(f"/api/v1/inspections/{ins.id}/publish", json=body, headers=headers).status_code == 201

    listed = client.get("/api/v1/publication/published", headers=headers).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["inspection_id"] == str(ins.id) and item["institution_name"] == world.institution.name
    assert (item["photo_ids"], item["redact_terms"], item["include_notes"]) == (["ph-2"], ["张秀英"], True)
    assert item["revised_at"] is None

    one = client.get(url, headers=headers).get_json()
    assert one["id"] == item["id"] and one["public"]["institution"]["name"] == world.institution.name
    assert "张秀英" not in str(one["public"])

    r = client.put(url, json={"photo_ids": [], "redact_terms": [], "include_notes": False}, headers=headers)
    assert r.status_code == 200
    again = client.get(url, headers=headers).get_json()
    assert (again["photo_ids"], again["redact_terms"], again["include_notes"]) == ([], [], False)
    assert again["revised_at"]

    county = as_user(world.county_office)
    assert client.get("/api/v1/publication/published", headers=county).get_json()["total"] == 1
    other = as_user(world.other_office)
    assert client.get("/api/v1/publication/published", headers=other).get_json()["total"] == 0
    assert_error(client.get(url, headers=other), 404, "INSPECTION_NOT_FOUND")
    assert_error(client.get(url, headers=as_user(world.inspector_user)), 403)
