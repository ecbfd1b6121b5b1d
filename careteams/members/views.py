"""JSON API for co-ops, people, the register and staff roles. Thin adapters."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from careteams.auth import services as auth_services
from careteams.auth.current import current_actor, current_person
from careteams.extensions import db
from careteams.members import services as svc
from careteams.members.schemas import (
    CooperativeSchema,
    CooperativeSettingsSchema,
    MembershipChangeSchema,
    MembershipCreateSchema,
    MembershipSchema,
    PeopleQuerySchema,
    PersonChangeSchema,
    PersonInviteSchema,
    PersonSchema,
    StaffRoleCreateSchema,
    StaffRoleSchema,
)

api_bp = Blueprint("members_api", __name__, url_prefix="/api/v1", description="Co-operatives, people and the member register")


@api_bp.route("/me")
class Me(MethodView):
    @api_bp.response(200, PersonSchema)
    def get(self):
        """The logged-in person."""
        return current_person()


@api_bp.route("/cooperatives/<slug>")
class CooperativeItem(MethodView):
    @api_bp.response(200, CooperativeSchema)
    def get(self, slug: str):
        """A co-op you belong to or work for."""
        return svc.get_visible_cooperative(current_actor(), slug)

    @api_bp.arguments(CooperativeSettingsSchema(partial=True))
    @api_bp.response(200, CooperativeSchema)
    def patch(self, changes: dict, slug: str):
        """Change the co-op's rules settings (admins)."""
        actor = current_actor()
        coop = svc.update_cooperative_settings(actor, svc.get_visible_cooperative(actor, slug), changes)
        db.session.commit()
        return coop


@api_bp.route("/cooperatives/<slug>/people")
class People(MethodView):
    @api_bp.arguments(PeopleQuerySchema, location="query")
    @api_bp.response(200, PersonSchema(many=True))
    def get(self, query: dict, slug: str):
        """The co-op's people (register, staff, team people) by name; `q` searches names
        (facilitators, secretaries, admins)."""
        actor = current_actor()
        people, _ = svc.list_people(actor, svc.get_visible_cooperative(actor, slug), query["q"],
                                    limit=query["limit"], offset=query["offset"])
        return people

    @api_bp.arguments(PersonInviteSchema)
    @api_bp.response(201, PersonSchema)
    def post(self, data: dict, slug: str):
        """Invite a person: creates their account and sends a one-time link."""
        actor = current_actor()
        person = auth_services.invite_person(actor, svc.get_visible_cooperative(actor, slug), data)
        db.session.commit()
        return person


@api_bp.route("/cooperatives/<slug>/people/<int:person_id>")
class PersonItem(MethodView):
    @api_bp.arguments(PersonChangeSchema)
    @api_bp.response(200, PersonSchema)
    def patch(self, changes: dict, slug: str, person_id: int):
        """Change someone's name, email or mobile, or switch their account off or on
        (admins; never your own off). Switching off signs them out everywhere."""
        actor = current_actor()
        person = svc.update_person(actor, svc.get_visible_cooperative(actor, slug), person_id, changes)
        db.session.commit()
        return person


@api_bp.route("/cooperatives/<slug>/memberships")
class Memberships(MethodView):
    @api_bp.response(200, MembershipSchema(many=True))
    def get(self, slug: str):
        """The register (the secretary, admins)."""
        actor = current_actor()
        return svc.list_memberships(actor, svc.get_visible_cooperative(actor, slug))

    @api_bp.arguments(MembershipCreateSchema)
    @api_bp.response(201, MembershipSchema)
    def post(self, data: dict, slug: str):
        """Enter a person in the register (the secretary, admins)."""
        actor = current_actor()
        membership = svc.register_member(actor, svc.get_visible_cooperative(actor, slug), data)
        db.session.commit()
        return membership


@api_bp.route("/cooperatives/<slug>/memberships/<int:membership_id>")
class MembershipItem(MethodView):
    @api_bp.arguments(MembershipChangeSchema)
    @api_bp.response(200, MembershipSchema)
    def patch(self, changes: dict, slug: str, membership_id: int):
        """Change a member's class, status or share (the secretary, admins); history is kept.

        Admit with status active (and joined_on), record leaving with status left (and
        left_on). Admitting twice, an applicant leaving and going back to applicant get
        409; a date after today or leaving before joining get 422."""
        actor = current_actor()
        membership = svc.change_membership(actor, svc.get_visible_cooperative(actor, slug), membership_id, changes)
        db.session.commit()
        return membership


@api_bp.route("/cooperatives/<slug>/staff")
class Staff(MethodView):
    @api_bp.response(200, StaffRoleSchema(many=True))
    def get(self, slug: str):
        """The co-op's facilitators, secretaries and admins."""
        actor = current_actor()
        return svc.list_staff(actor, svc.get_visible_cooperative(actor, slug))

    @api_bp.arguments(StaffRoleCreateSchema)
    @api_bp.response(201, StaffRoleSchema)
    def post(self, data: dict, slug: str):
        """Grant a staff role (admins)."""
        actor = current_actor()
        role = svc.grant_staff_role(actor, coop := svc.get_visible_cooperative(actor, slug),
                                    svc.get_person_in(coop, data["person_id"]), data["role"])
        db.session.commit()
        return role


@api_bp.route("/cooperatives/<slug>/staff/<int:staff_role_id>")
class StaffItem(MethodView):
    @api_bp.response(204)
    def delete(self, slug: str, staff_role_id: int):
        """Take a staff role back (admins)."""
        actor = current_actor()
        svc.revoke_staff_role(actor, svc.get_visible_cooperative(actor, slug), staff_role_id)
        db.session.commit()
