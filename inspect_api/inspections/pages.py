"""Public verification of an inspection report's content hash (the report's QR code points here)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request

from inspect_api.clock import SHANGHAI, as_utc

from inspect_api.inspections import service
from inspect_api.query_args import accepts_query

blp = Blueprint("inspection_pages", __name__, url_prefix="/p")


@blp.app_template_filter("inspection_cst")
def inspection_cst(value) -> str:
    """An ISO string or datetime shown in Beijing time (UTC+8), minutes precision."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@blp.route("/reports/<inspection_id>/verify")
@accepts_query("h")
def verify(inspection_id):
    """Does ``?h=`` equal the stored hash of this report?  Facts are shown only on a match (no probing)."""
    presented = (request.args.get("h") or "").strip().lower()[:128]
    found = service.verify_report(inspection_id, presented)
    return render_template("inspections/verify.html", found=found, presented=presented)
