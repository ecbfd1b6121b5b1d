"""Use-cases for co-ops, people, the register and staff roles. Services flush; the
caller (view, job, CLI command) commits once."""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members import permissions as perm
from careteams.members import rules
from careteams.members.enums import ContactChannel
from careteams.members.models import (
    Cooperative,
    MemberClass,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Person,
    StaffRole,
    StaffRoleName,
)
from careteams.members.permissions import Actor
from careteams.members.signals import contact_changed_by_admin, person_deactivated

log = logging.getLogger(__name__)


def actor_for(person: Person) -> Actor:
    """The person with their staff roles and active memberships (one query each)."""
    roles = db.session.execute(
        sa.select(StaffRole.cooperative_id, StaffRole.role).where(StaffRole.person_id == person.id)
    ).all()
    member_of = db.session.scalars(
        sa.select(Membership.cooperative_id).where(
            Membership.person_id == person.id, Membership.status == MembershipStatus.active
        )
    ).all()
    return Actor(
        person_id=person.id,
        staff_roles=frozenset((c, r.value) for c, r in roles),
        member_of=frozenset(member_of),
    )


def get_cooperative(slug: str) -> Cooperative:
    coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == slug))
    if coop is None:
        raise NotFound("No such co-operative.")
    return coop


def get_visible_cooperative(actor: Actor, slug: str) -> Cooperative:
    """A co-op the actor belongs to or works for; any other is simply not found."""
    coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == slug))
    if coop is None or not perm.can_view_cooperative(actor, coop.id):
        raise NotFound("No such co-operative.")
    return coop


def cooperative_for_number(number: str) -> Cooperative | None:
    """The co-op that texts from `number` (routes inbound SMS)."""
    return db.session.scalar(sa.select(Cooperative).where(Cooperative.sms_number == number))


def create_cooperative(name: str, slug: str, timezone: str | None = None, sms_number: str | None = None) -> Cooperative:
    """A new co-op (deployment operators only: the CLI and the demo)."""
    if db.session.scalar(sa.select(Cooperative.id).where(Cooperative.slug == slug)):
        raise Conflict("A co-operative with that short name already exists.", details={"fields": {"slug": ["Already taken."]}})
    coop = Cooperative(name=name, slug=slug, timezone=timezone or current_app.config["TIMEZONE"], sms_number=sms_number)
    db.session.add(coop)
    db.session.flush()
    return coop


def update_cooperative_settings(actor: Actor, coop: Cooperative, changes: dict) -> Cooperative:
    """Change a co-op's rules settings (admins)."""
    ensure(perm.can_edit_cooperative_settings(actor, coop.id))
    num = changes.get("investor_cap_num", coop.investor_cap_num)
    den = changes.get("investor_cap_den", coop.investor_cap_den)
    if not 0 <= num < den:
        raise ValidationError(details={"fields": {"investor_cap_num": ["The investor cap must be a fraction below 1."]}})
    if "sms_number" in changes and changes["sms_number"]:
        other = cooperative_for_number(changes["sms_number"])
        if other is not None and other.id != coop.id:
            raise Conflict("Another co-operative already texts from that number.", details={"fields": {"sms_number": ["Already in use."]}})
    for key, value in changes.items():
        setattr(coop, key, value)
    db.session.flush()
    return coop


# --- people -------------------------------------------------------------------


def _ensure_contact_free(email: str | None, phone: str | None, exclude_id: int | None = None) -> None:
    clauses = []
    if email:
        clauses.append(Person.email == email)
    if phone:
        clauses.append(Person.phone == phone)
    if not clauses:
        return
    query = sa.select(Person.email, Person.phone).where(sa.or_(*clauses))
    if exclude_id is not None:
        query = query.where(Person.id != exclude_id)
    fields: dict[str, list[str]] = {}
    for other_email, other_phone in db.session.execute(query):
        if email and other_email == email:
            fields["email"] = ["Somebody already has an account with this email address."]
        if phone and other_phone == phone:
            fields["phone"] = ["Somebody already has an account with this phone number."]
    if fields:
        raise Conflict("Somebody already has an account with those details.", code="duplicate_person", details={"fields": fields})


def create_person(name: str, email: str | None = None, phone: str | None = None, **extra) -> Person:
    """A new account (no password yet). Email and phone must already be normalised."""
    _ensure_contact_free(email, phone)
    person = Person(name=name, email=email, phone=phone, **extra)
    db.session.add(person)
    db.session.flush()
    return person


def get_person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    return person


def people_named(person_ids: list[int]) -> list[Person]:
    """These people, in one query (for lists that show names)."""
    if not person_ids:
        return []
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(set(person_ids)))))


