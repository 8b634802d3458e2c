"""Public verification of an inspection report's content hash (the report's QR code points here)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from inspect_api.inspections import reports
from inspect_api.query_args import accepts_query

blp = Blueprint("inspection_pages", __name__, url_prefix="/p")


@blp.route("/reports/<inspection_id>/verify")
@accepts_query("h")
def verify(inspection_id):
    """Does ``?h=`` equal the stored hash of this report?  Facts are shown only on a match (no probing)."""
    presented = (request.args.get("h") or "").strip().lower()[:128]
    found = reports.verify_report(inspection_id, presented)
    return render_template("inspections/verify.html", found=found, presented=presented)
