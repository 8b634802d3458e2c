"""Auth and user schemas (input validation and OpenAPI in one place)."""

from __future__ import annotations

from marshmallow import fields, validate

from inspect_api.schemas import OutSchema, SharedEnum, StrictSchema

ROLE = SharedEnum("Role", {"office_admin": "办公室（领导小组办公室或监管部门）", "inspector": "执法检查人员",
                           "institution": "被检查机构"})

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
    display_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    institution_id = fields.String(allow_none=True)
    inspector_id = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(allow_none=True)
    last_login_at = fields.DateTime(allow_none=True)


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
