"""Rectification orders (整改通知书): institution answers, reviews, extensions, re-inspection."""

from __future__ import annotations

from flask import jsonify

from inspect_api.batched import count_unless_known, paged, read_together
from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.db import as_stored
from inspect_api.extensions import Blueprint
from inspect_api.rectification import schemas as s
from inspect_api.rectification.models import Order
from inspect_api.rectification import responses, reviews, service, views
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of, paginate
from inspect_api.apidoc import raises

blp = Blueprint("rectification", __name__, url_prefix="/api/v1", description="整改通知书与逾期升级")

FINDING = "/rectifications/<order_id>/findings/<finding_id>"
# Response schemas whose bodies are built in their dumped form (views.dumped_order, views.dumped_finding).
ORDER_PAGE = page_of(s.OrderSchema)()
ORDER_DETAIL = s.OrderDetailSchema()
FINDING_SCHEMA = s.FindingSchema()
QUEUED_FINDING_PAGE = page_of(s.QueuedFindingSchema)()


@blp.record_once
def _setup(state):
    """Register the in-process scheduler starter and the readiness reporter (see scheduler/)."""
    from scheduler import install

    install(state.app)
    _connect_inspections()


def _connect_inspections() -> None:
    """Wire rectification and inspections together here, so that neither service imports the other:
    a submission or correction opens and reconciles orders, the offline bundle reads open findings,
    and a re-inspection (复查) asks inspections for a targeted assignment."""
    from inspect_api.inspections import assignments, hooks

    hooks.register_rectification(open_order=service.open_order, reconcile_order=service.reconcile_order,
                                 orders_query=service.orders_query, findings_of=service.findings_of,
                                 owed_findings_read=service.owed_findings_read)
    reviews.register_reinspection_assigner(assignments.create_assignment)


def _detail(order, now):
    view = views.order_detail(current_user(), order, now=now)
    return jsonify(already_dumped(ORDER_DETAIL, views.dumped_order(view), source=view))


def _finding(finding, now):
    view = views.finding_view(current_user(), finding, now=now)
    return jsonify(already_dumped(FINDING_SCHEMA, views.dumped_finding(view), source=view))


@blp.route("/rectifications", methods=["GET"])
@blp.doc(operationId="listRectificationOrders")
@login_required()
@blp.arguments(s.OrderListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ORDER_PAGE)
def list_orders(args, paging):
    """Orders visible to the caller: the institution's own, the office's region, the inspector's inspections.

    Each carries its summary: open, overdue and awaiting-review counts, the nearest deadline with the working
    days left, and the highest escalation step reached."""
    number, size = paging["page"], paging["per_page"]
    page_read, count_read = service.orders_query(current_user(), **args).page(number, size)
    rows = read_together(page_read)[0]
    orders = [as_stored(Order, row) for row in rows]  # read as stored: building documents cost more
    items, total = views.order_page_views(current_user(), orders, now=utcnow(),
                                          count=count_unless_known(count_read, rows, number, size))
    page = {**paged(rows, total, number, size), "items": items}
    return jsonify(already_dumped(ORDER_PAGE, {**page, "items": [views.dumped_order(view) for view in items]},
                                  source=page))


@blp.route("/rectifications/findings", methods=["GET"])
@blp.doc(operationId="listQueuedFindings")
@login_required("office_admin")
@blp.arguments(s.FindingQueueArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, QUEUED_FINDING_PAGE)
def finding_queue(args, paging):
    """The office's review queues over its region: answers to review, extension requests, open critical
    findings (re-inspection), overdue findings; earliest deadline first."""
    user = current_user()
    page = paginate(views.review_queue(user, args["queue"], institution_id=args.get("institution_id")),
                    paging["page"], paging["per_page"])
    page["items"] = views.queue_views(user, page["items"], now=utcnow())
    items = [views.dumped_finding(view) for view in page["items"]]  # built in dumped form: see the function
    return jsonify(already_dumped(QUEUED_FINDING_PAGE, {**page, "items": items}, source=page))


@blp.route("/rectifications/<order_id>", methods=["GET"])
@blp.doc(operationId="getRectificationOrder")
@login_required()
@blp.response(200, ORDER_DETAIL)
@raises(404, "ORDER_NOT_FOUND")
def get_order(order_id):
    """One order with its findings, answers, extension and escalation record."""
    return _detail(service.order_in_scope(current_user(), order_id), utcnow())


@blp.route("/rectifications/<order_id>/acknowledge", methods=["POST"])
@blp.doc(operationId="acknowledgeRectificationOrder")
@login_required("institution")
@blp.response(200, ORDER_DETAIL)
@raises(404, "ORDER_NOT_FOUND")
def acknowledge(order_id):
    """The institution confirms receipt of the order (idempotent)."""
    now = utcnow()
    return _detail(responses.acknowledge(current_user(), order_id, now=now), now)


