"""Printable QR poster of an institution (``/p/institutions/<public_id>/poster``).

The poster shows the check-in token, so it is not an open page: it opens with
the short-lived key from ``GET /api/v1/institutions/{id}/poster-link``
(office of the region or the institution's own account).  A missing, expired
or forged key, or one issued before the last re-issue, answers 404.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from inspect_api.directory.qr import poster_institution, public_url, qr_payload
from inspect_api.directory.regions import region_names
from inspect_api.directory.models import INSTITUTION_KINDS
from inspect_api.qrcodes import svg
from inspect_api.query_args import accepts_query

blp = Blueprint("directory_pages", __name__)


@blp.app_template_filter("region_name")
def region_name(code: str | None) -> str:
    """Jinja filter for every template: a division code shown as its name (the code if unknown)."""
    return region_names().get(code or "", code or "")


@blp.get("/p/institutions/<public_id>/poster")
@accepts_query("k")
def poster(public_id: str):
    institution = poster_institution(public_id, request.args.get("k"))
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
    if institution is None:
        return render_template("directory/poster_missing.html"), 404, headers
    regions = region_names()
    return render_template("directory/poster.html", institution=institution, qr=svg(qr_payload(institution)),
                           survey_qr=svg(public_url(institution) + "/survey"),
                           kind_label=INSTITUTION_KINDS.get(institution.kind, ""),
                           region_name=regions.get(institution.region, institution.region),
                           public_url=public_url(institution)), 200, headers
