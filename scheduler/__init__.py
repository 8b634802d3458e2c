"""The scheduler: escalation sweeps and daily digests (APScheduler).

``python -m scheduler`` runs a BlockingScheduler (see :mod:`scheduler.core`);
``make run`` starts a BackgroundScheduler inside the demo server when the
configuration says ``scheduler_in_process = true``.
"""

from __future__ import annotations


def install(app) -> None:
    """Hook the scheduler into an app: the background starter and the /readyz reporter."""
    from inspect_api.ops.routes import READINESS_REPORTERS
    from inspect_api.rectification.escalation import readiness

    if readiness not in READINESS_REPORTERS:
        READINESS_REPORTERS.append(readiness)
    if app.config["INSPECT"].get("scheduler_in_process"):
        from scheduler.core import start_in_process

        app.extensions["inspect_start_background"] = lambda: start_in_process(app)
