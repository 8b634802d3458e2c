"""Corrections after submission reach the rectification order, the report and a published result."""

from __future__ import annotations

from inspect_api.audit.models import AuditEvent
from inspect_api.calendar.service import current_calendar
from inspect_api.clock import utcnow
from inspect_api.directory.models import Institution
from inspect_api.inspections.models import Inspection
from inspect_api.notify.models import Notification
from inspect_api.rectification.models import Finding, Order
from inspect_api.workdays import business_date
from tests.conftest import assert_error
from tests.inspections.helpers import applicable_items, cid, fill_all, sign_all
from tests.inspections.test_checkin_responses import check_in
from tests.inspections.test_evidence_submission import _post_photo, jpeg


def _url(world, tail=""):
    return f"/api/v1/inspections/{world.assignment.id}{tail}"


def _submitted(client, world, as_user, *, deduct: int = 2):
    """A submitted inspection with ``deduct`` findings; returns (lead headers, deducted items, body)."""
    lead, member = as_user(world.lead_user), as_user(world.member_user)
    check_in(client, world, lead)
    deducted = fill_all(client, world, lead, deduct_first=deduct)
    for n, item in enumerate(deducted):
        for k in range(item["evidence"]["min_photos"]):
            assert _post_photo(client, world, member, jpeg(10 * n + k), item_id=item["id"]).status_code == 201
    sign_all(client, world, lead, member)
    r = client.post(_url(world, "/submit"), headers=lead)
    assert r.status_code == 200, r.get_json()
    return lead, deducted, r.get_json()


def _correct(client, world, lead, changes, reason="复核现场记录后更正", client_id=None):
    body = {"client_id": client_id or cid(), "reason": reason, "changes": changes}
    r = client.post(_url(world, "/corrections"), json=body, headers=lead)
    assert r.status_code == 200, r.get_json()
    return r.get_json(), body