def person_in_reach(cooperative_id: int, person_id: int) -> bool:
    """Whether a co-op may name this person: they are on its register or staff, or on
    no co-op's register or staff at all yet (an account just invited). Someone who
    belongs only to other co-ops is out of reach (issue 14: indistinguishable from an
    id that does not exist)."""
    tied = {row for row in db.session.scalars(
        sa.select(Membership.cooperative_id).where(Membership.person_id == person_id)
        .union(sa.select(StaffRole.cooperative_id).where(StaffRole.person_id == person_id)))}
    return not tied or cooperative_id in tied


def get_person_in(coop: Cooperative, person_id: int) -> Person:
    """A person the co-op may name; 404 alike for no such id and for someone of another co-op."""
    person = db.session.get(Person, person_id)
    if person is None or not person_in_reach(coop.id, person.id):
        raise NotFound("No such person.")
    return person


def _tied_elsewhere(cooperative_id: int, person_id: int) -> bool:
    """Whether the person is on another co-op's register or staff, leads one of its teams or
    has a place in one (any status: history included)."""
    other_team = sa.select(_team.c.id).where(_team.c.cooperative_id != cooperative_id)
    return db.session.scalar(sa.select(sa.or_(
        sa.exists().where(Membership.person_id == person_id, Membership.cooperative_id != cooperative_id),
        sa.exists().where(StaffRole.person_id == person_id, StaffRole.cooperative_id != cooperative_id),
        sa.exists().where(_team.c.leader_id == person_id, _team.c.cooperative_id != cooperative_id),
        sa.exists().where(_team_member.c.person_id == person_id, _team_member.c.team_id.in_(other_team))))) or False


PEOPLE_PAGE = 50  # people shown at once on the list; "show more" asks for the next

# Team people are teams', invitations auth's (both build on members): named here as
# bare tables so members imports neither. Only the columns the list needs.
_team = sa.table("team", sa.column("id"), sa.column("cooperative_id"), sa.column("leader_id"))
_team_member = sa.table("team_member", sa.column("team_id"), sa.column("person_id"))
_link = sa.table("one_time_link", sa.column("person_id"), sa.column("purpose"), sa.column("created_by_id"))


def _people_of(cooperative_id: int) -> sa.Select:
    """Ids of the co-op's people: its register (any status), its staff, the people of its
    teams, and those its staff invited who are in no co-op's register or staff yet."""
    staff = sa.select(StaffRole.person_id).where(StaffRole.cooperative_id == cooperative_id)
    tied = sa.union(sa.select(Membership.person_id), sa.select(StaffRole.person_id))
    return sa.union(
        sa.select(Membership.person_id).where(Membership.cooperative_id == cooperative_id),
        staff,
        sa.select(_team_member.c.person_id).join(_team, _team.c.id == _team_member.c.team_id)
        .where(_team.c.cooperative_id == cooperative_id),
        sa.select(_link.c.person_id).where(_link.c.purpose == "invite", _link.c.created_by_id.in_(staff),
                                           _link.c.person_id.not_in(tied)),
    )


