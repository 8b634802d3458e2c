"""Checks shared by the directory modules: ids, the office role, regions in scope, field errors."""

from __future__ import annotations


from inspect_api.auth.models import User
from inspect_api.directory.regions import region_exists
from inspect_api.errors import Forbidden, Unprocessable
from inspect_api.scoping import in_scope, is_region_code, region_prefix


def require_office(user) -> None:
    if getattr(user, "role", None) != "office_admin":
        raise Forbidden("仅办公室管理员可以维护名录库", code="ROLE_FORBIDDEN")


def field_error(code: str, message: str, field: str) -> Unprocessable:
    return Unprocessable(message, code=code, details={"fields": {field: [message]}})


def check_region(user, region: str, field: str = "region") -> None:
    if not region_exists(region):
        raise field_error("REGION_UNKNOWN", "未知的行政区划代码", field)
    if not in_scope(user.region, region):
        raise Forbidden("不能在本辖区以外登记或修改名录", code="REGION_OUT_OF_SCOPE",
                        details={"fields": {field: ["不在本辖区内"]}})


def normalise_prefix(value: str | None) -> str:
    if not value:
        return ""
    return region_prefix(value) if is_region_code(value) else value


def linked_user_exists(**link: str) -> bool:
    # Adapter: auth has no read function by link yet; an index-served existence check on users.
    return User.objects(**link).only("id").first() is not None
