"""Plans, draws and the open data of draws (双随机抽取)."""

from __future__ import annotations

from flask import Response, current_app

from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.draws import schemas as s
from inspect_api.draws import lifecycle, plans, reads
from inspect_api.urls import public_base_url
from inspect_api.extensions import Blueprint, public_endpoint
from inspect_api.schemas import PageArgsSchema, page_of, paginate
from inspect_api.apidoc import raises

blp = Blueprint("draws", __name__, url_prefix="/api/v1", description="双随机抽查计划、承诺、抽取与公开记录")

OFFICE = "office_admin"




def _view(draw):
    return reads.draw_view(draw, base_url=public_base_url())


def _record_response(draw) -> Response:
    return Response(draw.record_json, content_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="draw-{draw.id}.json"',
                             "X-Content-Type-Options": "nosniff"})


# ----------------------------------------------------------------- plans (offices)

@blp.route("/plans", methods=["POST"])
@blp.doc(operationId="createPlan")
@login_required(OFFICE)
@blp.arguments(s.PlanInputSchema)
@blp.response(201, s.PlanSchema)
@raises(403, "PLAN_REGION_OUT_OF_SCOPE")
@raises(422, "MANDATORY_DUPLICATE", "MANDATORY_OUT_OF_SCOPE", "PLAN_CATALOG_INVALID", "PLAN_FILTER_OUT_OF_SCOPE",
        "PLAN_PERIOD_INVALID", "PLAN_RATIO_INVALID", "PLAN_REQUIRED_DEPARTMENTS_INVALID", "PLAN_SIZE_INVALID")
def create_plan(body):
    """Create a plan draft inside the office's region."""
    return plans.create_plan(current_user(), body, now=utcnow())


@blp.route("/plans", methods=["GET"])
@blp.doc(operationId="listPlans")
@login_required(OFFICE)
@blp.arguments(s.PlanListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.PlanSchema))
def list_plans(filters, paging):
    """Plans of the office's region subtree, newest first."""
    return paginate(plans.list_plans(current_user(), **filters), paging["page"], paging["per_page"])


@blp.route("/plans/<plan_id>", methods=["GET"])
@blp.doc(operationId="getPlan")
@login_required(OFFICE)
@blp.response(200, s.PlanSchema)
@raises(404, "PLAN_NOT_FOUND")
def get_plan(plan_id):
    """One plan of the office's region."""
    return plans.plan_in_scope(current_user(), plan_id)


@blp.route("/plans/<plan_id>", methods=["PATCH"])
@blp.doc(operationId="updatePlan")
@login_required(OFFICE)
@blp.arguments(s.PlanPatchSchema(partial=s.PlanPatchSchema.partial_fields()))
@blp.response(200, s.PlanSchema)
@raises(403, "PLAN_REGION_OUT_OF_SCOPE")
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_NOT_EDITABLE", "PLAN_CHANGED", description="计划已提交承诺，不能修改")
@raises(422, "MANDATORY_DUPLICATE", "MANDATORY_OUT_OF_SCOPE", "PLAN_CATALOG_INVALID", "PLAN_FILTER_OUT_OF_SCOPE",
        "PLAN_PERIOD_INVALID", "PLAN_RATIO_INVALID", "PLAN_REQUIRED_DEPARTMENTS_INVALID", "PLAN_SIZE_INVALID")
def update_plan(body, plan_id):
    """Edit a draft (or a cancelled plan before committing it again)."""
    return plans.update_plan(current_user(), plan_id, body, now=utcnow())


@blp.route("/plans/<plan_id>", methods=["DELETE"])
@blp.doc(operationId="deletePlan")
@login_required(OFFICE)
@blp.response(204)
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_NOT_DELETABLE", description="只能删除从未提交承诺的草稿")
def delete_plan(plan_id):
    """Delete a draft that was never committed."""
    plans.delete_plan(current_user(), plan_id, now=utcnow())


