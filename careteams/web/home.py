"""The home page as a to-do list: what waits for this person, across her co-ops and
roles, then her teams.

`todo_for(viewer)` gathers the items (invitations and hat offers to answer, matches
to answer, offers open to her, visits today, hours to submit or confirm, check-ins
due, votes open, disputes), each with plain words, a due time where there is one,
and a link to the page where she acts. It reads each kind with one query over all
her teams and co-ops, so the page costs the same for one team as for fifty.
Pages behind the links check permissions again, through each domain's predicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.extensions import db
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import ElectorateEntry, Resolution
from careteams.hours import permissions as hours_perm
from careteams.hours.enums import TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.matching import permissions as matching_perm
from careteams.matching.enums import MatchState
from careteams.matching.models import Match, ReviewPrompt, WorkerCheck, WorkerProfile
from careteams.matching.services.checks import SOON_DAYS, needs_renewal
from careteams.members.models import Cooperative, Membership, MembershipStatus
from careteams.members.permissions import can_manage_register, is_facilitator
from careteams.rota import permissions as rota_perm
from careteams.rota.enums import OfferStatus, ShiftStatus
from careteams.rota.models import Offer, Shift
from careteams.teams import rules as team_rules
from careteams.teams.models import Hat, HatStatus, Team, TeamMember, TeamMemberStatus
from careteams.web.day import missed_visit, upcoming_need
from careteams.web.grammar import count_of, plural
from careteams.web.nav import Viewer

DEFAULT_ZONE = "Europe/London"


@dataclass(frozen=True)
class Todo:
    """One thing waiting for the person: what it is, by when, and where to do it."""

    kind: str  # invitation, hat_offer, match, offer, visit, hours_to_submit, hours_to_confirm, ...
    words: str
    url: str
    due: datetime | None = None  # UTC
    zone: str = DEFAULT_ZONE  # the co-op's clock, for saying the due time

    @property
    def due_words(self) -> str | None:
        """The due time on the co-op's clock: "Fri 4 Dec, 14:00"."""
        if self.due is None:
            return None
        local = self.due.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(self.zone))
        return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"

    @property
    def due_iso(self) -> str | None:
        return self.due.replace(tzinfo=ZoneInfo("UTC")).isoformat() if self.due else None


@dataclass(frozen=True)
class TeamLink:
    label: str
    url: str
    rota_url: str | None
    rota_label: str
    money_url: str | None = None  # the team's invoices, for those who may see its money


def _zone(team: Team) -> str:
    return team.timezone or team.cooperative.timezone


def _invitations(viewer: Viewer, now: datetime) -> list[Todo]:
    rows = db.session.scalars(sa.select(TeamMember).where(
        TeamMember.person_id == viewer.person_id, TeamMember.status == TeamMemberStatus.invited)
        .order_by(TeamMember.id)).all()
    return [Todo("invitation", f"{member.team.display_name}'s team invites you to join. Say yes or no.",
                 url_for("teams.my_teams"), zone=_zone(member.team)) for member in rows]


def _hat_offers(viewer: Viewer, now: datetime) -> list[Todo]:
    hats = db.session.scalars(sa.select(Hat).where(
        Hat.person_id == viewer.person_id, Hat.status == HatStatus.offered, Hat.ended_at.is_(None))
        .order_by(Hat.id)).all()
    return [Todo("hat_offer", f"{hat.team.display_name}'s team offers you the hat “{hat.hat_type.name}”. "
                 "Say yes or no.", url_for("teams.my_teams"), hat.expires_at, _zone(hat.team))
            for hat in hats if team_rules.hat_answerable(hat.status, hat.expires_at, now)]


