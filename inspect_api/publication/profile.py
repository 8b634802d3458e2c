"""The public profile of an institution (``/p/institutions/<id>``, where its check-in poster leads).

Everything the page shows beyond the institution itself: its open findings,
recent published results, the notices naming it, its concluded ledger spot
checks (台账资料抽查) and its published satisfaction quarters (满意度测评).
Publication reads the ledgers and surveys modules through their public read
functions (they never import publication).  All of it is keyed by the
institution, so it is one round trip; the live rectification status of the
results' and ledger checks' orders is a second.
"""

from __future__ import annotations

from typing import Any

from inspect_api.batched import read_together
from inspect_api.db import as_stored
from inspect_api.publication import notices, public_reads, results
from inspect_api.publication.models import Notice

RECENT_RESULTS = 10
NOTICES = 20
LEDGER_CHECKS = 5


def institution_profile(institution) -> dict[str, Any]:
    """Template variables of the profile: ``inst``, ``results``, ``notices``, ``ledger_checks``, ``satisfaction``
    (its ``refusal`` says why the survey takes no answers, when it does not)."""
    from inspect_api.ledgers import service as ledgers
    from inspect_api.surveys import results as surveys
    from inspect_api.surveys import service as survey_service

    iid = str(institution.id)
    count_rows, result_rows, notice_rows, check_rows, survey_rows, questionnaire_rows = read_together(
        public_reads.institutions_counts_read([iid]), public_reads.institution_results_read(iid, RECENT_RESULTS),
        notices.notices_citing_read(iid, NOTICES), ledgers.public_checks_read(iid, LEDGER_CHECKS),
        surveys.public_results_read(iid), survey_service.survey_open_read(institution))
    recent = result_rows or []  # as stored
    checks = ledgers.public_checks_from(check_rows)
    ids, findings_read, orders_read = results.rectification_status_reads(
        [r.get("order_id") for r in recent] + [c["order_id"] for c in checks])
    statuses = results.rectification_statuses_from(ids, *read_together(findings_read, orders_read))
    for check in checks:
        status = statuses.get(str(check["order_id"])) if check["order_id"] else None
        check["rectification"] = status["summary"] if status else "无需整改"
    counts = public_reads.institutions_counts_from([iid], count_rows)[iid]
    return {"inst": public_reads.institution_view(institution, counts=counts),
            "results": public_reads.result_views(recent, statuses=statuses),
            "notices": notices.notice_views([as_stored(Notice, row) for row in notice_rows or []], live=False),
            "ledger_checks": checks,
            "satisfaction": {**surveys.public_results_from(survey_rows),
                             "refusal": survey_service.survey_refusal_from(institution, questionnaire_rows)}}
