"""Use-cases for teams. Services flush; the caller commits once.

`team_access` is the one place that works out what a person is to a team; every
domain that touches a team (matching, rota, hours, SMS) asks it, then decides
with the predicates in teams.permissions.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members import permissions as member_perm
from careteams.members.models import (
    ContactChannel,
    Cooperative,
    MemberClass,
    Membership,
    MembershipStatus,
    Person,
)
from careteams.members.permissions import Actor, is_facilitator
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import (
    Arranger,
    AuditEntry,
    Hat,
    HatStatus,
    HatType,
    PlanSuggestion,
    SuggestionStatus,
    SupportPlanVersion,
    Team,
    TeamMember,
    TeamMemberStatus,
    TeamPrivateDetails,
    TeamRole,
)
from careteams.teams.permissions import TeamAccess, TeamPermission, can_see_team
from careteams.teams.signals import team_member_ended

CURRENT_MEMBER_STATUSES = (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)


def team_access(actor: Actor, team: Team, now: datetime | None = None) -> TeamAccess:
    """What `actor` is to `team`: leader, facilitator, arranger, hats in force, place."""
    now = now or utcnow()
    hats = db.session.scalars(
        sa.select(Hat).where(Hat.team_id == team.id, Hat.person_id == actor.person_id, Hat.status == HatStatus.accepted)
    ).all()
    in_force = [hat for hat in hats if hat.in_force(now)]
    permissions = frozenset(p for hat in in_force for p in hat.hat_type.permissions)
    arranger = db.session.scalar(
        sa.select(Arranger.id).where(
            Arranger.team_id == team.id, Arranger.person_id == actor.person_id, Arranger.ended_at.is_(None)
        )
    )
    status = db.session.scalar(
        sa.select(TeamMember.status).where(
            TeamMember.team_id == team.id, TeamMember.person_id == actor.person_id,
            TeamMember.status.in_(CURRENT_MEMBER_STATUSES),
        )
    )
    return TeamAccess(
        person_id=actor.person_id,
        team_id=team.id,
        is_leader=team.leader_id == actor.person_id,
        is_facilitator=is_facilitator(actor, team.cooperative_id),
        is_arranger=arranger is not None,
        hat_permissions=permissions,
        member_status=status,
        hat_grants=frozenset((p, hat.hat_type.name) for hat in in_force for p in hat.hat_type.permissions),
    )


def get_visible_team(actor: Actor, team_id: int) -> tuple[Team, TeamAccess]:
    """The team and the actor's access to it; 404 for anyone it is private from."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("No such team.")
    access = team_access(actor, team)
    if not can_see_team(access):
        raise NotFound("No such team.")
    return team, access


# ---------------------------------------------------------------------------
# Everything below: the team use-cases. Each loads, asks a predicate through
# ensure(), applies rules, mutates, writes the audit log and flushes.
# ---------------------------------------------------------------------------

def _today(team: Team, now: datetime) -> date:
    return now.astimezone(ZoneInfo(team.zone)).date()


def _field_error(name: str, message: str) -> ValidationError:
    return ValidationError(details={"fields": {name: [message]}})


# --- the audit log ------------------------------------------------------------