def _order(client, world, as_user, order_id):
    r = client.get(f"/api/v1/rectifications/{order_id}", headers=as_user(world.institution_user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _passing_item(deducted):
    taken = {i["id"] for i in deducted}
    return next(i for i in applicable_items() if i["id"] not in taken and not i.get("veto")
                and not i["evidence"]["min_photos"])


def test_correcting_a_finding_away_withdraws_it(client, world, as_user):
    lead, deducted, first = _submitted(client, world, as_user)
    risk_before = Institution.objects.get(id=world.institution.id).risk.past_findings
    corrected, body = _correct(client, world, lead, [{"item_id": deducted[0]["id"], "result": "pass"}],
                               reason="复核后确认该项符合要求")
    order = _order(client, world, as_user, first["order_id"])
    by_item = {f["item_id"]: f for f in order["findings"]}
    gone, kept = by_item[deducted[0]["id"]], by_item[deducted[1]["id"]]
    assert gone["status"] == "withdrawn" and gone["withdrawn_reason"] == "复核后确认该项符合要求"
    assert gone["next_step_due"] is None and not gone["overdue"]
    assert kept["status"] == "open"
    assert order["status"] == "open" and order["finding_count"] == 1
    # The institution is told, and cannot answer a withdrawn finding.
    kinds = [n.kind for n in Notification.objects(user_id=str(world.institution_user.id))]
    assert "rectification.withdrawn" in kinds
    inst = as_user(world.institution_user)
    base = f"/api/v1/rectifications/{first['order_id']}/findings/{gone['id']}"
    assert_error(client.post(base + "/answer", json={"description": "已整改"}, headers=inst), 409,
                 "FINDING_WITHDRAWN")
    assert_error(client.post(base + "/extension", json={"reason": "需采购设备", "requested_deadline": "2030-06-28"},
                             headers=inst), 409, "FINDING_WITHDRAWN")
    # The report's order lists only what is still owed; the risk profile follows the record.
    report = Inspection.objects.get(id=world.assignment.id).report
    assert [f["item_id"] for f in report["order"]["findings"]] == [deducted[1]["id"]]
    assert Institution.objects.get(id=world.institution.id).risk.past_findings == risk_before - 1
    # A replay changes nothing more.
    again = client.post(_url(world, "/corrections"), json=body, headers=lead)
    assert again.status_code == 200 and again.get_json()["report_hash"] == corrected["report_hash"]
    assert AuditEvent.objects(action="rectification.order_reconciled").count() == 1
    assert Institution.objects.get(id=world.institution.id).risk.past_findings == risk_before - 1
    assert Finding.objects(order_id=first["order_id"]).count() == 2


def test_correcting_every_finding_away_closes_the_order(client, world, as_user):
    lead, deducted, first = _submitted(client, world, as_user)
    _correct(client, world, lead, [{"item_id": i["id"], "result": "pass"} for i in deducted])
    order = _order(client, world, as_user, first["order_id"])
    assert order["status"] == "closed" and order["finding_count"] == 0
    assert {f["status"] for f in order["findings"]} == {"withdrawn"}


def test_a_new_finding_reopens_a_closed_order_with_a_deadline_from_the_correction(client, world, as_user):
    lead, deducted, first = _submitted(client, world, as_user, deduct=1)
    inst, office = as_user(world.institution_user), as_user(world.office_user)
    finding = _order(client, world, as_user, first["order_id"])["findings"][0]
    base = f"/api/v1/rectifications/{first['order_id']}/findings/{finding['id']}"
    assert client.post(base + "/answer", json={"description": "已整改"}, headers=inst).status_code == 200
    assert client.post(base + "/review", json={"decision": "accept", "comment": "整改到位"},
                       headers=office).status_code == 200
    assert _order(client, world, as_user, first["order_id"])["status"] == "closed"

    item = _passing_item(deducted)
    corrected, _ = _correct(client, world, lead, [{"item_id": item["id"], "result": "deduct",
                                                   "deduction_codes": [item["deductions"][0]["code"]],
                                                   "note": "复核录像发现问题"}])
    assert corrected["result"]["score"] < first["result"]["score"]
    order = _order(client, world, as_user, first["order_id"])
    assert order["status"] == "open" and order["closed_at"] is None and order["finding_count"] == 2
    added = next(f for f in order["findings"] if f["item_id"] == item["id"])
    assert added["seq"] == 2 and added["status"] == "open" and added["note"] == "复核录像发现问题"
    expected = current_calendar().add_working_days(business_date(utcnow()), added["deadline_working_days"])
    assert added["deadline"] == expected.isoformat()
    kinds = [n.kind for n in Notification.objects(user_id=str(world.institution_user.id))]
    assert "rectification.added" in kinds
    report = Inspection.objects.get(id=world.assignment.id).report
    assert {f["item_id"] for f in report["order"]["findings"]} == {deducted[0]["id"], item["id"]}


def test_a_correction_bringing_the_first_findings_opens_an_order(client, world, as_user):
    lead, _deducted, first = _submitted(client, world, as_user, deduct=0)
    assert first["order_id"] is None and Order.objects.count() == 0
    item = _passing_item([])
    corrected, body = _correct(client, world, lead, [{"item_id": item["id"], "result": "deduct",
                                                      "deduction_codes": [item["deductions"][0]["code"]]}])
    assert corrected["order_id"]
    order = _order(client, world, as_user, corrected["order_id"])
    assert [f["item_id"] for f in order["findings"]] == [item["id"]]
    assert Institution.objects.get(id=world.institution.id).risk.past_findings == 1
    client.post(_url(world, "/corrections"), json=body, headers=lead)
    assert Order.objects.count() == 1 and Institution.objects.get(id=world.institution.id).risk.past_findings == 1


def test_a_published_result_shows_the_corrected_record(client, world, as_user):
    lead, deducted, first = _submitted(client, world, as_user)
    office = as_user(world.office_user)
    published = client.post(_url(world, "/publish"), json={}, headers=office)
    assert published.status_code == 201, published.get_json()
    result_id = published.get_json()["id"]
    before = client.get(f"/api/v1/public/results/{result_id}").get_json()
    assert before["corrections"] == [] and before["finding_count"] == 2

    _correct(client, world, lead, [{"item_id": deducted[0]["id"], "result": "pass"}],
             reason="复核后确认该项符合要求，联系电话13912345678")
    after = client.get(f"/api/v1/public/results/{result_id}").get_json()
    assert after["score"] > before["score"] and after["finding_count"] == 1
    assert [f["item_id"] for f in after["findings"]] == [deducted[1]["id"]]
    assert after["findings"][0]["rectification"]["status"] == "open"
    assert after["rectification"]["counts"]["total"] == 1 and after["rectification"]["counts"]["withdrawn"] == 1
    (correction,) = after["corrections"]
    assert correction["score_before"] == before["score"] and correction["score_after"] == after["score"]
    assert "13912345678" not in correction["reason"]  # redacted like every public text
    page = client.get(f"/p/results/{result_id}").get_data(as_text=True)
    assert "更正说明" in page and "复核后确认该项符合要求" in page
    assert AuditEvent.objects(action="publication.result_corrected").count() == 1