def _matches(viewer: Viewer, now: datetime) -> list[Todo]:
    """Matches waiting for her answer: as the worker (a team invited her) or for a team she answers for."""
    answering = [team.id for team, access in viewer.teams if matching_perm.can_answer_for_team(access)]
    mine = Match.worker_id == viewer.person_id
    theirs = Match.team_id.in_(answering) if answering else sa.false()
    matches = db.session.scalars(sa.select(Match).where(sa.or_(
        sa.and_(mine, Match.state == MatchState.invited),
        sa.and_(theirs, Match.state == MatchState.asked, Match.worker_id != viewer.person_id),
    )).order_by(Match.created_at, Match.id)).all()
    items = []
    for match in matches:
        team = match.vacancy.team
        if match.state == MatchState.invited:
            words = f"{team.display_name}'s team would like you to join. Say yes or no."
        else:
            words = f"{match.worker.name} asks to join {team.display_name}'s team. Say yes or no."
        items.append(Todo("match", words, url_for("matching.match_page", match_id=match.id), zone=_zone(team)))
    return items


def _check_ins(viewer: Viewer, now: datetime) -> list[Todo]:
    """Check-ins after a worker's 3rd and 8th shift that her side has not answered."""
    answering = [team.id for team, access in viewer.teams if matching_perm.can_answer_for_team(access)]
    worker_side = sa.and_(Match.worker_id == viewer.person_id, ReviewPrompt.worker_answer.is_(None))
    team_side = (sa.and_(Match.team_id.in_(answering), Match.worker_id != viewer.person_id,
                         ReviewPrompt.team_answer.is_(None)) if answering else sa.false())
    rows = db.session.execute(sa.select(ReviewPrompt, Match).join(Match, Match.id == ReviewPrompt.match_id).where(
        ReviewPrompt.due_at <= now, Match.state.in_((MatchState.trial, MatchState.active)),
        sa.or_(worker_side, team_side)).order_by(ReviewPrompt.due_at)).all()
    return [Todo("check_in", f"Say how it is going after {count_of(prompt.after_shift, 'shift')} "
                 f"in {match.vacancy.team.display_name}'s team.",
                 url_for("matching.match_page", match_id=match.id), prompt.due_at, _zone(match.vacancy.team))
            for prompt, match in rows]


def _offers(viewer: Viewer, now: datetime) -> list[Todo]:
    """Visits offered to her that she can still take: one item, due at the first offer's end."""
    if not viewer.works_in_a_team:
        return []
    number, first_expiry = db.session.execute(
        sa.select(sa.func.count(Offer.id), sa.func.min(Offer.expires_at)).join(Shift, Shift.id == Offer.shift_id)
        .where(Offer.person_id == viewer.person_id, Offer.status == OfferStatus.open, Offer.code_live,
               Shift.starts_at > now, sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now))).one()
    if not number:
        return []
    return [Todo("offer", f"{count_of(number, 'visit')} offered to you. Take {'it' if number == 1 else 'them'} "
                 "or say no.", url_for("rota.my_offers_page"), first_expiry)]


def _visits_today(viewer: Viewer, now: datetime) -> list[Todo]:
    """Her booked visits that start today (on the team's clock) and have not ended."""
    shifts = db.session.scalars(sa.select(Shift).where(
        Shift.booked_person_id == viewer.person_id, Shift.status == ShiftStatus.booked,
        Shift.ends_at > now, Shift.starts_at < now + timedelta(hours=36))
        .options(selectinload(Shift.team)).order_by(Shift.starts_at)).all()
    items = []
    for shift in shifts:
        zone = ZoneInfo(_zone(shift.team))
        start = shift.starts_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
        if start.date() > now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date():
            continue
        items.append(Todo("visit", f"Visit today at {start:%H:%M} with {shift.team.display_name}'s team.",
                          url_for("rota.my_visit", shift_id=shift.id), shift.starts_at, str(zone)))
    return items