def record(team: Team, access: TeamAccess | None, action: str, subject: str, *,
           before: dict | None = None, after: dict | None = None,
           permission: TeamPermission | None = None, behalf: str | None = None,
           now: datetime | None = None) -> AuditEntry:
    """Append one entry to the team's audit log (no plan or health content in it)."""
    entry = AuditEntry(
        team_id=team.id, at=now or utcnow(), actor_id=access.person_id if access else None,
        on_behalf=behalf or (perm.on_behalf(access, permission) if access else "system"),
        action=action, subject=subject, before=before, after=after,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def team_history(actor: Actor, team_id: int) -> list[AuditEntry]:
    """The team's audit log, oldest first (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_audit(access))
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.team_id == team.id).order_by(AuditEntry.at, AuditEntry.id)
    ))


# --- hat types ----------------------------------------------------------------


def ensure_default_hat_types(coop: Cooperative) -> list[HatType]:
    """Give a co-op the four default hats, once (the demo and co-op creation call it)."""
    existing = {h.name: h for h in db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == coop.id))}
    made = []
    for name, description, permissions in rules.DEFAULT_HAT_TYPES:
        if name in existing:
            made.append(existing[name])
            continue
        hat_type = HatType(cooperative_id=coop.id, name=name, description=description,
                           permissions=sorted(p.value for p in permissions))
        db.session.add(hat_type)
        made.append(hat_type)
    db.session.flush()
    return made


def list_hat_types(actor: Actor, coop: Cooperative) -> list[HatType]:
    """The co-op's hat types (anyone who belongs to or works for the co-op)."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    return list(db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == coop.id).order_by(HatType.id)))


def create_hat_type(actor: Actor, coop: Cooperative, data: dict) -> HatType:
    """A co-op admin defines another kind of hat."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    ensure(member_perm.is_admin(actor, coop.id))
    if db.session.scalar(sa.select(HatType.id).where(HatType.cooperative_id == coop.id, HatType.name == data["name"])):
        raise Conflict("The co-op already has a hat with that name.", details={"fields": {"name": ["Already used."]}})
    hat_type = HatType(cooperative_id=coop.id, name=data["name"], description=data.get("description", ""),
                       permissions=sorted({str(p) for p in data["permissions"]}))
    db.session.add(hat_type)
    db.session.flush()
    return hat_type


# --- teams --------------------------------------------------------------------


def _team_snapshot(team: Team) -> dict:
    return {"display_name": team.display_name, "latitude": team.latitude, "longitude": team.longitude,
            "postcode_district": team.postcode_district, "min_visit_minutes": team.min_visit_minutes,
            "timezone": team.timezone}


def create_team(actor: Actor, coop: Cooperative, data: dict) -> Team:
    """A supported member starts their team, or a facilitator starts it for them."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    leader_id = data.get("leader_id") or actor.person_id
    leader_class = db.session.scalar(sa.select(Membership.member_class).where(
        Membership.cooperative_id == coop.id, Membership.person_id == leader_id,
        Membership.status != MembershipStatus.left,
    ))
    actor_is_facilitator = member_perm.is_facilitator(actor, coop.id)
    if actor_is_facilitator and leader_class is None:
        raise _field_error("leader_id", "That person is not a member of this co-op.")
    ensure(perm.can_create_team(
        actor_is_leader=leader_id == actor.person_id, actor_is_facilitator=actor_is_facilitator,
        leader_is_supported_member=leader_class == MemberClass.supported,
    ))
    if db.session.scalar(sa.select(Team.id).where(Team.cooperative_id == coop.id, Team.leader_id == leader_id)):
        raise Conflict("This person already has a team in this co-op.", code="team_exists")
    team = Team(cooperative_id=coop.id, leader_id=leader_id, created_by_id=actor.person_id,
                **{k: data.get(k) for k in ("display_name", "latitude", "longitude", "postcode_district",
                                            "min_visit_minutes", "timezone")})
    db.session.add(team)
    db.session.flush()
    access = team_access(actor, team)
    record(team, access, "team.created", f"team:{team.id}", after=_team_snapshot(team))
    return team


def visible_teams(actor: Actor) -> list[tuple[Team, TeamAccess]]:
    """Every team the actor leads, helps run, belongs to, or facilitates."""
    facilitated = [c for c, role in actor.staff_roles if role == "facilitator"]
    now = utcnow()
    ids = set(db.session.scalars(sa.select(Team.id).where(sa.or_(
        Team.leader_id == actor.person_id,
        Team.cooperative_id.in_(facilitated) if facilitated else sa.false(),
        Team.id.in_(sa.select(TeamMember.team_id).where(
            TeamMember.person_id == actor.person_id,
            TeamMember.status.in_((TeamMemberStatus.trial, TeamMemberStatus.active)))),
        Team.id.in_(sa.select(Hat.team_id).where(Hat.person_id == actor.person_id, Hat.status == HatStatus.accepted)),
        Team.id.in_(sa.select(Arranger.team_id).where(Arranger.person_id == actor.person_id, Arranger.ended_at.is_(None))),
    ))))
    result = []
    for team in db.session.scalars(sa.select(Team).where(Team.id.in_(ids)).order_by(Team.display_name, Team.id)):
        access = team_access(actor, team, now)
        if perm.can_see_team(access):
            result.append((team, access))
    return result


def update_team(actor: Actor, team_id: int, changes: dict) -> Team:
    """Change the team's name, area or settings (the leader or an arranger)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_team(access))
    before = _team_snapshot(team)
    for key, value in changes.items():
        setattr(team, key, value)
    db.session.flush()
    after = _team_snapshot(team)
    if after != before:
        changed = rules.changed_fields(before, after)
        record(team, access, "team.updated", f"team:{team.id}",
               before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return team


# --- private details ----------------------------------------------------------

PRIVATE_FIELDS = ("address", "access_notes", "emergency_contacts", "if_something_is_wrong")


def get_private_details(actor: Actor, team_id: int) -> TeamPrivateDetails:
    """The visit address, how to get in and who to call (leader, circle, active members)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_private_details(access))
    details = db.session.scalar(sa.select(TeamPrivateDetails).where(TeamPrivateDetails.team_id == team.id))
    return details or TeamPrivateDetails(team_id=team.id, **dict.fromkeys(PRIVATE_FIELDS, ""))


