"""Every JSON API operation a co-op's admin, secretary or facilitator may call has a web
page, or README.md says why not (issue 18: the co-op office on the web).

Two lists are compared with the OpenAPI document: `STAFF_PAGES` (a staff operation and the
page that does the same) and `NOT_STAFF` (operations only members, workers, the team side or
the person herself call: their pages are not this test's business). The README's section
"Staff operations and their pages" names the rest, each with its reason. A new operation fails
`test_every_operation_is_placed` until someone places it in one of the three.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

# "METHOD /path" (as in the OpenAPI document, without /api/v1) -> the page's endpoint.
STAFF_PAGES: dict[str, str] = {
    # pay, hours and money (facilitators run pay; admins set rates and settings)
    "GET /cooperatives/{cooperative_id}/hours-figures": "hours.figures_page",
    "PUT /cooperatives/{cooperative_id}/hours-settings": "members.save_settings",
    "POST /cooperatives/{cooperative_id}/pay-rates": "hours.pay_rates_page",
    "GET /cooperatives/{cooperative_id}/pay-runs": "hours.runs_page",
    "POST /cooperatives/{cooperative_id}/pay-runs": "hours.runs_page",
    "GET /pay-runs/{run_id}": "hours.run_page",
    "GET /pay-runs/{run_id}/statements/{person_id}": "hours.statement_page",
    "GET /cooperatives/{cooperative_id}/timesheet-disputes": "hours.disputes_page",
    "POST /timesheets/{entry_id}/resolve": "hours.resolve_page",
    "GET /timesheets/{entry_id}": "hours.entry_page",
    "GET /timesheets/{entry_id}/history": "hours.entry_page",
    "GET /teams/{team_id}/funders": "hours.funders_page",
    "PUT /teams/{team_id}/funders": "hours.set_funders_page",
    "PUT /teams/{team_id}/hours-terms": "hours.set_area_band_page",
    "GET /teams/{team_id}/money": "hours.team_money_page",
    "POST /worker-rates": "hours.agree_rate_page",  # a rate agreed with a team (an independent worker's own: NOT_STAFF)
    # the co-op, its people, staff and settings (admins), its register (the secretary, admins)
    "GET /cooperatives/{slug}": "members.settings",
    "PATCH /cooperatives/{slug}": "members.save_settings",
    "PUT /cooperatives/{cooperative_id}/rota-settings": "members.save_settings",
    "GET /cooperatives/{slug}/matching/settings": "members.settings",
    "PATCH /cooperatives/{slug}/matching/settings": "members.save_settings",
    "GET /cooperatives/{slug}/people": "members.people",
    "POST /cooperatives/{slug}/people": "members.invite",
    "PATCH /cooperatives/{slug}/people/{person_id}": "members.edit_person",
    "GET /cooperatives/{slug}/staff": "members.staff",
    "POST /cooperatives/{slug}/staff": "members.staff",
    "DELETE /cooperatives/{slug}/staff/{staff_role_id}": "members.take_back",
    "GET /cooperatives/{slug}/memberships": "governance.register",
    "POST /cooperatives/{slug}/memberships": "governance.enter_member",
    "PATCH /cooperatives/{slug}/memberships/{membership_id}": "governance.change_class",  # and admit, share, leave
    "GET /cooperatives/{slug}/hat-types": "teams.hat_types",
    "POST /cooperatives/{slug}/hat-types": "teams.hat_types",
    "GET /cooperatives/{slug}/skills": "matching.skills",
    "POST /cooperatives/{slug}/skills": "matching.skills",
    "PATCH /cooperatives/{slug}/skills/{skill_id}": "matching.rename_skill",
    "POST /cooperatives/{slug}/workers/{person_id}/checks": "matching.worker_checks_page",
    # votes (the secretary runs resolutions)
    "GET /cooperatives/{slug}/resolutions": "governance.resolutions",
    "POST /cooperatives/{slug}/resolutions": "governance.new_resolution",
    "GET /cooperatives/{slug}/resolutions/{resolution_id}": "governance.resolution",
    "PATCH /cooperatives/{slug}/resolutions/{resolution_id}": "governance.edit_resolution",
    "POST /cooperatives/{slug}/resolutions/{resolution_id}/open": "governance.open_resolution",
    "POST /cooperatives/{slug}/resolutions/{resolution_id}/count": "governance.count",
    "GET /cooperatives/{slug}/resolutions/{resolution_id}/results": "governance.results",
    # matching (facilitators)
    "GET /cooperatives/{slug}/matching/queue": "matching.queue",
    "GET /cooperatives/{slug}/matching/fairness": "matching.report",
    "GET /cooperatives/{slug}/matching/figures": "hours.figures_page",
    "GET /matches/{match_id}": "matching.match_page",
    "POST /matches/{match_id}/actions": "matching.match_act",
    "GET /teams/{team_id}/vacancies": "matching.team_vacancies",
    "GET /vacancies/{vacancy_id}": "matching.vacancy_page",
    "GET /vacancies/{vacancy_id}/matches": "matching.vacancy_page",
    # teams (facilitators look after the co-op's teams)
    "GET /teams": "teams.my_teams",
    "POST /teams": "teams.new_team",
    "GET /teams/{team_id}": "teams.team_page",
    "GET /teams/{team_id}/members": "teams.team_page",
    "GET /teams/{team_id}/hats": "teams.team_page",
    "GET /teams/{team_id}/history": "teams.history",
    "GET /cooperatives/{slug}/arranger-proposals": "teams.arranger_proposals",
    "GET /teams/{team_id}/arrangers": "teams.team_page",
    "POST /teams/{team_id}/arrangers": "teams.appoint_arranger",
    "POST /teams/{team_id}/arrangers/{arranger_id}/end": "teams.end_arranger",
    "POST /teams/{team_id}/arrangers/{arranger_id}/{answer}": "teams.answer_arranger",
    "GET /teams/{team_id}/plan": "teams.team_page",
    "GET /teams/{team_id}/plan/versions": "teams.plan_versions",
    "GET /teams/{team_id}/plan/versions/{number}": "teams.plan_versions",
    "GET /teams/{team_id}/plan/compare": "teams.compare_plan",
    "GET /teams/{team_id}/plan/suggestions": "teams.team_page",
    "POST /teams/{team_id}/plan/suggestions": "teams.suggest_plan_change",
    # the rota (facilitators see it, and act on a visit passed to them)
    "GET /teams/{team_id}/rota": "rota.rota_page",
    "POST /shifts/{shift_id}/outside-offers": "rota.outside_offer",
}

# Operations for members, workers, the team side or the person herself (their pages are
# other tests' business: tests/rota/test_every_action_has_a_page.py and the domains' page tests).
NOT_STAFF: dict[str, str] = {
    "GET /me": "herself", "GET /tokens": "herself", "POST /tokens": "herself", "DELETE /tokens/{token_id}": "herself",
    "POST /calendar-feeds": "herself", "DELETE /calendar-feeds/{feed_id}": "herself",
    "GET /cooperatives/{slug}/membership": "a member, her own place in the register",
    "GET /cooperatives/{slug}/my-matches": "a worker", "GET /cooperatives/{slug}/suggested-vacancies": "a worker",
    "GET /cooperatives/{slug}/worker-profile": "a worker", "PUT /cooperatives/{slug}/worker-profile": "a worker",
    "PUT /cooperatives/{slug}/worker-profile/equality": "a worker",
    "DELETE /cooperatives/{slug}/worker-profile/equality": "a worker",
    "POST /cooperatives/{slug}/resolutions/{resolution_id}/ballots": "a voter",
    "PUT /cooperatives/{slug}/resolutions/{resolution_id}/ballots": "a voter",
    "GET /cooperatives/{slug}/resolutions/{resolution_id}/me": "a voter",
    "POST /cooperatives/{slug}/resolutions/{resolution_id}/proxy": "a voter",
    "DELETE /cooperatives/{slug}/resolutions/{resolution_id}/proxy": "a voter",
    "POST /cooperatives/{slug}/resolutions/{resolution_id}/share": "a teller (any member named)",
    "POST /matches/{match_id}/check-ins/{after_shift}": "the team side and the worker",
    "GET /matching/notifications": "herself", "POST /matching/notifications/{notification_id}/read": "herself",
    "GET /me/fair-pay": "a worker", "GET /me/offers": "a worker", "GET /me/pay": "a worker",
    "GET /me/shifts": "a worker", "GET /me/timesheets": "a worker",
    "POST /offers/{offer_id}/accept": "a worker", "POST /offers/{offer_id}/decline": "a worker",
    "PATCH /shifts/{shift_id}": "the team side", "POST /shifts/{shift_id}/arrival": "a worker",
    "POST /shifts/{shift_id}/booking": "the team side", "POST /shifts/{shift_id}/cancel": "the team side",
    "GET /shifts/{shift_id}/checks": "the team side", "POST /shifts/{shift_id}/cover": "a worker",
    "POST /shifts/{shift_id}/offers": "the team side", "POST /shifts/{shift_id}/outside-consent": "the team side",
    "POST /swaps": "a worker", "POST /swaps/{swap_id}/answer": "a worker",
    "POST /swaps/{swap_id}/decision": "the team side",
    "POST /teams/hats/{hat_id}/{answer}": "the person offered", "POST /teams/invitations/{member_id}/{answer}":
        "the person invited", "GET /teams/pending": "herself",
    "PATCH /teams/{team_id}": "the team side", "POST /teams/{team_id}/hats": "the leader",
    "POST /teams/{team_id}/hats/{hat_id}/withdraw": "the leader or the wearer",
    "POST /teams/{team_id}/invitations": "the team side", "POST /teams/{team_id}/leave": "a team member",
    "POST /teams/{team_id}/members/{member_id}/confirm": "the team side and the member",
    "POST /teams/{team_id}/members/{member_id}/end": "the team side or the member",
    "POST /teams/{team_id}/plan": "the team side",
    "POST /teams/{team_id}/plan/suggestions/{suggestion_id}/{answer}": "the leader",
    "GET /teams/{team_id}/private-details": "the team side", "PUT /teams/{team_id}/private-details": "the team side",
    "POST /teams/{team_id}/series": "the team side", "POST /teams/{team_id}/shifts": "the team side",
    "POST /teams/{team_id}/timesheets": "a worker", "POST /teams/{team_id}/vacancies": "the team side",
    "GET /timesheets/to-confirm": "the team side", "PATCH /timesheets/{entry_id}": "a worker",
    "POST /timesheets/{entry_id}/accept": "a worker", "POST /timesheets/{entry_id}/adjust": "the team side",
    "POST /timesheets/{entry_id}/answer": "a worker", "POST /timesheets/{entry_id}/confirm": "the team side",
    "POST /timesheets/{entry_id}/correct": "the team side and the worker",
    "POST /timesheets/{entry_id}/dispute": "the team side", "POST /timesheets/{entry_id}/reject": "a worker",
    "POST /timesheets/{entry_id}/reply": "the team side", "POST /timesheets/{entry_id}/submit": "a worker",
    "PATCH /vacancies/{vacancy_id}": "the team side", "POST /vacancies/{vacancy_id}/invitations": "the team side",
    "POST /vacancies/{vacancy_id}/requests": "a worker", "GET /vacancies/{vacancy_id}/suggestions": "the team side",
}


def _operations(app) -> set[str]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return {f"{method.upper()} {path.removeprefix('/api/v1')}" for path, item in spec["paths"].items()
            for method in item if method in {"get", "post", "put", "patch", "delete"}}


def _api_only_in_readme() -> dict[str, str]:
    """The README's list of staff operations with no page ("Staff operations and their pages"): `METHOD /path`: why."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Staff operations and their pages", 1)[1].split("\n#", 1)[0]
    assert "Operations with no page, and why:" in section
    return dict(re.findall(r"^- `((?:GET|POST|PUT|PATCH|DELETE) [^`]+)`: (.+)$", section, flags=re.M))


