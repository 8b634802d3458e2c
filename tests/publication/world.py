"""A small world for publication tests: institutions, inspectors, offices and submitted inspections."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.directory.creditcode import generate
from inspect_api.directory.models import Inspector, Institution
from inspect_api.publication.builders import finding, submitted_inspection

from tests.conftest import TEST_PASSWORD

PASSWORD = TEST_PASSWORD
XSS = '<script>alert("x")</script>'
_seq = itertools.count(1)


def make_institution(now, *, name="淄川区康宁医养中心", region="370302", kind="combined") -> Institution:
    n = next(_seq) + random.randrange(10**6) * 100
    inst = Institution(public_id=f"P{n:07d}"[:8], name=name, credit_code=generate(random.Random(n), "370300"),
                       kind=kind, region=region, address="淄博市淄川区松龄路1号", location=[118.05, 36.81],
                       contact_name="王院长", contact_phone="0533-5180000", created_at=now)
    inst.save()
    return inst


def make_inspector(now, name, region="370302") -> Inspector:
    n = next(_seq) + random.randrange(10**6) * 100
    inspector = Inspector(name=name, certificate_no=f"C37{n:09d}", department="health", region=region,
                          created_at=now)
    inspector.save()
    return inspector


def make_account(username, role, region, **links) -> User:
    user = User(username=username, password_hash=passwords.hash_password(PASSWORD), role=role, region=region,
                display_name=username, created_at=datetime.now(timezone.utc), **links)
    user.save()
    return user


@dataclass
class World:
    now: datetime
    institution: Institution
    lead: Inspector
    member: Inspector
    office: User
    county_office: User
    other_office: User
    inspector_user: User
    inspections: dict = field(default_factory=dict)

    def inspect(self, key: str, *, days_ago: int = 10, findings=None, state="submitted", institution=None,
                score=86.5, grade="good", matters=None):
        concluded = self.now - timedelta(days=days_ago)
        if findings is None:
            findings = [finding("4086-1-1", "未按规定公示医疗机构执业许可证", note="院长称正在办理"),
                        finding("4086-2-3", "护理记录不完整", severity="minor",
                                note="入住老人[[张秀英]]（身份证370302195001011234，家属电话13805331234）护理记录缺3天",
                                photo_ids=["ph-1", "ph-2"])]
        ins = submitted_inspection(institution=institution or self.institution,
                                   team=[str(self.lead.id), str(self.member.id)], concluded_at=concluded,
                                   now=self.now, findings=findings, score=score, grade=grade, key=key, state=state,
                                   matters=matters)
        self.inspections[key] = ins
        return ins


def build_world(now: datetime | None = None) -> World:
    now = now or datetime.now(timezone.utc)
    institution = make_institution(now)
    lead = make_inspector(now, "张建国")
    member = make_inspector(now, "李晓梅")
    office = make_account("office", "office_admin", "370300")
    county = make_account("county", "office_admin", "370302")
    other = make_account("jinan", "office_admin", "370100")
    insp_user = make_account("insp", "inspector", "370302", inspector_id=str(lead.id))
    return World(now, institution, lead, member, office, county, other, insp_user)