def update_private_details(actor: Actor, team_id: int, data: dict) -> TeamPrivateDetails:
    """Change the private details (the leader or an arranger)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_private_details(access))
    details = db.session.scalar(sa.select(TeamPrivateDetails).where(TeamPrivateDetails.team_id == team.id))
    if details is None:
        details = TeamPrivateDetails(team_id=team.id, **dict.fromkeys(PRIVATE_FIELDS, ""))
        db.session.add(details)
    changed = [k for k in PRIVATE_FIELDS if k in data and data[k] != getattr(details, k)]
    for key in changed:
        setattr(details, key, data[key])
    details.updated_at = utcnow()
    details.updated_by_id = actor.person_id
    db.session.flush()
    if changed:
        # Which fields changed, never their content: the log is read by facilitators,
        # who do not see the address or door codes.
        record(team, access, "private_details.updated", f"team:{team.id}", after={"fields": changed})
    return details


# --- people joining and leaving ------------------------------------------------


def _find_or_invite_person(actor: Actor, team: Team, data: dict) -> Person:
    """The person named by id, email or phone; a new account (with a link to set a
    password) when nobody has that email or phone yet."""
    from careteams.auth import services as auth_services
    from careteams.members import services as members

    if data.get("person_id"):
        person = db.session.get(Person, data["person_id"])
        if person is None:
            raise _field_error("person_id", "No such person.")
        return person
    email, phone = data.get("email"), data.get("phone")
    if not email and not phone:
        raise _field_error("email", "Give an email address or a mobile number.")
    clauses = [c for c in (Person.email == email if email else None, Person.phone == phone if phone else None) if c is not None]
    found = db.session.scalars(sa.select(Person).where(sa.or_(*clauses))).all()
    if len(found) > 1:
        raise Conflict("That email address and phone number belong to two different people.",
                       details={"fields": {"email": ["Give only one of email or phone."]}})
    if found:
        return found[0]
    if not (data.get("name") or "").strip():
        raise _field_error("name", "Enter the person's name: they do not have an account yet.")
    person = members.create_person(data["name"].strip(), email, phone,
                                   preferred_channel=ContactChannel.email if email else ContactChannel.sms)
    inviter = db.session.get(Person, actor.person_id)
    auth_services.send_invitation(person, inviter, team.cooperative.name, from_number=team.cooperative.sms_number)
    return person


def _tell(person: Person, team: Team, subject: str, text: str) -> None:
    """A short note that something is waiting; no team or health details in it."""
    from flask import current_app, has_request_context, url_for

    from careteams import notify

    if has_request_context() or current_app.config.get("SERVER_NAME"):
        url = url_for("teams.my_teams", _external=True)
    else:  # the CLI (demo seed) has no host to link to
        url = "/teams"
    if person.preferred_channel == ContactChannel.sms and person.phone:
        notify.queue(notify.Text(to=person.phone, body=f"{text} {url}", from_number=team.cooperative.sms_number))
    elif person.email:
        notify.queue(notify.Email(to=person.email, subject=subject, body=f"Hello {person.first_name},\n\n{text}\n\n{url}\n"))


def _member_snapshot(m: TeamMember) -> dict:
    return {"person_id": m.person_id, "person": m.person.name, "role": m.role.value, "status": m.status.value}


def _current_place(team: Team, person_id: int) -> TeamMember | None:
    return db.session.scalar(sa.select(TeamMember).where(
        TeamMember.team_id == team.id, TeamMember.person_id == person_id,
        TeamMember.status.in_(CURRENT_MEMBER_STATUSES)))


def list_members(actor: Actor, team_id: int) -> tuple[list[TeamMember], TeamAccess]:
    """Everyone who is or was in the team (history is kept), newest first."""
    team, access = get_visible_team(actor, team_id)
    members = list(db.session.scalars(
        sa.select(TeamMember).where(TeamMember.team_id == team.id).order_by(TeamMember.invited_at.desc(), TeamMember.id.desc())
    ))
    return members, access


def invite_to_team(actor: Actor, team_id: int, data: dict) -> TeamMember:
    """Invite family, a neighbour or a volunteer; they join only when they accept."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_invite(access))
    role = data["role"]
    if role not in rules.DIRECT_INVITE_ROLES:
        raise _field_error("role", "Paid workers join through matching, not a direct invitation.")
    person = _find_or_invite_person(actor, team, data)
    if person.id == team.leader_id:
        raise _field_error("email", "The team's leader is already at the heart of the team.")
    if _current_place(team, person.id) is not None:
        raise Conflict("This person is already in the team or already invited.", code="already_in_team")
    member = TeamMember(team_id=team.id, person_id=person.id, role=role, status=TeamMemberStatus.invited,
                        invited_by_id=actor.person_id, invited_at=utcnow())
    db.session.add(member)
    db.session.flush()
    record(team, access, "member.invited", f"team_member:{member.id}", after=_member_snapshot(member),
           permission=TeamPermission.invite_people)
    _tell(person, team, "An invitation on careteams", "You have been invited to join a care team. Log in to say yes or no:")
    return member


