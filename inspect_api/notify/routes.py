"""The user's notification inbox."""

from __future__ import annotations

from flask import jsonify

from inspect_api.auth.access import current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint
from inspect_api.notify import schemas as s
from inspect_api.notify import service, views
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of, paginate
from inspect_api.apidoc import raises

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="站内通知")
NOTIFICATION_PAGE = page_of(s.NotificationSchema)()


@blp.route("/me/notifications", methods=["GET"])
@blp.doc(operationId="listNotifications")
@login_required()
@blp.arguments(s.InboxArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, NOTIFICATION_PAGE)
def list_notifications(args, paging):
    """The caller's inbox, newest first."""
    page = paginate(service.inbox(current_user(), unread=args.get("unread")), paging["page"], paging["per_page"])
    items = [views.dumped_notification(notification) for notification in page["items"]]
    return jsonify(already_dumped(NOTIFICATION_PAGE, {**page, "items": items}, source=page))


@blp.route("/me/notifications/unread-count", methods=["GET"])
@blp.doc(operationId="getUnreadNotificationCount")
@login_required()
@blp.response(200, s.UnreadCountSchema)
def unread_count():
    """Number of unread notifications."""
    return {"unread": service.unread_count(current_user())}


@blp.route("/me/notifications/<notification_id>/read", methods=["POST"])
@blp.doc(operationId="markNotificationRead")
@login_required()
@blp.response(200, s.NotificationSchema)
@raises(404, "NOTIFICATION_NOT_FOUND")
def mark_read(notification_id):
    """Mark one of the caller's notifications read (idempotent)."""
    return service.mark_read(current_user(), notification_id, now=utcnow())
