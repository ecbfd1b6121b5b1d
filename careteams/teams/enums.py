"""Enums for teams: places, hats, plan suggestions and the permissions a hat can
carry. No Flask, no database."""

from __future__ import annotations

import enum


class TeamRole(enum.StrEnum):
    paid_worker = "paid_worker"
    volunteer = "volunteer"
    family = "family"
    neighbour = "neighbour"
    peer_supporter = "peer_supporter"


class TeamMemberStatus(enum.StrEnum):
    invited = "invited"  # waiting for the invitee's own consent
    trial = "trial"
    active = "active"
    declined = "declined"
    left = "left"


class HatStatus(enum.StrEnum):
    offered = "offered"  # takes effect only when the wearer accepts
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"  # taken back by the leader, or handed back by the wearer


class SuggestionStatus(enum.StrEnum):
    open = "open"
    accepted = "accepted"
    declined = "declined"


class TeamPermission(enum.StrEnum):
    """What a hat can carry. The leader and an arranger hold them all."""

    edit_rota = "edit_rota"
    offer_shifts = "offer_shifts"
    invite_people = "invite_people"
    answer_matches = "answer_matches"
    end_membership = "end_membership"
    edit_plan = "edit_plan"
    confirm_hours = "confirm_hours"
    # Read the team's invoices (what the supported member and her funders pay). No
    # default hat carries it: a co-op admin makes one (e.g. "Money reader") if wanted.
    see_money = "see_money"


ALL_PERMISSIONS = frozenset(TeamPermission)
