"""JSON API for teams: /api/v1/teams... Thin adapters: parse, call one service, commit, dump."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from careteams.auth.current import current_actor
from careteams.extensions import db
from careteams.members import services as members
from careteams.teams.schemas import (
    ArrangerCreateSchema,
    ArrangerProposalSchema,
    ArrangerSchema,
    AuditEntrySchema,
    CompareQuerySchema,
    CurrentPlanSchema,
    EndMembershipSchema,
    HatOfferSchema,
    HatSchema,
    HatTypeSchema,
    InvitationCreateSchema,
    PendingSchema,
    PlanComparisonSchema,
    PlanSaveSchema,
    PlanVersionSchema,
    PlanVersionSummarySchema,
    PrivateDetailsSchema,
    SuggestionCreateSchema,
    SuggestionSchema,
    TeamCreateSchema,
    TeamDetailSchema,
    TeamMemberSchema,
    TeamSchema,
    TeamUpdateSchema,
)
from careteams.teams.services import (
    arrangers,
    audit,
    circle,
    overview,
    places,
    plans,
    team_members,
    teams,
)
from careteams.teams.services.access import get_visible_team, visible_teams

api_bp = Blueprint("teams_api", __name__, url_prefix="/api/v1", description="Teams, circles, hats and support plans")

ANSWER = "<any(accept, decline):answer>"


@api_bp.route("/teams")
class Teams(MethodView):
    @api_bp.response(200, TeamDetailSchema(many=True))
    def get(self):
        """Teams you lead, help run, belong to, or facilitate."""
        return [{"team": places.team_view(a, t), "access": a} for t, a in visible_teams(current_actor())]

    @api_bp.arguments(TeamCreateSchema)
    @api_bp.response(201, TeamSchema)
    def post(self, data: dict):
        """Start a team: a supported member for themselves, or a facilitator on their behalf."""
        actor = current_actor()
        team = teams.create_team(actor, members.get_visible_cooperative(actor, data.pop("cooperative")), data)
        db.session.commit()
        return places.team_view_for(actor, team)


@api_bp.route("/teams/<int:team_id>")
class TeamItem(MethodView):
    @api_bp.response(200, TeamDetailSchema)
    def get(self, team_id: int):
        """A team and what you are to it (404 if it is private from you)."""
        team, access = get_visible_team(current_actor(), team_id)
        return {"team": places.team_view(access, team), "access": access}

    @api_bp.arguments(TeamUpdateSchema(partial=True))
    @api_bp.response(200, TeamSchema)
    def patch(self, changes: dict, team_id: int):
        """Change the team's name, area or settings (the leader or an arranger)."""
        actor = current_actor()
        team = teams.update_team(actor, team_id, changes)
        db.session.commit()
        return places.team_view_for(actor, team)


@api_bp.route("/teams/<int:team_id>/private-details")
class PrivateDetails(MethodView):
    @api_bp.response(200, PrivateDetailsSchema)
    def get(self, team_id: int):
        """Visit address, how to get in, emergency contacts (leader, circle, active members)."""
        return teams.get_private_details(current_actor(), team_id)

    @api_bp.arguments(PrivateDetailsSchema)
    @api_bp.response(200, PrivateDetailsSchema)
    def put(self, data: dict, team_id: int):
        """Change the private details (the leader or an arranger)."""
        details = teams.update_private_details(current_actor(), team_id, data)
        db.session.commit()
        return details


@api_bp.route("/teams/<int:team_id>/members")
class Members(MethodView):
    @api_bp.response(200, TeamMemberSchema(many=True))
    def get(self, team_id: int):
        """Everyone who is or was in the team; history is never deleted."""
        return team_members.list_members(current_actor(), team_id)[0]


@api_bp.route("/teams/<int:team_id>/invitations")
class Invitations(MethodView):
    @api_bp.arguments(InvitationCreateSchema)
    @api_bp.response(201, TeamMemberSchema)
    def post(self, data: dict, team_id: int):
        """Invite family, a neighbour or a volunteer; they join only when they accept."""
        member = team_members.invite_to_team(current_actor(), team_id, data)
        db.session.commit()
        return member


@api_bp.route("/teams/<int:team_id>/members/<int:member_id>/confirm")
class ConfirmMember(MethodView):
    @api_bp.response(200, TeamMemberSchema)
    def post(self, team_id: int, member_id: int):
        """Confirm a trial membership: the member and the team side both must."""
        member = team_members.confirm_member(current_actor(), team_id, member_id)
        db.session.commit()
        return member