@blp.route("/plans/<plan_id>/commit", methods=["POST"])
@blp.doc(operationId="commitPlan")
@login_required(OFFICE)
@blp.response(201, s.DrawSchema)
@raises(403, "PLAN_REGION_OUT_OF_SCOPE")
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_ALREADY_COMMITTED", description="已有有效承诺")
@raises(422, "NO_CANDIDATES", "NOT_ENOUGH_INSPECTORS", "CHECKLIST_KIND_NOT_COVERED", "DRAW_RECORD_TOO_LARGE",
        "MANDATORY_DUPLICATE", "MANDATORY_OUT_OF_SCOPE", "PLAN_CATALOG_INVALID", "PLAN_FILTER_OUT_OF_SCOPE",
        "PLAN_PERIOD_INVALID", "PLAN_RATIO_INVALID", "PLAN_REQUIRED_DEPARTMENTS_INVALID", "PLAN_SIZE_INVALID",
        description="没有候选机构 / 必查对象不在范围内 / 执法人员不足")
def commit_plan(plan_id):
    """Freeze the snapshot and publish the commitment (the nonce stays secret until the draw)."""
    risk = current_app.config["INSPECT"].get("risk")
    return _view(lifecycle.commit_plan(current_user(), plan_id, now=utcnow(), risk=risk))


@blp.route("/plans/<plan_id>/draw", methods=["POST"])
@blp.doc(operationId="drawPlan")
@login_required(OFFICE)
@blp.arguments(s.DrawEntropySchema)
@blp.response(200, s.DrawSchema)
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_NOT_COMMITTED", "ALREADY_DRAWN", description="尚未提交承诺 / 已抽取（不能重复抽取）")
@raises(422, "ENTROPY_INVALID", "TEAM_UNFILLABLE", "DRAW_RECORD_TOO_LARGE", description="公开随机源无效 / 某机构无法组成检查组")
def draw_plan(body, plan_id):
    """Draw with the public entropy; creates one assignment per drawn institution."""
    return _view(lifecycle.draw_plan(current_user(), plan_id, body["public_entropy"], now=utcnow()))


@blp.route("/plans/<plan_id>/amendments", methods=["POST"])
@blp.doc(operationId="amendDraw")
@login_required(OFFICE)
@blp.arguments(s.AmendmentInputSchema)
@blp.response(201, s.DrawSchema)
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_NOT_COMMITTED", "PLAN_NOT_DRAWN", "DRAW_CHANGED", "TEAM_CHANGED", "INSPECTION_ALREADY_STARTED",
        "ASSIGNMENT_CANCELLED", description="计划尚未抽取")
@raises(422, "AMEND_NOT_A_TARGET", "AMEND_NOT_IN_TEAM", "AMEND_REASON_REQUIRED", "TEAM_UNFILLABLE",
        "DRAW_RECORD_TOO_LARGE", description="不在检查组中 / 无可替换人员")
def amend(body, plan_id):
    """Replace an inspector of a drawn team (DESIGN §5 step 9), with a public reason."""
    return _view(lifecycle.amend_draw(current_user(), plan_id, body["institution_id"], body["inspector_id"],
                                      body["reason"], now=utcnow()))


@blp.route("/plans/<plan_id>/cancel", methods=["POST"])
@blp.doc(operationId="cancelPlan")
@login_required(OFFICE)
@blp.arguments(s.CancelSchema)
@blp.response(200, s.DrawSchema)
@raises(404, "PLAN_NOT_FOUND")
@raises(409, "PLAN_NOT_CANCELLABLE", "PLAN_NOT_COMMITTED", "DRAW_CHANGED", description="没有可取消的承诺")
@raises(422, "CANCEL_REASON_REQUIRED")
def cancel(body, plan_id):
    """Cancel the current commitment or draw with a public reason; the plan may then be committed again."""
    return _view(lifecycle.cancel_plan(current_user(), plan_id, body["reason"], now=utcnow()))


