"""Demo directory: Zibo (370300) with 淄川区, 张店区 and 博山区.

About 60 institutions of all five kinds, 24 inspectors across departments,
conflicts (from employment histories and recorded by the office), a few
risk profiles and complaints, and the accounts ``insp01``…``insp06`` and
``inst01``…``inst03``.  Deterministic (fixed random seed).  The demo password
is hashed once and the hash shared by these accounts, which keeps seeding
fast.  Shares ``ctx.data["institutions"]`` and ``ctx.data["inspectors"]``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from inspect_api.auth import passwords
from inspect_api.auth.models import User
from inspect_api.demo import DEMO_PASSWORD, DemoContext
from inspect_api.directory.inspectors import sync_employment_conflicts
from inspect_api.directory.institutions import new_public_id, record_risk_event
from inspect_api.directory.regions import ensure_regions
from inspect_api.directory.creditcode import generate
from inspect_api.directory.models import Conflict, Inspector, Institution, Licence, RiskProfile

COUNTIES = {
    "370302": {
        "name": "淄川区", "lat": (36.62, 36.70), "lon": (117.92, 118.02),
        "places": ["般阳路街道", "松龄路街道", "钟楼街道", "将军路街道", "昆仑镇", "龙泉镇", "寨里镇", "罗村镇",
                   "双杨镇", "西河镇", "岭子镇", "太河镇"],
        "roads": ["般阳路", "松龄路", "淄城路", "人民路", "商场西街", "昆仑路", "东坪路"],
    },
    "370303": {
        "name": "张店区", "lat": (36.76, 36.86), "lon": (117.98, 118.08),
        "places": ["车站街道", "公园街道", "和平街道", "科苑街道", "体育场街道", "杏园街道", "湖田街道", "马尚街道",
                   "四宝山街道", "傅家镇", "中埠镇", "房镇镇"],
        "roads": ["柳泉路", "共青团路", "华光路", "人民西路", "新村西路", "联通路", "西五路", "金晶大道"],
    },
    "370304": {
        "name": "博山区", "lat": (36.58, 36.64), "lon": (117.82, 117.90),
        "places": ["城东街道", "城西街道", "山头街道", "域城镇", "白塔镇", "八陡镇", "石马镇", "源泉镇", "池上镇",
                   "博山镇"],
        "roads": ["中心路", "白塔路", "西冶街", "新博路", "峨眉山路", "福山路"],
    },
}

KIND_NAMES = {
    "combined": ["{place}医养结合中心", "{county}{place}康养院", "{place}颐养护理院", "{county}福寿医养中心"],
    "care_home_clinic": ["{place}敬老院医务室", "{place}养老服务中心护理站", "{county}{place}老年公寓卫生室"],
    "hospital_care_unit": ["{place}卫生院康复养老中心", "{county}中医医院老年康养病区", "{place}医院护理养老部"],
    "community_station": ["{place}社区卫生服务中心日间照料站", "{place}农村幸福院医养服务点", "{place}综合养老服务中心医养站"],
    "township_two_in_one": ["{place}卫生院敬老院（两院一体）"],
}
KIND_TAGS = {
    "combined": ["医中延养", "养中融医"],
    "care_home_clinic": ["养中融医"],
    "hospital_care_unit": ["医中延养"],
    "community_station": ["送医助养", "医养协同"],
    "township_two_in_one": ["医中延养", "医养协同"],
}
KIND_ORDER = ["combined"] * 14 + ["care_home_clinic"] * 14 + ["hospital_care_unit"] * 10 + \
    ["community_station"] * 14 + ["township_two_in_one"] * 8
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建国", "秀英", "志强", "海燕", "立新", "玉兰", "文博", "晓东", "丽娜", "国庆", "宏伟", "雪梅", "振华",
         "春霞", "明远", "桂芝", "晨阳", "淑芬", "子涵", "洪涛", "静怡", "德胜", "瑞峰", "佳琪"]
INSPECTOR_PLAN = (["health", "civil_affairs"] * 8 + ["health", "medical_insurance", "market_regulation", "health",
                                                      "fire", "medical_insurance", "market_regulation", "fire"])
QUALIFICATIONS = {
    "health": ["医疗监督", "传染病防治", "护理质量"],
    "civil_affairs": ["养老服务", "消防安全"],
    "medical_insurance": ["医保基金"],
    "market_regulation": ["食品安全", "价格监督"],
    "fire": ["消防安全"],
}
INSPECTOR_REGIONS = ["370300", "370302", "370303", "370304"]


def _phone(rng: random.Random) -> str:
    return "0533-" + str(rng.randint(2000000, 8999999))


def _institutions(ctx: DemoContext) -> list[Institution]:
    out = []
    counties = list(COUNTIES)
    used_names: set[str] = set()
    for n, kind in enumerate(KIND_ORDER):
        rng = random.Random(f"370300-institution-{n}")  # per entry: re-seeding finds the same entries
        region = counties[n % 3]
        county = COUNTIES[region]
        for _ in range(20):
            place = rng.choice(county["places"])
            name = county["name"] + rng.choice(KIND_NAMES[kind]).format(place=place, county="")
            if name not in used_names:
                break
        used_names.add(name)
        code = generate(rng, region, org_type=rng.choice(["52", "12", "91"]))
        existing = Institution.objects(credit_code=code).first()
        if existing is not None:
            out.append(existing)
            continue
        licences = []
        if kind in ("combined", "hospital_care_unit", "township_two_in_one", "care_home_clinic"):
            licences.append(Licence(kind="medical_licence" if kind != "care_home_clinic" else "medical_filing",
                                    number=f"PDY{rng.randint(10000000, 99999999)}{region}",
                                    valid_from=date(2022, 1, 1) + timedelta(days=rng.randint(0, 700)),
                                    valid_until=date(2027, 1, 1) + timedelta(days=rng.randint(0, 900))))
        if kind in ("combined", "care_home_clinic", "township_two_in_one"):
            licences.append(Licence(kind="care_filing", number=f"鲁{region}养备{rng.randint(2019, 2025)}{n + 1:03d}"))
        care_beds = rng.choice([20, 30, 45, 60, 80, 120, 160, 200]) if kind != "community_station" else rng.choice([0, 8, 12])
        medical_beds = rng.choice([0, 5, 10, 20, 40, 60]) if kind != "care_home_clinic" else rng.choice([0, 2, 4])
        inst = Institution(
            public_id=new_public_id(), name=name, credit_code=code, kind=kind,
            tags=sorted(set(rng.sample(KIND_TAGS[kind], k=rng.randint(1, len(KIND_TAGS[kind]))))),
            region=region,
            address=f"山东省淄博市{county['name']}{place}{rng.choice(county['roads'])}{rng.randint(1, 299)}号",
            location={"type": "Point", "coordinates": [round(rng.uniform(*county["lon"]), 6),
                                                       round(rng.uniform(*county["lat"]), 6)]},
            licences=licences, care_beds=care_beds, medical_beds=medical_beds,
            contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN), contact_phone=_phone(rng),
            status="suspended" if n in (17, 43) else "active", complaint_count=0, risk=RiskProfile(),
            created_at=ctx.now, updated_at=ctx.now)
        inst.save(force_insert=True)
        out.append(inst)
    return out


def _risk(ctx: DemoContext, institutions: list[Institution]) -> None:
    for index, (findings, overdue, complaints) in {3: (4, 1, 2), 9: (7, 2, 0), 15: (2, 0, 3), 22: (5, 3, 1),
                                                   31: (1, 0, 1), 40: (3, 1, 0)}.items():
        inst = institutions[index]
        if inst.risk and inst.risk.past_findings:
            continue
        record_risk_event(str(inst.id), past_findings=findings, overdue_rectifications=overdue,
                          inspected_at=ctx.now - timedelta(days=200 + index), now=ctx.now)
        Institution.objects(id=inst.id).update_one(set__complaint_count=complaints)


def _inspectors(ctx: DemoContext, institutions: list[Institution]) -> list[Inspector]:
    out = []
    for n, department in enumerate(INSPECTOR_PLAN):
        rng = random.Random(f"370300-inspector-{n}")
        cert = f"3703{n % 4:02d}{['health', 'civil_affairs', 'medical_insurance', 'market_regulation', 'fire'].index(department) + 1}{n + 1:04d}"
        existing = Inspector.objects(certificate_no=cert).first()
        if existing is not None:
            out.append(existing)
            continue
        inspector = Inspector(
            name=SURNAMES[(n * 7) % len(SURNAMES)] + GIVEN[n % len(GIVEN)], certificate_no=cert,
            department=department, region=INSPECTOR_REGIONS[n % 4],
            qualifications=rng.sample(QUALIFICATIONS[department], k=min(2, len(QUALIFICATIONS[department]))),
            active=n != 23, load_cap=rng.choice([15, 20, 25, 30]), phone="13" + str(rng.randint(100000000, 999999999)),
            created_at=ctx.now, updated_at=ctx.now)
        if n in (2, 7, 12, 19):  # worked at an institution before joining the inspectorate
            inspector.employment_history = [str(institutions[(n * 5) % len(institutions)].id)]
        inspector.save(force_insert=True)
        sync_employment_conflicts(inspector, now=ctx.now)
        out.append(inspector)
    return out


def _conflicts(ctx: DemoContext, inspectors: list[Inspector], institutions: list[Institution]) -> None:
    for insp, inst, reason, note in ((inspectors[0], institutions[5], "relative", "配偶在该机构任护士长"),
                                     (inspectors[4], institutions[11], "declared", "本人申报：亲属持有该机构股份"),
                                     (inspectors[10], institutions[26], "other", "曾参与该机构筹建评审")):
        if Conflict.objects(inspector_id=str(insp.id), institution_id=str(inst.id), reason=reason).first():
            continue
        Conflict(inspector_id=str(insp.id), institution_id=str(inst.id), reason=reason,
                 source="declared" if reason == "declared" else "office", note=note,
                 valid_from=date(2024, 1, 1), region=inst.region, inspector_name=insp.name,
                 institution_name=inst.name, created_at=ctx.now).save()


def _users(ctx: DemoContext, inspectors: list[Inspector], institutions: list[Institution]) -> None:
    shared_hash = None
    specs = [(f"insp{i + 1:02d}", "inspector", inspectors[i].region, inspectors[i].name,
              f"检查人员（{inspectors[i].name}，{inspectors[i].department}）", {"inspector_id": str(inspectors[i].id)})
             for i in range(6)]
    specs += [(f"inst{i + 1:02d}", "institution", institutions[i].region, institutions[i].name[:64],
               f"机构账号（{institutions[i].name}）", {"institution_id": str(institutions[i].id)}) for i in range(3)]
    for username, role, region, display, description, links in specs:
        if User.objects(username=username).first() is None:
            shared_hash = shared_hash or passwords.hash_password(DEMO_PASSWORD)
            User(username=username, password_hash=shared_hash, role=role, region=region, display_name=display,
                 created_at=ctx.now, updated_at=ctx.now, created_by="demo", **links).save()
        ctx.account(username, role, description)


def seed(ctx: DemoContext) -> None:
    ensure_regions()
    institutions = _institutions(ctx)
    _risk(ctx, institutions)
    inspectors = _inspectors(ctx, institutions)
    _conflicts(ctx, inspectors, institutions)
    _users(ctx, inspectors, institutions)
    ctx.data["institutions"] = [inst.reload() for inst in institutions]
    ctx.data["inspectors"] = [insp.reload() for insp in inspectors]