@api_bp.route("/teams/<int:team_id>/members/<int:member_id>/end")
class EndMember(MethodView):
    @api_bp.arguments(EndMembershipSchema)
    @api_bp.response(200, TeamMemberSchema)
    def post(self, data: dict, team_id: int, member_id: int):
        """End a membership (the leader or a Team builder; or the member themselves)."""
        member = team_members.end_membership(current_actor(), team_id, member_id, data.get("note"))
        db.session.commit()
        return member


@api_bp.route("/teams/<int:team_id>/leave")
class Leave(MethodView):
    @api_bp.arguments(EndMembershipSchema)
    @api_bp.response(200, TeamMemberSchema)
    def post(self, data: dict, team_id: int):
        """Leave a team you are a member of."""
        member = team_members.leave_team(current_actor(), team_id, data.get("note"))
        db.session.commit()
        return member


@api_bp.route("/teams/pending")
class Pending(MethodView):
    @api_bp.response(200, PendingSchema)
    def get(self):
        """Invitations and hat offers waiting for your answer."""
        return overview.pending_for(current_actor())


@api_bp.route(f"/teams/invitations/<int:member_id>/{ANSWER}")
class AnswerInvitation(MethodView):
    @api_bp.response(200, TeamMemberSchema)
    def post(self, member_id: int, answer: str):
        """Say yes or no to joining a team (only the person invited can)."""
        member = team_members.answer_invitation(current_actor(), member_id, answer == "accept")
        db.session.commit()
        return member


@api_bp.route("/teams/<int:team_id>/hats")
class Hats(MethodView):
    @api_bp.response(200, HatSchema(many=True))
    def get(self, team_id: int):
        """Hats in the team (offers and history for the leader, circle and facilitators)."""
        return circle.list_hats(current_actor(), team_id)[0]

    @api_bp.arguments(HatOfferSchema)
    @api_bp.response(201, HatSchema)
    def post(self, data: dict, team_id: int):
        """Offer a hat to a trusted person (the leader, or an arranger)."""
        hat = circle.offer_hat(current_actor(), team_id, data)
        db.session.commit()
        return hat


@api_bp.route(f"/teams/hats/<int:hat_id>/{ANSWER}")
class AnswerHat(MethodView):
    @api_bp.response(200, HatSchema)
    def post(self, hat_id: int, answer: str):
        """Say yes or no to a hat offered to you."""
        hat = circle.answer_hat(current_actor(), hat_id, answer == "accept")
        db.session.commit()
        return hat


@api_bp.route("/teams/<int:team_id>/hats/<int:hat_id>/withdraw")
class WithdrawHat(MethodView):
    @api_bp.response(200, HatSchema)
    def post(self, team_id: int, hat_id: int):
        """Take a hat back (the leader) or hand it back (the wearer)."""
        hat = circle.withdraw_hat(current_actor(), team_id, hat_id)
        db.session.commit()
        return hat


@api_bp.route("/teams/<int:team_id>/arrangers")
class Arrangers(MethodView):
    @api_bp.response(200, ArrangerSchema(many=True))
    def get(self, team_id: int):
        """Arrangers with the recorded reason (leader, circle, facilitators)."""
        return arrangers.list_arrangers(current_actor(), team_id)

    @api_bp.arguments(ArrangerCreateSchema)
    @api_bp.response(201, ArrangerSchema)
    def post(self, data: dict, team_id: int):
        """Propose an arranger where the leader cannot act (facilitators; a reason is required;
        never oneself). It grants nothing until another facilitator, an admin or the leader agrees."""
        arranger = arrangers.appoint_arranger(current_actor(), team_id, data)
        db.session.commit()
        return arranger


@api_bp.route("/teams/<int:team_id>/arrangers/<int:arranger_id>/end")
class EndArranger(MethodView):
    @api_bp.response(200, ArrangerSchema)
    def post(self, team_id: int, arranger_id: int):
        """End an arrangement (a facilitator, the leader, or the arranger stepping down)."""
        arranger = arrangers.end_arranger(current_actor(), team_id, arranger_id)
        db.session.commit()
        return arranger


@api_bp.route("/teams/<int:team_id>/arrangers/<int:arranger_id>/<any(agree, decline):answer>")
class AnswerArranger(MethodView):
    @api_bp.response(200, ArrangerSchema)
    def post(self, team_id: int, arranger_id: int, answer: str):
        """Agree to a proposed arranger (another facilitator, a co-op admin or the leader; never the
        proposer), or decline it (they, or the proposer taking it back)."""
        service = arrangers.agree_arranger if answer == "agree" else arrangers.decline_arranger
        arranger = service(current_actor(), team_id, arranger_id)
        db.session.commit()
        return arranger


