"""The co-op's settings on the web (issue 18): one page, a section per settings owner
(the co-op's rules, hours and pay, the rota, matching), each with its own form and
button, each saved through its domain's service and checked by the API's schema, so
the page and the API refuse the same things; refused values stay typed with the
message beside the field; admins only."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from careteams.extensions import db
from careteams.hours.services.rates import settings_for as hours_settings
from careteams.matching.services.settings import matching_settings
from careteams.members.models import Cooperative
from careteams.rota.services.settings import settings_for as rota_settings
from tests.members.conftest import ANONYMOUS, as_actor, csrf, html_of, sign_in


def url_of(office, section: str | None = None) -> str:
    return f"/coops/{office.coop.slug}/settings" + (f"/{section}" if section else "")


def fields_of(html: str, prefix: str) -> dict:
    """The values the page shows in a section's form (text inputs, selected options, ticked boxes)."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or not name.group(1).startswith(prefix + "-") or name.group(1).endswith("csrf_token"):
            continue
        key = name.group(1)[len(prefix) + 1:]
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if re.search(r"\schecked\b", tag):
                found.setdefault(key, []).append(value.group(1) if value else "y")
        else:
            found[key] = value.group(1) if value else ""
    for select in re.findall(rf'<select[^>]*name="{prefix}-([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', select[1])
        found[select[0]] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    for area in re.findall(rf'<textarea[^>]*name="{prefix}-([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        found[area[0]] = area[1].strip()
    return found


def post_section(client, office, section: str, html: str, **changes):
    data = {f"{section}-{k}": v for k, v in fields_of(html, section).items()}
    for key, value in changes.items():
        if value is None:
            data.pop(f"{section}-{key}", None)
        else:
            data[f"{section}-{key}"] = value
    data[f"{section}-csrf_token"] = csrf(html, section)
    return client.post(url_of(office, section), data=data)


def coop(office) -> Cooperative:
    db.session.expire_all()
    return db.session.get(Cooperative, office.coop.id)


def test_each_section_shows_what_is_saved_and_saves_on_its_own(client, office):
    sign_in(client, office.people.admin)
    page = client.get(url_of(office))
    assert page.status_code == 200
    html = html_of(page)
    rules = fields_of(html, "rules")
    assert rules["investor_cap_num"] == "1" and rules["investor_cap_den"] == "10"
    assert rules["timezone"] == "Europe/London"
    for button in ("Save the co-op's rules", "Save the hours and pay settings", "Save the rota settings",
                   "Save the matching settings"):
        assert button in html

    saved = post_section(client, office, "rules", html, investor_cap_num="1", investor_cap_den="5",
                         quorum_percent="20", timezone="Europe/Dublin")
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/settings#rules-heading")
    row = coop(office)
    assert (row.investor_cap_num, row.investor_cap_den, row.quorum_percent, row.timezone) == (1, 5, 20, "Europe/Dublin")

    html = html_of(client.get(url_of(office)))
    assert post_section(client, office, "hours", html, auto_confirm_hours="48", charge_percent="20",
                        pay_frequency="weekly").status_code == 303
    hours = hours_settings(office.coop.id)
    assert (hours.auto_confirm_hours, hours.charge_percent, hours.pay_frequency.value) == (48, Decimal("20"), "weekly")

    html = html_of(client.get(url_of(office)))
    assert post_section(client, office, "rota", html, blocking_checks=["rest", "travel"],
                        travel_speed_kmh="30").status_code == 303
    rota = rota_settings(office.coop.id)
    assert (sorted(rota.blocking_checks), rota.travel_speed_kmh) == (["rest", "travel"], 30)

    html = html_of(client.get(url_of(office)))
    assert post_section(client, office, "matching", html, review_required=None,
                        required_training="Moving and handling\nFirst aid").status_code == 303
    matching = matching_settings(office.coop.id)
    assert matching.review_required is False and matching.required_training == ["Moving and handling", "First aid"]
    # What another section saved is still there.
    assert coop(office).investor_cap_den == 5 and hours_settings(office.coop.id).auto_confirm_hours == 48
    again = fields_of(html_of(client.get(url_of(office))), "rota")
    assert again["blocking_checks"] == ["rest", "travel"] and again["travel_speed_kmh"] == "30"


@pytest.mark.parametrize(("section", "changes", "field", "message"), [
    ("rules", {"investor_cap_num": "10", "investor_cap_den": "10"}, "investor_cap_num",
     "The investor cap must be a fraction below 1."),
    ("rules", {"quorum_percent": "150"}, "quorum_percent", "Enter a number from 0 to 100."),
    ("rules", {"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
    ("rules", {"proxy_limit": "lots"}, "proxy_limit", "Enter a whole number."),
    ("hours", {"charge_percent": "101"}, "charge_percent", "Enter a number from 0 to 100."),
    ("rota", {"horizon_weeks": "0"}, "horizon_weeks", "Enter a number from 1 to 52."),
    ("matching", {"check_warning_days": "-1"}, "check_warning_days", "Enter a number from 0 to 365."),
])
def test_a_refused_section_keeps_what_was_typed_with_the_message_beside_it(client, office, section, changes, field,
                                                                             message):
    sign_in(client, office.people.admin)
    html = html_of(client.get(url_of(office)))
    before = fields_of(html, section)
    response = post_section(client, office, section, html, **changes)
    assert response.status_code == 422
    page = html_of(response)
    assert page.startswith("<!doctype html>") and "<title>Error: Co-op settings" in page
    assert re.search(rf'id="{section}-{field}-error"[^>]*>.*?{re.escape(message)}', page, re.S), page[:200]
    for key, value in changes.items():
        if key != "timezone":  # a list of zones shows only real ones
            assert fields_of(page, section)[key] == value  # kept as typed
    # Nothing saved; the other sections still show what is saved.
    assert fields_of(html_of(client.get(url_of(office))), section) == before


def test_the_sms_number_taken_by_another_coop_is_a_409(client, office):
    # A valid UK mobile (the factory's sequence runs past the range phonenumbers accepts).
    office.other.sms_number = "+447700900555"
    sign_in(client, office.people.admin)
    html = html_of(client.get(url_of(office)))
    response = post_section(client, office, "rules", html, sms_number=office.other.sms_number)
    assert response.status_code == 409 and "Already in use." in html_of(response)


SETTINGS = {"admin": 200, "secretary": 403, "facilitator": 403, "worker": 403, "admin_elsewhere": 404,
            "stranger": 404, ANONYMOUS: 302}


@pytest.mark.parametrize("actor", list(SETTINGS))
def test_only_the_coops_admins_change_its_settings(client, office, actor):
    as_actor(client, office, actor)
    assert client.get(url_of(office)).status_code == SETTINGS[actor]
    token = csrf(html_of(client.get("/login")))
    for section, data in (("rules", {"rules-name": "Renamed"}), ("hours", {"hours-auto_confirm_hours": "5"}),
                          ("rota", {"rota-horizon_weeks": "3"}), ("matching", {"matching-check_warning_days": "3"})):
        response = client.post(url_of(office, section), data={f"{section}-csrf_token": token, **data})
        # An admin's partial form is refused for what it lacks; everyone else never gets that far.
        assert response.status_code == (422 if actor == "admin" else SETTINGS[actor]), section
    assert coop(office).name == "Riverside Care"
    assert rota_settings(office.coop.id).horizon_weeks == 8


def test_a_refused_check_is_said_beside_the_boxes_and_tied_to_them(client, office):
    sign_in(client, office.people.admin)
    html = html_of(client.get(url_of(office)))
    response = post_section(client, office, "rota", html, blocking_checks=["rest", "no_such_check"])
    assert response.status_code == 422
    page = html_of(response)
    assert 'id="rota-blocking_checks-error"' in page
    assert re.search(r'<input[^>]*aria-describedby="rota-blocking_checks-error"[^>]*id="rota-blocking_checks"|'
                     r'<input[^>]*id="rota-blocking_checks"[^>]*aria-describedby="rota-blocking_checks-error"', page)
    assert rota_settings(office.coop.id).blocking_checks == []
