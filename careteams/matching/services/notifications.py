"""Notifications about matches: recorded for the web, sent by each person's channel."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams import notify
from careteams.db import utcnow
from careteams.errors import NotFound
from careteams.extensions import db
from careteams.matching.models import Match, Notification, Side
from careteams.members.models import Cooperative, Person, StaffRole, StaffRoleName
from careteams.members.permissions import Actor
from careteams.members.rules import Reach, reach_by
from careteams.teams.models import Hat, HatStatus, Team
from careteams.teams.permissions import TeamPermission


def notify_person(person_id: int, body: str, match: Match | None = None, cooperative_id: int | None = None) -> None:
    """Record a notification for the web and send it by the person's channel."""
    # The text never says anything about anybody's health or plan.
    db.session.add(Notification(person_id=person_id, match_id=match.id if match else None,
                                vacancy_id=match.vacancy_id if match else None, body=body))
    person = db.session.get(Person, person_id)
    if person is None or not person.active:
        return
    coop_id = match.cooperative_id if match else cooperative_id
    # As the person chose on My account; "web only": the Notification row above is what they read.
    how = reach_by(person)
    if how == Reach.text:
        coop = db.session.get(Cooperative, coop_id) if coop_id else None
        notify.queue(notify.Text(to=person.phone, body=body, from_number=coop.sms_number if coop else None))
    elif how == Reach.email:
        notify.queue(notify.Email(to=person.email, subject="careteams: news about a match", body=body))


def _team_side_people(team: Team, now: datetime | None = None) -> set[int]:
    now = now or utcnow()
    people = {team.leader_id}
    for hat in db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)):
        if hat.in_force(now) and TeamPermission.answer_matches.value in hat.hat_type.permissions:
            people.add(hat.person_id)
    return people


def notify_worker(match: Match, body: str) -> None:
    notify_person(match.worker_id, body, match)


def notify_team(match: Match, body: str) -> None:
    for person_id in sorted(_team_side_people(match.vacancy.team)):
        notify_person(person_id, body, match)


def notify_both(match: Match, body: str) -> None:
    notify_worker(match, body)
    notify_team(match, body)


def notify_other(match: Match, side: Side, body: str) -> None:
    if side == Side.worker:
        notify_team(match, body)
    elif side == Side.team:
        notify_worker(match, body)


def notify_facilitators(match: Match, body: str) -> None:
    for person_id in db.session.scalars(sa.select(StaffRole.person_id).where(
            StaffRole.cooperative_id == match.cooperative_id, StaffRole.role == StaffRoleName.facilitator)):
        notify_person(person_id, body, match)


def list_notifications(actor: Actor, limit: int = 50) -> list[Notification]:
    """The actor's own matching notifications, newest first."""
    return list(db.session.scalars(sa.select(Notification).where(Notification.person_id == actor.person_id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_notification_read(actor: Actor, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of the actor's notifications read."""
    found = db.session.get(Notification, notification_id)
    if found is None or found.person_id != actor.person_id:
        raise NotFound("No such notification.")
    found.read_at = found.read_at or now or utcnow()
    db.session.flush()
    return found