@api_bp.route("/cooperatives/<slug>/arranger-proposals")
class ArrangerProposals(MethodView):
    @api_bp.response(200, ArrangerProposalSchema(many=True))
    def get(self, slug: str):
        """Arranger proposals waiting for a second yes (the co-op's facilitators and admins)."""
        actor = current_actor()
        return arrangers.list_arranger_proposals(actor, members.get_visible_cooperative(actor, slug))


@api_bp.route("/teams/<int:team_id>/plan")
class Plan(MethodView):
    @api_bp.response(200, CurrentPlanSchema)
    def get(self, team_id: int):
        """The current support plan (trial workers see only sections shared with them)."""
        version, sections, trial_view = plans.current_plan(current_actor(), team_id)
        return {"version": version.number if version else None, "sections": sections, "trial_view": trial_view}

    @api_bp.arguments(PlanSaveSchema)
    @api_bp.response(201, PlanVersionSchema)
    def post(self, data: dict, team_id: int):
        """Save the plan as a new version (the leader, a Plan keeper or an arranger)."""
        version = plans.save_plan(current_actor(), team_id, data["sections"], data.get("base_version"))
        db.session.commit()
        return version


@api_bp.route("/teams/<int:team_id>/plan/versions")
class PlanVersions(MethodView):
    @api_bp.response(200, PlanVersionSummarySchema(many=True))
    def get(self, team_id: int):
        """Every saved version, newest first, with author and time."""
        return plans.list_plan_versions(current_actor(), team_id)


@api_bp.route("/teams/<int:team_id>/plan/versions/<int:number>")
class PlanVersionItem(MethodView):
    @api_bp.response(200, PlanVersionSchema)
    def get(self, team_id: int, number: int):
        """One saved version of the plan."""
        return plans.get_plan_version(current_actor(), team_id, number)


@api_bp.route("/teams/<int:team_id>/plan/compare")
class PlanCompare(MethodView):
    @api_bp.arguments(CompareQuerySchema, location="query")
    @api_bp.response(200, PlanComparisonSchema)
    def get(self, query: dict, team_id: int):
        """Compare two versions section by section (?from=1&to=3)."""
        a, b, changes = plans.compare_plan_versions(current_actor(), team_id, query["first"], query["second"])
        return {"first": a.number, "second": b.number, "sections": changes}


@api_bp.route("/teams/<int:team_id>/plan/suggestions")
class Suggestions(MethodView):
    @api_bp.response(200, SuggestionSchema(many=True))
    def get(self, team_id: int):
        """Suggested changes to the plan (leader, circle, facilitators)."""
        return plans.list_suggestions(current_actor(), team_id)

    @api_bp.arguments(SuggestionCreateSchema)
    @api_bp.response(201, SuggestionSchema)
    def post(self, data: dict, team_id: int):
        """Suggest a change to the plan (facilitators); the leader decides."""
        suggestion = plans.suggest_plan_change(current_actor(), team_id, data)
        db.session.commit()
        return suggestion


@api_bp.route(f"/teams/<int:team_id>/plan/suggestions/<int:suggestion_id>/{ANSWER}")
class AnswerSuggestion(MethodView):
    @api_bp.response(200, SuggestionSchema)
    def post(self, team_id: int, suggestion_id: int, answer: str):
        """Accept a suggestion (making a new plan version) or decline it."""
        suggestion = plans.answer_suggestion(current_actor(), team_id, suggestion_id, answer == "accept")
        db.session.commit()
        return suggestion


@api_bp.route("/teams/<int:team_id>/history")
class History(MethodView):
    @api_bp.response(200, AuditEntrySchema(many=True))
    def get(self, team_id: int):
        """The team's audit log: who did what, on whose behalf, before and after."""
        return audit.team_history(current_actor(), team_id)


@api_bp.route("/cooperatives/<slug>/hat-types")
class HatTypes(MethodView):
    @api_bp.response(200, HatTypeSchema(many=True))
    def get(self, slug: str):
        """The co-op's kinds of hat and the permissions each carries."""
        actor = current_actor()
        return circle.list_hat_types(actor, members.get_visible_cooperative(actor, slug))

    @api_bp.arguments(HatTypeSchema)
    @api_bp.response(201, HatTypeSchema)
    def post(self, data: dict, slug: str):
        """Define another kind of hat (co-op admins)."""
        actor = current_actor()
        hat_type = circle.create_hat_type(actor, members.get_visible_cooperative(actor, slug), data)
        db.session.commit()
        return hat_type
