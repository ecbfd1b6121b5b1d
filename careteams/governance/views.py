"""JSON API for resolutions, ballots, proxies, results and the member's own membership. Thin adapters."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.extensions import db
from careteams.governance.schemas import (
    BallotCastSchema,
    BallotChangeSchema,
    CountSchema,
    OwnMembershipSchema,
    ProxyAppointSchema,
    ProxySchema,
    ReceiptSchema,
    ResolutionChangeSchema,
    ResolutionCreateSchema,
    ResolutionOpenSchema,
    ResolutionSchema,
    ResultsSchema,
    ShareSchema,
    VoterStatusSchema,
)
from careteams.governance.services import ballots, register, resolutions, results, tellers
from careteams.members.services import get_visible_cooperative

api_bp = ApiBlueprint("governance_api", __name__, url_prefix="/api/v1",
                      description="Resolutions, secret ballots, proxies, results and the register")


def _coop(slug: str):
    return get_visible_cooperative(current_actor(), slug)


def _resolution(slug: str, resolution_id: int):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    return actor, coop, resolutions.get_resolution(actor, coop, resolution_id)


@api_bp.route("/cooperatives/<slug>/resolutions")
class Resolutions(MethodView):
    @api_bp.response(200, ResolutionSchema(many=True))
    def get(self, slug: str):
        """Resolutions of the co-op (drafts for the secretary only)."""
        return resolutions.list_resolutions(current_actor(), _coop(slug))

    @api_bp.arguments(ResolutionCreateSchema)
    @api_bp.response(201, ResolutionSchema)
    def post(self, data: dict, slug: str):
        """Draft a resolution (the secretary)."""
        resolution = resolutions.create_resolution(current_actor(), _coop(slug), data)
        db.session.commit()
        return resolution


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>")
class ResolutionItem(MethodView):
    @api_bp.response(200, ResolutionSchema)
    def get(self, slug: str, resolution_id: int):
        """One resolution."""
        return _resolution(slug, resolution_id)[2]

    @api_bp.arguments(ResolutionChangeSchema)
    @api_bp.response(200, ResolutionSchema)
    def patch(self, changes: dict, slug: str, resolution_id: int):
        """Change a draft (the secretary); fixed once scheduled or open."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        resolution = resolutions.update_resolution(actor, coop, resolution, changes)
        db.session.commit()
        return resolution


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/open")
class ResolutionOpen(MethodView):
    @api_bp.arguments(ResolutionOpenSchema, required=False)
    @api_bp.response(200, ResolutionSchema)
    def post(self, data: dict, slug: str, resolution_id: int):
        """Open voting now, or at the opening time if that is ahead (the secretary), naming the tellers.

        The secretary and at least one scrutineer are the tellers; at least two of their shares
        (default 2) open the count."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        data = data or {}
        resolution = resolutions.open_resolution(actor, coop, resolution, scrutineers=data.get("scrutineers"),
                                                 shares_needed=data.get("shares_needed"))
        db.session.commit()
        return resolution


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/me")
class VoterStatus(MethodView):
    @api_bp.response(200, VoterStatusSchema)
    def get(self, slug: str, resolution_id: int):
        """Whether you may vote, have voted, and the proxies you gave or hold."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        return ballots.voter_status(actor, coop, resolution)


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/ballots")
class Ballots(MethodView):
    @api_bp.arguments(BallotCastSchema)
    @api_bp.response(201, ReceiptSchema)
    def post(self, data: dict, slug: str, resolution_id: int):
        """Cast your secret ballot (or one as proxy). Keep the receipt and the change token."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        receipt = ballots.cast_ballot(actor, coop, resolution, data["option_id"], data["on_behalf_of"])
        db.session.commit()
        return receipt

    @api_bp.arguments(BallotChangeSchema)
    @api_bp.response(200, ReceiptSchema)
    def put(self, data: dict, slug: str, resolution_id: int):
        """Change a ballot before the close with its change token."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        receipt = ballots.change_ballot(actor, coop, resolution, data["change_token"], data["option_id"])
        db.session.commit()
        return receipt


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/proxy")
class Proxy(MethodView):
    @api_bp.arguments(ProxyAppointSchema)
    @api_bp.response(201, ProxySchema)
    def post(self, data: dict, slug: str, resolution_id: int):
        """Appoint a member of the electorate as your proxy on this resolution."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        appointment = ballots.appoint_proxy(actor, coop, resolution, data["proxy_membership_id"])
        db.session.commit()
        return appointment

    @api_bp.response(204)
    def delete(self, slug: str, resolution_id: int):
        """Take back your proxy appointment (not once the proxy has voted)."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        ballots.revoke_proxy(actor, coop, resolution)
        db.session.commit()


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/share")
class TellerShare(MethodView):
    @api_bp.response(200, ShareSchema)
    def post(self, slug: str, resolution_id: int):
        """A teller's share, given once (the stored encrypted copy is erased). Tellers only."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        share = tellers.take_my_share(actor, coop, resolution, utcnow())
        db.session.commit()
        return {"share": share, "shares_needed": resolution.shares_needed}


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/count")
class Count(MethodView):
    @api_bp.arguments(CountSchema)
    @api_bp.response(200, ResolutionSchema)
    def post(self, data: dict, slug: str, resolution_id: int):
        """k tellers' shares together: open the sealed ballots, count, publish. Tellers only."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        resolution = tellers.open_count(actor, coop, resolution, data["shares"], utcnow())
        db.session.commit()
        return resolution


@api_bp.route("/cooperatives/<slug>/resolutions/<int:resolution_id>/results")
class Results(MethodView):
    @api_bp.response(200, ResultsSchema)
    @api_bp.alt_response(409, response="CONFLICT", description="Voting has not closed yet.")
    def get(self, slug: str, resolution_id: int):
        """The published results: counts by class, weight, exact totals, quorum, hash, receipts."""
        actor, coop, resolution = _resolution(slug, resolution_id)
        return results.results(actor, coop, resolution)


@api_bp.route("/cooperatives/<slug>/membership")
class OwnMembership(MethodView):
    @api_bp.response(200, OwnMembershipSchema)
    def get(self, slug: str):
        """Your own place in the register, with its history."""
        actor = current_actor()
        return register.own_membership(actor, get_visible_cooperative(actor, slug))
