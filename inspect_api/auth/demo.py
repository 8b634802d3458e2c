"""Demo accounts: the province office (370000, Shandong), the city office of 370300 (Zibo) and a county office."""

from __future__ import annotations

from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.demo import DEMO_PASSWORD, DemoContext


def demo_user(ctx: DemoContext, username: str, role: str, region: str, display_name: str,
              description: str, **links) -> User:
    """Create (or return) one demo user with the shared demo password."""
    user = User.objects(username=username).first()
    if user is None:
        user = User(username=username, password_hash=passwords.hash_password(DEMO_PASSWORD), role=role,
                    region=region, display_name=display_name, created_at=ctx.now, updated_at=ctx.now,
                    created_by="demo", **links)
        user.save()
    ctx.account(username, role, description)
    return user


def seed(ctx: DemoContext) -> None:
    ctx.data["province_office"] = demo_user(ctx, "province", "office_admin", "370000",
                                            "山东省医养结合工作领导小组办公室",
                                            "省级办公室（370000），维护检查清单和抽查事项")
    ctx.data["office"] = demo_user(ctx, "office", "office_admin", "370300", "淄博市医养结合工作领导小组办公室",
                                   "市级办公室（370300）")
    ctx.data["county_office"] = demo_user(ctx, "county_office", "office_admin", "370302", "淄川区卫生健康局",
                                          "区县办公室（370302 淄川区）")
