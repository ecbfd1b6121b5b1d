"""The team pages: what each person sees, and forms that work without JavaScript."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import MemberClass
from careteams.teams.models import (
    Hat,
    HatStatus,
    SupportPlanVersion,
    Team,
    TeamMember,
    TeamMemberStatus,
)
from tests.factories import PASSWORD, CooperativeFactory, MembershipFactory, PersonFactory
from tests.helpers import pass_second_factor
from tests.teams.conftest import forget_login, snapshot


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has a CSRF token"
    return match.group(1)


class Browser:
    """A logged-in browser session (cookies and CSRF tokens, no bearer token)."""

    def __init__(self, app, person):
        self.client = client = app.test_client()
        forget_login()
        page = client.get("/login")
        r = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": _token(page.text)})
        assert r.status_code == 302, r.text
        forget_login()
        pass_second_factor(client, person)  # staff only

    def get(self, url):
        forget_login()
        return self.client.get(url)

    def post(self, url, data=None, token_from=None):
        """Submit a form; the CSRF token is read from the page the form is on."""
        forget_login()
        data = dict(data or {})
        if token_from is not None:
            data["csrf_token"] = _token(self.get(token_from).text)
        forget_login()
        return self.client.post(url, data=data)


@pytest.fixture
def web_as(app, world):
    db.session.commit()
    return lambda key: Browser(app, world.people[key])


def test_the_leaders_my_team_page_shows_people_hats_plan_and_history(world, web_as):
    page = web_as("leader").get(f"/teams/{world.team.id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>My team</h1>" in html
    for text in ("Active Person", "Trial Person", "Team builder", "Shower on Mondays.", "1 Secret Lane",
                 "Invite someone", "Offer a hat", "Edit the plan", "Recent changes", "Stairs at night."):
        assert text in html, text
    assert 'name="viewport"' in html  # phone-friendly shell


def test_a_trial_worker_sees_only_what_is_shared_with_them(world, web_as):
    html = web_as("trial").get(f"/teams/{world.team.id}").text
    assert "Ann's team" in html and "My garden." in html
    for hidden in ("Shower on Mondays.", "Up at eight.", "1 Secret Lane", "Invite someone", "Edit the plan", "Recent changes"):
        assert hidden not in html, hidden


def test_an_active_worker_sees_the_plan_and_visit_details_but_no_history(world, web_as):
    html = web_as("active").get(f"/teams/{world.team.id}").text
    assert "Shower on Mondays." in html and "1 Secret Lane" in html
    assert "Recent changes" not in html and "Invite someone" not in html
    assert web_as("active").get(f"/teams/{world.team.id}/history").status_code == 403


def test_a_facilitator_sees_the_plan_not_the_address(world, web_as):
    html = web_as("facilitator").get(f"/teams/{world.team.id}").text
    assert "Shower on Mondays." in html and "Suggest a change" in html and "Propose an arranger" in html
    assert "1 Secret Lane" not in html


@pytest.mark.parametrize("who", ["stranger", "other_team_worker", "other_facilitator", "expired", "offered"])
def test_the_team_page_does_not_exist_for_others(world, web_as, who):
    r = web_as(who).get(f"/teams/{world.team.id}")
    assert r.status_code == 404 and "Page not found" in r.text and "Ann" not in r.text


def test_inviting_through_the_form(world, web_as):
    leader = web_as("leader")
    form = f"/teams/{world.team.id}/invite"
    r = leader.post(form, {"role": "neighbour", "name": "Nora", "email": "nora@example.org"}, token_from=form)
    assert r.status_code == 302
    member = db.session.scalar(sa.select(TeamMember).join(TeamMember.person).where(
        TeamMember.team_id == world.team.id, TeamMember.status == TeamMemberStatus.invited))
    assert member.person.email == "nora@example.org"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(world, web_as):
    leader = web_as("leader")
    before = snapshot(world.team.id)
    r = leader.post(f"/teams/{world.team.id}/invite", {"role": "neighbour", "name": "Nora", "email": "nora@example.org"})
    assert r.status_code == 400 and "expired" in r.text
    assert snapshot(world.team.id) == before


def test_form_errors_are_shown_next_to_the_fields(world, web_as):
    leader = web_as("leader")
    form = f"/teams/{world.team.id}/invite"
    r = leader.post(form, {"role": "nosuchrole", "name": "Nora", "email": "nobody@example.org"}, token_from=form)
    assert r.status_code == 422
    assert 'class="error-message"' in r.text or "There is a problem" in r.text
    r = leader.post(form, {"role": "neighbour", "email": world.people["active"].email}, token_from=form)
    assert r.status_code == 409 and "already in the team" in r.text


def test_forms_open_only_for_those_who_may_use_them(world, web_as):
    team = world.team.id
    assert web_as("rota").get(f"/teams/{team}/invite").status_code == 403
    assert web_as("builder").get(f"/teams/{team}/invite").status_code == 200
    assert web_as("builder").get(f"/teams/{team}/hats/new").status_code == 403
    assert web_as("leader").get(f"/teams/{team}/hats/new").status_code == 200
    assert web_as("leader").get(f"/teams/{team}/arrangers/new").status_code == 403
    assert web_as("facilitator").get(f"/teams/{team}/arrangers/new").status_code == 200
    assert web_as("leader").get(f"/teams/{team}/plan/suggest").status_code == 403
    assert web_as("active").get(f"/teams/{team}/private-details").status_code == 403
    assert web_as("stranger").get(f"/teams/{team}/invite").status_code == 404


def test_answering_an_invitation_on_the_web(world, web_as):
    from careteams.teams.models import TeamRole
    from careteams.teams.services import team_members

    member = team_members.invite_to_team(world.actor("leader"), world.team.id,
                                {"person_id": world.people["invitee"].id, "role": TeamRole.family})
    db.session.commit()
    invitee = web_as("invitee")
    page = invitee.get("/teams")
    assert "Join <strong>Ann</strong>" in page.text
    r = invitee.post(f"/teams/invitations/{member.id}/accept", token_from="/teams")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(TeamMember, member.id).status == TeamMemberStatus.active


def test_editing_the_plan_through_the_form_saves_a_new_version(world, web_as):
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/plan/edit"
    page = leader.get(url)
    assert page.status_code == 200 and 'id="routines-text"' in page.text and "Up at eight." in page.text
    data = {f"{k}-text": "" for k in ("what_matters", "outcomes", "routines", "personal_care", "communication", "risks")}
    data.update({"what_matters-text": "My garden.", "what_matters-shared_with_trial": "y", "routines-text": "Up at nine.",
                 "personal_care-text": "Shower on Mondays.", "base_version": "2"})
    r = leader.post(url, data, token_from=url)
    assert r.status_code == 302
    latest = db.session.scalars(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == world.team.id)
                                .order_by(SupportPlanVersion.number.desc())).first()
    assert latest.number == 3 and latest.sections["routines"]["text"] == "Up at nine."
    assert latest.sections["what_matters"]["shared_with_trial"] is True
    # Saving again from the page as it was (version 2) would overwrite version 3: refused, shown on the form.
    r = leader.post(url, data, token_from=url)
    assert r.status_code == 409 and "while you were editing" in r.text
    assert db.session.scalar(sa.select(sa.func.max(SupportPlanVersion.number)).where(
        SupportPlanVersion.team_id == world.team.id)) == 3


def test_the_plan_form_is_for_plan_editors_only(world, web_as):
    assert web_as("trial").get(f"/teams/{world.team.id}/plan/edit").status_code == 403
    assert web_as("facilitator").get(f"/teams/{world.team.id}/plan/edit").status_code == 403
    assert web_as("plankeeper").get(f"/teams/{world.team.id}/plan/edit").status_code == 200


def test_versions_and_comparison_pages(world, web_as):
    leader = web_as("leader")
    page = leader.get(f"/teams/{world.team.id}/plan/versions")
    assert page.status_code == 200 and "Compare two versions" in page.text
    page = leader.get(f"/teams/{world.team.id}/plan/compare?from=1&to=2")
    assert page.status_code == 200 and "Up at eight." in page.text and "Changed" in page.text
    assert web_as("trial").get(f"/teams/{world.team.id}/plan/versions").status_code == 403


def test_taking_a_hat_back_with_a_button(world, web_as):
    leader = web_as("leader")
    r = leader.post(f"/teams/{world.team.id}/hats/{world.helper_hat.id}/withdraw", token_from=f"/teams/{world.team.id}")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Hat, world.helper_hat.id).status == HatStatus.withdrawn


def test_accepting_a_suggestion_with_a_button(world, web_as):
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/plan/suggestions/{world.suggestion.id}/accept"
    assert leader.post(url, token_from=f"/teams/{world.team.id}").status_code == 302
    assert db.session.scalar(sa.select(sa.func.max(SupportPlanVersion.number)).where(
        SupportPlanVersion.team_id == world.team.id)) == 3


def test_history_page_for_the_leader(world, web_as):
    page = web_as("leader").get(f"/teams/{world.team.id}/history")
    assert page.status_code == 200 and "saved the support plan" in page.text and "as leader" in page.text


def test_the_home_page_links_to_my_team(world, web_as):
    page = web_as("leader").get("/")
    assert f'href="/teams/{world.team.id}"' in page.text and "My team" in page.text


def test_starting_a_team_on_the_web(app):
    coop = CooperativeFactory()
    ann = PersonFactory()
    MembershipFactory(cooperative=coop, person=ann, member_class=MemberClass.supported)
    db.session.commit()
    ann_browser = Browser(app, ann)
    r = ann_browser.post("/teams/new", {"cooperative": coop.slug, "leader_id": "0", "display_name": "Ann",
                                        "postcode": "hd7 5ab"}, token_from="/teams/new")
    assert r.status_code == 302, r.text
    team = db.session.scalar(sa.select(Team).where(Team.leader_id == ann.id))
    # The district comes from the postcode, the point from the (fixed) geocoder.
    assert (team.postcode, team.postcode_district, team.latitude, team.longitude) == ("HD7 5AB", "HD7", 53.612, -1.914)


def test_offering_a_hat_through_the_form_with_an_end_date(world, web_as):
    leader = web_as("leader")
    form = f"/teams/{world.team.id}/hats/new"
    data = {"hat_type_id": str(world.hat_types["Plan keeper"].id), "email": world.people["invitee"].email,
            "expires_on": "2099-06-30"}
    assert leader.post(form, data, token_from=form).status_code == 302
    hat = db.session.scalar(sa.select(Hat).where(Hat.person_id == world.people["invitee"].id))
    assert hat.status == HatStatus.offered
    # 23:59 that day on the team's own clock: London is on BST (UTC+1) in June.
    assert hat.expires_at.isoformat() == "2099-06-30T22:59:00+00:00"
    data["expires_on"] = "2001-01-01"
    r = leader.post(form, {**data, "hat_type_id": str(world.hat_types["Team builder"].id)}, token_from=form)
    assert r.status_code == 422 and "must be in the future" in r.text


def test_appointing_an_arranger_through_the_form(world, web_as):
    facilitator = web_as("facilitator")
    form = f"/teams/{world.team.id}/arrangers/new"
    r = facilitator.post(form, {"email": world.people["invitee"].email, "reason": ""}, token_from=form)
    assert r.status_code == 422
    r = facilitator.post(form, {"email": world.people["invitee"].email, "reason": "Ann is in hospital."}, token_from=form)
    assert r.status_code == 302
    assert "Ann is in hospital." in web_as("leader").get(f"/teams/{world.team.id}").text


def test_the_leader_renames_the_team(world, web_as):
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/settings"
    assert 'value="Ann"' in leader.get(url).text
    assert leader.post(url, {"display_name": "", "postcode": "HD7 5AB"}, token_from=url).status_code == 422
    assert leader.post(url, {"display_name": "Annie", "postcode": "hd74aa"}, token_from=url).status_code == 302
    db.session.expire_all()
    team = db.session.get(Team, world.team.id)
    assert (team.display_name, team.postcode, team.postcode_district) == ("Annie", "HD7 4AA", "HD7")
    assert web_as("builder").get(url).status_code == 403


def test_a_postcode_not_shaped_like_one_is_refused_on_the_settings_form(world, web_as):
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/settings"
    r = leader.post(url, {"display_name": "Ann", "postcode": "HD7"}, token_from=url)
    assert r.status_code == 422 and "Enter a UK postcode like HX7 8AB" in r.text
    assert 'value="HD7"' in r.text  # what was typed stays