def admit_matched_member(team: Team, person: Person, role: TeamRole, *, team_side: Actor, member_side: Actor,
                         now: datetime | None = None) -> TeamMember:
    """For matching: a worker both sides said yes to starts on trial. Both consents
    are checked here: the team's (leader or a hat that answers matches) and the
    person's own."""
    now = now or utcnow()
    access = team_access(team_side, team, now)
    ensure(perm.can_see_team(access), not_found=True)
    ensure(perm.can_admit_match(access))
    ensure(member_side.person_id == person.id)
    if person.id == team.leader_id:
        raise _field_error("person_id", "The team's leader cannot join their own team as a member.")
    if _current_place(team, person.id) is not None:
        raise Conflict("This person is already in the team or already invited.", code="already_in_team")
    status = rules.status_on_accepting(role)
    member = TeamMember(team_id=team.id, person_id=person.id, role=role, status=status,
                        invited_by_id=team_side.person_id, invited_at=now, accepted_at=now,
                        started_on=_today(team, now),
                        active_on=_today(team, now) if status == TeamMemberStatus.active else None)
    db.session.add(member)
    db.session.flush()
    record(team, access, "member.admitted", f"team_member:{member.id}", after=_member_snapshot(member),
           permission=TeamPermission.answer_matches, now=now)
    return member


def pending_for(actor: Actor) -> dict:
    """Invitations to teams and hat offers waiting for this person's answer."""
    now = utcnow()
    invitations = list(db.session.scalars(sa.select(TeamMember).where(
        TeamMember.person_id == actor.person_id, TeamMember.status == TeamMemberStatus.invited
    ).order_by(TeamMember.id)))
    offers = [h for h in db.session.scalars(sa.select(Hat).where(
        Hat.person_id == actor.person_id, Hat.status == HatStatus.offered, Hat.ended_at.is_(None)
    ).order_by(Hat.id)) if rules.hat_answerable(h.status, h.expires_at, now)]
    return {"invitations": invitations, "hat_offers": offers}


def answer_invitation(actor: Actor, member_id: int, accept: bool, now: datetime | None = None) -> TeamMember:
    """The invitee's own yes or no; only they can give it."""
    now = now or utcnow()
    member = db.session.get(TeamMember, member_id)
    # Only the invitee learns that the invitation exists.
    ensure(member is not None and member.person_id == actor.person_id, not_found=True)
    if member.status != TeamMemberStatus.invited:
        raise Conflict("This invitation has already been answered or withdrawn.", code="not_pending")
    team = member.team
    before = _member_snapshot(member)
    member.accepted_at = now if accept else None
    if accept:
        member.status = rules.status_on_accepting(member.role)
        member.started_on = _today(team, now)
        if member.status == TeamMemberStatus.active:
            member.active_on = member.started_on
    else:
        member.status = TeamMemberStatus.declined
        member.ended_on = _today(team, now)
    db.session.flush()
    record(team, team_access(actor, team, now), "member.accepted" if accept else "member.declined",
           f"team_member:{member.id}", before=before, after=_member_snapshot(member), behalf="self", now=now)
    return member


def _get_member(team: Team, member_id: int) -> TeamMember:
    member = db.session.get(TeamMember, member_id)
    if member is None or member.team_id != team.id:
        raise NotFound("No such team member.")
    return member


def confirm_member(actor: Actor, team_id: int, member_id: int, now: datetime | None = None) -> TeamMember:
    """Trial to active: the member and the team side each confirm; both are needed."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    is_self = member.person_id == actor.person_id
    ensure(is_self or perm.can_confirm_for_team(access))
    if member.status != TeamMemberStatus.trial:
        raise Conflict("Only a trial membership can be confirmed.", code="not_on_trial")
    before = _member_snapshot(member)
    if is_self:
        member.member_confirmed_at = member.member_confirmed_at or now
    else:
        member.team_confirmed_at = member.team_confirmed_at or now
    if member.member_confirmed_at and member.team_confirmed_at:
        member.status = TeamMemberStatus.active
        member.active_on = _today(team, now)
    db.session.flush()
    record(team, access, "member.confirmed", f"team_member:{member.id}", before=before,
           after={**_member_snapshot(member), "side": "member" if is_self else "team"},
           permission=None if is_self else TeamPermission.answer_matches, behalf="self" if is_self else None, now=now)
    return member


def end_membership(actor: Actor, team_id: int, member_id: int, note: str | None = None,
                   now: datetime | None = None) -> TeamMember:
    """Either side ends it, at any time: the leader or a Team builder, or the member
    themselves (leaving). History is kept; the rota hears through team_member_ended."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    is_self = member.person_id == actor.person_id
    ensure(is_self or perm.can_end_membership(access))
    if member.status not in CURRENT_MEMBER_STATUSES:
        raise Conflict("This membership has already ended.", code="already_ended")
    before = _member_snapshot(member)
    was_serving = member.status in (TeamMemberStatus.trial, TeamMemberStatus.active)
    member.status = TeamMemberStatus.left
    member.ended_on = _today(team, now)
    member.ended_by_id = actor.person_id
    member.end_note = (note or "").strip() or None
    db.session.flush()
    record(team, access, "member.left" if is_self else "member.ended", f"team_member:{member.id}",
           before=before, after=_member_snapshot(member),
           permission=None if is_self else TeamPermission.end_membership, behalf="self" if is_self else None, now=now)
    if was_serving:
        team_member_ended.send(member)
    return member


