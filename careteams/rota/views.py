"""Rota JSON API: thin adapters (parse, call one service, commit once, dump). Pages are in pages.py."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from careteams.auth.current import current_actor, current_person
from careteams.errors import Conflict, Forbidden, NotFound, ValidationError
from careteams.extensions import db
from careteams.rota.schemas import (
    BookSchema,
    CancelSchema,
    ChecksQuerySchema,
    FeedCreateSchema,
    FeedSchema,
    FindingSchema,
    OfferBriefSchema,
    OfferCreateSchema,
    OfferResultSchema,
    OfferSchema,
    OutsideOfferSchema,
    OutsideOfferSentSchema,
    RotaQuerySchema,
    RotaSettingsChangeSchema,
    RotaSettingsSchema,
    RotaWeekSchema,
    SeriesCreateSchema,
    SeriesSchema,
    ShiftCreateSchema,
    ShiftSchema,
    ShiftUpdateSchema,
    SwapAnswerSchema,
    SwapCreateSchema,
    SwapDecisionSchema,
    SwapSchema,
)
from careteams.rota.services import (
    attendance,
    checks,
    cover,
    feeds,
    offers,
    reading,
    series,
    settings,
    shifts,
)
from careteams.rota.services.common import OfferResult

api_bp = Blueprint("rota_api", __name__, url_prefix="/api/v1", description="Rotas: shifts, offers and bookings")

# How each non-success outcome of an answer reads on the API.
OUTCOME_ERRORS = {
    "already_filled": (Conflict, "already_filled"),
    "expired": (Conflict, "offer_expired"),
    "double_booked": (Conflict, "double_booked"),
    "unknown_code": (NotFound, "unknown_offer"),
    "not_booked": (Conflict, "not_booked"),
    "not_eligible": (Forbidden, "not_eligible"),
    "blocked": (ValidationError, "check_failed"),
}


def _result(result: OfferResult) -> dict:
    # Commit either way: a lost race or an expiry is itself recorded on the offer.
    db.session.commit()
    if result.ok:
        return {"outcome": result.outcome, "message": result.message,
                "shift_id": result.shift.id if result.shift else None,
                "warnings": FindingSchema(many=True).dump(result.findings)}
    error, code = OUTCOME_ERRORS[result.outcome]
    details = {"checks": [{"code": f.code, "message": f.message} for f in result.findings if f.blocking]}
    raise error(result.message, code=code, details=details if details["checks"] else None)


def _week_payload(week: reading.RotaWeek) -> dict:
    return {"team_id": week.team.id, "week_start": week.week_start, "zone": week.team.zone, "shifts": week.shifts,
            "workers": [{"person_id": pid, "name": n, "hours_this_week": h, "average_weekly_hours": a}
                        for pid, (n, h, a) in sorted(week.hours.items())]}


@api_bp.route("/teams/<int:team_id>/rota")
class TeamRota(MethodView):
    @api_bp.arguments(RotaQuerySchema, location="query")
    @api_bp.response(200, RotaWeekSchema)
    def get(self, query: dict, team_id: int):
        """A week of the team's rota (Monday to Sunday in the team's zone), with warnings."""
        week = reading.week_rota(current_actor(), team_id, query.get("week"))
        return _week_payload(week)


@api_bp.route("/teams/<int:team_id>/shifts")
class TeamShifts(MethodView):
    @api_bp.arguments(ShiftCreateSchema)
    @api_bp.response(201, ShiftSchema)
    def post(self, data: dict, team_id: int):
        """Add a one-off shift (leader or Rota wrangler)."""
        view = shifts.create_shift(current_actor(), team_id, data)
        db.session.commit()
        return view


@api_bp.route("/teams/<int:team_id>/series")
class TeamSeries(MethodView):
    @api_bp.arguments(SeriesCreateSchema)
    @api_bp.response(201, SeriesSchema)
    def post(self, data: dict, team_id: int):
        """Add a recurring visit (RRULE, local start time, duration)."""
        created = series.create_series(current_actor(), team_id, data)
        db.session.commit()
        return created


@api_bp.route("/shifts/<int:shift_id>")
class ShiftItem(MethodView):
    @api_bp.arguments(ShiftUpdateSchema)
    @api_bp.response(200, ShiftSchema)
    def patch(self, changes: dict, shift_id: int):
        """Edit this visit only, or (scope=following) this and the following visits."""
        scope = changes.pop("scope", "this")
        view = shifts.update_shift(current_actor(), shift_id, changes, scope)
        db.session.commit()
        return view


@api_bp.route("/shifts/<int:shift_id>/cancel")
class ShiftCancel(MethodView):
    @api_bp.arguments(CancelSchema)
    @api_bp.response(200, ShiftSchema)
    def post(self, data: dict, shift_id: int):
        """Cancel a shift; the notice given is recorded for pay."""
        view = shifts.cancel_shift(current_actor(), shift_id, data["reason"])
        db.session.commit()
        return view


@api_bp.route("/shifts/<int:shift_id>/checks")
class ShiftChecks(MethodView):
    @api_bp.arguments(ChecksQuerySchema, location="query")
    @api_bp.response(200, FindingSchema(many=True))
    def get(self, query: dict, shift_id: int):
        """Working-time and care-quality warnings for booking a worker on the shift."""
        return checks.check_shift(current_actor(), shift_id, query.get("person_id"))


@api_bp.route("/shifts/<int:shift_id>/offers")
class ShiftOffers(MethodView):
    @api_bp.arguments(OfferCreateSchema)
    @api_bp.response(201, OfferBriefSchema(many=True))
    def post(self, data: dict, shift_id: int):
        """Offer the shift to the team's eligible workers (all at once or the first wave)."""
        sent = offers.offer_shift(current_actor(), shift_id, data.get("wave_size"))
        db.session.commit()
        return sent


