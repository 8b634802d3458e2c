"""A small world for rectification, notification and scheduler tests (directory documents made directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from inspect_api.directory.models import Institution, Inspector
from inspect_api.rectification import service as rs

# 2026-03-02 is a Monday (ordinary week) in Asia/Shanghai.
CONCLUDED = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 Shanghai


def finding(item_id: str = "A1", severity: str = "major", days: int = 15, **extra: Any) -> dict[str, Any]:
    base = {"item_id": item_id, "item_text": f"问题 {item_id}：消防通道堵塞", "clause": "DB37/T 4086-2020 5.1",
            "severity": severity, "deductions": [{"code": "D1", "text": "未落实", "points": 2.0}],
            "points_lost": 2.0, "deadline_working_days": days, "reinspection_required": severity == "critical",
            "note": "现场发现", "photo_ids": []}
    base.update(extra)
    return base


@dataclass
class World:
    institution: Institution
    other_institution: Institution
    lead: Inspector
    member: Inspector
    users: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    def open(self, findings: list[dict] | None = None, *, concluded_at: datetime = CONCLUDED, inspection_id=None,
             institution: Institution | None = None):
        self.seq += 1
        inst = institution or self.institution
        return rs.open_order(inspection_id=inspection_id or f"insp-{self.seq}", institution_id=str(inst.id),
                             region=inst.region, lead_inspector_id=str(self.lead.id),
                             team=[str(self.lead.id), str(self.member.id)], checklist_code="DB37-4086",
                             findings=findings if findings is not None else [finding()],
                             concluded_at=concluded_at, now=concluded_at)


def build(make_user, *, region: str = "370302") -> World:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    inst = Institution(public_id="P0001", name="淄川区康养中心", credit_code="91370302MA3C000001", kind="combined",
                       region=region, created_at=now).save()
    other = Institution(public_id="P0002", name="博山区颐养院", credit_code="91370304MA3C000002", kind="combined",
                        region="370304", created_at=now).save()
    lead = Inspector(name="张检查", certificate_no="ZB0001", department="health", region=region,
                     created_at=now).save()
    member = Inspector(name="李检查", certificate_no="ZB0002", department="civil_affairs", region=region,
                       created_at=now).save()
    w = World(inst, other, lead, member)
    w.users["institution"] = make_user("institution", region, username="inst_user", institution_id=str(inst.id),
                                       email="inst@example.org")
    w.users["other_institution"] = make_user("institution", "370304", username="other_inst",
                                             institution_id=str(other.id))
    w.users["lead"] = make_user("inspector", region, username="lead_user", inspector_id=str(lead.id))
    w.users["member"] = make_user("inspector", region, username="member_user", inspector_id=str(member.id))
    w.users["county"] = make_user("office_admin", region, username="county_office")
    w.users["city"] = make_user("office_admin", "370300", username="city_office")
    w.users["province"] = make_user("office_admin", "370000", username="province_office")
    w.users["other_county"] = make_user("office_admin", "370304", username="other_county")
    return w