def leave_team(actor: Actor, team_id: int, note: str | None = None) -> TeamMember:
    """The member ends their own place in the team."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_leave(access))
    member = _current_place(team, actor.person_id)
    return end_membership(actor, team_id, member.id, note)


# --- hats ---------------------------------------------------------------------


def _hat_snapshot(hat: Hat) -> dict:
    return {"person_id": hat.person_id, "person": hat.person.name, "hat": hat.hat_type.name, "status": hat.status.value,
            "expires_at": hat.expires_at.isoformat() if hat.expires_at else None,
            "ended": hat.ended_at is not None}


def list_hats(actor: Actor, team_id: int) -> tuple[list[Hat], TeamAccess]:
    """Hats in the team: the leader, circle and facilitators see offers and history;
    members see who wears which hat now."""
    team, access = get_visible_team(actor, team_id)
    hats = list(db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id).order_by(Hat.offered_at.desc(), Hat.id.desc())))
    if not perm.can_see_circle_details(access):
        now = utcnow()
        hats = [h for h in hats if h.in_force(now)]
    return hats, access


def offer_hat(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> Hat:
    """The leader offers a hat to a trusted person; it takes effect when they accept."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_manage_hats(access))
    hat_type = db.session.get(HatType, data["hat_type_id"])
    if hat_type is None or hat_type.cooperative_id != team.cooperative_id:
        raise _field_error("hat_type_id", "No such hat in this co-op.")
    if data.get("expires_at") is not None and data["expires_at"] <= now:
        raise _field_error("expires_at", "The end date must be in the future.")
    person = _find_or_invite_person(actor, team, data)
    if person.id == team.leader_id:
        raise _field_error("person_id", "The leader already holds every permission in their own team.")
    live = db.session.scalar(sa.select(Hat.id).where(
        Hat.team_id == team.id, Hat.person_id == person.id, Hat.hat_type_id == hat_type.id,
        Hat.status.in_((HatStatus.offered, HatStatus.accepted)), Hat.ended_at.is_(None)))
    if live is not None:
        raise Conflict("This person already has (or has been offered) that hat.", code="hat_exists")
    hat = Hat(team_id=team.id, person_id=person.id, hat_type_id=hat_type.id, status=HatStatus.offered,
              offered_by_id=actor.person_id, offered_at=now, expires_at=data.get("expires_at"))
    db.session.add(hat)
    db.session.flush()
    db.session.refresh(hat)
    record(team, access, "hat.offered", f"hat:{hat.id}", after=_hat_snapshot(hat), now=now)
    _tell(person, team, "A hat offered to you on careteams",
          "You have been asked to help run a care team. Log in to say yes or no:")
    return hat


def answer_hat(actor: Actor, hat_id: int, accept: bool, now: datetime | None = None) -> Hat:
    """The person offered a hat says yes or no; only they can."""
    now = now or utcnow()
    hat = db.session.get(Hat, hat_id)
    ensure(hat is not None and hat.person_id == actor.person_id, not_found=True)
    if not rules.hat_answerable(hat.status, hat.expires_at, now) or hat.ended_at is not None:
        raise Conflict("This offer is no longer open.", code="not_pending")
    team = db.session.get(Team, hat.team_id)
    before = _hat_snapshot(hat)
    hat.status = HatStatus.accepted if accept else HatStatus.declined
    hat.answered_at = now
    db.session.flush()
    record(team, team_access(actor, team, now), "hat.accepted" if accept else "hat.declined", f"hat:{hat.id}",
           before=before, after=_hat_snapshot(hat), behalf="self", now=now)
    return hat


