"""Demo satisfaction surveys: two quarters of answers, through the same service as the public page.

* ``inst01``'s institution: enough answers in both quarters (published on its
  profile and on the map), comments (one with a phone number, screened before
  storage) and, this quarter, a burst of six answers from one address held for
  the office's review;
* ``inst03``'s institution: fewer than 10 answers in both quarters (results
  not published, "样本不足");
* a third institution: a low mean last quarter, which the quarter's closing
  turned into a risk event (a higher weight in the next draw).

Each answer is a distinct device and address, as from residents' phones.
Idempotent: a second run finds the demo answers and stops.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, time, timedelta

from inspect_api.auth.models import User
from inspect_api.demo import DemoContext
from inspect_api.errors import DomainError
from inspect_api.workdays import SHANGHAI, business_date

log = logging.getLogger(__name__)
COMMENTS = ["护理员很有耐心，老人住得安心。", "饭菜口味偏咸，希望少放盐。", "夜间值班人员偏少，呼叫响应有时较慢。",
            "环境干净整洁，活动室很受欢迎。", "医生查房认真，家属可以随时电话 13905331234 联系，很方便。"]


def _secret() -> str:
    try:
        from flask import current_app

        return current_app.config["SECRET_KEY"]
    except RuntimeError:
        from inspect_api.config import load_config

        return load_config()["secret_key"]


def _quarter_days(now: datetime) -> tuple[datetime, datetime]:
    """A moment earlier in the current quarter (answers follow it a minute apart) and one in the previous."""
    today = business_date(now)
    first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    previous = datetime.combine(first - timedelta(days=30), time(10), tzinfo=SHANGHAI)
    return now - timedelta(hours=3), previous


def seed(ctx: DemoContext) -> None:
    from inspect_api.surveys import results, service
    from inspect_api.surveys.models import SurveyResponse

    homes = [User.objects(username=name, role="institution").first() for name in ("inst01", "inst03")]
    institutions = ctx.data.get("institutions") or []
    if not all(homes) or len(institutions) < 6 or SurveyResponse.objects.first() is not None:
        return
    from inspect_api.directory.institutions import get_institution

    good, small = (get_institution(u.institution_id) for u in homes)
    low = next(i for i in institutions[3:] if i.kind != "community_station" and str(i.id) not in
               (str(good.id), str(small.id)))
    secret = _secret()
    rnd = random.Random(17)
    counter = {"n": 0}
    current, previous = _quarter_days(ctx.now)

    def answer(inst, when: datetime, scores: tuple[int, ...], comment: str | None = None,
               address: str | None = None) -> None:
        counter["n"] += 1
        n = counter["n"]
        questions = service.questionnaire_for(inst).content["questions"]
        sheet = {q["id"]: max(1, min(5, rnd.choice(scores))) for q in questions}
        service.submit(inst.public_id, answers=sheet, comment=comment, device_id=f"demo-device-{n:05d}-{n * 7919}",
                       staff=False, address=address or f"10.{n // 250}.{n % 250}.{(n * 37) % 250 + 1}",
                       secret=secret, now=when + timedelta(minutes=n))

    try:
        for when, count in ((previous, 14), (current, 12)):
            for k in range(count):
                answer(good, when, (4, 5, 5, 4, 3), COMMENTS[k % len(COMMENTS)] if k % 3 == 0 else None)
            for _k in range(6):
                answer(small, when, (3, 4, 5))
        for _k in range(11):
            answer(low, previous, (1, 2, 3, 3))
        burst_at = current + timedelta(hours=2)
        for _k in range(6):  # one address, within minutes: held for review
            counter["n"] += 1
            n = counter["n"]
            questions = service.questionnaire_for(good).content["questions"]
            service.submit(good.public_id, answers={q["id"]: 5 for q in questions}, comment=None,
                           device_id=f"demo-burst-{n:05d}-{n * 104729}", staff=False, address="203.0.113.77",
                           secret=secret, now=burst_at + timedelta(seconds=30 * (n % 10)))
    except DomainError as exc:
        log.warning("demo surveys incomplete: %s (%s)", exc.message, exc.code)
        return
    results.close_quarters(ctx.now)
    ctx.data["survey_institutions"] = {"published": good, "small": small, "low": low}
