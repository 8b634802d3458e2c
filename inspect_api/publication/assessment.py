"""What the institution profile shows beyond site inspections: ledger spot checks and satisfaction results.

Publication reads the ledgers and surveys modules through their public read
functions (they never import publication); the rectification status of a
ledger check's order is the same live status site results show.
"""

from __future__ import annotations

from typing import Any

from inspect_api.publication import results


def ledger_checks(institution_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Concluded ledger spot checks of an institution with the live status of their rectification."""
    from inspect_api.ledgers import service as ledgers

    checks = ledgers.public_checks(institution_id, limit=limit)
    statuses = results.rectification_statuses([c["order_id"] for c in checks])
    for check in checks:
        status = statuses.get(str(check["order_id"])) if check["order_id"] else None
        check["rectification"] = status["summary"] if status else "无需整改"
    return checks


def satisfaction(institution_id: str) -> dict[str, Any]:
    """Published quarterly satisfaction results (at least the threshold of answers; never comments)."""
    from inspect_api.surveys import results

    return results.public_results(institution_id)


def profile_sections(institution) -> dict[str, Any]:
    """Template variables of the profile's assessment sections."""
    return {"ledger_checks": ledger_checks(str(institution.id)), "satisfaction": satisfaction(str(institution.id))}
