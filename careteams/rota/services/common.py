"""Shared by the rota's use cases: how a shift is shown, loading with access checks,
the double-booking check, releasing a booking, and notices to people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.members.models import Person, StaffRole, StaffRoleName
from careteams.members.permissions import Actor
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.sms import rules as sms_rules
from careteams.sms import services as sms_services
from careteams.teams.models import Hat, HatStatus, Team
from careteams.teams.services.access import get_visible_team

BOOKABLE = (ShiftStatus.open, ShiftStatus.offered)


@dataclass
class ShiftView:
    """A shift as people see it: local times in the team's zone, true length, warnings."""

    shift: Shift
    zone: str
    findings: list[rules.Finding] = field(default_factory=list)
    code: str | None = None  # the viewer's own code for it, if any
    team_name: str = ""

    def __getattr__(self, name):  # id, status, kind... come from the shift
        return getattr(self.shift, name)

    @property
    def local_start(self) -> datetime:
        return self.shift.starts_at.astimezone(ZoneInfo(self.zone))

    @property
    def local_end(self) -> datetime:
        return self.shift.ends_at.astimezone(ZoneInfo(self.zone))

    @property
    def duration_minutes(self) -> int:
        return round(rules.minutes_between(self.shift.starts_at, self.shift.ends_at))

    @property
    def booked_person_name(self) -> str | None:
        return self.shift.booked_person.name if self.shift.booked_person_id and self.shift.booked_person else None

    @property
    def cover_requested(self) -> bool:
        return self.shift.cover_requested_at is not None

    @property
    def warnings(self) -> list[dict]:
        return [{"code": f.code, "message": f.message, "blocking": f.blocking} for f in self.findings]


def when_text(shift: Shift, zone: str) -> str:
    """'Tue 3 Dec 09:00-10:00' in the team's zone: for texts, never with health details."""
    tz = ZoneInfo(zone)
    start, end = shift.starts_at.astimezone(tz), shift.ends_at.astimezone(tz)
    return f"{start:%a} {start.day} {start:%b %H:%M}-{end:%H:%M}"


@dataclass(frozen=True)
class OfferResult:
    """What happened to an answer: booked, already_filled, expired, unknown_code,
    declined, already_yours, double_booked, not_eligible, blocked, cover_requested,
    arrived, not_booked."""

    outcome: str
    message: str
    shift: Shift | None = None
    findings: tuple[rules.Finding, ...] = ()
    # Why an offer cannot be taken any more, when the worker should hear it: "cancelled"
    # (the visit was called off), "declined" (they said no to it) or "clash" (withdrawn:
    # they are booked on another visit at that time). The outcome stays
    # "expired" for the API and pages.
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("booked", "declined", "already_yours", "cover_requested", "arrived")


def team_with_access(actor: Actor, team_id: int):
    team, access = get_visible_team(actor, team_id)
    return team, access


def team_shift(actor: Actor, team_id: int, shift_id: int, allowed) -> tuple[Shift, Team, object]:
    """A visit reached through its team's address: the team as this actor may see it, the
    `allowed(access)` predicate ensured, and 404 when the shift is not that team's."""
    team, access = team_with_access(actor, team_id)
    ensure(allowed(access))
    shift = db.session.get(Shift, shift_id)
    if shift is None or shift.team_id != team.id:
        raise NotFound("No such visit.")
    return shift, team, access


def visible_shift(actor: Actor, shift_id: int) -> tuple[Shift, Team, object]:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    team, access = get_visible_team(actor, shift.team_id)
    return shift, team, access


def shift_for_update(shift_id: int) -> Shift | None:
    # A row lock: edits, cancellations and bookings of one shift queue up.
    return db.session.scalar(sa.select(Shift).where(Shift.id == shift_id).with_for_update()
                             .execution_options(populate_existing=True))


def booked_elsewhere(person_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None) -> bool:
    q = sa.select(Shift.id).where(Shift.booked_person_id == person_id, Shift.status == ShiftStatus.booked,
                                  Shift.starts_at < ends_at, Shift.ends_at > starts_at)
    if exclude_id is not None:
        q = q.where(Shift.id != exclude_id)
    return db.session.scalar(q.limit(1)) is not None


def in_cooperative(query: sa.Select, cooperative_id: int | None) -> sa.Select:
    """Narrow a query that already involves Shift to one co-op's shifts (None: every co-op).
    A text is answered for the co-op whose number it was sent to, and only for its shifts."""
    if cooperative_id is None:
        return query
    return query.where(Shift.team_id.in_(sa.select(Team.id).where(Team.cooperative_id == cooperative_id)))


