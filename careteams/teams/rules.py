"""Pure rules for teams: plan sections and their comparison, hat defaults,
who may answer what. No Flask, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from careteams.teams.enums import HatStatus, TeamMemberStatus, TeamPermission, TeamRole

# The support plan's sections, in the order people read them.
PLAN_SECTIONS: dict[str, str] = {
    "what_matters": "What matters to me",
    "outcomes": "Outcomes I want",
    "routines": "My routines",
    "personal_care": "Personal care",
    "communication": "How I communicate",
    "risks": "Risks and how we manage them",
}

MAX_SECTION_LENGTH = 10_000

# The hats every co-op starts with: (name, description, permissions).
DEFAULT_HAT_TYPES: list[tuple[str, str, list[TeamPermission]]] = [
    ("Rota wrangler", "Edits the rota and offers shifts.", [TeamPermission.edit_rota, TeamPermission.offer_shifts]),
    ("Team builder", "Invites people, answers matches and can end a membership.",
     [TeamPermission.invite_people, TeamPermission.answer_matches, TeamPermission.end_membership]),
    ("Plan keeper", "Edits the support plan.", [TeamPermission.edit_plan]),
    ("Hours checker", "Confirms or queries timesheets.", [TeamPermission.confirm_hours]),
]

# What each permission a hat can carry lets its wearer do, in words (the hat types page).
PERMISSION_WORDS: dict[TeamPermission, str] = {
    TeamPermission.edit_rota: "Change the rota: add, move and cancel visits",
    TeamPermission.offer_shifts: "Offer visits to the team's workers",
    TeamPermission.invite_people: "Invite people to the team and post vacancies",
    TeamPermission.answer_matches: "Answer workers who ask to join, and the co-op's suggestions",
    TeamPermission.end_membership: "End someone's place in the team",
    TeamPermission.edit_plan: "Edit the support plan",
    TeamPermission.confirm_hours: "Confirm or query the workers' hours",
    TeamPermission.see_money: "See the team's money: every invoice, and what each funder pays",
}

# People invited directly (without matching): paid workers come through matching.
DIRECT_INVITE_ROLES = frozenset({TeamRole.volunteer, TeamRole.family, TeamRole.neighbour, TeamRole.peer_supporter})

ROLE_LABELS = {
    TeamRole.paid_worker: "Paid worker",
    TeamRole.volunteer: "Volunteer",
    TeamRole.family: "Family",
    TeamRole.neighbour: "Neighbour",
    TeamRole.peer_supporter: "Peer supporter",
}

CURRENT_STATUSES = frozenset({TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active})


def empty_plan() -> dict[str, dict]:
    return {key: {"text": "", "shared_with_trial": False} for key in PLAN_SECTIONS}


def normalise_sections(sections: dict) -> dict[str, dict]:
    """Every known section with clean text and a boolean flag; unknown keys are refused."""
    unknown = set(sections) - set(PLAN_SECTIONS)
    if unknown:
        raise ValueError(f"Unknown plan sections: {', '.join(sorted(unknown))}.")
    plan = empty_plan()
    for key, value in sections.items():
        text = str(value.get("text") or "").replace("\r\n", "\n").strip()
        if len(text) > MAX_SECTION_LENGTH:
            raise ValueError(f"{PLAN_SECTIONS[key]} is too long (at most {MAX_SECTION_LENGTH} characters).")
        plan[key] = {"text": text, "shared_with_trial": bool(value.get("shared_with_trial", False))}
    return plan


def apply_changes(current: dict[str, dict], changes: dict[str, dict]) -> dict[str, dict]:
    """The plan with `changes` (some sections) laid over `current` (all sections)."""
    merged = {key: dict(value) for key, value in (current or empty_plan()).items()}
    for key, value in changes.items():
        merged[key] = dict(value)
    return normalise_sections(merged)


def shared_with_trial(sections: dict[str, dict]) -> dict[str, dict]:
    """Only the sections the leader has marked as shared with trial workers."""
    return {key: value for key, value in sections.items() if value.get("shared_with_trial")}


@dataclass(frozen=True)
class SectionChange:
    section: str
    title: str
    before: str
    after: str
    shared_before: bool
    shared_after: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.shared_before != self.shared_after


def compare_plans(before: dict[str, dict], after: dict[str, dict]) -> list[SectionChange]:
    """Section by section, what differs between two versions of a plan."""
    changes = []
    for key, title in PLAN_SECTIONS.items():
        b = before.get(key) or {}
        a = after.get(key) or {}
        changes.append(SectionChange(
            key, title, b.get("text", ""), a.get("text", ""),
            bool(b.get("shared_with_trial")), bool(a.get("shared_with_trial")),
        ))
    return changes


def changed_sections(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    return [c.section for c in compare_plans(before, after) if c.changed]


def hat_answerable(status: HatStatus, expires_at: datetime | None, now: datetime) -> bool:
    """An offer can be accepted or declined while it is open and not past its expiry."""
    return status == HatStatus.offered and (expires_at is None or expires_at > now)


def hat_withdrawable(status: HatStatus, ended_at: datetime | None) -> bool:
    return status in (HatStatus.offered, HatStatus.accepted) and ended_at is None


def status_on_accepting(role: TeamRole) -> TeamMemberStatus:
    """Paid workers start on trial; family, neighbours and volunteers join at once."""
    return TeamMemberStatus.trial if role == TeamRole.paid_worker else TeamMemberStatus.active


def changed_fields(before: dict, after: dict) -> list[str]:
    return sorted(k for k in after if before.get(k) != after.get(k))


ACTION_LABELS = {
    "team.created": "started the team",
    "team.updated": "changed the team's details",
    "private_details.updated": "changed the private details",
    "member.invited": "invited someone to join",
    "member.admitted": "welcomed a worker on trial",
    "member.accepted": "said yes to joining",
    "member.declined": "said no to joining",
    "member.confirmed": "confirmed a trial membership",
    "member.ended": "ended a membership",
    "member.left": "left the team",
    "hat.offered": "offered a hat",
    "hat.accepted": "accepted a hat",
    "hat.declined": "declined a hat",
    "hat.withdrawn": "took a hat back",
    "hat.handed_back": "handed a hat back",
    "hat.expired": "a hat reached its end date",
    "arranger.appointed": "appointed an arranger",
    "arranger.proposed": "proposed an arranger",
    "arranger.agreed": "agreed to a proposed arranger",
    "arranger.declined": "declined a proposed arranger",
    "arranger.ended": "ended an arrangement",
    "plan.saved": "saved the support plan",
    "plan.suggested": "suggested a change to the plan",
    "plan.suggestion_accepted": "accepted a suggested change",
    "plan.suggestion_declined": "declined a suggested change",
    # The rota's steps on a visit the clock passed to the co-op's facilitators.
    "rota.escalated_outside_offer": "offered an unfilled visit to the co-op's workers",
    "rota.escalated_outside_booked": "took an unfilled visit offered to the co-op's workers",
}


def describe_behalf(on_behalf: str) -> str:
    """'hat:Team builder' -> 'as Team builder', for people reading the log."""
    if on_behalf.startswith("hat:"):
        return f"wearing the {on_behalf[4:]} hat"
    return {"leader": "as leader", "arranger": "as arranger", "facilitator": "as facilitator", "admin": "as co-op admin",
            "self": "for themselves", "system": "automatically"}.get(on_behalf, on_behalf)


# A place shown to people who are not allowed the address: 2 decimal places of a degree,
# about 1.1 km north-south (less east-west away from the equator), an area, never a door.
AREA_DECIMALS = 2


def coarsen_degree(value: float | None) -> float | None:
    """One coordinate of an area: rounded to AREA_DECIMALS; nothing stays nothing."""
    return None if value is None else round(float(value), AREA_DECIMALS)


def coarsen(latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    """The area around a point (about 1 km); half a point (one coordinate missing) is no place."""
    if latitude is None or longitude is None:
        return None, None
    return coarsen_degree(latitude), coarsen_degree(longitude)
