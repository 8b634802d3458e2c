"""Satisfaction survey answers (满意度测评) and their per-institution, per-quarter results.

Answers are anonymous: no name, phone number or resident id is asked or
stored; the comment is screened before it is stored.  What an answer keeps
to stop ballot stuffing are two keyed hashes (HMAC with the server secret):
of the device id in the signed cookie (one answer per device, institution and
quarter: a unique index) and of the client address salted with the quarter
(bursts; not linkable across quarters, not reversible without the secret).

:class:`SurveyResult` holds the counted answers of one institution and
quarter as sums and distributions per question, maintained with atomic
``$inc`` as answers are counted, held or released, so a result is one read.
"""

from __future__ import annotations

import mongoengine as me

RESPONSE_STATUSES = {"counted": "已计入", "held": "疑似刷票，待审核（未计入）", "discarded": "审核后作废",
                     "staff": "工作人员账号或设备作答（不计入）"}
HOLD_REASONS = {"address_burst": "同一网络地址短时间内大量提交", "device_burst": "同一设备短时间内大量提交"}


class SurveyResponse(me.Document):
    """One anonymous answer sheet of one institution's quarterly questionnaire."""

    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    quarter = me.StringField(required=True, regex=r"^[0-9]{4}Q[1-4]$")
    questionnaire_code = me.StringField(required=True)
    questionnaire_version = me.IntField(required=True)
    answers = me.DictField(required=True)  # question id -> 1..5
    comment = me.StringField(max_length=1000)  # screened: ID and phone numbers removed before storage
    comment_screened = me.BooleanField(default=False)  # something was removed from the comment
    status = me.StringField(required=True, choices=tuple(RESPONSE_STATUSES), default="counted")
    hold_reason = me.StringField(choices=tuple(HOLD_REASONS))
    device_hash = me.StringField(required=True)
    address_hash = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    reviewed_at = me.DateTimeField()
    reviewed_by = me.StringField()

    meta = {
        "collection": "survey_responses",
        "indexes": [
            {"fields": ["institution_id", "quarter", "device_hash"], "unique": True},
            {"fields": ["address_hash", "created_at"]},
            {"fields": ["device_hash", "created_at"]},
            {"fields": ["institution_id", "-created_at", "-id"]},
            {"fields": ["region", "-created_at", "-id"]},
            {"fields": ["status", "region", "-created_at", "-id"]},
        ],
    }


class SurveyResult(me.Document):
    """Counted answers of one institution and quarter: count, sums and distributions per question."""

    key = me.StringField(primary_key=True)  # "<institution id>:<quarter>"
    institution_id = me.StringField(required=True)
    region = me.StringField(required=True)
    quarter = me.StringField(required=True)
    questionnaire_code = me.StringField()
    questions = me.ListField(me.DictField())  # [{id, text}] of the questionnaire answered first this quarter
    count = me.IntField(default=0)  # counted answers
    sums = me.DictField()  # question id -> sum of scores
    dist = me.DictField()  # question id -> {"1": n, ..., "5": n}
    held = me.IntField(default=0)
    discarded = me.IntField(default=0)
    staff = me.IntField(default=0)
    comments = me.IntField(default=0)
    risk_evaluated = me.BooleanField(default=False)  # the quarter closed and its risk was recorded (once)
    low = me.BooleanField()
    updated_at = me.DateTimeField()

    meta = {
        "collection": "survey_results",
        "indexes": [
            {"fields": ["institution_id", "-quarter"]},
            {"fields": ["region", "quarter", "institution_id"]},
            {"fields": ["risk_evaluated", "quarter"]},
        ],
    }
