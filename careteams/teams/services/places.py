"""Where a team is, as each person may see it: the exact point for those allowed the address
(teams.permissions.can_see_private_details), an area of about 1 km for everyone else.
Every output of a team's or a vacancy's coordinates goes through here (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass

from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import Team
from careteams.teams.permissions import TeamAccess
from careteams.teams.services.access import team_access

# Keys under which coordinates are stored in the team's audit log (team snapshots).
COORDINATE_KEYS = ("latitude", "longitude")
# The full postcode is as exact as the address: others see only its district (the outward code).
POSTCODE_KEY = "postcode"


@dataclass(frozen=True)
class Place:
    latitude: float | None
    longitude: float | None
    exact: bool  # False: an area (about 1 km) around the place


def place_for(access: TeamAccess, latitude: float | None, longitude: float | None) -> Place:
    """A point of this team (its home, a vacancy's place) as `access` may see it."""
    if perm.can_see_private_details(access):
        return Place(latitude, longitude, True)
    lat, lon = rules.coarsen(latitude, longitude)
    return Place(lat, lon, False)


class TeamView:
    """A team as one person sees it: its coordinates exact or an area; the rest from the team."""

    def __init__(self, team: Team, place: Place):
        self.team = team
        self.latitude = place.latitude
        self.longitude = place.longitude
        self.location_is_area = not place.exact and place.latitude is not None
        self.postcode = team.postcode if place.exact else None

    def __getattr__(self, name):  # id, display_name, zone... come from the team
        return getattr(self.team, name)


def team_view(access: TeamAccess, team: Team) -> TeamView:
    return TeamView(team, place_for(access, team.latitude, team.longitude))


def team_view_for(actor: Actor, team: Team) -> TeamView:
    """team_view for an actor whose access is not at hand (after creating or editing)."""
    return team_view(team_access(actor, team), team)


def audit_values(access: TeamAccess, values: dict | None) -> dict | None:
    """An audit entry's before/after with any team coordinates shown as `access` may see them."""
    if (not values or not any(k in values for k in (*COORDINATE_KEYS, POSTCODE_KEY))
            or perm.can_see_private_details(access)):
        return values
    # An update records only what changed, so one coordinate may come alone.
    return {k: rules.coarsen_degree(v) if k in COORDINATE_KEYS else _district(v) if k == POSTCODE_KEY else v
            for k, v in values.items()}


def _district(postcode: str | None) -> str | None:
    return postcode.split(" ")[0] if postcode else None
