"""What other areas plug into inspections: submission and correction hooks, rectification's orders.

Areas above inspections register here when their blueprint is registered
(publication: the submitted and corrected hooks; rectification: how orders are
opened, reconciled and read), so that no inspections module imports them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from inspect_api.inspections.models import Inspection

_SUBMITTED_HOOKS: list[Callable[[Inspection, datetime], None]] = []
_CORRECTED_HOOKS: list[Callable[[Inspection, datetime], None]] = []


def register_submitted_hook(hook: Callable[[Inspection, datetime], None]) -> None:
    """Other modules act on a submission (e.g. publication starts its 20-working-day clock).
    Hooks must be idempotent: a replayed submission calls them again."""
    if hook not in _SUBMITTED_HOOKS:
        _SUBMITTED_HOOKS.append(hook)


def register_corrected_hook(hook: Callable[[Inspection, datetime], None]) -> None:
    """Other modules act on a correction of a submitted inspection (e.g. publication refreshes the result).
    Hooks must be idempotent: a replayed correction calls them again."""
    if hook not in _CORRECTED_HOOKS:
        _CORRECTED_HOOKS.append(hook)


def run_submitted_hooks(inspection: Inspection, now: datetime) -> None:
    for hook in _SUBMITTED_HOOKS:
        hook(inspection, now)


def run_corrected_hooks(inspection: Inspection, now: datetime) -> None:
    for hook in _CORRECTED_HOOKS:
        hook(inspection, now)


# Rectification (整改) sits above inspections: it registers how orders are opened, reconciled and
# read when its blueprint is registered (``rectification.routes``); this module never imports it.
_RECTIFICATION: dict[str, Callable[..., Any]] = {}


def register_rectification(*, open_order: Callable[..., Any], reconcile_order: Callable[..., Any],
                           orders_query: Callable[..., Any], findings_of: Callable[..., Any],
                           owed_findings_read: Callable[..., Any]) -> None:
    """Rectification plugs in its order functions (same signatures as in ``rectification.service``)."""
    _RECTIFICATION.update(open_order=open_order, reconcile_order=reconcile_order, orders_query=orders_query,
                          findings_of=findings_of, owed_findings_read=owed_findings_read)


def _rectification(name: str) -> Callable[..., Any]:
    try:
        return _RECTIFICATION[name]
    except KeyError:
        raise RuntimeError("rectification is not registered with inspections (create the app first)") from None


def open_order(**kwargs):
    """Open the rectification order of an inspection's findings (idempotent by inspection id)."""
    return _rectification("open_order")(**kwargs)


def reconcile_order(order_id: str, findings: list[dict], **kwargs):
    """Reconcile an order with a corrected inspection's findings (withdrawn, added, changed)."""
    return _rectification("reconcile_order")(order_id, findings, **kwargs)


def orders_query(user, **filters):
    """The query of the orders visible to ``user`` (``status``, ``institution_id`` filters): a
    :class:`~inspect_api.batched.Query`."""
    return _rectification("orders_query")(user, **filters)


def findings_of(order) -> list:
    """The findings of an order, by sequence number."""
    return _rectification("findings_of")(order)


def owed_findings_read(order_ids: list[str], fields) -> Any:
    """The read (:class:`~inspect_api.batched.Read`) of the findings still owed of these orders, by order then
    seq: their stored ``order_id``, ``seq`` and ``fields``."""
    return _rectification("owed_findings_read")(order_ids, fields)