@blp.route(FINDING + "/photos", methods=["POST"])
@blp.doc(operationId="uploadRectificationPhoto")
@login_required("institution")
@blp.arguments(s.PhotoUploadSchema, location="form", content_type="multipart/form-data")
@blp.response(201, s.PhotoOutSchema)
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "FINDING_ALREADY_ACCEPTED", "FINDING_WITHDRAWN", "CLIENT_ID_REUSED")
@raises(413, "IMAGE_TOO_LARGE", "IMAGE_TOO_MANY_PIXELS")
@raises(415, "IMAGE_TYPE_UNSUPPORTED")
@raises(422, "IMAGE_CORRUPT")
def upload_photo(form, order_id, finding_id):
    """Upload one evidence photo for an answer (multipart ``file`` + ``client_id``; retry-safe)."""
    return responses.add_photo(current_user(), order_id, finding_id, data=form["file"].read(),
                             client_id=form["client_id"], now=utcnow())


@blp.route(FINDING + "/answer", methods=["POST"])
@blp.doc(operationId="answerFinding")
@login_required("institution")
@blp.arguments(s.AnswerInSchema)
@blp.response(200, FINDING_SCHEMA)
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "FINDING_ALREADY_ACCEPTED", "FINDING_WITHDRAWN", "ANSWER_PENDING_REVIEW",
        "FINDING_STATE_CHANGED")
@raises(422, "PHOTO_NOT_FOUND", "TOO_MANY_PHOTOS")
def answer(body, order_id, finding_id):
    """Answer one finding with a description and photos uploaded for it."""
    now = utcnow()
    finding = responses.answer(current_user(), order_id, finding_id, description=body["description"],
                             photo_ids=body["photo_ids"], client_id=body.get("client_id"), now=now)
    return _finding(finding, now)


@blp.route(FINDING + "/extension", methods=["POST"])
@blp.doc(operationId="requestFindingExtension")
@login_required("institution")
@blp.arguments(s.ExtensionInSchema)
@blp.response(200, FINDING_SCHEMA)
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "FINDING_ALREADY_ACCEPTED", "FINDING_WITHDRAWN", "EXTENSION_ALREADY_REQUESTED")
@raises(422, "EXTENSION_NOT_AFTER_DEADLINE", "EXTENSION_TOO_LONG")
def request_extension(body, order_id, finding_id):
    """Ask once per finding for a later deadline, with reasons."""
    now = utcnow()
    finding = responses.request_extension(current_user(), order_id, finding_id, reason=body["reason"],
                                        requested_deadline=body["requested_deadline"], now=now)
    return _finding(finding, now)


@blp.route(FINDING + "/extension/decision", methods=["POST"])
@blp.doc(operationId="decideFindingExtension")
@login_required("office_admin", "inspector")
@blp.arguments(s.ExtensionDecisionSchema)
@blp.response(200, FINDING_SCHEMA)
@raises(403, "NOT_LEAD_INSPECTOR")
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "FINDING_WITHDRAWN", "NO_PENDING_EXTENSION", "FINDING_STATE_CHANGED")
def decide_extension(body, order_id, finding_id):
    """Grant or deny the pending extension (office of the region or the lead inspector)."""
    now = utcnow()
    finding = reviews.decide_extension(current_user(), order_id, finding_id, approve=body["approve"],
                                       comment=body["comment"], now=now)
    return _finding(finding, now)


@blp.route(FINDING + "/review", methods=["POST"])
@blp.doc(operationId="reviewFindingAnswer")
@login_required("office_admin", "inspector")
@blp.arguments(s.ReviewInSchema)
@blp.response(200, FINDING_SCHEMA)
@raises(403, "NOT_LEAD_INSPECTOR")
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "NO_ANSWER_TO_REVIEW", "FINDING_STATE_CHANGED")
@raises(422, "NEW_DEADLINE_NOT_IN_FUTURE", "NEW_DEADLINE_TOO_FAR")
def review(body, order_id, finding_id):
    """Accept or reject the answer; rejection reopens the finding with a new deadline."""
    now = utcnow()
    finding = reviews.review(current_user(), order_id, finding_id, decision=body["decision"],
                             comment=body["comment"], new_deadline=body.get("new_deadline"), now=now)
    return _finding(finding, now)


@blp.route(FINDING + "/reinspection", methods=["POST"])
@blp.doc(operationId="requireFindingReinspection")
@login_required("office_admin", "inspector")
@blp.arguments(s.ReinspectionInSchema)
@blp.response(200, FINDING_SCHEMA)
@raises(403, "NOT_LEAD_INSPECTOR")
@raises(404, "ORDER_NOT_FOUND", "FINDING_NOT_FOUND")
@raises(409, "ORDER_CLOSED", "FINDING_WITHDRAWN")
@raises(422, "REINSPECTION_ONLY_CRITICAL", "REINSPECTION_NOT_APPLICABLE",
        description="仅严重问题可以要求现场复查；台账资料抽查的问题不安排现场复查")
def reinspection(body, order_id, finding_id):
    """Require an on-site re-inspection (复查) of a critical finding: a targeted assignment for the same team."""
    now = utcnow()
    finding = reviews.require_reinspection(current_user(), order_id, finding_id, note=body.get("note"), now=now)
    return _finding(finding, now)
