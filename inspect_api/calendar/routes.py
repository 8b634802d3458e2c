"""Working-day calendar overrides (national calendar, corrected by offices)."""

from __future__ import annotations

from inspect_api.auth.access import current_user, login_required
from inspect_api.calendar import schemas as s
from inspect_api.calendar import service
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint
from inspect_api.workdays import business_date
from inspect_api.apidoc import raises

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="工作日历（调休与节假日覆盖）")


def _overview(year: int | None):
    now = utcnow()
    years = [year] if year else None
    return {"items": service.list_overrides(year), "confirmed_years": service.confirmed_years(),
            "warnings": service.warnings(now, years)}


@blp.route("/calendar/overrides", methods=["GET"])
@blp.doc(operationId="getCalendarOverrides")
@login_required()
@blp.arguments(s.OverridesQuerySchema, location="query")
@blp.response(200, s.OverridesOutSchema)
def get_overrides(args):
    """Office overrides of the national working-day calendar (optionally of one year), with warnings."""
    return _overview(args.get("year"))


@blp.route("/calendar/overrides", methods=["PUT"])
@blp.doc(operationId="setCalendarOverrides")
@login_required("office_admin")
@blp.arguments(s.OverridesPutSchema)
@blp.response(200, s.OverridesOutSchema)
@raises(422, "CALENDAR_DATE_OUT_OF_RANGE", "CALENDAR_DUPLICATE_DATE")
def put_overrides(body):
    """Set or remove overrides and confirm years (office admins). Existing deadlines are not moved."""
    service.put_overrides(current_user(), items=body["items"], remove=body["remove"],
                          confirm_years=body["confirm_years"], now=utcnow())
    return _overview(None)


@blp.route("/calendar/warnings", methods=["GET"])
@blp.doc(operationId="getCalendarWarnings")
@login_required()
@blp.response(200, s.WarningsOutSchema)
def get_warnings():
    """Years (this and next) whose make-up working days are still unknown."""
    today = business_date(utcnow())
    return {"items": service.warnings(utcnow(), (today.year, today.year + 1))}
