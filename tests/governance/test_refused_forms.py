"""Governance pages refuse through the shared form helper (careteams/web/forms.py):
a wrong change code or a missing proxy choice answers 422 on the same page, with
what was typed kept and the message beside its field; nothing changes (issue 16)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.governance.models import ProxyAppointment as Proxy
from tests.governance.conftest import build_coop, choices, opened, option, vote


@pytest.fixture
def world(app):
    return build_coop({"supported": 2, "worker": 3, "investor": 1})


def _beside(html: str, field_id: str, message: str, tag: str = "input") -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html
    element = re.search(rf'<{tag}[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in element and 'aria-invalid="true"' in element
    assert f'<a href="#{field_id}">{message}' in html


def test_a_wrong_change_code_keeps_the_code_and_says_so_beside_it(world, client, auth_headers):
    r = opened(world)
    voter = world.member("supported")
    vote(world, voter, r, "for")
    before = choices(r)
    page = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/ballot/change",
                       data={"option": str(option(r, "against")), "change_token": "NOT-MY-CODE"},
                       headers=auth_headers(voter.person))
    assert page.status_code == 422
    _beside(page.text, "change_token", "That change code is not right for this resolution.")
    assert 'value="NOT-MY-CODE"' in page.text
    assert re.search(rf'checked[^>]*value="{option(r, "against")}"|value="{option(r, "against")}"[^>]*checked', page.text)
    db.session.expire_all()
    assert choices(r) == before


def test_changing_a_vote_without_a_choice_says_so_on_the_radios(world, client, auth_headers):
    r = opened(world)
    voter = world.member("supported")
    vote(world, voter, r, "for")
    page = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/ballot/change",
                       data={"change_token": "ABC"}, headers=auth_headers(voter.person))
    assert page.status_code == 422
    assert '<fieldset class="field field-error" aria-describedby="change-error">' in page.text
    assert "Choose an option, or abstain." in page.text and 'value="ABC"' in page.text


def test_appointing_no_proxy_is_refused_beside_the_list(world, client, auth_headers):
    r = opened(world)
    appointer = world.member("investor")
    page = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/proxy",
                       data={"proxy_membership_id": ""}, headers=auth_headers(appointer.person))
    assert page.status_code == 422
    _beside(page.text, "proxy_membership_id", "Choose who will vote for you.", tag="select")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proxy)) == 0


def test_appointing_yourself_is_refused_by_the_service_beside_the_list(world, client, auth_headers):
    r = opened(world)
    appointer = world.member("investor")
    page = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/proxy",
                       data={"proxy_membership_id": str(appointer.id)}, headers=auth_headers(appointer.person))
    assert page.status_code == 422
    _beside(page.text, "proxy_membership_id", "Choose someone other than yourself.", tag="select")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proxy)) == 0


def test_a_second_proxy_is_a_409_said_above_the_form(world, client, auth_headers):
    r = opened(world)
    appointer, first, second = world.member("investor"), world.members["worker"][0], world.members["worker"][1]
    headers = auth_headers(appointer.person)
    url = f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/proxy"
    assert client.post(url, data={"proxy_membership_id": str(first.id)}, headers=headers).status_code == 302
    page = client.post(url, data={"proxy_membership_id": str(second.id)}, headers=headers)
    # The same page, with the refusal above the proxies section (the form itself is gone: a proxy is held).
    assert page.status_code == 409
    assert re.search(r'<div class="error-summary"[^>]*>.*already appointed a proxy', page.text, re.S)
    assert "Take back my proxy" in page.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proxy)) == 1


def test_the_draft_form_speaks_plain_words(world, client, auth_headers):
    page = client.post(f"/cooperatives/{world.coop.slug}/resolutions/new",
                       data={"title": "Budget", "text": "", "kind": "ordinary", "opens_at": "", "closes_at": "2030-01-10T12:00"},
                       headers=auth_headers(world.secretary))
    assert page.status_code == 422
    assert "Length must be between" not in page.text and "Missing data for required field." not in page.text
    assert 'value="Budget"' in page.text
