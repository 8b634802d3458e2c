"""Directory fixtures for the plan/draw tests (documents created directly in the store)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from inspect_api.directory.models import Conflict, Inspector, Institution, RiskProfile

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
ENTROPY = "2026-11-20 福利彩票3D 开奖号 527 + 见证人 张伟/李娜"
_counter = {"n": 0}


def institution(region: str, *, kind: str = "combined", name: str | None = None, status: str = "active",
                tags=(), complaints: int = 0, past_findings: int = 0, overdue: int = 0, rejected: int = 0,
                last_inspected_at: datetime | None = None) -> Institution:
    _counter["n"] += 1
    n = _counter["n"]
    inst = Institution(public_id=f"P{n:06d}", name=name or f"测试医养机构{n}", credit_code=f"91370300MA{n:08d}",
                       kind=kind, tags=list(tags), region=region, status=status, complaint_count=complaints,
                       risk=RiskProfile(past_findings=past_findings, overdue_rectifications=overdue,
                                        rejected_answers=rejected, last_inspected_at=last_inspected_at),
                       created_at=NOW)
    inst.save()
    return inst


def inspector(region: str, department: str = "health", *, load_cap: int = 25, name: str | None = None,
              active: bool = True) -> Inspector:
    _counter["n"] += 1
    n = _counter["n"]
    person = Inspector(name=name or f"检查员{n}", certificate_no=f"ZF{n:08d}", department=department, region=region,
                       load_cap=load_cap, active=active, created_at=NOW)
    person.save()
    return person


def conflict(person: Inspector, inst: Institution) -> Conflict:
    c = Conflict(inspector_id=str(person.id), institution_id=str(inst.id), reason="declared", region=inst.region,
                 created_at=NOW)
    c.save()
    return c


def world() -> dict:
    """12 institutions in three counties of 370300, one outside (370402); 8 inspectors."""
    insts = [institution(region, kind="combined" if i % 2 else "care_home_clinic")
             for region in ("370302", "370303", "370304") for i in range(4)]
    outside = institution("370402", name="外市机构")
    people = [inspector(region, "health") for region in ("370302", "370303", "370304", "370302", "370303")]
    people += [inspector(region, "civil_affairs") for region in ("370302", "370303", "370304")]
    return {"institutions": insts, "outside": outside, "inspectors": people}


def plan_body(**overrides) -> dict:
    body = {"name": "2026 年第四季度双随机抽查", "period_start": "2026-11-20", "period_end": "2026-12-31",
            "matters": ["YY-01", "YY-02"], "ratio": "0.5", "stratification": "county", "min_per_stratum": 1,
            "team_size": 2, "required_departments": ["health"], "load_cap": 25}
    body.update(overrides)
    return body


def today() -> date:
    return date(2026, 11, 20)


DAY = timedelta(days=1)


# ------------------------------------------------------------------ plans over the HTTP API


def create_plan(client, office, **overrides) -> dict:
    r = client.post("/api/v1/plans", json=plan_body(**overrides), headers=office)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def committed_plan(client, office, **overrides) -> tuple[dict, dict]:
    """A plan created and committed: (plan, draw)."""
    plan = create_plan(client, office, **overrides)
    r = client.post(f"/api/v1/plans/{plan['id']}/commit", headers=office)
    assert r.status_code == 201, r.get_json()
    return plan, r.get_json()


def drawn_plan(client, office, **overrides) -> tuple[dict, dict]:
    """A plan created, committed and drawn with :data:`ENTROPY`: (plan, draw)."""
    plan, _ = committed_plan(client, office, **overrides)
    r = client.post(f"/api/v1/plans/{plan['id']}/draw", json={"public_entropy": ENTROPY}, headers=office)
    assert r.status_code == 200, r.get_json()
    return plan, r.get_json()
