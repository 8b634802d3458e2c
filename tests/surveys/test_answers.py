"""Answering the quarterly survey: anonymous, one per device and quarter, screened comments, staff and bursts."""

from __future__ import annotations

import pytest

from inspect_api.surveys import device as devices
from inspect_api.surveys.models import SurveyResponse, SurveyResult
from tests.conftest import assert_error
from tests.surveys.conftest import INSTITUTIONAL


def _result(inst, quarter="2026Q4"):
    return SurveyResult.objects(key=f"{inst.id}:{quarter}").first()


def test_the_questionnaire_fits_the_kind_and_needs_no_login(homes, phones):
    phone = phones()
    r = phone.form(homes["a"].public_id)
    assert r.status_code == 200
    body = r.get_json()
    assert body["questionnaire"]["code"] == "SURVEY-INST" and body["quarter"] == "2026Q4"
    assert [q["id"] for q in body["questionnaire"]["questions"]] == list(INSTITUTIONAL)
    assert len(body["questionnaire"]["scale"]) == 5 and body["already_answered"] is False
    assert devices.COOKIE in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert "SameSite=Lax" in r.headers["Set-Cookie"] and r.headers["Cache-Control"] == "no-store"
    station = phone.form(homes["station"].public_id).get_json()
    assert station["questionnaire"]["code"] == "SURVEY-COMM"
    # nothing about the reader is asked: no name, phone or id field anywhere in the questionnaire
    text = str(body["questionnaire"])
    assert not any(word in text for word in ("姓名：", "手机号：", "身份证号："))


def test_one_answer_per_device_and_quarter(homes, phones):
    phone = phones()
    r = phone.answer(homes["a"].public_id, 5)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "counted" and r.get_json()["counted"] is True
    assert_error(phone.answer(homes["a"].public_id, 1), 409, "SURVEY_ALREADY_ANSWERED")
    assert phone.form(homes["a"].public_id).get_json()["already_answered"] is True
    assert SurveyResponse.objects(institution_id=str(homes["a"].id)).count() == 1
    result = _result(homes["a"])
    assert result.count == 1 and result.sums["care"] == 5 and result.dist["care"]["5"] == 1
    # the same device may answer for another institution
    assert phone.answer(homes["b"].public_id, 4).status_code == 201


def test_fifty_answers_from_one_device_count_once(homes, phones):
    phone = phones()
    statuses = [phone.answer(homes["a"].public_id, 5).status_code for _ in range(50)]
    assert statuses[0] == 201 and set(statuses[1:]) <= {409, 429}
    assert SurveyResponse.objects(institution_id=str(homes["a"].id)).count() == 1
    assert _result(homes["a"]).count == 1


@pytest.mark.parametrize("answers,field", [
    ({"care": 4}, "medical"),  # unanswered questions
    ({**{q: 4 for q in INSTITUTIONAL}, "care": 6}, "care"),
    ({**{q: 4 for q in INSTITUTIONAL}, "care": True}, "care"),
    ({**{q: 4 for q in INSTITUTIONAL}, "care": "5"}, "care"),
    ({**{q: 4 for q in INSTITUTIONAL}, "name": 5}, "name"),
])
def test_incomplete_or_invalid_answers_are_refused(homes, phones, answers, field):
    err = assert_error(phones().answer(homes["a"].public_id, answers), 422, "SURVEY_ANSWERS_INVALID")
    assert field in err["details"]["fields"]
    assert SurveyResponse.objects.count() == 0


def test_operator_injection_and_malformed_bodies(homes, phones):
    phone = phones()
    token = phone.form(homes["a"].public_id).get_json()["token"]
    r = phone.client.post(f"/api/v1/public/surveys/{homes['a'].public_id}/answers",
                          json={"answers": {"care": {"$gt": 0}}, "token": token}, environ_base={"REMOTE_ADDR": phone.address})
    assert_error(r, 422)
    r = phone.client.post(f"/api/v1/public/surveys/{homes['a'].public_id}/answers", data="{not json",
                          content_type="application/json")
    assert_error(r, 400, "MALFORMED_JSON")
    assert SurveyResponse.objects.count() == 0


def test_id_and_phone_numbers_are_removed_from_the_comment_before_storage(homes, phones, make_user, login):
    comment = "护工很好。我是37030219560312002X的家属，电话13812345678，座机 0533-1234567。"
    r = phones().answer(homes["a"].public_id, 4, comment=comment)
    assert r.status_code == 201 and r.get_json()["comment_screened"] is True
    stored = SurveyResponse.objects.get()
    assert "37030219560312002X" not in stored.comment and "13812345678" not in stored.comment
    assert "0533-1234567" not in stored.comment and "护工很好" in stored.comment
    raw = str(SurveyResponse._get_collection().find_one())
    assert "13812345678" not in raw and "37030219560312002X" not in raw
    assert_error(phones().answer(homes["a"].public_id, 4, comment="字" * 301), 422, "SURVEY_COMMENT_TOO_LONG")


