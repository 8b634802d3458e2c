"""Response examples of the phone's operations, shown in the OpenAPI document.

Each is validated against its documented schema by ``tests/openapi/test_document.py``,
so an example cannot drift from the contract.
"""

from __future__ import annotations

ASSIGNMENT_ID = "6b0b4c29d00ac7f0331e74be"
INSTITUTION_ID = "6b0b4c1fd00ac7f0331e7401"
LEAD_ID = "6b0b4c20d00ac7f0331e7411"
MEMBER_ID = "6b0b4c20d00ac7f0331e7412"

ASSIGNMENT = {
    "id": ASSIGNMENT_ID, "institution_id": INSTITUTION_ID, "institution_name": "淄川区康乐医养中心",
    "region": "370302", "team": [LEAD_ID, MEMBER_ID], "source": "draw", "random": True, "reason": None,
    "reason_note": None, "plan_id": "6b0b4c25d00ac7f0331e74a0", "draw_id": "6b0b4c26d00ac7f0331e74b0",
    "parent_order_id": None, "matters": ["YY-01"], "checklist_code": "DB37T4086-2020", "checklist_version": 1,
    "due_date": "2026-12-15", "status": "assigned", "created_at": "2026-11-20T02:00:00Z",
}

ASSIGNMENT_PAGE = {"items": [ASSIGNMENT], "total": 1, "page": 1, "per_page": 20}

CHECKLIST_ITEM = {
    "id": "4086-3-05", "text": "每张床位及卫生间设置紧急呼叫装置并能正常使用，呼叫有人及时响应",
    "clause": "基本要求·设施设备", "method": ["on_site", "practical_test"], "points": 2, "veto": False,
    "na_allowed": False, "severity": "major",
    "deductions": [{"code": "a", "text": "每发现一处床位或卫生间未设呼叫装置或装置失灵", "points": 0.5, "repeatable": True},
                   {"code": "b", "text": "现场测试呼叫无人响应", "points": 1}],
    "evidence": {"min_photos": 2, "documents": []},
}

BUNDLE = {
    "assignment": ASSIGNMENT,
    "inspection": {"id": ASSIGNMENT_ID, "code": "ZB-2026-000123", "state": "assigned"},
    "institution": {"id": INSTITUTION_ID, "public_id": "K7Q2M9", "name": "淄川区康乐医养中心", "kind": "combined",
                    "kind_name": "医养结合机构（两证齐全）", "region": "370302", "address": "淄川区般阳路 88 号",
                    "latitude": 36.6437, "longitude": 117.9671, "contact_name": "王院长", "contact_phone": "0533-5281234"},
    "team": [{"inspector_id": LEAD_ID, "role": "lead", "name": "张伟", "certificate_no": "ZB-0101",
              "department": "health"},
             {"inspector_id": MEMBER_ID, "role": "member", "name": "李娜", "certificate_no": "ZB-0207",
              "department": "civil_affairs"}],
    "checklist": {
        "code": "DB37T4086-2020", "version": 1,
        "content_hash": "3f5a0c1e9b7d4c2a8e6f1b0d9c8a7e6f5d4c3b2a1908f7e6d5c4b3a291807f6e",
        "content": {
            "code": "DB37T4086-2020", "title": "机构医养结合服务监督检查评分表",
            "standard": {"code": "DB37/T 4086-2020", "title": "机构医养结合服务基本规范"}, "version": 1,
            "provenance": {"derived_from": "DB37/T 4086-2020 的章节结构与义务", "official_text_checked": False,
                           "notes": "未与标准正式文本逐条核对"},
            "kinds": ["combined", "care_home_clinic", "hospital_care_unit", "township_two_in_one"], "points": 100,
            "bands": [{"code": "excellent", "name": "优秀", "min": 90, "max": 100},
                      {"code": "good", "name": "良好", "min": 80, "max": 90},
                      {"code": "pass", "name": "合格", "min": 60, "max": 80},
                      {"code": "fail", "name": "不合格", "min": 0, "max": 60}],
            "deadlines": {"critical": {"working_days": 5, "reinspection": True},
                          "major": {"working_days": 15, "reinspection": False},
                          "minor": {"working_days": 30, "reinspection": False}},
            "sections": [{"id": "4086-3", "title": "建筑设施与设备", "clause": "基本要求·设施设备", "points": 12,
                          "items": [CHECKLIST_ITEM]}],
        },
    },
    "previous_result": None,
    "open_findings": [],
    "checkin_rules": {"qr_required": True, "radius_m": 300.0, "latitude": 36.6437, "longitude": 117.9671,
                      "note": "扫描机构门口张贴的二维码并上报定位；超出半径的签到会被标记"},
    "signature_roles": [{"role": "lead", "name": "检查组组长"}, {"role": "member", "name": "检查组成员"},
                        {"role": "institution_representative", "name": "机构负责人/代表"}],
}

CHECKIN = {
    "inspector_id": LEAD_ID, "qr_version": 1, "latitude": 36.6440, "longitude": 117.9671, "accuracy_m": 8.5,
    "captured_at": "2026-11-23T01:58:00Z", "received_at": "2026-11-23T02:00:05Z", "distance_m": 33.4,
    "radius_m": 300.0, "flagged": False, "flag_reasons": [],
}

