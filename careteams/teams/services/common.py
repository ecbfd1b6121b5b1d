"""Helpers shared by the team use cases: field errors, the team's own date,
finding or inviting a person, and short notes telling someone a thing waits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from careteams import notify
from careteams.auth import services as auth_services
from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.members import services as members
from careteams.members.models import ContactChannel, Person
from careteams.members.permissions import Actor
from careteams.teams.models import Team


def local_today(team: Team, now: datetime) -> date:
    return now.astimezone(ZoneInfo(team.zone)).date()


def field_error(name: str, message: str) -> ValidationError:
    return ValidationError(details={"fields": {name: [message]}})


def find_or_invite_person(actor: Actor, team: Team, data: dict) -> Person:
    """The person named by id, email or phone; a new account (with a link to set a
    password) when nobody has that email or phone yet."""
    if data.get("person_id"):
        person = db.session.get(Person, data["person_id"])
        if person is None:
            raise field_error("person_id", "No such person.")
        return person
    email, phone = data.get("email"), data.get("phone")
    if not email and not phone:
        raise field_error("email", "Give an email address or a mobile number.")
    clauses = [c for c in (Person.email == email if email else None, Person.phone == phone if phone else None) if c is not None]
    found = db.session.scalars(sa.select(Person).where(sa.or_(*clauses))).all()
    if len(found) > 1:
        raise Conflict("That email address and phone number belong to two different people.",
                       details={"fields": {"email": ["Give only one of email or phone."]}})
    if found:
        return found[0]
    if not (data.get("name") or "").strip():
        raise field_error("name", "Enter the person's name: they do not have an account yet.")
    person = members.create_person(data["name"].strip(), email, phone,
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
    if person.preferred_channel == ContactChannel.sms and person.phone:
        notify.queue(notify.Text(to=person.phone, body=f"{text} {url}", from_number=team.cooperative.sms_number))
    elif person.email:
        notify.queue(notify.Email(to=person.email, subject=subject, body=f"Hello {person.first_name},\n\n{text}\n\n{url}\n"))