def test_every_operation_is_placed(app):
    """The OpenAPI document's operations are exactly the staff ones with a page, the
    README's API-only ones and the others: nothing missing, nothing twice, nothing stale."""
    operations = _operations(app)
    api_only = _api_only_in_readme()
    placed = [*STAFF_PAGES, *NOT_STAFF, *api_only]
    assert len(placed) == len(set(placed)), sorted({p for p in placed if placed.count(p) > 1})
    assert operations - set(placed) == set(), "place these operations in STAFF_PAGES, NOT_STAFF or the README"
    assert set(placed) - operations == set(), "these are no longer in the API"


def test_each_staff_operation_names_a_page_that_does_it(app):
    """Each staff operation's page exists, and reads (GET) or changes (POST) as the operation does."""
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for operation, endpoint in STAFF_PAGES.items():
        assert endpoint in methods, f"{operation}: no page {endpoint}"
        wanted = "GET" if operation.startswith("GET ") else "POST"
        assert wanted in methods[endpoint], f"{operation}: {endpoint} does not take {wanted}"
        assert not endpoint.startswith(("api", "members_api")), endpoint


def test_the_readme_says_why_for_each_api_only_staff_operation():
    for operation, why in _api_only_in_readme().items():
        assert len(why.split()) >= 5, f"{operation}: say why it has no page"