INSPECTION_CHECKED_IN = {
    "id": ASSIGNMENT_ID, "assignment_id": ASSIGNMENT_ID, "code": "ZB-2026-000123", "institution_id": INSTITUTION_ID,
    "region": "370302", "team": [LEAD_ID, MEMBER_ID], "checklist_code": "DB37T4086-2020", "checklist_version": 1,
    "state": "checked_in", "assignment_status": "in_progress", "checkin": CHECKIN, "signatures": [], "photos": [],
    "submitted_at": None, "result": None, "findings": [], "order_id": None, "report_hash": None, "corrections": [],
}

RESPONSE = {
    "item_id": "4086-3-05", "revision": 1, "result": "deduct", "deduction_codes": ["a"], "note": "2 号床呼叫器失灵",
    "client_id": "0f8e9a52-3f4b-4c1d-9a77-5b1d2c3e4f50", "client_updated_at": "2026-11-23T02:10:00Z",
    "updated_by": LEAD_ID, "updated_at": "2026-11-23T02:10:03Z",
}

BATCH_RESULT = {
    "outcomes": [
        {"client_id": RESPONSE["client_id"], "item_id": "4086-3-05", "outcome": "applied", "revision": 1,
         "current": RESPONSE},
        {"client_id": "5c2f7a10-8e3d-4b6a-b1c9-0d2e3f4a5b6c", "item_id": "4086-3-06", "outcome": "conflict",
         "revision": 2,
         "current": {**RESPONSE, "item_id": "4086-3-06", "revision": 2, "result": "pass", "deduction_codes": [],
                     "note": None, "client_id": "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "updated_by": MEMBER_ID}},
    ],
    "applied": 1, "duplicate": 0, "conflict": 1,
}

PHOTO = {
    "id": "6b0b4d01d00ac7f0331e7501", "item_id": "4086-3-05", "client_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
    "sha256": "9e107d9d372bb6826bd81d3542a419d6e277d4d731479571562f82f4c8f1b2a3", "reused": False,
    "captured_at": "2026-11-23T02:11:40+00:00", "latitude": 36.6439, "longitude": 117.9672, "gps_invalid": False,
    "width": 1920, "height": 1440,
    "urls": {"thumb": "/api/v1/photos/6b0b4d01d00ac7f0331e7501/thumb",
             "display": "/api/v1/photos/6b0b4d01d00ac7f0331e7501/display",
             "original": "/api/v1/photos/6b0b4d01d00ac7f0331e7501/original"},
}

SIGNATURE = {
    "evidence_id": "6b0b4d20d00ac7f0331e7520", "client_id": "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b",
    "signer_role": "lead", "signer_name": "张伟", "inspector_id": LEAD_ID, "signed_at": "2026-11-23T03:20:00Z",
}

INSPECTION_SUBMITTED = {
    **INSPECTION_CHECKED_IN,
    "state": "submitted", "assignment_status": "submitted",
    "signatures": [SIGNATURE,
                   {**SIGNATURE, "evidence_id": "6b0b4d21d00ac7f0331e7521", "signer_role": "member",
                    "signer_name": "李娜", "inspector_id": MEMBER_ID,
                    "client_id": "2c3d4e5f-6071-4829-8b0c-2d3e4f5a6b7c"},
                   {**SIGNATURE, "evidence_id": "6b0b4d22d00ac7f0331e7522",
                    "signer_role": "institution_representative", "signer_name": "王院长", "inspector_id": None,
                    "client_id": "3d4e5f60-7182-493a-9c1d-3e4f5a6b7c8d"}],
    "photos": [{"id": PHOTO["id"], "item_id": "4086-3-05", "client_id": PHOTO["client_id"], "sha256": PHOTO["sha256"],
                "reused": False, "captured_at": "2026-11-23T02:11:40Z", "distance_m": 38.2, "position_flags": []}],
    "submitted_at": "2026-11-23T03:25:00Z",
    "result": {"score": 99.5, "grade": "excellent", "grade_name": "优秀", "earned": 99.5, "applicable_max": 100.0,
               "veto_failed": [], "not_applicable": [], "kind": "combined"},
    "findings": [{"item_id": "4086-3-05", "item_text": CHECKLIST_ITEM["text"], "clause": "基本要求·设施设备",
                  "section_id": "4086-3", "result": "deduct", "severity": "major", "veto": False,
                  "deductions": [{"code": "a", "text": "每发现一处床位或卫生间未设呼叫装置或装置失灵", "points": 0.5,
                                  "count": 1}],
                  "points_lost": 0.5, "item_points": 2.0, "deadline_working_days": 15,
                  "reinspection_required": False, "note": "2 号床呼叫器失灵", "photo_ids": [PHOTO["id"]]}],
    "order_id": "6b0b4e00d00ac7f0331e7600",
    "report_hash": "c35f4ec5691961ee3866f1f6b09c5f6687e42442ee723a38bd52882a2079e50b",
    "responses": [RESPONSE],
}