@api_bp.route("/shifts/<int:shift_id>/outside-consent")
class ShiftOutsideConsent(MethodView):
    @api_bp.response(200, ShiftSchema)
    def post(self, shift_id: int):
        """The leader or Rota wrangler agrees to offer this shift outside the team."""
        view = offers.consent_outside_offer(current_actor(), shift_id)
        db.session.commit()
        return view


@api_bp.route("/shifts/<int:shift_id>/outside-offers")
class ShiftOutsideOffers(MethodView):
    @api_bp.arguments(OutsideOfferSchema)
    @api_bp.response(201, OutsideOfferSentSchema)
    def post(self, data: dict, shift_id: int):
        """Offer the shift to the next wave of the co-op's eligible workers outside the team,
        chosen by the rota's rules; answers only how many. Needs the team's consent for this
        shift, or a facilitator of the co-op on a visit the rota escalated to facilitators
        (409 `not_escalated` before then; 409 `outside_offers_open` while their wave waits)."""
        sent = offers.offer_outside(current_actor(), shift_id)
        db.session.commit()
        return {"offered": sent}


@api_bp.route("/shifts/<int:shift_id>/booking")
class ShiftBooking(MethodView):
    @api_bp.arguments(BookSchema)
    @api_bp.response(200, OfferResultSchema)
    def post(self, data: dict, shift_id: int):
        """Book a team worker directly (e.g. a trial worker on a trial shift)."""
        return _result(offers.book_directly(current_actor(), shift_id, data["person_id"]))


@api_bp.route("/shifts/<int:shift_id>/cover")
class ShiftCover(MethodView):
    @api_bp.response(200, OfferResultSchema)
    def post(self, shift_id: int):
        """Ask for cover for your booked shift."""
        return _result(cover.request_cover(current_person(), shift_id))


@api_bp.route("/shifts/<int:shift_id>/arrival")
class ShiftArrival(MethodView):
    @api_bp.response(200, OfferResultSchema)
    def post(self, shift_id: int):
        """Mark that you have arrived for your booked shift."""
        return _result(attendance.mark_arrival(current_person(), shift_id))


