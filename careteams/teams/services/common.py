"""Helpers shared by the team use cases: field errors, the team's own date,
finding or inviting a person, and short notes telling someone a thing waits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from careteams import notify
from careteams.auth import services as auth_services
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.members import services as members
from careteams.members.models import ContactChannel, Person
from careteams.members.permissions import Actor
from careteams.teams.models import Team, TeamMember


def local_today(team: Team, now: datetime) -> date:
    return now.astimezone(ZoneInfo(team.zone)).date()


def field_error(name: str, message: str) -> ValidationError:
    return ValidationError(details={"fields": {name: [message]}})


def _within_reach(team: Team, person_id: int) -> Person | None:
    """The person, if the team's co-op may name them: someone tied to this co-op (the
    register, a staff role, a team of the co-op) or an account tied to no co-op yet (just
    invited). Someone of another co-op is treated exactly like an id that does not exist."""
    person = db.session.get(Person, person_id)
    if person is None:
        return None
    if members.person_in_reach(team.cooperative_id, person.id):
        return person
    in_a_team_here = db.session.scalar(sa.select(Team.id).where(
        Team.cooperative_id == team.cooperative_id,
        sa.or_(Team.leader_id == person.id,
               Team.id.in_(sa.select(TeamMember.team_id).where(TeamMember.person_id == person.id)))).limit(1))
    return person if in_a_team_here is not None else None


def find_or_invite_person(actor: Actor, team: Team, data: dict) -> Person:
    """The person named by id, email or phone; a new account (with a link to set a
    password) when nobody has that email or phone yet.

    The answer is the same whether or not an account exists (issue 14): an id of
    another co-op is "No such person." like an id that does not exist; when both an
    email and a phone are given the email decides and the phone is only kept for a new
    account nobody else has it for (never a 409 that would reveal two accounts); a new
    account without a name given is named from the email (or "New member") until its
    owner sets their own."""
    if data.get("person_id"):
        person = _within_reach(team, data["person_id"])
        if person is None:
            raise field_error("person_id", "No such person.")
        return person
    email, phone = data.get("email"), data.get("phone")
    if not email and not phone:
        raise field_error("email", "Give an email address or a mobile number.")
    lookup = Person.email == email if email else Person.phone == phone
    found = db.session.scalar(sa.select(Person).where(lookup))
    if found is not None:
        return found
    if email and phone and db.session.scalar(sa.select(Person.id).where(Person.phone == phone)) is not None:
        phone = None  # somebody else has that number: the new account goes without it, silently
    name = (data.get("name") or "").strip() or (email.split("@")[0] if email else "New member")
    person = members.create_person(name, email, phone,
                                   preferred_channel=ContactChannel.email if email else ContactChannel.sms)
    inviter = db.session.get(Person, actor.person_id)
    auth_services.send_invitation(person, inviter, team.cooperative.name, from_number=team.cooperative.sms_number)
    return person


def tell(person: Person, team: Team, subject: str, text: str) -> None:
    """A short note that something is waiting; no team or health details in it."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        url = url_for("teams.my_teams", _external=True)
    else:  # the CLI (demo seed) has no host to link to
        url = "/teams"
    # The way the person chose on My account (text, email, or web only).
    notify.tell(person, f"{text} {url}", subject=subject, email_body=f"Hello {person.first_name},\n\n{text}\n\n{url}\n",
                from_number=team.cooperative.sms_number, link=url)

