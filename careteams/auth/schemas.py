from marshmallow import Schema, validate

from careteams.validation import fields


class TokenCreateSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)
    name = fields.String(load_default="API token", validate=validate.Length(min=1, max=100))
    totp_code = fields.String(load_default=None, load_only=True, validate=validate.Length(max=20), metadata={
        "description": "Staff (facilitators, secretaries, admins) only, and required for them: the 6-digit "
                       "code of their authenticator app, or a recovery code."})
    expires_in_days = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=1, max=365),
        metadata={"description": "Days until the token expires (1-365); default 90 (API_TOKEN_DAYS)."})


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "To the minute: written at most once a minute."})
    expires_at = fields.DateTime()


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "Shown once. Send as 'Authorization: Bearer <token>'."})