def test_a_closed_institution_takes_no_survey(homes, phones, client):
    phone = phones()
    assert_error(phone.form(homes["closed"].public_id), 409, "SURVEY_INSTITUTION_CLOSED")
    token = phone.form(homes["a"].public_id).get_json()["token"]
    assert_error(phone.answer(homes["closed"].public_id, 4, token=token), 422, "SURVEY_FORM_INVALID")
    token = devices.form_token(client.application.config["SECRET_KEY"],
                               devices.read(client.application.config["SECRET_KEY"],
                                            phone.client.get_cookie(devices.COOKIE).value),
                               homes["closed"].public_id)
    assert_error(phone.answer(homes["closed"].public_id, 4, token=token), 409, "SURVEY_INSTITUTION_CLOSED")
    page = client.get(f"/p/institutions/{homes['closed'].public_id}/survey")
    assert page.status_code == 409 and "已关闭" in page.get_data(as_text=True)
    assert_error(phone.form("NOSUCHID"), 404)


def test_the_form_token_binds_the_device(homes, phones, monkeypatch):
    one, two = phones(), phones()
    token = one.form(homes["a"].public_id).get_json()["token"]
    two.form(homes["a"].public_id)
    assert_error(two.answer(homes["a"].public_id, 4, token=token), 422, "SURVEY_FORM_INVALID")  # another device
    cookieless = phones()
    assert_error(cookieless.answer(homes["a"].public_id, 4, token=token), 422, "SURVEY_FORM_INVALID")
    assert_error(one.answer(homes["b"].public_id, 4, token=token), 422, "SURVEY_FORM_INVALID")  # another home
    monkeypatch.setattr(devices, "TOKEN_MAX_AGE", -1)
    assert_error(one.answer(homes["a"].public_id, 4, token=token), 422, "SURVEY_FORM_EXPIRED")
    assert SurveyResponse.objects.count() == 0


def test_staff_answers_are_not_counted(homes, phones, make_user, login):
    staff = login(make_user("institution", "370302", institution_id=str(homes["a"].id)))
    r = phones().answer(homes["a"].public_id, 5, headers=staff)
    assert r.status_code == 201 and r.get_json()["status"] == "staff" and r.get_json()["counted"] is False
    # a browser marked as a staff device after login: its answers are kept out too, without a token
    phone = phones()
    phone.form(homes["a"].public_id)
    marked = phone.client.post("/api/v1/surveys/staff-device", headers=staff)
    assert marked.status_code == 200 and marked.get_json() == {"staff": True}
    r = phone.answer(homes["b"].public_id, 5)
    assert r.get_json()["status"] == "staff"
    assert _result(homes["a"]).count == 0 and _result(homes["a"]).staff == 1
    assert _result(homes["b"]).count == 0


def test_a_burst_from_one_address_is_held_for_review_and_shown_to_the_office(homes, phones, make_user, login):
    shared = "203.0.113.9"
    for _ in range(5):
        assert phones(shared).answer(homes["a"].public_id, 5).get_json()["status"] == "counted"
    r = phones(shared).answer(homes["a"].public_id, 5)
    assert r.status_code == 201 and r.get_json()["status"] == "held" and "核实" in r.get_json()["message"]
    result = _result(homes["a"])
    assert result.count == 0 and result.held == 6  # the whole burst left the result
    assert phones().answer(homes["a"].public_id, 3).get_json()["status"] == "counted"  # others still count
    office = login(make_user("office_admin", "370300"))
    held = office and phones  # noqa: F841 - readability
    listed = phones().client.get("/api/v1/surveys/responses?status=held", headers=office).get_json()
    assert listed["total"] == 6 and {i["hold_reason"] for i in listed["items"]} == {"address_burst"}
    first = listed["items"][0]["id"]
    client = phones().client
    r = client.post(f"/api/v1/surveys/responses/{first}/review", json={"decision": "count"}, headers=office)
    assert r.status_code == 200 and r.get_json()["status"] == "counted"
    assert_error(client.post(f"/api/v1/surveys/responses/{first}/review", json={"decision": "count"},
                             headers=office), 409, "SURVEY_RESPONSE_NOT_HELD")
    second = listed["items"][1]["id"]
    assert client.post(f"/api/v1/surveys/responses/{second}/review", json={"decision": "discard"},
                       headers=office).get_json()["status"] == "discarded"
    result = _result(homes["a"])
    assert result.count == 2 and result.held == 4 and result.discarded == 1
    far = login(make_user("office_admin", "370400"))
    assert_error(client.post(f"/api/v1/surveys/responses/{listed['items'][2]['id']}/review",
                             json={"decision": "count"}, headers=far), 404)


def test_the_per_address_budget(app_factory, clock):
    from tests.draws import plan_fixtures as fx
    from tests.surveys.conftest import Phone

    app = app_factory(surveys={"rate_limit": "3 per hour"})
    with app.app_context():
        home = fx.institution("370302")
        statuses = [Phone(client=app.test_client(), address="198.51.100.7").answer(home.public_id, 4).status_code
                    for _ in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        assert SurveyResponse.objects.count() == 3


def test_the_profile_offers_the_survey_only_where_it_takes_answers(homes, client):
    """The public profile links to the quarter's survey; a closed institution's profile says why there is none
    instead of linking to a page that refuses (409)."""
    open_page = client.get(f"/p/institutions/{homes['a'].public_id}").get_data(as_text=True)
    assert f'href="/p/institutions/{homes["a"].public_id}/survey"' in open_page
    closed_page = client.get(f"/p/institutions/{homes['closed'].public_id}")
    assert closed_page.status_code == 200
    text = closed_page.get_data(as_text=True)
    assert "/survey" not in text and "该机构已关闭，不再接受满意度测评" in text
