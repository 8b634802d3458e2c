"""What other areas plug into the directory: read access to an institution, and history that keeps
an entry from being deleted (it is closed or deactivated instead)."""

from __future__ import annotations

from typing import Any, Callable

from inspect_api.directory.checks import linked_user_exists
from inspect_api.directory.models import Conflict, Inspector, Institution, RiskProfile

_HISTORY_CHECKS: list[Callable[[str, str], bool]] = []
_ACCESS_CHECKS: list[Callable[[Any, str], bool]] = []


def register_access_check(check: Callable[[Any, str], bool]) -> None:
    """Other modules grant read access to an institution: ``check(user, institution_id)``
    (e.g. inspections: an inspector on one of its assignments' teams)."""
    if check not in _ACCESS_CHECKS:
        _ACCESS_CHECKS.append(check)


def register_history_check(check: Callable[[str, str], bool]) -> None:
    """Other modules report history: ``check(kind, id)`` with kind 'institution' or 'inspector'."""
    if check not in _HISTORY_CHECKS:
        _HISTORY_CHECKS.append(check)


def access_granted(user, institution_id: str) -> bool:
    """Does a registered access check admit ``user`` to the institution?"""
    return any(check(user, institution_id) for check in _ACCESS_CHECKS)


def institution_has_history(institution: Institution) -> bool:
    iid = str(institution.id)
    risk = institution.risk or RiskProfile()
    if institution.complaint_count or risk.past_findings or risk.overdue_rectifications \
            or risk.rejected_answers or risk.low_satisfaction or risk.last_inspected_at:
        return True
    if Conflict.objects(institution_id=iid).only("id").first() is not None:
        return True
    if linked_user_exists(institution_id=iid):
        return True
    return any(check("institution", iid) for check in _HISTORY_CHECKS)


def inspector_has_history(inspector: Inspector) -> bool:
    iid = str(inspector.id)
    if inspector.user_id or linked_user_exists(inspector_id=iid):
        return True
    return any(check("inspector", iid) for check in _HISTORY_CHECKS)