@blp.route("/plans/<plan_id>/draws", methods=["GET"])
@blp.doc(operationId="listPlanDraws")
@login_required(OFFICE)
@blp.response(200, s.DrawListItemSchema(many=True))
@raises(404, "PLAN_NOT_FOUND")
def plan_draws(plan_id):
    """Every commitment of a plan, oldest first."""
    return [reads.list_item(d) for d in reads.list_draws(current_user(), plan_id)]


# ----------------------------------------------------------------- draws (offices)

@blp.route("/draws", methods=["GET"])
@blp.doc(operationId="listDraws")
@login_required(OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.DrawListItemSchema, "OfficeDrawPageSchema"))
def list_draws(paging):
    """Draws of the office's region subtree, newest commitment first."""
    page = paginate(reads.list_draws(current_user()), paging["page"], paging["per_page"])
    page["items"] = [reads.list_item(d) for d in page["items"]]
    return page


@blp.route("/draws/<draw_id>", methods=["GET"])
@blp.doc(operationId="getDraw")
@login_required(OFFICE)
@blp.response(200, s.DrawSchema)
@raises(404, "DRAW_NOT_FOUND")
def get_draw(draw_id):
    """One draw with its result (names and certificate numbers), amendments and cancellation."""
    return _view(reads.draw_in_scope(current_user(), draw_id))


@blp.route("/draws/<draw_id>/record.json", methods=["GET"])
@blp.doc(operationId="getDrawRecord")
@login_required(OFFICE)
@blp.response(200, s.DrawRecordSchema, description="公开记录（DESIGN §5 格式），作为附件下载")
@raises(404, "DRAW_NOT_FOUND")
def draw_record(draw_id):
    """Download the exact public record of the draw."""
    return _record_response(reads.draw_in_scope(current_user(), draw_id))


@blp.route("/draws/<draw_id>/verify", methods=["GET"])
@blp.doc(operationId="verifyDraw")
@login_required(OFFICE)
@blp.response(200, s.VerifySchema)
@raises(404, "DRAW_NOT_FOUND")
@raises(409, "DRAW_NOT_DRAWN", description="尚未抽取")
def verify_draw(draw_id):
    """Recompute commitment, seed, targets and teams from the stored record."""
    return reads.verify_draw(reads.draw_in_scope(current_user(), draw_id))


# ----------------------------------------------------------------- open data (no login)

@blp.route("/public/draws", methods=["GET"])
@blp.doc(operationId="listPublicDraws")
@public_endpoint
@blp.arguments(s.DrawListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.DrawListItemSchema, "PublicDrawPageSchema"))
def public_draws(filters, paging):
    """Published draws (from their commitment on), newest first; ``region`` narrows to a code prefix."""
    page = paginate(reads.public_draws(filters.get("region")), paging["page"], paging["per_page"])
    page["items"] = [reads.list_item(d) for d in page["items"]]
    return page


@blp.route("/public/draws/<draw_id>", methods=["GET"])
@blp.doc(operationId="getPublicDraw")
@public_endpoint
@blp.response(200, s.DrawSchema)
@raises(404, "DRAW_NOT_FOUND")
def public_draw(draw_id):
    """One published draw: commitment and its time, entropy, seed, result, amendments, cancellation."""
    return _view(reads.public_draw(draw_id))


@blp.route("/public/draws/<draw_id>/record.json", methods=["GET"])
@blp.doc(operationId="getPublicDrawRecord")
@public_endpoint
@blp.response(200, s.DrawRecordSchema, description="公开记录（DESIGN §5 格式），作为附件下载")
@raises(404, "DRAW_NOT_FOUND")
def public_record(draw_id):
    """The public record for ``python -m inspect_api.draws.verify record.json``."""
    return _record_response(reads.public_draw(draw_id))
