"""Input and output schemas for resolutions, ballots, proxies and the register (no DB, no auth)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates

from careteams.governance.rules import ResolutionKind, Threshold
from careteams.members.models import MemberClass, MembershipStatus
from careteams.validation import fields


class ResolutionChangeSchema(Schema):
    """A resolution's settings; on a change (PATCH, before opening) every field is optional
    and nothing missing is filled in."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    text = fields.String(validate=validate.Length(min=1, max=20000))
    kind = fields.Enum(ResolutionKind)
    threshold = fields.Enum(Threshold)
    conversion = fields.Boolean()
    options = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=20))
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    quorum_min_members = fields.Integer(validate=validate.Range(min=0, max=100000))
    quorum_percent = fields.Integer(validate=validate.Range(min=0, max=100))

    @validates("title")
    def _title(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Enter a title.")


class ResolutionCreateSchema(ResolutionChangeSchema):
    """A new draft; quorum settings omitted take the co-op's defaults."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    kind = fields.Enum(ResolutionKind, required=True)
    threshold = fields.Enum(Threshold, load_default=Threshold.at_least)
    conversion = fields.Boolean(load_default=False)
    options = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                          validate=validate.Length(max=20))
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)


class OptionSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    label = fields.String()


class ResolutionSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    text = fields.String()
    kind = fields.Enum(ResolutionKind)
    threshold = fields.Enum(Threshold)
    conversion = fields.Boolean()
    status = fields.Function(lambda r: r.status.value)
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    quorum_min_members = fields.Integer()
    quorum_percent = fields.Integer()
    investor_cap = fields.Function(lambda r: f"{r.investor_cap_num}/{r.investor_cap_den}")
    options = fields.List(fields.Nested(OptionSchema))
    electorate_hash = fields.String(allow_none=True)
    electorate_size = fields.Integer(allow_none=True)
    carried = fields.Boolean(allow_none=True)


class BallotCastSchema(Schema):
    # null is an abstention: counted for the quorum, not for any option.
    option_id = fields.Integer(required=True, allow_none=True)
    # Voting as a proxy: the appointer's membership id.
    on_behalf_of = fields.Integer(load_default=None, allow_none=True)


class BallotChangeSchema(Schema):
    change_token = fields.String(required=True, validate=validate.Length(min=10, max=100))
    option_id = fields.Integer(required=True, allow_none=True)


class ReceiptSchema(Schema):
    receipt = fields.String()
    change_token = fields.String()


class ProxyAppointSchema(Schema):
    proxy_membership_id = fields.Integer(required=True)


class ProxySchema(Schema):
    id = fields.Integer()
    appointer_membership_id = fields.Integer()
    proxy_membership_id = fields.Integer()
    proxy_name = fields.Function(lambda p: p.proxy.person.name)
    status = fields.Function(lambda p: p.status.value)


class VoterStatusSchema(Schema):
    in_electorate = fields.Boolean()
    has_voted = fields.Boolean()
    membership_id = fields.Integer(allow_none=True)
    proxy = fields.Nested(ProxySchema, allow_none=True)
    proxies_held = fields.List(fields.Dict())


class ResultsSchema(Schema):
    resolution = fields.Nested(ResolutionSchema)
    result = fields.Dict()
    electorate = fields.List(fields.String())


class MembershipEventSchema(Schema):
    at = fields.DateTime()
    member_class = fields.Enum(MemberClass)
    status = fields.Enum(MembershipStatus)
    note = fields.String(allow_none=True)


class MembershipDetailSchema(Schema):
    id = fields.Integer()
    cooperative = fields.Function(lambda m: m.cooperative.name)
    person_name = fields.Function(lambda m: m.person.name)
    member_class = fields.Enum(MemberClass)
    status = fields.Enum(MembershipStatus)
    joined_on = fields.Date(allow_none=True)
    left_on = fields.Date(allow_none=True)
    share_pence = fields.Integer()


class OwnMembershipSchema(Schema):
    membership = fields.Nested(MembershipDetailSchema)
    history = fields.List(fields.Nested(MembershipEventSchema))


class ResolutionOpenSchema(Schema):
    # The tellers besides the secretary (person ids of active members), and how many
    # of all the tellers' shares open the count (default 2, at least 2).
    scrutineers = fields.List(fields.Integer(), load_default=list)
    shares_needed = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2, max=16))


class ShareSchema(Schema):
    share = fields.String()
    shares_needed = fields.Integer()


class CountSchema(Schema):
    shares = fields.List(fields.String(validate=validate.Length(max=80)), required=True,
                         validate=validate.Length(min=1, max=16))
