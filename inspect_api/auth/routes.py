"""Auth and user-administration endpoints."""

from __future__ import annotations

from flask import current_app, jsonify, request

from inspect_api.auth import schemas as s
from inspect_api.auth import service, sessions
from inspect_api.auth.access import client_ip, current_user, login_required
from inspect_api.clock import utcnow
from inspect_api.extensions import Blueprint, limiter
from inspect_api.ratelimit_store import joined_rows, read_together
from inspect_api.schemas import PageArgsSchema, already_dumped, page_of, paginate
from inspect_api.apidoc import raises, rate_limited

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录、令牌与用户管理")
USER = s.UserSchema()


def _login_key() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"login:{str(username)[:64]}:{request.remote_addr}"


def _login_limit() -> str:
    cfg = current_app.config["INSPECT"]
    return f"{cfg['login_max_failures']} per {cfg['login_window_minutes']} minutes"


def _account_read():
    """The account a login names, read in the same command as its rate-limit windows (a name the schema
    will accept; anything else is refused by the schema before the view reads)."""
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return service.account_read(username) if isinstance(username, str) and 0 < len(username) <= 64 else None


def _address_key() -> str:
    return f"login-address:{request.remote_addr}"


def _address_limit() -> str:
    """Failures from one address across all usernames (password spraying), beside the per-account budget."""
    cfg = current_app.config["INSPECT"]
    return f"{cfg['login_address_max_failures']} per {cfg['login_address_window_minutes']} minutes"


def _failed(response) -> bool:
    return response.status_code == 401


def _cfg(key):
    return current_app.config["INSPECT"][key]


def _session_settings() -> dict:
    """Access-token lifetime (how long a logged-out session's access tokens are refused)."""
    return {"keep": current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]}


@blp.route("/auth/login", methods=["POST"])
@blp.doc(operationId="login")
@read_together(limiter, (_login_limit, _login_key), (_address_limit, _address_key), joined=_account_read)
@limiter.limit(_login_limit, key_func=_login_key, deduct_when=_failed)
@limiter.limit(_address_limit, key_func=_address_key, deduct_when=_failed)
@rate_limited
@blp.arguments(s.LoginSchema, example={"username": "insp01", "password": "demo12345"})
@blp.response(200, s.TokenPairSchema, example=s.TOKEN_PAIR_EXAMPLE)
@raises(401, "INVALID_CREDENTIALS", "ACCOUNT_DISABLED", description="用户名或密码错误 / 账号已停用")
def login(body):
    """Log in with username and password; returns an access and a refresh token."""
    now = utcnow()
    user = service.authenticate(body["username"], body["password"], now=now, ip=client_ip(),
                                account=joined_rows(service.account_read(body["username"])))
    return sessions.issue_tokens(user, now=now, refresh_days=_cfg("refresh_token_days"))


@blp.route("/auth/refresh", methods=["POST"])
@blp.doc(operationId="refreshTokens")
@blp.arguments(s.RefreshSchema)
@blp.response(200, s.TokenPairSchema)
@raises(401, "TOKEN_INVALID", "REFRESH_TOKEN_REUSED", "TOKEN_REVOKED")
def refresh(body):
    """Rotate a refresh token: the answer is a new pair and the presented token is used up.

    A retry with the same token within ``refresh_grace_seconds`` (30 s; a response lost on a bad
    network) answers the same pair again, while that pair's refresh token is unused.  Presented
    later, or after its successor was used, it is treated as stolen: the whole login is revoked.
    """
    return sessions.rotate(body["refresh_token"], now=utcnow(), refresh_days=_cfg("refresh_token_days"),
                           ip=client_ip(), grace_seconds=float(_cfg("refresh_grace_seconds")),
                           **_session_settings())


@blp.route("/auth/logout", methods=["POST"])
@blp.doc(operationId="logout")
@blp.arguments(s.RefreshSchema)
@blp.response(204)
@raises(401, "TOKEN_INVALID")
def logout(body):
    """End the login of this refresh token: its refresh tokens and its access tokens stop working at once
    (on every device the login was copied to)."""
    sessions.logout(body["refresh_token"], now=utcnow(), ip=client_ip(), **_session_settings())


