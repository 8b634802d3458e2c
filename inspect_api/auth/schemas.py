"""Auth and user schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import fields, validate

from inspect_api.schemas import OutSchema, SharedEnum, StrictSchema

ROLE = SharedEnum("Role", {"office_admin": "办公室管理员", "inspector": "检查人员", "institution": "机构人员"},
                  "office_admin: the office (领导小组办公室) or a supervising department; inspector: a law-enforcement "
                  "inspector (执法检查人员); institution: staff of an inspected institution.")

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,64}$", error="用户名须为 3–64 位字母、数字或 _.@-")
REGION = validate.Regexp(r"^[1-9][0-9]{5}$", error="应为六位行政区划代码")


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class RefreshSchema(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class UserSchema(OutSchema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True, validate=ROLE)
    region = fields.String(required=True)
    display_name = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    institution_id = fields.String(required=True, allow_none=True, metadata={"description": "institution accounts"})
    inspector_id = fields.String(required=True, allow_none=True, metadata={"description": "inspector accounts"})
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True, allow_none=True)
    last_login_at = fields.DateTime(required=True, allow_none=True)


class TokenPairSchema(OutSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"description": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "access token lifetime in seconds"})
    user = fields.Nested(UserSchema, required=True)


class UserCreateSchema(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    role = fields.String(required=True, validate=ROLE)
    region = fields.String(required=True, validate=REGION)
    display_name = fields.String(validate=validate.Length(max=64))
    phone = fields.String(validate=validate.Length(max=32))
    email = fields.Email(validate=validate.Length(max=128))
    institution_id = fields.String(validate=validate.Length(max=64))
    inspector_id = fields.String(validate=validate.Length(max=64))


class UserListArgsSchema(StrictSchema):
    class Meta:
        unknown = "exclude"

    role = fields.String(validate=ROLE)
    region = fields.String(validate=REGION)
    q = fields.String(validate=validate.Length(max=64))
    active = fields.Boolean()


class PasswordResetSchema(StrictSchema):
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class PasswordChangeSchema(StrictSchema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256))


TOKEN_PAIR_EXAMPLE = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2YjBiNGMyMCJ9.c2lnbmF0dXJl",
    "refresh_token": "rt1.6b0b4c3ad00ac7f0331e74c0.Xk3q9mZ0vY2pW7tL", "token_type": "Bearer", "expires_in": 900,
    "user": {"id": "6b0b4c21d00ac7f0331e7421", "username": "insp01", "role": "inspector", "region": "370302",
             "display_name": "张伟", "phone": None, "email": None, "institution_id": None,
             "inspector_id": "6b0b4c20d00ac7f0331e7411", "active": True, "created_at": "2026-11-01T08:00:00+00:00",
             "last_login_at": "2026-11-23T01:30:00+00:00"},
}
