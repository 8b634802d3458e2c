"""What a drawn target becomes, by plan kind: the handlers the draw lifecycle calls.

A plan of kind ``site`` turns each drawn target into an inspection assignment
(the inspections module); a plan of kind ``desk_review`` into a ledger spot
check (the ledgers module).  The draw itself is the same dr1 draw with the
same public record either way.  The module that owns the targets registers a
:class:`TargetHandler` for its kind (``register``), so draws never imports
it and nothing imports draws back.

Each handler answers, for its kind of work:

* ``open_loads(inspector_ids)`` → the starting loads of the snapshot (open work);
* ``previous_leads(institution_ids)`` → the lead of each institution's latest
  such work (``no_repeat_lead``);
* ``create(draw_id, plan_id, targets, now, created_by)`` → create the work of
  each target idempotently (a retry completes an interrupted draw); each
  target is a dict with ``institution_id``, ``region``, ``team``,
  ``checklist_code``, ``matters`` and ``due_date``;
* ``check_replaceable(draw_id, institution_id)`` → 409 once the work started;
* ``replace_member(draw_id, institution_id, old, new, now)`` → amend the team;
* ``cancel_open(draw_id, now)`` → cancel the draw's work not yet started; count.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Protocol


class TargetHandler(Protocol):
    def open_loads(self, inspector_ids: set[str]) -> dict[str, int]: ...

    def previous_leads(self, institution_ids: set[str]) -> dict[str, str]: ...

    def create(self, *, draw_id: str, plan_id: str, targets: Iterable[dict[str, Any]], now: datetime,
               created_by: str | None) -> int: ...

    def check_replaceable(self, draw_id: str, institution_id: str) -> None: ...

    def replace_member(self, draw_id: str, institution_id: str, old: str, new: str, *, now: datetime) -> None: ...

    def cancel_open(self, draw_id: str, *, now: datetime) -> int: ...


_HANDLERS: dict[str, TargetHandler] = {}


def register(kind: str, handler: TargetHandler) -> None:
    """The module owning ``kind``'s targets registers its handler (idempotent: the latest wins)."""
    _HANDLERS[kind] = handler


def handler(kind: str | None) -> TargetHandler:
    """The handler of a plan kind (``site`` when the record predates kinds)."""
    kind = kind or "site"
    if kind not in _HANDLERS:
        raise LookupError(f"no target handler registered for plan kind {kind!r}")
    return _HANDLERS[kind]


class SiteInspections:
    """Site plans: targets become inspection assignments (inspections module)."""

    @staticmethod
    def _assignments():
        from inspect_api.inspections.models import Assignment

        return Assignment

    def open_loads(self, inspector_ids: set[str]) -> dict[str, int]:
        loads = {i: 0 for i in inspector_ids}
        for a in self._assignments().objects(team__in=list(inspector_ids),
                                             status__in=("assigned", "in_progress")).only("team"):
            for member in a.team:
                if member in loads:
                    loads[member] += 1
        return loads

    def previous_leads(self, institution_ids: set[str]) -> dict[str, str]:
        leads: dict[str, str] = {}
        query = self._assignments().objects(institution_id__in=list(institution_ids), status__ne="cancelled")
        for a in query.order_by("institution_id", "-created_at").only("institution_id", "team"):
            if a.institution_id not in leads and a.team:
                leads[a.institution_id] = a.team[0]
        return leads

    def create(self, *, draw_id: str, plan_id: str, targets: Iterable[dict[str, Any]], now: datetime,
               created_by: str | None) -> int:
        from inspect_api.inspections import assignments

        targets = list(targets)
        names = assignments.team_names_by_id({i for t in targets for i in t["team"]})  # one query for the draw
        count = 0
        for t in targets:
            assignments.create_assignment(
                institution_id=t["institution_id"], region=t["region"], team=t["team"], source="draw",
                checklist_code=t["checklist_code"], now=now, dedupe_key=f"draw:{draw_id}:{t['institution_id']}",
                matters=t["matters"], plan_id=plan_id, draw_id=draw_id, due_date=t["due_date"],
                created_by=created_by, names=names)
            count += 1
        return count

    def _assignment_of(self, draw_id: str, institution_id: str):
        from inspect_api.inspections import assignments

        return next((a for a in assignments.assignments_for_draw(draw_id) if a.institution_id == institution_id),
                    None)

    def check_replaceable(self, draw_id: str, institution_id: str) -> None:
        from inspect_api.inspections import assignments

        assignment = self._assignment_of(draw_id, institution_id)
        if assignment is not None:
            assignments.check_team_replaceable(str(assignment.id))

    def replace_member(self, draw_id: str, institution_id: str, old: str, new: str, *, now: datetime) -> None:
        from inspect_api.inspections import assignments

        assignment = self._assignment_of(draw_id, institution_id)
        if assignment is not None:
            assignments.replace_team_member(str(assignment.id), old, new, now=now)

    def cancel_open(self, draw_id: str, *, now: datetime) -> int:
        return self._assignments().objects(draw_id=draw_id, status="assigned").update(
            set__status="cancelled", set__updated_at=now)


register("site", SiteInspections())


def due_date_of(plan_summary: dict[str, Any]) -> date:
    """The due date of a drawn target: the plan period's last day."""
    return datetime.fromisoformat(plan_summary["period_end"]).date()
