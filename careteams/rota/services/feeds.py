"""Private calendar feeds: creating and revoking their URLs, and what each one shows."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.members.services import actor_for
from careteams.rota import ical
from careteams.rota import permissions as perm
from careteams.rota.models import CalendarFeed, Shift, ShiftStatus
from careteams.rota.services.common import ShiftView, team_with_access
from careteams.teams.models import Team
from careteams.teams.services.access import team_access


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(actor: Actor, team_id: int | None = None) -> tuple[CalendarFeed, str]:
    """A private calendar URL token: your booked shifts, or (circle) a team's rota. Shown once."""
    if team_id is not None:
        _, access = team_with_access(actor, team_id)
        ensure(perm.can_have_team_feed(access))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(person_id=actor.person_id, team_id=team_id, token_hash=_digest(token))
    db.session.add(feed)
    db.session.flush()
    return feed, token


def my_feeds(person: Person) -> list[tuple[CalendarFeed, str]]:
    """Her calendar feeds still working, oldest first, each with what it shows."""
    feeds = db.session.scalars(sa.select(CalendarFeed).where(
        CalendarFeed.person_id == person.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at, CalendarFeed.id)).all()
    teams = {t.id: t for t in db.session.scalars(sa.select(Team).where(Team.id.in_({f.team_id for f in feeds if f.team_id})))}
    return [(f, f"{teams[f.team_id].display_name}'s rota" if f.team_id in teams else "My shifts") for f in feeds]


def revoke_feed(person: Person, feed_id: int, now: datetime | None = None) -> None:
    """Stop a calendar URL working."""
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or feed.person_id != person.id:
        raise NotFound("No such calendar feed.")
    feed.revoked_at = feed.revoked_at or now or utcnow()
    db.session.flush()


def feed_events(token: str, now: datetime | None = None) -> tuple[str, list[ShiftView]]:
    """The feed's name and its shifts (from four weeks ago); 404 for a revoked or unknown
    token, or a circle member who has since lost their place."""
    now = now or utcnow()
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token),
                                                           CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        raise NotFound("No such calendar.")
    since = now - timedelta(weeks=4)
    person = db.session.get(Person, feed.person_id)
    if person is None or not person.active:
        raise NotFound("No such calendar.")
    if feed.team_id is None:
        shifts = db.session.scalars(sa.select(Shift).options(selectinload(Shift.team)).where(
            Shift.booked_person_id == person.id, Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed)),
            Shift.ends_at > since).order_by(Shift.starts_at)).all()
        return "My shifts", [ShiftView(s, s.team.zone, team_name=s.team.display_name) for s in shifts]
    team = db.session.get(Team, feed.team_id)

    if team is None or not perm.can_have_team_feed(team_access(actor_for(person), team, now)):
        raise NotFound("No such calendar.")
    shifts = db.session.scalars(sa.select(Shift).options(selectinload(Shift.booked_person)).where(
        Shift.team_id == team.id, Shift.status != ShiftStatus.cancelled, Shift.ends_at > since)
        .order_by(Shift.starts_at)).all()
    return f"{team.display_name}'s rota", [ShiftView(s, team.zone, team_name=team.display_name) for s in shifts]


def feed_calendar(token: str, host: str, now: datetime | None = None) -> str:
    """The feed as iCalendar text: times and who, never the kind of care (404 as feed_events)."""
    name, shifts = feed_events(token, now)
    events = [{"uid": f"shift-{s.id}", "start": s.starts_at, "end": s.ends_at,
               "summary": (f"Shift with {s.team_name}'s team" if name == "My shifts"
                           else f"Visit: {s.booked_person_name or 'not yet booked'}"),
               "status": "CONFIRMED" if s.booked_person_id else "TENTATIVE"} for s in shifts]
    return ical.calendar(name, events, host=host)
