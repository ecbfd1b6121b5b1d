"""Team pages refuse through the shared form helper (careteams/web/forms.py):
the typing is kept, each message sits beside its field in plain words, a refused
state is a 409 said above the form, and nothing is written (issue 16)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from careteams.extensions import db
from careteams.teams.models import SupportPlanVersion, Team
from tests.teams.conftest import snapshot
from tests.teams.test_pages import web_as  # noqa: F401  (the logged-in browser fixture)


def _beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html
    tag = re.search(rf'<(?:input|textarea|select)[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    assert f'<a href="#{field_id}">{message}' in html


def test_a_bad_mobile_number_is_refused_beside_it_and_the_name_is_kept(world, web_as):  # noqa: F811
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/invite"
    before = snapshot(world.team.id)
    r = leader.post(url, {"role": "neighbour", "name": "Nora Next-door", "phone": "ring me"}, token_from=url)
    assert r.status_code == 422
    assert 'id="phone-error"' in r.text and 'aria-describedby="phone-hint phone-error"' in r.text
    assert 'value="Nora Next-door"' in r.text and 'value="ring me"' in r.text
    assert snapshot(world.team.id) == before


def test_a_word_for_minutes_on_the_settings_form_is_said_plainly(world, web_as):  # noqa: F811
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/settings"
    r = leader.post(url, {"display_name": "Annie", "min_visit_minutes": "an hour"}, token_from=url)
    assert r.status_code == 422
    _beside(r.text, "min_visit_minutes", "Enter a whole number.")
    assert "Not a valid integer value" not in r.text
    assert 'value="Annie"' in r.text and 'value="an hour"' in r.text
    db.session.expire_all()
    assert db.session.get(Team, world.team.id).display_name == "Ann"


def test_saving_over_a_newer_plan_is_a_409_with_the_typing_kept(world, web_as):  # noqa: F811
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/plan/edit"
    versions = db.session.scalar(sa.select(sa.func.count()).select_from(SupportPlanVersion))
    r = leader.post(url, {"what_matters-text": "My garden and my cat.", "base_version": "1"}, token_from=url)
    assert r.status_code == 409
    assert re.search(r'<div class="error-summary"[^>]*>.*<li>[^<]+</li>', r.text, re.S)
    assert "My garden and my cat." in r.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportPlanVersion)) == versions


def test_inviting_someone_already_in_the_team_is_a_409_above_the_form(world, web_as):  # noqa: F811
    leader = web_as("leader")
    url = f"/teams/{world.team.id}/invite"
    email = world.people["active"].email
    r = leader.post(url, {"role": "neighbour", "email": email}, token_from=url)
    assert r.status_code == 409
    summary = re.search(r'<div class="error-summary".*?</div>', r.text, re.S).group(0)
    assert "already in the team" in summary
    assert f'value="{email}"' in r.text
