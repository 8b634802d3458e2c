"""Directory documents: institutions, inspectors, conflicts of interest (回避), regions."""

from __future__ import annotations

import mongoengine as me

INSTITUTION_KINDS = {
    "combined": "医养结合机构（两证齐全）",
    "care_home_clinic": "养老机构内设医疗机构",
    "hospital_care_unit": "医疗机构内设养老机构",
    "community_station": "社区医养结合服务站点",
    "township_two_in_one": "两院一体",
}
SERVICE_TAGS = ("医中延养", "养中融医", "医养协同", "送医助养")
INSTITUTION_STATUSES = {"active": "正常", "suspended": "暂停", "closed": "关闭"}
DEPARTMENTS = {
    "health": "卫生健康",
    "civil_affairs": "民政",
    "medical_insurance": "医疗保障",
    "market_regulation": "市场监管",
    "fire": "消防救援",
}
CONFLICT_REASONS = {"employment": "曾在或现在该机构任职", "relative": "近亲属在该机构", "declared": "本人申报利害关系",
                    "other": "其他"}


class Region(me.Document):
    """An administrative division (行政区划): province → city → county by code prefix."""

    code = me.StringField(required=True, unique=True, regex=r"^[1-9][0-9]{5}$")
    name = me.StringField(required=True, max_length=64)
    parent = me.StringField()  # parent code, None for a province
    level = me.StringField(required=True, choices=("province", "city", "county"))

    meta = {"collection": "regions", "indexes": ["parent"]}


class Licence(me.EmbeddedDocument):
    """A licence or filing (医疗机构执业许可证/备案, 养老机构备案) with its validity."""

    kind = me.StringField(required=True, choices=("medical_licence", "medical_filing", "care_filing", "other"))
    number = me.StringField(required=True, max_length=64)
    valid_from = me.DateField()
    valid_until = me.DateField()


class RiskProfile(me.EmbeddedDocument):
    """Inputs of the draw's risk weighting, maintained by later stages."""

    past_findings = me.IntField(default=0)
    overdue_rectifications = me.IntField(default=0)
    rejected_answers = me.IntField(default=0)
    low_satisfaction = me.IntField(default=0)  # ended quarters whose published survey mean was low
    last_inspected_at = me.DateTimeField()
    updated_at = me.DateTimeField()


class Institution(me.Document):
    """An inspectable entity of the target directory (检查对象名录库)."""

    public_id = me.StringField(required=True, unique=True, max_length=16)  # short, stable, for public URLs
    name = me.StringField(required=True, max_length=128)
    credit_code = me.StringField(required=True, unique=True, regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
    kind = me.StringField(required=True, choices=tuple(INSTITUTION_KINDS))
    tags = me.ListField(me.StringField(choices=SERVICE_TAGS))
    region = me.StringField(required=True, regex=r"^[1-9][0-9]{5}$")
    address = me.StringField(max_length=256)
    location = me.PointField()  # GeoJSON [lon, lat], 2dsphere
    licences = me.EmbeddedDocumentListField(Licence)
    care_beds = me.IntField(min_value=0, default=0)
    medical_beds = me.IntField(min_value=0, default=0)
    contact_name = me.StringField(max_length=64)
    contact_phone = me.StringField(max_length=32)
    status = me.StringField(required=True, choices=tuple(INSTITUTION_STATUSES), default="active")
    complaint_count = me.IntField(min_value=0, default=0)
    risk = me.EmbeddedDocumentField(RiskProfile, default=RiskProfile)
    # QR check-in token version; re-issuing a poster bumps it (old tokens refused).
    qr_version = me.IntField(default=1)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "institutions",
        "indexes": [
            {"fields": ["region", "name", "_id"]},  # lists: region range, (region, name, id) order, name search
            {"fields": ["kind", "region"]},
            {"fields": ["tags"]},
            {"fields": ["status", "region"]},
            {"fields": [("location", "2dsphere")], "2dsphereIndexVersion": 3},
        ],
    }


class Inspector(me.Document):
    """A law-enforcement inspector (执法检查人员名录库)."""

    name = me.StringField(required=True, max_length=64)
    certificate_no = me.StringField(required=True, unique=True, max_length=32)  # 执法证号
    department = me.StringField(required=True, choices=tuple(DEPARTMENTS))
    region = me.StringField(required=True, regex=r"^[1-9][0-9]{5}$")
    qualifications = me.ListField(me.StringField(max_length=32))
    active = me.BooleanField(default=True)
    load_cap = me.IntField(min_value=1, default=25)
    user_id = me.StringField()
    employment_history = me.ListField(me.StringField())  # institution ids worked at (feeds recusal)
    phone = me.StringField(max_length=32)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "inspectors",
        "indexes": [
            {"fields": ["region", "department"]},
            {"fields": ["region", "name", "_id"]},  # lists: region range, (region, name, id) order, name search
            {"fields": ["active", "region"]},
            {"fields": ["user_id"], "sparse": True},
        ],
    }


class Conflict(me.Document):
    """A conflict of interest (回避): the inspector must not be drawn for the institution."""

    inspector_id = me.StringField(required=True)
    institution_id = me.StringField(required=True)
    reason = me.StringField(required=True, choices=tuple(CONFLICT_REASONS))
    source = me.StringField(required=True, choices=("employment_history", "declared", "office"), default="office")
    note = me.StringField(max_length=256)
    valid_from = me.DateField()
    valid_until = me.DateField()
    region = me.StringField(required=True)  # the institution's region, for scoping
    # The current names, for the office's list without two look-ups per page: stored at creation and
    # rewritten when the inspector or the institution is renamed (a directory page shows today's names).
    inspector_name = me.StringField()
    institution_name = me.StringField()
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()

    meta = {
        "collection": "conflicts",
        "indexes": [
            {"fields": ["inspector_id", "institution_id", "reason"], "unique": True},
            {"fields": ["institution_id"]},
            {"fields": ["region", "_id"]},  # list: region range in (region, id) order
        ],
    }
