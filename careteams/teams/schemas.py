"""Input and output schemas for teams, members, hats, arrangers and the plan (no DB, no auth)."""

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

from careteams.geo import PostcodeField
from careteams.members.schemas import Phone
from careteams.teams.enums import (
    ALL_PERMISSIONS,
    HatStatus,
    SuggestionStatus,
    TeamMemberStatus,
    TeamPermission,
    TeamRole,
)
from careteams.teams.rules import MAX_SECTION_LENGTH, PLAN_SECTIONS
from careteams.validation import fields


def _strip(data: dict, *names: str) -> dict:
    for name in names:
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    return data


class TeamCreateSchema(Schema):
    cooperative = fields.String(required=True, metadata={"description": "The co-op's short name (slug)."})
    leader_id = fields.Integer(load_default=None, allow_none=True,
                               metadata={"description": "For facilitators starting a team on someone's behalf."})
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    postcode = PostcodeField(load_default=None, allow_none=True, metadata={
        "description": "Where the support happens, like HX7 8AB; its point comes from the geocoder."})
    # For integrations that already know the point (used as given); no page asks for these.
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    postcode_district = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$", error="Enter only the first part of a postcode, such as HD7."))
    min_visit_minutes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=24 * 60))
    timezone = fields.String(load_default=None, allow_none=True)

    @validates("timezone")
    def _zone(self, value, **kwargs):
        if value is not None and value not in available_timezones():
            raise ValidationError("Unknown time zone; use a name such as Europe/London.")

    @validates("display_name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Enter the name the team will use.")

    @post_load
    def _clean(self, data, **kwargs):
        _strip(data, "display_name")
        if data.get("postcode_district"):
            data["postcode_district"] = data["postcode_district"].strip().upper()
        return data


class TeamUpdateSchema(TeamCreateSchema):
    class Meta:
        exclude = ("cooperative", "leader_id")


class TeamSchema(Schema):
    id = fields.Integer()
    cooperative_id = fields.Integer()
    leader_id = fields.Integer()
    display_name = fields.String()
    # Exact for those allowed the address; for everyone else an area of about 1 km
    # (teams.services.places), and location_is_area says so.
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    location_is_area = fields.Boolean()
    # The full postcode only for those allowed the address (None for everyone else).
    postcode = fields.String(allow_none=True)
    geocode_pending = fields.Boolean()
    postcode_district = fields.String(allow_none=True)
    min_visit_minutes = fields.Integer(attribute="effective_min_visit_minutes")
    timezone = fields.String(attribute="zone")
    created_at = fields.AwareDateTime()


class PrivateDetailsSchema(Schema):
    address = fields.String(validate=validate.Length(max=2000))
    access_notes = fields.String(validate=validate.Length(max=2000),
                                 metadata={"description": "How to get in: key safe, door codes."})
    emergency_contacts = fields.String(validate=validate.Length(max=2000))
    if_something_is_wrong = fields.String(validate=validate.Length(max=2000))
    updated_at = fields.AwareDateTime(dump_only=True)


class PersonRefSchema(Schema):
    """Someone by account id, or by email or mobile (a new account is invited if none)."""

    person_id = fields.Integer(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = Phone(load_default=None, allow_none=True)

    @validates_schema
    def _someone(self, data, **kwargs):
        if not data.get("person_id") and not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an email address or a mobile number.", "email")

    @post_load
    def _clean(self, data, **kwargs):
        if data.get("email"):
            data["email"] = data["email"].strip().lower()
        return _strip(data, "name")


class InvitationCreateSchema(PersonRefSchema):
    role = fields.Enum(TeamRole, required=True)


class TeamMemberSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    # Nothing about people who have not said yes (issue 14): until the invitee accepts,
    # the answer does not say who they are, or whether the account already existed.
    person_id = fields.Function(lambda m: m.person_id if m.accepted_at is not None else None, allow_none=True)
    person_name = fields.Function(lambda m: m.person.name if m.accepted_at is not None else None, allow_none=True)
    role = fields.Enum(TeamRole)
    status = fields.Enum(TeamMemberStatus)
    invited_at = fields.AwareDateTime()
    started_on = fields.Date(allow_none=True)
    active_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)


class InvitationSchema(Schema):
    """What an invitee sees before saying yes: the team's chosen name and their role."""

    id = fields.Integer()
    team_id = fields.Integer()
    team_name = fields.Function(lambda m: m.team.display_name)
    role = fields.Enum(TeamRole)
    invited_at = fields.AwareDateTime()


class EndMembershipSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                         metadata={"description": "Optional and private: never shown to the person."})


class HatTypeSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(load_default="", validate=validate.Length(max=300))
    permissions = fields.List(fields.String(validate=validate.OneOf([p.value for p in TeamPermission])),
                              required=True, validate=validate.Length(min=1))

    @post_load
    def _clean(self, data, **kwargs):
        return _strip(data, "name", "description")