def _hours(viewer: Viewer, now: datetime) -> list[Todo]:
    """Her own hours to submit, changes to her hours to answer, her disputed hours; hours she confirms."""
    counts = dict(db.session.execute(
        sa.select(TimesheetEntry.status, sa.func.count(TimesheetEntry.id)).where(
            TimesheetEntry.person_id == viewer.person_id,
            TimesheetEntry.status.in_((TimesheetStatus.pending, TimesheetStatus.adjustment_proposed,
                                       TimesheetStatus.disputed)))
        .group_by(TimesheetEntry.status)).all())
    my_hours = url_for("hours.my_hours_page")
    items = []
    if counts.get(TimesheetStatus.pending):
        n = counts[TimesheetStatus.pending]
        items.append(Todo("hours_to_submit", f"{count_of(n, 'visit')} of hours to check and submit.", my_hours))
    if counts.get(TimesheetStatus.adjustment_proposed):
        n = counts[TimesheetStatus.adjustment_proposed]
        items.append(Todo("hours_changed", f"{count_of(n, 'change')} to your hours to accept or reject.", my_hours))
    if counts.get(TimesheetStatus.disputed):
        n = counts[TimesheetStatus.disputed]
        items.append(Todo("my_dispute", f"{count_of(n, 'entry', 'entries')} of your hours "
                          f"{plural('is', n)} disputed: a facilitator will settle {'it' if n == 1 else 'them'}.",
                          my_hours))
    checking = [team.id for team, access in viewer.teams if hours_perm.is_checker(access)]
    if checking:
        n = db.session.scalar(sa.select(sa.func.count(TimesheetEntry.id)).where(
            TimesheetEntry.team_id.in_(checking), TimesheetEntry.person_id != viewer.person_id,
            TimesheetEntry.status == TimesheetStatus.submitted))
        if n:
            items.append(Todo("hours_to_confirm", f"{count_of(n, 'entry', 'entries')} of hours to confirm.",
                              url_for("hours.to_confirm_page")))
    return items


def _disputes(viewer: Viewer, now: datetime) -> list[Todo]:
    """Disputed hours to settle, in each co-op where she may (its facilitators)."""
    coops = {c.id: c for c in viewer.cooperatives if is_facilitator(viewer.actor, c.id)}
    if not coops:
        return []
    rows = db.session.execute(sa.select(Team.cooperative_id, sa.func.count(TimesheetEntry.id))
                              .join(Team, Team.id == TimesheetEntry.team_id)
                              .where(Team.cooperative_id.in_(coops), TimesheetEntry.status == TimesheetStatus.disputed,
                                     TimesheetEntry.person_id != viewer.person_id)
                              .group_by(Team.cooperative_id)).all()
    return [Todo("dispute", f"{count_of(n, 'disputed entry', 'disputed entries')} of hours to settle "
                 f"in {coops[coop_id].name}.", url_for("hours.disputes_page", cooperative_id=coop_id),
                 zone=coops[coop_id].timezone) for coop_id, n in rows if n]


def _votes(viewer: Viewer, now: datetime) -> list[Todo]:
    """Open resolutions she may vote on and has not yet."""
    if not viewer.actor.member_of:
        return []
    rows = db.session.execute(
        sa.select(Resolution, Cooperative).join(ElectorateEntry, ElectorateEntry.resolution_id == Resolution.id)
        .join(Membership, Membership.id == ElectorateEntry.membership_id)
        .join(Cooperative, Cooperative.id == Resolution.cooperative_id)
        .where(Membership.person_id == viewer.person_id, ElectorateEntry.has_voted.is_(False),
               Resolution.status == ResolutionStatus.open, Resolution.closes_at > now,
               Resolution.cooperative_id.in_(viewer.actor.member_of))
        .order_by(Resolution.closes_at)).all()
    return [Todo("vote", f"Vote on “{resolution.title}”.",
                 url_for("governance.resolution", slug=coop.slug, resolution_id=resolution.id),
                 resolution.closes_at, coop.timezone) for resolution, coop in rows]