def list_people(actor: Actor, coop: Cooperative, search: str | None = None, limit: int = PEOPLE_PAGE,
                offset: int = 0) -> tuple[list[Person], bool]:
    """The co-op's people by name (one query whatever their number), optionally those whose
    name contains `search`; and whether there are more after these."""
    ensure(perm.can_view_people(actor, coop.id))
    query = sa.select(Person).where(Person.id.in_(_people_of(coop.id)))
    search = (search or "").strip()
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Person.name.ilike(f"%{escaped}%", escape="\\"))
    rows = list(db.session.scalars(query.order_by(sa.func.lower(Person.name), Person.id).offset(offset).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def view_person(actor: Actor, coop: Cooperative, person_id: int) -> tuple[Person, list[Membership], list[StaffRole]]:
    """A person of the co-op's reach, with their place in its register and their roles in it."""
    ensure(perm.can_view_people(actor, coop.id))
    person = get_person_in(coop, person_id)
    memberships = list(db.session.scalars(sa.select(Membership).where(
        Membership.cooperative_id == coop.id, Membership.person_id == person.id)))
    roles = list(db.session.scalars(sa.select(StaffRole).where(
        StaffRole.cooperative_id == coop.id, StaffRole.person_id == person.id).order_by(StaffRole.role)))
    return person, memberships, roles


def update_person(actor: Actor, coop: Cooperative, person_id: int, changes: dict) -> Person:
    """An admin changes someone's name, email or mobile, or switches their account off or on.

    A new email or mobile must be nobody else's; the OLD address is told (as when the
    person changes it on My account). Switching off ends every login session and API
    token of theirs (auth, through members.signals); nothing is deleted, and switching
    on again restores the account as it was (they sign in again)."""
    ensure(perm.can_edit_person(actor, coop.id))
    person = get_person_in(coop, person_id)
    if _tied_elsewhere(coop.id, person.id):
        # An admin of one co-op must never take over (by changing the address a reset goes
        # to) or lock out someone another co-op relies on, such as a circle member of its team.
        raise Conflict("This person also belongs to another co-op: they change their own details on My account.",
                       code="belongs_elsewhere")
    if "active" in changes and changes["active"] != person.active:
        ensure(perm.can_deactivate_person(actor, coop.id, person.id))
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ValidationError(details={"fields": {"name": ["Enter a name."]}})
        changes = {**changes, "name": name}
    email = changes["email"] if "email" in changes else person.email
    phone = changes["phone"] if "phone" in changes else person.phone
    if not email and not phone:
        raise ValidationError(details={"fields": {"email": ["Give an email address or a mobile number."]}})
    _ensure_contact_free(email if email != person.email else None, phone if phone != person.phone else None,
                         exclude_id=person.id)
    old = {"email": person.email, "phone": person.phone}
    was_active = person.active
    if "name" in changes:
        person.name = changes["name"]
    person.email, person.phone = email, phone
    if not phone and person.preferred_channel == ContactChannel.sms:
        person.preferred_channel = ContactChannel.email  # no mobile left to text
    if not email and phone and person.preferred_channel == ContactChannel.email:
        person.preferred_channel = ContactChannel.sms
    if "active" in changes:
        person.active = changes["active"]
    db.session.flush()
    for kind in ("email", "phone"):
        if old[kind] != getattr(person, kind):
            contact_changed_by_admin.send(person, kind=kind, old=old[kind], new=getattr(person, kind), cooperative=coop)
            log.info("person %s: %s changed by person %s (co-op %s)", person.id, kind, actor.person_id, coop.id)
    if was_active and not person.active:
        person_deactivated.send(person, cooperative=coop, by_person_id=actor.person_id)
        log.info("person %s deactivated by person %s (co-op %s)", person.id, actor.person_id, coop.id)
    elif person.active and not was_active:
        log.info("person %s reactivated by person %s (co-op %s)", person.id, actor.person_id, coop.id)
    db.session.flush()
    return person


# --- the register -------------------------------------------------------------


def list_memberships(actor: Actor, coop: Cooperative, status: MembershipStatus | None = None) -> list[Membership]:
    """The register (the secretary, admins), optionally only one status."""
    ensure(perm.can_view_register(actor, coop.id))
    query = sa.select(Membership).where(Membership.cooperative_id == coop.id)
    if status is not None:
        query = query.where(Membership.status == status)
    return list(db.session.scalars(query.order_by(Membership.id)))


def add_membership(actor: Actor | None, coop: Cooperative, person: Person, member_class: MemberClass,
                   status: MembershipStatus = MembershipStatus.applicant, share_pence: int = 100,
                   joined_on: date | None = None) -> Membership:
    """Enter a person in the register (the secretary; actor None for the CLI and demo)."""
    if actor is not None:
        ensure(perm.can_manage_register(actor, coop.id))
    existing = db.session.scalar(
        sa.select(Membership).where(Membership.cooperative_id == coop.id, Membership.person_id == person.id)
    )
    if existing is not None:
        raise Conflict("This person is already in the register; change their membership instead.", code="already_member",
                       details={"fields": {"person_id": ["This person is already in the register."]}})
    membership = Membership(
        cooperative_id=coop.id, person_id=person.id, member_class=member_class, status=status, share_pence=share_pence,
        joined_on=joined_on or (date.today() if status == MembershipStatus.active else None),  # noqa: DTZ011
    )
    db.session.add(membership)
    db.session.flush()
    _record(membership, actor, "entered in the register")
    return membership


def register_member(actor: Actor, coop: Cooperative, data: dict) -> Membership:
    """The secretary enters an existing person in the register."""
    ensure(perm.can_manage_register(actor, coop.id))
    return add_membership(actor, coop, get_person_in(coop, data["person_id"]), data["member_class"],
                          data["status"], data["share_pence"])


def get_membership(actor: Actor, coop: Cooperative, membership_id: int) -> Membership:
    """One membership of the co-op's register (the secretary, admins); 404 for another co-op's."""
    ensure(perm.can_view_register(actor, coop.id))
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.cooperative_id != coop.id:
        raise NotFound("No such membership.")
    return membership


def coop_today(coop: Cooperative) -> date:
    """Today on the co-op's clock."""
    return utcnow().astimezone(ZoneInfo(coop.timezone)).date()


def change_membership(actor: Actor, coop: Cooperative, membership_id: int, changes: dict) -> Membership:
    """Change a member's class, status (admit, leave, rejoin) or share amount; the history keeps every step.

    Steps members.rules does not allow (admitting twice, an applicant leaving, back to
    applicant) are refused as a conflict (409); impossible dates (ahead of today on the
    co-op's clock, leaving before joining) as invalid (422)."""
    ensure(perm.can_manage_register(actor, coop.id))
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.cooperative_id != coop.id:
        raise NotFound("No such membership.")
    new_class = changes.get("member_class", membership.member_class)
    new_status = changes.get("status", membership.status)
    new_share = changes.get("share_pence", membership.share_pence)
    refusal = rules.status_step_refusal(membership.status, new_status) if "status" in changes else None
    if refusal:
        raise Conflict(refusal, code="membership_step", details={"fields": {"status": [refusal]}})
    if new_class == membership.member_class and new_status == membership.status and new_share == membership.share_pence:
        return membership
    today = coop_today(coop)
    if new_status != membership.status and new_status == MembershipStatus.active:
        joined_on = changes.get("joined_on") or today
        problem = rules.joining_date_refusal(joined_on, today, coop.founded_on, membership.left_on)
        if problem:
            raise ValidationError(problem, details={"fields": {"joined_on": [problem]}})
        membership.joined_on = joined_on
        membership.left_on = None
    if new_status != membership.status and new_status == MembershipStatus.left:
        left_on = changes.get("left_on") or today
        problem = rules.leaving_date_refusal(left_on, membership.joined_on, today)
        if problem:
            raise ValidationError(problem, details={"fields": {"left_on": [problem]}})
        membership.left_on = left_on
    notes = [changes["note"]] if changes.get("note") else []
    if new_share != membership.share_pence:
        notes.insert(0, f"share {rules.format_pounds(membership.share_pence)} to {rules.format_pounds(new_share)}")
        membership.share_pence = new_share
    membership.member_class = new_class
    membership.status = new_status
    db.session.flush()
    _record(membership, actor, "; ".join(notes)[:500] or None)
    return membership


def membership_history(actor: Actor, coop: Cooperative, membership_id: int) -> list[MembershipEvent]:
    ensure(perm.can_view_register(actor, coop.id))
    return list(db.session.scalars(
        sa.select(MembershipEvent).join(Membership).where(
            MembershipEvent.membership_id == membership_id, Membership.cooperative_id == coop.id
        ).order_by(MembershipEvent.id)
    ))


def _record(membership: Membership, actor: Actor | None, note: str | None) -> None:
    db.session.add(MembershipEvent(
        membership_id=membership.id, by_person_id=actor.person_id if actor else None,
        member_class=membership.member_class, status=membership.status, note=note,
    ))
    db.session.flush()


# --- staff roles --------------------------------------------------------------


def list_staff(actor: Actor, coop: Cooperative) -> list[StaffRole]:
    ensure(perm.can_view_cooperative(actor, coop.id), not_found=True)
    return list(db.session.scalars(
        sa.select(StaffRole).where(StaffRole.cooperative_id == coop.id).order_by(StaffRole.id)
    ))


def grant_staff_role(actor: Actor | None, coop: Cooperative, person: Person, role: StaffRoleName) -> StaffRole:
    """Make someone a facilitator, secretary or admin of a co-op (admins; None = CLI/demo)."""
    if actor is not None:
        ensure(perm.can_manage_staff_roles(actor, coop.id))
    existing = db.session.scalar(sa.select(StaffRole).where(
        StaffRole.cooperative_id == coop.id, StaffRole.person_id == person.id, StaffRole.role == role))
    if existing is not None:
        raise Conflict("This person already has that role.", code="already_granted")
    staff_role = StaffRole(cooperative_id=coop.id, person_id=person.id, role=role)
    db.session.add(staff_role)
    db.session.flush()
    return staff_role


def revoke_staff_role(actor: Actor, coop: Cooperative, staff_role_id: int) -> None:
    ensure(perm.can_manage_staff_roles(actor, coop.id))
    staff_role = db.session.get(StaffRole, staff_role_id)
    if staff_role is None or staff_role.cooperative_id != coop.id:
        raise NotFound("No such staff role.")
    if staff_role.role == StaffRoleName.admin:
        remaining = db.session.scalar(sa.select(sa.func.count()).select_from(StaffRole).where(
            StaffRole.cooperative_id == coop.id, StaffRole.role == StaffRoleName.admin))
        if remaining <= 1:
            raise Conflict("This is the co-operative's last admin role. Make someone else an admin first, "
                           "then take this one back.", code="last_admin")
    db.session.delete(staff_role)
    db.session.flush()