class HatOfferSchema(PersonRefSchema):
    hat_type_id = fields.Integer(required=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


def _hat_accepted(hat) -> bool:
    return hat.answered_at is not None and hat.status != HatStatus.declined


class HatSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    # Named only once they have said yes (issue 14), as for invitations.
    person_id = fields.Function(lambda h: h.person_id if _hat_accepted(h) else None, allow_none=True)
    person_name = fields.Function(lambda h: h.person.name if _hat_accepted(h) else None, allow_none=True)
    hat_type_id = fields.Integer()
    hat_name = fields.Function(lambda h: h.hat_type.name)
    permissions = fields.Function(lambda h: list(h.hat_type.permissions))
    status = fields.Enum(HatStatus)
    offered_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)


class HatOfferForWearerSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    team_name = fields.Function(lambda h: h.team.display_name)
    hat_name = fields.Function(lambda h: h.hat_type.name)
    expires_at = fields.AwareDateTime(allow_none=True)


class PendingSchema(Schema):
    invitations = fields.List(fields.Nested(InvitationSchema))
    hat_offers = fields.List(fields.Nested(HatOfferForWearerSchema))


class ArrangerCreateSchema(PersonRefSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))

    @validates("reason")
    def _reason(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Record why the leader cannot act for themselves.")


class ArrangerSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    person_id = fields.Integer()
    person_name = fields.Function(lambda a: a.person.name)
    reason = fields.String()
    appointed_by_id = fields.Integer()
    appointed_at = fields.AwareDateTime()
    # "proposed" grants nothing until a second person agrees; then "agreed";
    # "declined" or "ended" after.
    status = fields.String()
    agreed_by_id = fields.Integer(allow_none=True)
    agreed_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    ended_by_id = fields.Integer(allow_none=True)


class ArrangerProposalSchema(Schema):
    """A proposal waiting for a second yes, as the co-op's facilitators and admins see it."""

    arranger = fields.Nested(ArrangerSchema)
    team_id = fields.Function(lambda p: p["team"].id)
    team_name = fields.Function(lambda p: p["team"].display_name)
    can_agree = fields.Boolean()
    can_decline = fields.Boolean()


class PlanSectionSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=MAX_SECTION_LENGTH))
    shared_with_trial = fields.Boolean(load_default=False)


def _sections_field(**kwargs) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(list(PLAN_SECTIONS))),
                       values=fields.Nested(PlanSectionSchema), **kwargs)


class PlanSaveSchema(Schema):
    sections = _sections_field(required=True, metadata={
        "description": "Some or all sections; those left out keep their current text."})
    base_version = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "The version you edited; 409 if someone saved since."})


class PlanVersionSchema(Schema):
    number = fields.Integer()
    sections = fields.Dict()
    author_id = fields.Integer()
    author_name = fields.Function(lambda v: v.author.name)
    on_behalf = fields.String()
    created_at = fields.AwareDateTime()


class PlanVersionSummarySchema(PlanVersionSchema):
    class Meta:
        exclude = ("sections",)


class CurrentPlanSchema(Schema):
    version = fields.Integer(allow_none=True)
    sections = fields.Dict()
    trial_view = fields.Boolean(metadata={"description": "True when only sections shared with trial workers are shown."})


class CompareQuerySchema(Schema):
    first = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    second = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


class SectionChangeSchema(Schema):
    section = fields.String()
    title = fields.String()
    before = fields.String()
    after = fields.String()
    shared_before = fields.Boolean()
    shared_after = fields.Boolean()
    changed = fields.Boolean()


class PlanComparisonSchema(Schema):
    first = fields.Integer()
    second = fields.Integer()
    sections = fields.List(fields.Nested(SectionChangeSchema))


class SuggestionCreateSchema(Schema):
    sections = _sections_field(required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class SuggestionSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    base_version_number = fields.Integer(allow_none=True)
    sections = fields.Dict()
    note = fields.String()
    author_id = fields.Integer()
    created_at = fields.AwareDateTime()
    status = fields.Enum(SuggestionStatus)
    answered_at = fields.AwareDateTime(allow_none=True)
    resulting_version_number = fields.Integer(allow_none=True)


# Someone who said no to an invitation or a hat never said yes: the log does not name them (issue 14).
_UNNAMED_ACTIONS = frozenset({"member.declined", "hat.declined"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_id = fields.Function(lambda e: None if e.action in _UNNAMED_ACTIONS else e.actor_id, allow_none=True)
    actor_name = fields.Function(lambda e: e.actor.name if e.actor and e.action not in _UNNAMED_ACTIONS else None,
                                 allow_none=True)
    on_behalf = fields.String()
    action = fields.String()
    subject = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class TeamAccessSchema(Schema):
    """What the caller is to the team, so clients can show the right actions."""

    is_leader = fields.Boolean()
    is_facilitator = fields.Boolean()
    is_arranger = fields.Boolean()
    in_circle = fields.Boolean()
    member_status = fields.Enum(TeamMemberStatus, allow_none=True)
    permissions = fields.Method("_permissions")

    def _permissions(self, access):
        if access.is_leader or access.is_arranger:
            return sorted(p.value for p in ALL_PERMISSIONS)
        return sorted(access.hat_permissions)


class TeamDetailSchema(Schema):
    team = fields.Nested(TeamSchema)
    access = fields.Nested(TeamAccessSchema)