def _day(viewer: Viewer, now: datetime) -> list[Todo]:
    """For the co-op's facilitators and admins: visits that need someone (the first sections of
    the facilitators' day, careteams/web/day.py), counted in one query over her co-ops."""
    coops = {c.id: c for c in viewer.cooperatives if matching_perm.can_view_day(viewer.actor, c.id)}
    if not coops:
        return []
    rows = db.session.execute(sa.select(Team.cooperative_id, sa.func.count(Shift.id))
                              .join(Team, Team.id == Shift.team_id)
                              .where(Team.cooperative_id.in_(coops), sa.or_(upcoming_need(now), missed_visit(now)))
                              .group_by(Team.cooperative_id)).all()
    return [Todo("day", f"{count_of(n, 'visit')} across {coops[coop_id].name}'s teams "
                 f"{plural('needs', n, 'need')} someone: see today's work.",
                 url_for("web.day", slug=coops[coop_id].slug), zone=coops[coop_id].timezone)
            for coop_id, n in rows if n]


def _checks(viewer: Viewer, now: datetime) -> list[Todo]:
    """For the co-op's facilitators: current worker checks expired or expiring within 30 days,
    counted in one query over her co-ops (matching.services.checks says which count)."""
    coops = {c.id: c for c in viewer.cooperatives if matching_perm.can_record_checks(viewer.actor, c.id)}
    if not coops:
        return []
    today = now.date()  # UTC: the day of the co-op's clock but for an hour or two around midnight
    rows = db.session.execute(sa.select(WorkerProfile.cooperative_id, sa.func.count(WorkerCheck.id))
                              .join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
                              .where(WorkerProfile.cooperative_id.in_(coops), needs_renewal(today))
                              .group_by(WorkerProfile.cooperative_id)).all()
    return [Todo("checks", f"{count_of(n, 'worker check')} in {coops[coop_id].name} "
                 f"{plural('has', n, 'have')} expired or {plural('expires', n, 'expire')} within {SOON_DAYS} days.",
                 url_for("matching.checks", slug=coops[coop_id].slug), zone=coops[coop_id].timezone)
            for coop_id, n in rows if n]


def _applications(viewer: Viewer, now: datetime) -> list[Todo]:
    """For those who keep the register (the secretary, admins): applications waiting to be
    admitted, counted in one query over her co-ops."""
    coops = {c.id: c for c in viewer.cooperatives if can_manage_register(viewer.actor, c.id)}
    if not coops:
        return []
    rows = db.session.execute(sa.select(Membership.cooperative_id, sa.func.count(Membership.id))
                              .where(Membership.cooperative_id.in_(coops),
                                     Membership.status == MembershipStatus.applicant)
                              .group_by(Membership.cooperative_id)).all()
    return [Todo("applications", f"{count_of(n, 'application')} waiting to join {coops[coop_id].name}: "
                 "see the register to admit.",
                 url_for("governance.register", slug=coops[coop_id].slug, status="applicant"),
                 zone=coops[coop_id].timezone) for coop_id, n in rows if n]


GATHERERS = (_invitations, _hat_offers, _matches, _offers, _visits_today, _hours, _check_ins, _votes, _disputes,
             _day, _checks, _applications)


def todo_for(viewer: Viewer, now: datetime | None = None) -> list[Todo]:
    """Everything waiting for this person, in the order of the list above (each kind by due time)."""
    now = now or utcnow()
    return [item for gather in GATHERERS for item in gather(viewer, now)]


def team_links(viewer: Viewer) -> list[TeamLink]:
    """Her teams, each with its rota when the rota's rule lets her see it."""
    return [TeamLink("My team" if access.is_leader else f"{team.display_name}'s team",
                     url_for("teams.team_page", team_id=team.id),
                     url_for("rota.rota_page", team_id=team.id) if rota_perm.can_view_rota(access) else None,
                     "My team's rota" if access.is_leader else f"{team.display_name}'s rota",
                     url_for("hours.team_money_page", team_id=team.id)
                     if hours_perm.can_see_team_money(access) else None)
            for team, access in viewer.teams]