def withdraw_hat(actor: Actor, team_id: int, hat_id: int, now: datetime | None = None) -> Hat:
    """The leader takes a hat back at any time, or the wearer hands it back."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    hat = db.session.get(Hat, hat_id)
    if hat is None or hat.team_id != team.id:
        raise NotFound("No such hat.")
    is_wearer = hat.person_id == actor.person_id
    ensure(is_wearer or perm.can_manage_hats(access))
    if not rules.hat_withdrawable(hat.status, hat.ended_at):
        raise Conflict("This hat is no longer worn or offered.", code="not_current")
    before = _hat_snapshot(hat)
    hat.status = HatStatus.withdrawn
    hat.ended_at = now
    db.session.flush()
    record(team, access, "hat.handed_back" if is_wearer else "hat.withdrawn", f"hat:{hat.id}",
           before=before, after=_hat_snapshot(hat), behalf="self" if is_wearer else None, now=now)
    return hat


def expire_hats(now: datetime) -> int:
    """Close hats (and open offers) past their end date, once each, with a log entry."""
    due = db.session.scalars(sa.select(Hat).where(
        Hat.status.in_((HatStatus.offered, HatStatus.accepted)), Hat.ended_at.is_(None),
        Hat.expires_at.is_not(None), Hat.expires_at <= now,
    )).all()
    for hat in due:
        before = _hat_snapshot(hat)
        hat.ended_at = now
        db.session.flush()
        record(db.session.get(Team, hat.team_id), None, "hat.expired", f"hat:{hat.id}",
               before=before, after=_hat_snapshot(hat), now=now)
    return len(due)


# --- arrangers ----------------------------------------------------------------


def list_arrangers(actor: Actor, team_id: int) -> list[Arranger]:
    """Arrangers, past and present, with the recorded reason (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_circle_details(access))
    return list(db.session.scalars(sa.select(Arranger).where(Arranger.team_id == team.id).order_by(Arranger.id)))


def appoint_arranger(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> Arranger:
    """A facilitator appoints an arranger where the leader cannot act; the reason is required."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_appoint_arranger(access))
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise _field_error("reason", "Record why the leader cannot act for themselves.")
    person = _find_or_invite_person(actor, team, data)
    if person.id == team.leader_id:
        raise _field_error("person_id", "The leader cannot be their own arranger.")
    if db.session.scalar(sa.select(Arranger.id).where(
            Arranger.team_id == team.id, Arranger.person_id == person.id, Arranger.ended_at.is_(None))):
        raise Conflict("This person is already an arranger for the team.", code="already_arranger")
    arranger = Arranger(team_id=team.id, person_id=person.id, reason=reason, appointed_by_id=actor.person_id,
                        appointed_at=now)
    db.session.add(arranger)
    db.session.flush()
    record(team, access, "arranger.appointed", f"arranger:{arranger.id}",
           after={"person_id": person.id, "person": person.name, "reason": reason}, now=now)
    return arranger


def end_arranger(actor: Actor, team_id: int, arranger_id: int, now: datetime | None = None) -> Arranger:
    """End an arrangement (a facilitator, or the leader taking their team back)."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    arranger = db.session.get(Arranger, arranger_id)
    if arranger is None or arranger.team_id != team.id:
        raise NotFound("No such arranger.")
    ensure(perm.can_end_arranger(access))
    if arranger.ended_at is not None:
        raise Conflict("This arrangement has already ended.", code="already_ended")
    arranger.ended_at = now
    db.session.flush()
    record(team, access, "arranger.ended", f"arranger:{arranger.id}",
           before={"person_id": arranger.person_id}, after={"person_id": arranger.person_id, "ended": True}, now=now)
    return arranger


# --- the support plan ---------------------------------------------------------


def _latest_version(team: Team) -> SupportPlanVersion | None:
    return db.session.scalar(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == team.id)
                             .order_by(SupportPlanVersion.number.desc()).limit(1))


def current_plan(actor: Actor, team_id: int) -> tuple[SupportPlanVersion | None, dict, bool]:
    """The latest plan as this person may read it: (version, sections, trial_view)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_shared_plan(access))
    version = _latest_version(team)
    sections = version.sections if version else rules.empty_plan()
    if perm.can_read_plan(access):
        return version, sections, False
    return version, rules.shared_with_trial(sections), True


def list_plan_versions(actor: Actor, team_id: int) -> list[SupportPlanVersion]:
    """Every saved version, newest first."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    return list(db.session.scalars(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == team.id)
                                   .order_by(SupportPlanVersion.number.desc())))


def _version(team: Team, number: int) -> SupportPlanVersion:
    version = db.session.scalar(sa.select(SupportPlanVersion).where(
        SupportPlanVersion.team_id == team.id, SupportPlanVersion.number == number))
    if version is None:
        raise NotFound("No such version of the plan.")
    return version


def get_plan_version(actor: Actor, team_id: int, number: int) -> SupportPlanVersion:
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    return _version(team, number)


