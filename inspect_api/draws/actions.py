"""What an office may do next with a plan, from its state (the service checks the same states when it does it)."""

from __future__ import annotations

from inspect_api.draws.plans import EDITABLE_STATES, LIVE_DRAW_STATES


def plan_actions(plan) -> list[str]:
    """``update``, ``delete`` (a draft never committed), ``commit``, ``draw``, ``amend``, ``cancel``."""
    actions: list[str] = []
    if plan.state in EDITABLE_STATES:
        actions += ["update", "commit"]
        if plan.state == "draft" and not plan.draw_count:
            actions.append("delete")
    if plan.state == "committed":
        actions.append("draw")
    if plan.state in ("drawn", "amended"):
        actions.append("amend")
    if plan.state in LIVE_DRAW_STATES:
        actions.append("cancel")
    return actions