@blp.route("/me", methods=["GET"])
@blp.doc(operationId="getCurrentUser")
@login_required()
@blp.response(200, s.UserSchema)
def me():
    """The logged-in user."""
    user = current_user()
    return jsonify(already_dumped(USER, service.user_view(user), source=user))


@blp.route("/me/password", methods=["POST"])
@blp.doc(operationId="changeOwnPassword")
@login_required()
@blp.arguments(s.PasswordChangeSchema)
@blp.response(204)
@raises(403, "INVALID_CREDENTIALS")
@raises(422, "PASSWORD_TOO_SHORT", "PASSWORD_TOO_WEAK")
def change_password(body):
    """Change one's own password; every token issued before stops working."""
    service.change_own_password(current_user(), body["old_password"], body["new_password"], now=utcnow(),
                                min_length=_cfg("password_min_length"))


def _link_check(role, region, institution_id, inspector_id):
    checker = current_app.extensions.get("inspect_user_link_check")
    if checker is not None:
        checker(role, region, institution_id, inspector_id)


@blp.route("/users", methods=["POST"])
@blp.doc(operationId="createUser")
@login_required("office_admin")
@blp.arguments(s.UserCreateSchema)
@blp.response(201, s.UserSchema)
@raises(403, "REGION_OUT_OF_SCOPE")
@raises(404, "INSTITUTION_NOT_FOUND", "INSPECTOR_NOT_FOUND")
@raises(409, "USERNAME_TAKEN", "INSPECTOR_ALREADY_LINKED")
@raises(422, "PASSWORD_TOO_SHORT", "PASSWORD_TOO_WEAK", "REGION_INVALID", "REGION_UNKNOWN", "ROLE_INVALID",
        "LINK_REQUIRED", "LINK_NOT_ALLOWED", "LINK_REGION_MISMATCH")
def create_user(body):
    """Create a user inside the office's region."""
    return service.create_user(current_user(), body, now=utcnow(), min_length=_cfg("password_min_length"),
                               link_check=_link_check)


@blp.route("/users", methods=["GET"])
@blp.doc(operationId="listUsers")
@login_required("office_admin")
@blp.arguments(s.UserListArgsSchema, location="query")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(s.UserSchema))
def list_users(filters, paging):
    """Users of the office's region subtree."""
    query = service.list_users(current_user(), **filters)
    return paginate(query, paging["page"], paging["per_page"])


@blp.route("/users/<user_id>", methods=["GET"])
@blp.doc(operationId="getUser")
@login_required("office_admin")
@blp.response(200, s.UserSchema)
@raises(404, "USER_NOT_FOUND")
def get_user(user_id):
    """One user of the office's region."""
    return service.user_in_scope(current_user(), user_id)


@blp.route("/users/<user_id>/deactivate", methods=["POST"])
@blp.doc(operationId="deactivateUser")
@login_required("office_admin")
@blp.response(200, s.UserSchema)
@raises(404, "USER_NOT_FOUND")
@raises(409, "CANNOT_DEACTIVATE_SELF")
def deactivate_user(user_id):
    """Deactivate a user; their tokens stop working at once."""
    return service.deactivate(current_user(), user_id, now=utcnow())


@blp.route("/users/<user_id>/reactivate", methods=["POST"])
@blp.doc(operationId="reactivateUser")
@login_required("office_admin")
@blp.response(200, s.UserSchema)
@raises(404, "USER_NOT_FOUND")
def reactivate_user(user_id):
    """Reactivate a user."""
    return service.reactivate(current_user(), user_id, now=utcnow())


@blp.route("/users/<user_id>/reset-password", methods=["POST"])
@blp.doc(operationId="resetUserPassword")
@login_required("office_admin")
@blp.arguments(s.PasswordResetSchema)
@blp.response(200, s.UserSchema)
@raises(404, "USER_NOT_FOUND")
@raises(422, "PASSWORD_TOO_SHORT", "PASSWORD_TOO_WEAK")
def reset_password(body, user_id):
    """Set a new password for a user of the region; their tokens are revoked."""
    return service.reset_password(current_user(), user_id, body["new_password"], now=utcnow(),
                                  min_length=_cfg("password_min_length"))
