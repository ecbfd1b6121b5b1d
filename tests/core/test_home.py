"""The home page shows each person what they can do in each of their co-ops."""

from __future__ import annotations

import pytest

from careteams.demo import DEMO_PASSWORD, seed
from tests.helpers import login


@pytest.fixture
def demo(app):
    with app.test_request_context():
        seed()


@pytest.mark.parametrize("who, present, absent", [
    ("ann", ["My team", "Hours to confirm", "Votes", "My membership"], ["Match review queue", "Member register", "Shifts offered to me"]),
    ("wendy", ["Shifts offered to me", "My shifts", "My hours", "My worker profile", "Votes"], ["Match review queue", "Member register"]),
    ("fran", ["Match review queue", "Fairness report", "Disputed hours", "Pay and invoice runs"], ["Member register", "My membership"]),
    ("sam", ["Member register", "New resolution", "Votes"], ["Match review queue", "My shifts"]),
])
def test_home_links_follow_class_and_roles(client, demo, who, present, absent):
    assert login(client, f"{who}@demo.careteams.example", DEMO_PASSWORD).status_code == 302
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for label in present:
        assert f">{label}</a>" in html, f"{who} should see {label}"
    for label in absent:
        assert f">{label}</a>" not in html, f"{who} should not see {label}"
    # Every link on the home page opens for this person.
    import re

    for href in set(re.findall(r'<li><a href="(/[^"]*)"', html)):
        assert client.get(href).status_code == 200, href
