"""The survey page reached from the poster: a plain form, no script, no login."""

from __future__ import annotations

import re

from inspect_api.surveys.models import SurveyResponse
from tests.surveys.conftest import INSTITUTIONAL


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_the_form_answers_and_thanks(homes, app):
    phone = app.test_client()
    page = phone.get(f"/p/institutions/{homes['a'].public_id}/survey")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "满意度测评" in html and "<script" not in html and " onclick" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert html.count('type="radio"') == 5 * len(INSTITUTIONAL) and "很满意" in html
    form = {f"q_{q}": "5" for q in INSTITUTIONAL}
    form.update(token=_token(html), comment="环境整洁 电话 138 1234 5678")
    done = phone.post(f"/p/institutions/{homes['a'].public_id}/survey", data=form, content_type="multipart/form-data")
    assert done.status_code == 201 and "感谢" in done.get_data(as_text=True)
    assert "13812345678" not in SurveyResponse.objects.get().comment
    again = phone.get(f"/p/institutions/{homes['a'].public_id}/survey").get_data(as_text=True)
    assert "本季度已对该机构作过评价" in again and "<form" not in again


def test_missing_answers_come_back_marked_and_keep_what_was_chosen(homes, app):
    phone = app.test_client()
    html = phone.get(f"/p/institutions/{homes['a'].public_id}/survey").get_data(as_text=True)
    r = phone.post(f"/p/institutions/{homes['a'].public_id}/survey",
                   data={"q_care": "4", "token": _token(html), "comment": "好"}, content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "未作答" in page
    assert 'name="q_care" value="4" required checked' in page and ">好</textarea>" in page
    assert SurveyResponse.objects.count() == 0


def test_a_post_from_another_site_without_the_cookie_is_refused(homes, app):
    visitor = app.test_client()
    html = visitor.get(f"/p/institutions/{homes['a'].public_id}/survey").get_data(as_text=True)
    attacker = app.test_client()  # no cookie: a cross-site POST does not carry the Lax cookie
    form = {f"q_{q}": "1" for q in INSTITUTIONAL}
    form["token"] = _token(html)
    r = attacker.post(f"/p/institutions/{homes['a'].public_id}/survey", data=form, content_type="multipart/form-data")
    assert r.status_code == 422 and "二维码" in r.get_data(as_text=True)
    assert SurveyResponse.objects.count() == 0


def test_the_entrance_poster_carries_the_survey_qr(homes, app, make_user, login):
    from inspect_api import qrcodes
    from inspect_api.urls import public_base_url

    client = app.test_client()
    office = login(make_user("office_admin", "370300"))
    link = client.get(f"/api/v1/institutions/{homes['a'].id}/poster-link", headers=office).get_json()["url"]
    html = client.get(link.replace(public_base_url(), "")).get_data(as_text=True)
    survey_url = f"{public_base_url()}/p/institutions/{homes['a'].public_id}/survey"
    assert str(qrcodes.svg(survey_url)) in html and "扫码参加满意度测评" in html