def live_offer(person: Person, code: str, cooperative_id: int | None = None) -> Offer | None:
    query = sa.select(Offer).join(Shift, Shift.id == Offer.shift_id).where(
        Offer.person_id == person.id, Offer.code == code.strip(), Offer.code_live)
    return db.session.scalar(in_cooperative(query, cooperative_id))


# Asked by every text that carries a code: built once (building a statement costs more
# Python than running it).
_CODE_COOPERATIVES = (
    sa.select(Team.cooperative_id, Offer.code_live).distinct().join(Shift, Shift.team_id == Team.id)
    .join(Offer, Offer.shift_id == Shift.id)
    .where(Offer.person_id == sa.bindparam("person_id"), Offer.code == sa.bindparam("code")))


def code_cooperatives(person: Person, code: str) -> set[int]:
    """The co-ops in which this person's code means something: the co-op of the live offer or
    booking with that code (live codes are unique per person), else of any earlier one."""
    rows = db.session.execute(_CODE_COOPERATIVES, {"person_id": person.id, "code": code.strip()}).all()
    live = {coop for coop, is_live in rows if is_live}
    return live or {coop for coop, _ in rows}


def own_booked(person: Person, *, shift_id: int | None = None, code: str | None = None,
               cooperative_id: int | None = None) -> Shift | None:
    if code is not None:
        offer = live_offer(person, code, cooperative_id)
        if offer is None or offer.status != OfferStatus.accepted:
            return None
        shift = offer.shift
    else:
        shift = db.session.get(Shift, shift_id)
    if shift is None or shift.booked_person_id != person.id or shift.status != ShiftStatus.booked:
        return None
    return shift


def unbook(shift: Shift, why: str) -> None:
    # Release the booking before anything flushes: the shift may already sit at a time
    # that clashes with the worker's other booking.
    person_id = shift.booked_person_id
    shift.booked_person_id = None
    shift.booked_at = None
    shift.cover_requested_at = None
    shift.status = ShiftStatus.open
    shift.escalation_level = 0
    db.session.flush()
    person = db.session.get(Person, person_id) if person_id else None
    for offer in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        offer.code_live = False
        if offer.status in (OfferStatus.open, OfferStatus.accepted):
            offer.status = OfferStatus.withdrawn
    db.session.flush()
    if person is not None:
        # One short, generic notice: `why` stays out of texts (it may say too much).
        tell(person, shift.team, "A shift changed", "unbooked", shift)


def tell(person: Person, team: Team, subject: str, template: str, shift: Shift | None, *,
         dedupe_key: str | None = None, **values: str) -> str:
    """One notice from the rota, built from an SMS template (first names, team names,
    times and codes only), through the SMS domain: a text for people who take texts,
    otherwise the website and email; nothing is texted to someone who said STOP."""
    if shift is not None:
        values.setdefault("when", when_text(shift, team.zone))
    if "{team}" in sms_rules.TEMPLATES[template]:
        values.setdefault("team", sms_rules.team_label(team.display_name))
    body = sms_rules.render(template, **values)
    # The notice by email or on the website links to the page that deals with it; a text
    # names the page in words only (one segment, no link).
    link = notice_link(template, team, shift)
    return sms_services.notify_person(person, body, f"rota.{template}", dedupe_key,
                                      cooperative=team.cooperative, subject=subject, link=link)


# Notices about one visit that someone must act on: they link to the team's visit page.
VISIT_NOTICES = frozenset({"not_filled_circle", "not_filled_facilitators", "missed_visit", "escalated_offered",
                           "escalated_booked"})
# A worker's notices link to the page where she answers them.
WORKER_NOTICES = {"offer": "rota.my_offers_page", "cover_offer": "rota.my_offers_page",
                  "booked_by_team": "rota.my_shifts_page", "swap_approved": "rota.my_shifts_page",
                  "swap_refused": "rota.my_shifts_page"}


def notice_link(template: str, team: Team, shift: Shift | None) -> str | None:
    """The page that deals with a rota notice, if it has one."""
    if shift is not None and template in VISIT_NOTICES:
        return page_url("rota.team_visit", team_id=team.id, shift_id=shift.id)
    if template in WORKER_NOTICES:
        return page_url(WORKER_NOTICES[template])
    return None


def page_url(endpoint: str, **values) -> str:
    """A page's full address when the host is known (a request, or the SERVER_NAME /
    PUBLIC_BASE_URL settings for the clock), else its path."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/") + path


def circle_of(team: Team, now: datetime) -> list[Person]:
    """The leader and everyone wearing a hat in force."""
    hats = db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)).all()
    ids = {team.leader_id} | {h.person_id for h in hats if h.in_force(now)}
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(ids), Person.active)))


def facilitators_of(cooperative_id: int) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).join(StaffRole, StaffRole.person_id == Person.id).where(
        StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator, Person.active)))
