"""The navigation of a facilitator costs the same whatever the size of her co-op
(issue 20, README "Federation scale"): it reads only the teams she has a standing in
herself, since none of its team predicates holds for a facilitator as such, and the
links it draws are the same as when it read every team she can see."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import Person, StaffRoleName
from careteams.members.services import actor_for
from careteams.teams.enums import TeamMemberStatus
from careteams.teams.models import Team
from careteams.teams.services.access import visible_teams
from careteams.web.nav import Viewer, nav_for, viewer_for
from tests.factories import (
    ArrangerFactory,
    CooperativeFactory,
    HatFactory,
    HatTypeFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
)
from tests.helpers import QueryCounter


def nav_statements(app, person) -> tuple[list[str], list[str], list[int]]:
    """The statements the navigation sends for `person` (a fresh request), its links, the teams it read."""
    db.session.commit()  # and expire: every team the nav reads is read from its row
    loaded: list[int] = []

    def keep(target, *args):
        loaded.append(target.id)

    sa.event.listen(Team, "load", keep)
    sa.event.listen(Team, "refresh", keep)
    try:
        with app.test_request_context("/"), QueryCounter(db.engine) as counter:
            person_id = person.id
            counter.statements.clear()  # the person's own row, as flask-login loads her
            items = nav_for(viewer_for(db.session.get(Person, person_id)))
    finally:
        sa.event.remove(Team, "load", keep)
        sa.event.remove(Team, "refresh", keep)
    return counter.statements, [item.url for item in items], loaded


def test_a_facilitators_nav_sends_the_same_statements_with_3_and_30_teams_in_her_coop(app):
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    own = TeamMemberFactory(team=TeamFactory(cooperative=coop), person=facilitator).team  # a paid place of her own
    for _ in range(2):
        TeamFactory(cooperative=coop)
    small, small_links, small_loaded = nav_statements(app, facilitator)
    for _ in range(27):
        TeamFactory(cooperative=coop)
    big, big_links, big_loaded = nav_statements(app, facilitator)
    assert db.session.scalar(db.select(db.func.count(Team.id)).where(Team.cooperative_id == coop.id)) == 30
    # The same statements, word for word (an IN list over the co-op's teams would grow with them).
    assert big == small, (len(small), len(big))
    assert big_links == small_links
    assert "/my/shifts" in big_links and f"/coops/{coop.slug}/day" in big_links
    # Only her own team is read, not the co-op's 30.
    assert big_loaded == [own.id] == small_loaded


@pytest.fixture
def people(app):
    """Someone in each standing a nav item asks about, several of them also facilitators."""
    coop = CooperativeFactory()
    other = CooperativeFactory()
    teams = [TeamFactory(cooperative=coop) for _ in range(4)] + [TeamFactory(cooperative=other)]
    money = HatTypeFactory(cooperative=coop, permissions=["see_money", "confirm_hours"])

    def facilitator(of=coop):
        return StaffRoleFactory(cooperative=of, role=StaffRoleName.facilitator).person

    only_facilitator = facilitator()
    with_hat = facilitator()
    HatFactory(team=teams[0], person=with_hat, hat_type=money)
    expired_hat = facilitator()
    HatFactory(team=teams[1], person=expired_hat, hat_type=money, expired=True)
    paid = facilitator()
    TeamMemberFactory(team=teams[2], person=paid)
    invited = facilitator()
    TeamMemberFactory(team=teams[3], person=invited, invited=True)
    trial = TeamMemberFactory(team=teams[1], status=TeamMemberStatus.trial).person
    arranger = ArrangerFactory(team=teams[2]).person
    elsewhere = facilitator(of=other)
    HatFactory(team=teams[0], person=elsewhere, hat_type=money)
    return [only_facilitator, with_hat, expired_hat, paid, invited, trial, arranger, elsewhere,
            teams[0].leader, teams[4].leader]


def test_the_nav_draws_the_same_links_as_from_every_team_she_can_see(app, people):
    """The old navigation read every visible team (all of a facilitator's co-op): the links
    are the same from her own teams only, for each standing."""
    db.session.commit()
    with app.test_request_context("/"):
        for person in people:
            actor = actor_for(person)
            new = nav_for(Viewer(actor, *_rest(person)))
            old_viewer = Viewer(actor, *_rest(person))
            old_viewer.__dict__["own_teams"] = visible_teams(actor)  # what the nav read before
            assert [(i.label, i.url) for i in new] == [(i.label, i.url) for i in nav_for(old_viewer)], person.email
        # The money link and "Hours to confirm" do come from a hat (not vacuous).
        with_hat = people[1]
        labels = [i.label for i in nav_for(Viewer(actor_for(with_hat), *_rest(with_hat)))]
        assert "Hours to confirm" in labels and any(label.startswith("Money: ") for label in labels)


def _rest(person):
    viewer = viewer_for(person)
    return viewer.memberships, viewer.cooperatives, viewer.profile_coops
