"""Every rota action the API offers has a page (issue 16, done-when): the test walks the
app's rota API operations under /api/v1 and fails on one that is not mapped here to the
page that performs it (or to a written reason why it has none), on a page endpoint the
app does not have, and on a page that cannot receive a form for an action that changes
something. A new API operation therefore needs its page, or a reason, in the same change."""

from __future__ import annotations

import pytest

API_PREFIX = "/api/v1/"
API_BLUEPRINT = "rota_api"
READ_ONLY = {"GET"}

# "METHOD rule" of each rota API operation -> the page endpoint that performs it.
PAGES: dict[str, str] = {
    # the team's rota: the week (and list) and one visit with its checks
    "GET /api/v1/teams/<int:team_id>/rota": "rota.rota_page",
    "GET /api/v1/shifts/<int:shift_id>/checks": "rota.team_visit",
    # building and changing the rota
    "POST /api/v1/teams/<int:team_id>/shifts": "rota.add_visit",
    "POST /api/v1/teams/<int:team_id>/series": "rota.new_series",
    "PATCH /api/v1/shifts/<int:shift_id>": "rota.edit_visit",
    "POST /api/v1/shifts/<int:shift_id>/cancel": "rota.cancel_visit",
    # offering and booking
    "POST /api/v1/shifts/<int:shift_id>/offers": "rota.offer_visit",
    "POST /api/v1/shifts/<int:shift_id>/booking": "rota.book_visit",
    "POST /api/v1/shifts/<int:shift_id>/outside-consent": "rota.outside_consent",
    "POST /api/v1/shifts/<int:shift_id>/outside-offers": "rota.outside_offer",
    # cover and swaps: the worker's side, then the team's decision
    "POST /api/v1/shifts/<int:shift_id>/cover": "rota.cover_page",
    "POST /api/v1/swaps": "rota.swap_page",
    "POST /api/v1/swaps/<int:swap_id>/answer": "rota.answer_swap_page",
    "POST /api/v1/swaps/<int:swap_id>/decision": "rota.decide_swap",
    # the worker's own: shifts, offers, arrival, calendar feed
    "GET /api/v1/me/shifts": "rota.my_shifts_page",
    "GET /api/v1/me/offers": "rota.my_offers_page",
    "POST /api/v1/offers/<int:offer_id>/accept": "rota.accept_offer_page",
    "POST /api/v1/offers/<int:offer_id>/decline": "rota.decline_offer_page",
    "POST /api/v1/shifts/<int:shift_id>/arrival": "rota.arrival_page",
    # Her own feed. The circle's feed of the whole rota (team_id) has no page yet: issue
    # 16 asks for the worker's feed on a page, not the circle's.
    "POST /api/v1/calendar-feeds": "rota.my_calendar",
    "DELETE /api/v1/calendar-feeds/<int:feed_id>": "rota.revoke_calendar",
}

# Operations with no page, and why.
NO_PAGE: dict[str, str] = {
    "PUT /api/v1/cooperatives/<int:cooperative_id>/rota-settings":
        "The co-op's rota rules are its admins' business, not the team's: their page belongs "
        "to the office issue, with the co-op's other settings.",
}



def _operations(app) -> set[str]:
    ops = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] == API_BLUEPRINT and rule.rule.startswith(API_PREFIX):
            ops |= {f"{method} {rule.rule}" for method in rule.methods - {"HEAD", "OPTIONS"}}
    return ops


def _page_rules(app, endpoint: str):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]


def test_the_walk_finds_the_rota_api(app):
    # Guards the walk itself: were the prefix or blueprint name wrong, nothing would be checked.
    ops = _operations(app)
    assert "POST /api/v1/swaps/<int:swap_id>/decision" in ops and len(ops) >= 20


def test_every_rota_api_operation_has_a_page_or_a_reason(app):
    missing = sorted(_operations(app) - PAGES.keys() - NO_PAGE.keys())
    assert not missing, f"rota API operations with no page and no reason: {missing}"


def test_the_map_names_only_operations_the_api_has(app):
    stale = sorted((PAGES.keys() | NO_PAGE.keys()) - _operations(app))
    assert not stale, f"mapped operations the API no longer has: {stale}"
    assert not PAGES.keys() & NO_PAGE.keys()
    assert all(reason.strip() for reason in NO_PAGE.values())


def _case(op: str, endpoint: str):
    return pytest.param(op, endpoint, id=f"{op} -> {endpoint}")


@pytest.mark.parametrize(("op", "endpoint"), [_case(op, endpoint) for op, endpoint in sorted(PAGES.items())])
def test_the_page_exists_and_takes_the_action(app, op, endpoint):
    rules = _page_rules(app, endpoint)
    assert rules, f"{op}: no page endpoint {endpoint}"
    assert not any(rule.rule.startswith(API_PREFIX) for rule in rules), f"{endpoint} is an API rule, not a page"
    if op.split()[0] not in READ_ONLY:
        # An action that changes something is done by a form: the page must take a POST.
        assert any("POST" in rule.methods for rule in rules), f"{op}: {endpoint} takes no form"
