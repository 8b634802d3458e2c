"""Code → Chinese name, for every enumeration a front end shows or offers in a form.

The portal and the console hold no vocabulary of their own: they read these
tables once per session.  Each table is a closed vocabulary of the API, the
:class:`~inspect_api.schemas.SharedEnum` its schemas validate and document
with, so a name changed there reaches the document, the forms and every
screen at once.  The table names are the front ends' (snake_case, plural).
"""

from __future__ import annotations

from inspect_api.auth.schemas import ROLE
from inspect_api.catalog.schemas import GRADE, MATTER_CATEGORY, SEVERITY
from inspect_api.directory.schemas import (CONFLICT_REASON, CONFLICT_SOURCE, DEPARTMENT, INSTITUTION_KIND,
                                           INSTITUTION_STATUS, LICENCE_KIND, REGION_LEVEL, SERVICE_TAG)
from inspect_api.draws.schemas import DRAW_STATE, PLAN_STATE, STRATIFICATION
from inspect_api.inspections.schemas import (ASSIGNMENT_SOURCE, ASSIGNMENT_STATUS, CHECKIN_FLAG, INSPECTION_STATE,
                                             SIGNER_ROLE, TARGETED_REASON)
from inspect_api.publication.schemas import NOTICE_STATUS
from inspect_api.rectification.schemas import (EXTENSION_STATUS, FINDING_ACTION, FINDING_STATUS, ORDER_STATUS,
                                               REVIEW_QUEUE)
from inspect_api.schemas import SharedEnum

TABLES: dict[str, SharedEnum] = {
    "roles": ROLE,
    "region_levels": REGION_LEVEL,
    "institution_kinds": INSTITUTION_KIND,
    "institution_statuses": INSTITUTION_STATUS,
    "service_tags": SERVICE_TAG,
    "departments": DEPARTMENT,
    "licence_kinds": LICENCE_KIND,
    "conflict_reasons": CONFLICT_REASON,
    "conflict_sources": CONFLICT_SOURCE,
    "matter_categories": MATTER_CATEGORY,
    "plan_states": PLAN_STATE,
    "draw_states": DRAW_STATE,
    "stratifications": STRATIFICATION,
    "assignment_statuses": ASSIGNMENT_STATUS,
    "assignment_sources": ASSIGNMENT_SOURCE,
    "targeted_reasons": TARGETED_REASON,
    "inspection_states": INSPECTION_STATE,
    "checkin_flags": CHECKIN_FLAG,
    "signer_roles": SIGNER_ROLE,
    "grades": GRADE,
    "order_statuses": ORDER_STATUS,
    "finding_statuses": FINDING_STATUS,
    "severities": SEVERITY,
    "extension_statuses": EXTENSION_STATUS,
    "review_queues": REVIEW_QUEUE,
    "finding_actions": FINDING_ACTION,
    "notice_statuses": NOTICE_STATUS,
}


def labels() -> dict[str, list[dict[str, str]]]:
    """Every table as an ordered list of ``{code, label}`` (a vocabulary whose codes are Chinese names, such as
    the service tags, is its own label)."""
    return {name: [{"code": code, "label": enum.names.get(code, code)} for code in enum.choices]
            for name, enum in TABLES.items()}