def compare_plan_versions(actor: Actor, team_id: int, first: int, second: int) -> tuple[
        SupportPlanVersion, SupportPlanVersion, list[rules.SectionChange]]:
    """Two versions side by side, section by section."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    a, b = _version(team, first), _version(team, second)
    return a, b, rules.compare_plans(a.sections, b.sections)


def _new_version(team: Team, access: TeamAccess, sections: dict, behalf: str | None, now: datetime,
                 base_number: int | None) -> SupportPlanVersion:
    latest = _latest_version(team)
    latest_number = latest.number if latest else 0
    if base_number is not None and base_number != latest_number:
        raise Conflict("Someone saved the plan while you were editing it. Reload, check their changes and save again.",
                       code="stale_plan")
    previous = latest.sections if latest else rules.empty_plan()
    version = SupportPlanVersion(team_id=team.id, number=latest_number + 1, sections=sections,
                                 author_id=access.person_id, on_behalf=behalf or perm.on_behalf(access, TeamPermission.edit_plan),
                                 created_at=now)
    db.session.add(version)
    db.session.flush()
    # The log names the sections that changed and the versions; the content stays in the plan.
    record(team, access, "plan.saved", f"support_plan:{team.id}",
           before={"version": latest_number or None},
           after={"version": version.number, "sections": rules.changed_sections(previous, sections)},
           permission=TeamPermission.edit_plan, behalf=behalf, now=now)
    return version


def save_plan(actor: Actor, team_id: int, sections: dict, base_version: int | None = None,
              now: datetime | None = None) -> SupportPlanVersion:
    """Save the plan as a new version (the leader, a Plan keeper or an arranger)."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_plan(access))
    latest = _latest_version(team)
    try:
        merged = rules.apply_changes(latest.sections if latest else rules.empty_plan(), sections)
    except ValueError as exc:
        raise _field_error("sections", str(exc)) from None
    return _new_version(team, access, merged, None, now, base_version)


def list_suggestions(actor: Actor, team_id: int) -> list[PlanSuggestion]:
    """Suggested changes to the plan, newest first (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_suggestions(access))
    return list(db.session.scalars(sa.select(PlanSuggestion).where(PlanSuggestion.team_id == team.id)
                                   .order_by(PlanSuggestion.id.desc())))


def suggest_plan_change(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> PlanSuggestion:
    """A facilitator suggests a change; nothing changes until the leader accepts it."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_suggest_plan_change(access))
    try:
        rules.apply_changes(rules.empty_plan(), data["sections"])
    except ValueError as exc:
        raise _field_error("sections", str(exc)) from None
    if not data["sections"]:
        raise _field_error("sections", "Suggest a change to at least one section.")
    latest = _latest_version(team)
    suggestion = PlanSuggestion(team_id=team.id, base_version_number=latest.number if latest else None,
                                sections={k: rules.normalise_sections({k: v})[k] for k, v in data["sections"].items()},
                                note=(data.get("note") or "").strip(), author_id=actor.person_id, created_at=now)
    db.session.add(suggestion)
    db.session.flush()
    record(team, access, "plan.suggested", f"plan_suggestion:{suggestion.id}",
           after={"sections": sorted(data["sections"])}, now=now)
    return suggestion


