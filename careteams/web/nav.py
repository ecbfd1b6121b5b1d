"""The navigation, built once for every role: add an item to `NAV` or `COOP_NAV`.

Each item (`Link`, `CoopLink`, `TeamNavLink`) names an endpoint and a predicate over a `Viewer` (the person, what
she is to each of her teams, her memberships and staff roles, read once per
request). The predicates are the domains' own permission predicates, so a link
shows only when the page behind it opens for this person (no link leads to a
403). An item whose endpoint the app does not have yet (a later piece of work)
is left out until it exists: see `endpoint_exists`.

Templates draw `nav_items` (careteams/templates/base.html); the context processor
and the grammar filters are registered by careteams/web/pages.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, url_for
from flask_login import current_user

from careteams.auth import permissions as auth_perm
from careteams.extensions import db
from careteams.governance import permissions as governance_perm
from careteams.hours import permissions as hours_perm
from careteams.matching import permissions as matching_perm
from careteams.matching.models import WorkerProfile
from careteams.members import permissions as members_perm
from careteams.members.models import Cooperative, Membership, MembershipStatus
from careteams.members.permissions import Actor, is_admin, is_facilitator
from careteams.members.services import actor_for
from careteams.rota import permissions as rota_perm
from careteams.teams import permissions as teams_perm
from careteams.teams.models import Team
from careteams.teams.permissions import TeamAccess
from careteams.teams.services.access import visible_teams


@dataclass
class Viewer:
    """What the navigation and the home page know of the person, read once per request."""

    actor: Actor
    memberships: dict[int, Membership] = field(default_factory=dict)  # by co-op id, any status
    cooperatives: list[Cooperative] = field(default_factory=list)  # where she is a member or staff
    profile_coops: frozenset[int] = frozenset()  # co-ops where she keeps a worker profile

    @cached_property
    def teams(self) -> list[tuple[Team, TeamAccess]]:
        """Every team she can see, her co-ops' teams as a facilitator included (the home page
        lists them); read only when asked."""
        return visible_teams(self.actor)

    @cached_property
    def own_teams(self) -> list[tuple[Team, TeamAccess]]:
        """The teams she has a standing in herself (leads, a place, a hat, an arranger's role):
        all the navigation needs, since none of its team predicates holds for a facilitator as
        such. A facilitator's co-op's teams are not read for it (one statement whatever their
        number; README, "Federation scale")."""
        if "teams" in self.__dict__ or not any(role == "facilitator" for _, role in self.actor.staff_roles):
            # The same teams (she facilitates nothing), or already read for the home page.
            return [(team, access) for team, access in self.teams if teams_perm.has_own_standing(access)]
        return visible_teams(self.actor, as_facilitator=False)

    @property
    def person_id(self) -> int:
        return self.actor.person_id

    def is_active_member(self, cooperative_id: int) -> bool:
        membership = self.memberships.get(cooperative_id)
        return membership is not None and membership.status == MembershipStatus.active

    def may_keep_worker_profile(self, cooperative_id: int) -> bool:
        membership = self.memberships.get(cooperative_id)
        member_class = membership.member_class if self.is_active_member(cooperative_id) else None
        return matching_perm.can_keep_worker_profile(self.actor, cooperative_id, member_class)

    @property
    def works_in_a_team(self) -> bool:
        """A paid place in a team (rota offers, shifts, hours), or a worker member of a co-op."""
        return (any(rota_perm.can_be_booked(access, is_trial_shift=True) for _, access in self.own_teams)
                or any(self.may_keep_worker_profile(c.id) for c in self.cooperatives
                       if c.id in self.memberships))

    @property
    def checks_hours(self) -> bool:
        """Confirms someone's hours in at least one team (leader, arranger, Hours checker)."""
        return any(hours_perm.is_checker(access) for _, access in self.own_teams)

    @property
    def runs_a_team(self) -> bool:
        return any(access.is_leader or access.in_circle for _, access in self.own_teams)


def viewer_for(person) -> Viewer:
    """The Viewer of a person, read once per request (kept on the request, not on `g`,
    which the test client shares between requests)."""
    cached = getattr(request, "careteams_viewer", None) if has_request_context() else None
    if cached is not None and cached.person_id == person.id:
        return cached
    actor = g.actor if g.get("actor") is not None and g.actor.person_id == person.id else actor_for(person)
    memberships = {m.cooperative_id: m for m in db.session.scalars(
        sa.select(Membership).where(Membership.person_id == person.id))}
    coop_ids = set(memberships) | {c for c, _ in actor.staff_roles}
    cooperatives = list(db.session.scalars(
        sa.select(Cooperative).where(Cooperative.id.in_(coop_ids)).order_by(Cooperative.name))) if coop_ids else []
    profile_coops = frozenset(db.session.scalars(
        sa.select(WorkerProfile.cooperative_id).where(WorkerProfile.person_id == person.id)))
    viewer = Viewer(actor, memberships, cooperatives, profile_coops)
    if has_request_context():
        request.careteams_viewer = viewer
    return viewer


def endpoint_exists(endpoint: str) -> bool:
    """Whether the app has this endpoint: items for pages still to come stay hidden until then."""
    return endpoint in current_app.view_functions


@dataclass(frozen=True)
class Link:
    """A link of the person's own (not tied to one co-op)."""

    label: str
    endpoint: str
    predicate: Callable[[Viewer], bool]


@dataclass(frozen=True)
class CoopLink:
    """A link for each co-op where the predicate holds; `by` names the URL's co-op argument."""

    label: str
    endpoint: str
    predicate: Callable[[Viewer, int], bool]
    by: str = "slug"  # or "cooperative_id"


@dataclass(frozen=True)
class TeamNavLink:
    """A link for each of her teams where the predicate (over her TeamAccess) holds;
    `label(team, access)` names it."""

    label: Callable[[Team, TeamAccess], str]
    endpoint: str
    predicate: Callable[[TeamAccess], bool]


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    endpoint: str
    cooperative: str | None = None  # the co-op's name, for co-op items when she has several co-ops
    cooperative_id: int | None = None  # the co-op of a co-op item


def _everyone(viewer: Viewer) -> bool:
    return True


def _may_give_equality_data(viewer: Viewer, cooperative_id: int) -> bool:
    membership = viewer.memberships.get(cooperative_id)
    member_class = membership.member_class if viewer.is_active_member(cooperative_id) else None
    return matching_perm.can_give_equality_data(viewer.actor, cooperative_id, member_class)


NAV: list[Link] = [
    Link("Home", "web.home", _everyone),
    Link("Teams, invitations and hats", "teams.my_teams", _everyone),
    Link("Shifts offered to me", "rota.my_offers_page", lambda v: v.works_in_a_team),
    Link("My shifts", "rota.my_shifts_page", lambda v: v.works_in_a_team),
    Link("My calendar feed", "rota.my_calendar", lambda v: v.works_in_a_team or v.runs_a_team),
    Link("My hours", "hours.my_hours_page", lambda v: v.works_in_a_team),
    Link("My pay", "hours.my_pay_page", lambda v: v.works_in_a_team),
    Link("Hours to confirm", "hours.to_confirm_page", lambda v: v.checks_hours),
    Link("Matching messages", "matching.notifications", _everyone),
    Link("My notices", "sms_pages.my_notices", _everyone),
    Link("My account", "auth.account.home", _everyone),
]

COOP_NAV: list[CoopLink] = [
    CoopLink("My worker profile", "matching.worker_profile", lambda v, c: v.may_keep_worker_profile(c)),
    # Suggestions need her profile first (the page is a 404 without one).
    CoopLink("Teams looking for help", "matching.suggested_vacancies",
             lambda v, c: v.may_keep_worker_profile(c) and c in v.profile_coops),
    CoopLink("Equality questions", "matching.equality", _may_give_equality_data),
    CoopLink("Today's work", "web.day", lambda v, c: matching_perm.can_view_day(v.actor, c)),
    CoopLink("Match review queue", "matching.queue", lambda v, c: matching_perm.can_view_queue(v.actor, c)),
    CoopLink("Fairness report", "matching.report", lambda v, c: matching_perm.can_view_fairness(v.actor, c)),
    CoopLink("Disputed hours", "hours.disputes_page", lambda v, c: hours_perm.can_run_pay(v.actor, c),
             by="cooperative_id"),
    CoopLink("Pay and invoice runs", "hours.runs_page", lambda v, c: hours_perm.can_run_pay(v.actor, c),
             by="cooperative_id"),
    CoopLink("Co-op figures", "hours.figures_page", lambda v, c: hours_perm.can_run_pay(v.actor, c),
             by="cooperative_id"),
    CoopLink("Worker checks", "matching.checks", lambda v, c: matching_perm.can_record_checks(v.actor, c)),
    CoopLink("Skills", "matching.skills", lambda v, c: matching_perm.can_edit_skills(v.actor, c)),
    CoopLink("Pay rates", "hours.pay_rates_page", lambda v, c: hours_perm.can_set_pay_settings(v.actor, c),
             by="cooperative_id"),
    CoopLink("Hat types", "teams.hat_types", lambda v, c: teams_perm.can_define_hat_types(is_admin(v.actor, c))),
    # A facilitator's proposal takes effect only with another facilitator's or an admin's yes.
    CoopLink("Arranger proposals", "teams.arranger_proposals",
             lambda v, c: is_facilitator(v.actor, c) or is_admin(v.actor, c)),
    CoopLink("Member register", "governance.register", lambda v, c: governance_perm.can_view_register(v.actor, c)),
    CoopLink("New resolution", "governance.new_resolution",
             lambda v, c: governance_perm.can_manage_resolutions(v.actor, c)),
    CoopLink("Votes", "governance.resolutions", lambda v, c: governance_perm.can_see_resolutions(v.actor, c)),
    # Another admin resets a lost second factor (auth.permissions).
    CoopLink("Staff second factors", "auth.second_factors",
             lambda v, c: auth_perm.can_list_second_factors(v.actor, c)),
    CoopLink("People", "members.people", lambda v, c: members_perm.can_view_people(v.actor, c)),
    CoopLink("Staff roles", "members.staff", lambda v, c: members_perm.can_manage_staff_roles(v.actor, c)),
    CoopLink("Co-op settings", "members.settings", lambda v, c: members_perm.can_edit_cooperative_settings(v.actor, c)),
    CoopLink("My membership", "governance.own_membership",
             lambda v, c: c in v.memberships and governance_perm.can_view_own_membership(v.actor, v.person_id)),
]


# Her teams' money, where hours.permissions.can_see_team_money lets her.
TEAM_NAV: list[TeamNavLink] = [
    TeamNavLink(lambda team, access: "My money" if access.is_leader else f"Money: {team.display_name}'s team",
                "hours.team_money_page", hours_perm.can_see_team_money),
]


def nav_for(viewer: Viewer) -> list[NavItem]:
    """The links this person can use: her own first, her teams', then each co-op's."""
    items = [NavItem(link.label, url_for(link.endpoint), link.endpoint)
             for link in NAV if endpoint_exists(link.endpoint) and link.predicate(viewer)]
    for link in TEAM_NAV:
        if endpoint_exists(link.endpoint):
            items += [NavItem(link.label(team, access), url_for(link.endpoint, team_id=team.id), link.endpoint)
                      for team, access in viewer.own_teams if link.predicate(access)]
    for coop in viewer.cooperatives:
        for link in COOP_NAV:
            if endpoint_exists(link.endpoint) and link.predicate(viewer, coop.id):
                value = coop.slug if link.by == "slug" else coop.id
                items.append(NavItem(link.label, url_for(link.endpoint, **{link.by: value}), link.endpoint,
                                     coop.name if len(viewer.cooperatives) > 1 else None, coop.id))
    return items


def nav_context() -> dict:
    """Context processor: `nav_items` for base.html (empty when nobody is logged in)."""
    if not current_user.is_authenticated:
        return {"nav_items": []}
    try:
        return {"nav_items": nav_for(viewer_for(current_user._get_current_object()))}
    except sa.exc.SQLAlchemyError:
        # An error page while the database is unreachable still renders (without the links).
        db.session.rollback()
        return {"nav_items": []}
