"""Input and output schemas for co-ops, people and the register (no DB, no auth)."""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import (
    Schema,
    ValidationError,
    post_load,
    validate,
    validates,
    validates_schema,
)

from careteams.members.enums import ContactChannel, MemberClass, MembershipStatus, StaffRoleName
from careteams.members.rules import normalise_email, normalise_phone
from careteams.validation import fields


class Phone(fields.String):
    """A phone number, normalised to E.164 (default region GB)."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_phone(raw)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class PersonInviteSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = Phone(load_default=None, allow_none=True)
    preferred_channel = fields.Enum(ContactChannel, load_default=ContactChannel.email)

    @validates("name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Enter a name.")

    @validates_schema
    def _contactable(self, data, **kwargs):
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an email address or a mobile number.", "email")
        if data.get("preferred_channel") == ContactChannel.sms and not data.get("phone"):
            raise ValidationError("A mobile number is needed to be contacted by text.", "phone")

    @post_load
    def _normalise(self, data, **kwargs):
        data["name"] = data["name"].strip()
        if data.get("email"):
            data["email"] = normalise_email(data["email"])
        return data


class PersonChangeSchema(Schema):
    """An admin's change to someone's account: any of name, email, mobile, active."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = Phone(allow_none=True)
    active = fields.Boolean()

    @validates("name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Enter a name.")

    @post_load
    def _normalise(self, data, **kwargs):
        if "name" in data:
            data["name"] = data["name"].strip()
        if "email" in data:
            data["email"] = normalise_email(data["email"]) if data["email"] else None
        return data


class PeopleQuerySchema(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_channel = fields.Enum(ContactChannel)
    active = fields.Boolean()


class CooperativeSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    timezone = fields.String()
    sms_number = fields.String(allow_none=True)
    investor_cap = fields.Method("_cap")
    min_visit_minutes = fields.Integer()
    quorum_min_members = fields.Integer()
    quorum_percent = fields.Integer()
    proxy_limit = fields.Integer()

    def _cap(self, coop):
        return f"{coop.investor_cap_num}/{coop.investor_cap_den}"


class CooperativeSettingsSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String()
    sms_number = Phone(allow_none=True)
    investor_cap_num = fields.Integer(validate=validate.Range(min=0))
    investor_cap_den = fields.Integer(validate=validate.Range(min=1))
    min_visit_minutes = fields.Integer(validate=validate.Range(min=1, max=24 * 60))
    quorum_min_members = fields.Integer(validate=validate.Range(min=0))
    quorum_percent = fields.Integer(validate=validate.Range(min=0, max=100))
    proxy_limit = fields.Integer(validate=validate.Range(min=0, max=100))

    @validates("timezone")
    def _zone(self, value, **kwargs):
        if value not in available_timezones():
            raise ValidationError("Unknown time zone; use a name such as Europe/London.")


class MembershipSchema(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    person_name = fields.Function(lambda m: m.person.name)
    member_class = fields.Enum(MemberClass)
    status = fields.Enum(MembershipStatus)
    joined_on = fields.Date(allow_none=True)
    left_on = fields.Date(allow_none=True)
    share_pence = fields.Integer()


# Up to £9,999,999.99: the most the register's share column holds with room to spare.
SHARE_PENCE = validate.Range(min=0, max=999_999_999)


class MembershipCreateSchema(Schema):
    person_id = fields.Integer(required=True)
    member_class = fields.Enum(MemberClass, required=True)
    status = fields.Enum(MembershipStatus, load_default=MembershipStatus.applicant)
    share_pence = fields.Integer(load_default=100, validate=SHARE_PENCE)


class MembershipChangeSchema(Schema):
    """A step in the register: a class change, admission (status active, with the day
    they joined), leaving (status left, with the day they left), a new share amount.
    The service refuses steps members.rules does not allow (409) and dates that
    cannot be (422)."""

    member_class = fields.Enum(MemberClass)
    status = fields.Enum(MembershipStatus)
    joined_on = fields.Date()
    left_on = fields.Date()
    share_pence = fields.Integer(validate=SHARE_PENCE)
    note = fields.String(validate=validate.Length(max=500))

    @validates_schema
    def _dates_go_with_their_step(self, data, **kwargs):
        if "joined_on" in data and data.get("status") != MembershipStatus.active:
            raise ValidationError("Give a joining date only when admitting someone (status active).", "joined_on")
        if "left_on" in data and data.get("status") != MembershipStatus.left:
            raise ValidationError("Give a leaving date only when recording that someone left (status left).", "left_on")


class StaffRoleSchema(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    role = fields.Enum(StaffRoleName)


class StaffRoleCreateSchema(Schema):
    person_id = fields.Integer(required=True)
    role = fields.Enum(StaffRoleName, required=True)
