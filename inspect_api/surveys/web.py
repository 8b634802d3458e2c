"""HTTP glue shared by the survey API and the survey page: the device cookie, staff detection, budgets.

Both the JSON endpoint and the HTML form call :func:`answer`, which reads the
device cookie, checks the form token, decides whether the caller is staff and
hands everything to :func:`inspect_api.surveys.service.submit`: the rules
live in the service, the page holds none.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from inspect_api.clock import utcnow
from inspect_api.errors import Unprocessable
from inspect_api.extensions import limiter, public_uncached
from inspect_api.surveys import device as devices
from inspect_api.surveys import service

OUTCOMES = {
    "counted": "提交成功，感谢您的评价！您的意见将帮助机构改进服务。",
    "held": "已收到您的答卷。由于同一网络或设备短时间内提交较多，本答卷需经工作人员核实后计入结果。",
    "staff": "已收到。工作人员账号或设备的答卷不计入满意度结果，感谢配合。",
}


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _cfg() -> dict[str, Any]:
    return current_app.config["INSPECT"]


def _answer_limit() -> str:
    return service.settings(_cfg())["rate_limit"]


# The public pages' per-address budget, without the page cache: survey pages are per device.
public_budget = public_uncached
# The per-address budget of answers, shared by the API and the form.
answer_budget = limiter.shared_limit(_answer_limit, scope="survey-answers")


def current_device() -> devices.Device:
    return devices.read(_secret(), request.cookies.get(devices.COOKIE))


def set_device_cookie(response, device: devices.Device) -> None:
    days = int(service.settings(_cfg())["device_cookie_days"])
    response.set_cookie(devices.COOKIE, devices.cookie_value(_secret(), device), max_age=days * 86400,
                        httponly=True, samesite="Lax", secure=request.is_secure, path="/")


def form_token(device: devices.Device, public_id: str) -> str:
    return devices.form_token(_secret(), device, public_id)


def _signed_in() -> bool:
    """True when the request carries a valid access token (any role: staff of an office, institution or team)."""
    from flask_jwt_extended import current_user, verify_jwt_in_request

    if not request.headers.get("Authorization"):
        return False
    try:
        verify_jwt_in_request(optional=True)
    except Exception:  # noqa: BLE001 - an invalid token is just no token here
        return False
    return current_user is not None


def answer(public_id: str, *, answers: Any, comment: Any, token: str | None):
    """Check the device and its form token, then submit; (stored answer, device)."""
    device = current_device()
    problem = devices.token_problem(_secret(), token, device, public_id)
    if problem == "expired":
        raise Unprocessable("页面已打开超过 2 小时，请刷新页面后重新填写", code="SURVEY_FORM_EXPIRED")
    if problem:
        raise Unprocessable("请从机构张贴的二维码或本站页面打开问卷后填写（需允许本站 Cookie）",
                            code="SURVEY_FORM_INVALID")
    staff = device.staff or _signed_in()
    response = service.submit(public_id, answers=answers, comment=comment, device_id=device.id, staff=staff,
                              address=request.remote_addr, secret=_secret(), now=utcnow(), config=_cfg())
    return response, device


def already_answered(institution, device: devices.Device) -> bool:
    return not device.new and service.already_answered(institution, device.id, _secret(), utcnow())