@api_bp.route("/me/offers")
class MyOffers(MethodView):
    @api_bp.response(200, OfferSchema(many=True))
    def get(self):
        """Your open offers."""
        return [{"id": o.id, "shift_id": o.shift_id, "code": o.code, "status": o.status, "wave": o.wave,
                 "is_cover": o.is_cover, "expires_at": o.expires_at, "shift": v}
                for o, v in reading.my_offers(current_person())]


@api_bp.route("/me/shifts")
class MyShifts(MethodView):
    @api_bp.response(200, ShiftSchema(many=True))
    def get(self):
        """Your upcoming booked shifts, with their codes."""
        return reading.my_shifts(current_person())


@api_bp.route("/offers/<int:offer_id>/accept")
class OfferAccept(MethodView):
    @api_bp.response(200, OfferResultSchema)
    def post(self, offer_id: int):
        """Accept an offer. Exactly one acceptance wins; the others get 409 already_filled."""
        return _result(offers.accept_offer(current_person(), offer_id))


@api_bp.route("/offers/<int:offer_id>/decline")
class OfferDecline(MethodView):
    @api_bp.response(200, OfferResultSchema)
    def post(self, offer_id: int):
        """Say no to an offer."""
        return _result(offers.decline_offer(current_person(), offer_id))


@api_bp.route("/swaps")
class Swaps(MethodView):
    @api_bp.arguments(SwapCreateSchema)
    @api_bp.response(201, SwapSchema)
    def post(self, data: dict):
        """Propose swapping your booked shift with a team-mate's."""
        swap = cover.propose_swap(current_person(), data["shift_id"], data["other_shift_id"])
        db.session.commit()
        return swap


@api_bp.route("/swaps/<int:swap_id>/answer")
class SwapAnswer(MethodView):
    @api_bp.arguments(SwapAnswerSchema)
    @api_bp.response(200, SwapSchema)
    def post(self, data: dict, swap_id: int):
        """The team-mate consents (or not); the proposer may withdraw."""
        swap = cover.agree_swap(current_person(), swap_id, data["agree"])
        db.session.commit()
        return swap


@api_bp.route("/swaps/<int:swap_id>/decision")
class SwapDecision(MethodView):
    @api_bp.arguments(SwapDecisionSchema)
    @api_bp.response(200, SwapSchema)
    def post(self, data: dict, swap_id: int):
        """The leader or Rota wrangler approves or refuses an agreed swap."""
        swap = cover.decide_swap(current_actor(), swap_id, data["approve"])
        db.session.commit()
        return swap


@api_bp.route("/calendar-feeds")
class Feeds(MethodView):
    @api_bp.arguments(FeedCreateSchema)
    @api_bp.response(201, FeedSchema)
    def post(self, data: dict):
        """A private calendar URL (your shifts, or a team's rota for its circle). Shown once."""
        feed, token = feeds.create_feed(current_actor(), data.get("team_id"))
        db.session.commit()
        return {"id": feed.id, "team_id": feed.team_id, "url": url_for("rota.calendar_feed", token=token, _external=True)}


@api_bp.route("/calendar-feeds/<int:feed_id>")
class FeedItem(MethodView):
    @api_bp.response(204)
    def delete(self, feed_id: int):
        """Revoke a calendar URL."""
        feeds.revoke_feed(current_person(), feed_id)
        db.session.commit()


@api_bp.route("/cooperatives/<int:cooperative_id>/rota-settings")
class Settings(MethodView):
    @api_bp.arguments(RotaSettingsChangeSchema(partial=True))
    @api_bp.response(200, RotaSettingsSchema)
    def put(self, changes: dict, cooperative_id: int):
        """Change the co-op's rota rules (its admins): which checks block, speeds, waves."""
        row = settings.update_settings(current_actor(), cooperative_id, changes)
        db.session.commit()
        return row