def answer_suggestion(actor: Actor, team_id: int, suggestion_id: int, accept: bool,
                      now: datetime | None = None) -> PlanSuggestion:
    """The leader (or Plan keeper) accepts a suggestion, making a new version, or declines it."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    suggestion = db.session.get(PlanSuggestion, suggestion_id)
    if suggestion is None or suggestion.team_id != team.id:
        raise NotFound("No such suggestion.")
    ensure(perm.can_answer_suggestion(access))
    if suggestion.status != SuggestionStatus.open:
        raise Conflict("This suggestion has already been answered.", code="not_pending")
    suggestion.status = SuggestionStatus.accepted if accept else SuggestionStatus.declined
    suggestion.answered_by_id = actor.person_id
    suggestion.answered_at = now
    if accept:
        latest = _latest_version(team)
        merged = rules.apply_changes(latest.sections if latest else rules.empty_plan(), suggestion.sections)
        version = _new_version(team, access, merged, None, now, None)
        suggestion.resulting_version_number = version.number
    db.session.flush()
    record(team, access, "plan.suggestion_accepted" if accept else "plan.suggestion_declined",
           f"plan_suggestion:{suggestion.id}", after={"version": suggestion.resulting_version_number},
           permission=TeamPermission.edit_plan, now=now)
    return suggestion


# --- what the pages need ------------------------------------------------------


def team_creation_choices(actor: Actor) -> list[dict]:
    """Co-ops where the actor may start a team: their own (as a supported member
    without one) or, as a facilitator, for supported members who have none."""
    coops: dict[int, dict] = {}
    own = db.session.scalars(sa.select(Membership).where(
        Membership.person_id == actor.person_id, Membership.member_class == MemberClass.supported,
        Membership.status != MembershipStatus.left)).all()
    for m in own:
        if not db.session.scalar(sa.select(Team.id).where(Team.cooperative_id == m.cooperative_id, Team.leader_id == actor.person_id)):
            coops.setdefault(m.cooperative_id, {"cooperative": m.cooperative, "self": True, "leaders": []})
    for coop_id, role in actor.staff_roles:
        if role != "facilitator":
            continue
        coop = db.session.get(Cooperative, coop_id)
        entry = coops.setdefault(coop_id, {"cooperative": coop, "self": False, "leaders": []})
        entry["leaders"] = list(db.session.scalars(
            sa.select(Person).join(Membership, Membership.person_id == Person.id).where(
                Membership.cooperative_id == coop_id, Membership.member_class == MemberClass.supported,
                Membership.status != MembershipStatus.left, Person.id != actor.person_id,
                ~sa.exists().where(Team.cooperative_id == coop_id, Team.leader_id == Person.id),
            ).order_by(Person.name)))
    return sorted(coops.values(), key=lambda e: e["cooperative"].name)


def team_page(actor: Actor, team_id: int) -> dict:
    """Everything the team page shows this person, each part only if they may see it."""
    team, access = get_visible_team(actor, team_id)
    now = utcnow()
    members = list(db.session.scalars(
        sa.select(TeamMember).where(TeamMember.team_id == team.id).order_by(TeamMember.invited_at, TeamMember.id)))
    hats, _ = list_hats(actor, team_id)
    page: dict = {
        "team": team, "access": access, "now": now,
        "is_my_team": access.is_leader,
        "current": [m for m in members if m.status in (TeamMemberStatus.trial, TeamMemberStatus.active)],
        "invited": [m for m in members if m.status == TeamMemberStatus.invited],
        "past": [m for m in members if m.status in (TeamMemberStatus.left, TeamMemberStatus.declined)],
        "my_place": next((m for m in members if m.person_id == actor.person_id and m.status in CURRENT_MEMBER_STATUSES), None),
        "hats_worn": [h for h in hats if h.in_force(now)],
        "hats_offered": [h for h in hats if h.status == HatStatus.offered and h.ended_at is None],
        "hats_past": [h for h in hats if not h.in_force(now) and not (h.status == HatStatus.offered and h.ended_at is None)],
        "can": {
            "edit_team": perm.can_edit_team(access),
            "invite": perm.can_invite(access),
            "confirm": perm.can_confirm_for_team(access),
            "end_membership": perm.can_end_membership(access),
            "manage_hats": perm.can_manage_hats(access),
            "see_circle": perm.can_see_circle_details(access),
            "appoint_arranger": perm.can_appoint_arranger(access),
            "end_arranger": perm.can_end_arranger(access),
            "edit_plan": perm.can_edit_plan(access),
            "read_full_plan": perm.can_read_plan(access),
            "suggest": perm.can_suggest_plan_change(access),
            "answer_suggestion": perm.can_answer_suggestion(access),
            "see_private": perm.can_see_private_details(access),
            "edit_private": perm.can_edit_private_details(access),
            "read_history": perm.can_read_audit(access),
            "read_notes": access.is_leader or access.in_circle,
        },
    }
    page["arrangers"] = [a for a in list_arrangers(actor, team_id) if a.ended_at is None] if page["can"]["see_circle"] else []
    if perm.can_read_shared_plan(access):
        page["plan_version"], page["plan"], page["plan_trial_view"] = current_plan(actor, team_id)
    if perm.can_see_suggestions(access):
        page["suggestions"] = [s for s in list_suggestions(actor, team_id) if s.status == SuggestionStatus.open]
    if page["can"]["see_private"]:
        page["private"] = get_private_details(actor, team_id)
    if page["can"]["read_history"]:
        page["history"] = team_history(actor, team_id)[-10:][::-1]
    return page


def team_for_form(actor: Actor, team_id: int, allowed) -> Team:
    """The team, if the actor may use the form (a predicate from teams.permissions)."""
    team, access = get_visible_team(actor, team_id)
    ensure(allowed(access))
    return team


def get_member_for_ending(actor: Actor, team_id: int, member_id: int) -> TeamMember:
    """The membership someone is about to end, if they may end it."""
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    ensure(member.person_id == actor.person_id or perm.can_end_membership(access))
    return member


def get_private_details_for_editing(actor: Actor, team_id: int) -> TeamPrivateDetails:
    _team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_private_details(access))
    return get_private_details(actor, team_id)


def plan_for_editing(actor: Actor, team_id: int) -> tuple[Team, SupportPlanVersion | None]:
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_plan(access))
    return team, _latest_version(team)


def home_links(person_id: int, cooperative_id: int) -> list[dict]:
    """Links to the person's teams in one co-op, for the home page."""
    from flask import url_for

    from careteams.members.services import actor_for

    actor = actor_for(db.session.get(Person, person_id))
    links = []
    for team, access in visible_teams(actor):
        if team.cooperative_id != cooperative_id:
            continue
        label = "My team" if access.is_leader else f"{team.display_name}'s team"
        links.append({"label": label, "url": url_for("teams.team_page", team_id=team.id)})
    return links
