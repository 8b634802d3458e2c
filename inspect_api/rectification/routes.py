"""Rectification orders (整改通知书): institution answers, reviews, extensions, re-inspection."""

from __future__ import annotations

from flask_smorest import Blueprint

from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.rectification import schemas as s
from inspect_api.rectification import service
from inspect_api.schemas import PageArgsSchema, page_of, paginate

blp = Blueprint("rectification", __name__, url_prefix="/api/v1", description="整改通知书与逾期升级")

FINDING = "/rectifications/<order_id>/findings/<finding_id>"


@blp.record_once
def _setup(state):
    """Register the in-process scheduler starter and the readiness reporter (see scheduler/)."""
    from scheduler import install

    install(state.app)


def _detail(order):
    data = {k: getattr(order, k) for k in s.OrderSchema._declared_fields if k != "id"}
    data["id"] = str(order.id)
    data["findings"] = service.findings_of(order)
    return data


@blp.route("/rectifications", methods=["GET"])
@login_required()
@blp.arguments(s.OrderListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.OrderSchema))
def list_orders(args, paging):
    """Orders visible to the caller: the institution's own, the office's region, the inspector's inspections."""
    return paginate(service.list_orders(current_user(), **args), paging["page"], paging["per_page"])


@blp.route("/rectifications/<order_id>", methods=["GET"])
@login_required()
@blp.response(200, s.OrderDetailSchema)
def get_order(order_id):
    """One order with its findings, answers, extension and escalation record."""
    return _detail(service.order_in_scope(current_user(), order_id))


@blp.route("/rectifications/<order_id>/acknowledge", methods=["POST"])
@login_required("institution")
@blp.response(200, s.OrderDetailSchema)
def acknowledge(order_id):
    """The institution confirms receipt of the order (idempotent)."""
    return _detail(service.acknowledge(current_user(), order_id, now=utcnow()))


@blp.route(FINDING + "/photos", methods=["POST"])
@login_required("institution")
@blp.arguments(s.PhotoUploadSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.PhotoOutSchema)
def upload_photo(form, order_id, finding_id):
    """Upload one evidence photo for an answer (multipart ``file`` + ``client_id``; retry-safe)."""
    return service.add_photo(current_user(), order_id, finding_id, data=form["file"].read(),
                             client_id=form["client_id"], now=utcnow())


@blp.route(FINDING + "/answer", methods=["POST"])
@login_required("institution")
@blp.arguments(s.AnswerInSchema)
@blp.response(200, s.FindingSchema)
def answer(body, order_id, finding_id):
    """Answer one finding with a description and photos uploaded for it."""
    return service.answer(current_user(), order_id, finding_id, description=body["description"],
                          photo_ids=body["photo_ids"], client_id=body.get("client_id"), now=utcnow())


@blp.route(FINDING + "/extension", methods=["POST"])
@login_required("institution")
@blp.arguments(s.ExtensionInSchema)
@blp.response(200, s.FindingSchema)
def request_extension(body, order_id, finding_id):
    """Ask once per finding for a later deadline, with reasons."""
    return service.request_extension(current_user(), order_id, finding_id, reason=body["reason"],
                                     requested_deadline=body["requested_deadline"], now=utcnow())


@blp.route(FINDING + "/extension/decision", methods=["POST"])
@login_required("office_admin", "inspector")
@blp.arguments(s.ExtensionDecisionSchema)
@blp.response(200, s.FindingSchema)
def decide_extension(body, order_id, finding_id):
    """Grant or deny the pending extension (office of the region or the lead inspector)."""
    return service.decide_extension(current_user(), order_id, finding_id, approve=body["approve"],
                                    comment=body["comment"], now=utcnow())


@blp.route(FINDING + "/review", methods=["POST"])
@login_required("office_admin", "inspector")
@blp.arguments(s.ReviewInSchema)
@blp.response(200, s.FindingSchema)
def review(body, order_id, finding_id):
    """Accept or reject the answer; rejection reopens the finding with a new deadline."""
    return service.review(current_user(), order_id, finding_id, decision=body["decision"], comment=body["comment"],
                          new_deadline=body.get("new_deadline"), now=utcnow())


@blp.route(FINDING + "/reinspection", methods=["POST"])
@login_required("office_admin", "inspector")
@blp.arguments(s.ReinspectionInSchema)
@blp.response(200, s.FindingSchema)
def reinspection(body, order_id, finding_id):
    """Require an on-site re-inspection (复查) of a critical finding: a targeted assignment for the same team."""
    return service.require_reinspection(current_user(), order_id, finding_id, note=body.get("note"), now=utcnow())
