"""The API document tells the truth, and no input produces a 500 (issue 14).

schemathesis generates requests for EVERY operation of /api/v1/openapi.json and
sends them to the app in process (WSGI), as an anonymous caller, a team leader,
a worker and a facilitator of the demo co-op. Each answer must be:
- not a server error (no 5xx other than the documented 503 when the database is away),
- a status code the operation documents, and
- a body that matches the documented schema (the error envelope included).

The served document also names a `default` error response (the envelope) for
clients; this test removes it before checking, so `status_code_conformance`
holds each operation to the codes it lists explicitly.

PostgreSQL only: NUL bytes and integer-range faults appear there.
More examples: CARETEAMS_SCHEMATHESIS_EXAMPLES=100 (default 10).
"""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from careteams import demo
from careteams.auth.services import create_api_token
from careteams.extensions import db, limiter
from careteams.members.models import Person
from tests.conftest import requires_postgres

EXAMPLES = int(os.environ.get("CARETEAMS_SCHEMATHESIS_EXAMPLES", "10"))
SEED = 14
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Demo people: Ann leads her team; Wendy works in teams of the demo co-op; Fran is its
# facilitator (co-op-wide operations: pay runs, figures, matching).
ACTORS = {"anonymous": None, "leader": "ann@demo.careteams.example", "worker": "wendy@demo.careteams.example",
          "facilitator": "fran@demo.careteams.example"}


def _explicit_codes_only(raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    for item in raw["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].pop("default", None)
    return raw


# Path parameters filled from the demo data as well as generated: random ids only
# ever reach a 404, so most of an operation would go untried.
KNOWN = {
    "slug": "SELECT slug FROM cooperative", "cooperative_id": "SELECT id FROM cooperative",
    "team_id": "SELECT id FROM team", "shift_id": "SELECT id FROM shift",
    "entry_id": "SELECT id FROM timesheet_entry", "resolution_id": "SELECT id FROM resolution",
    "vacancy_id": "SELECT id FROM vacancy", "member_id": "SELECT id FROM team_member",
    "match_id": "SELECT id FROM match", "hat_id": "SELECT id FROM hat", "offer_id": "SELECT id FROM offer",
    "swap_id": "SELECT id FROM shift_swap", "membership_id": "SELECT id FROM membership",
    "staff_role_id": "SELECT id FROM staff_role", "token_id": "SELECT id FROM api_token WHERE name = 'spare'",
    "arranger_id": "SELECT id FROM arranger", "skill_id": "SELECT id FROM skill", "person_id": "SELECT id FROM person",
    "suggestion_id": "SELECT id FROM suggestion UNION SELECT id FROM plan_suggestion",
    "notification_id": "SELECT id FROM matching_notification", "feed_id": "SELECT id FROM calendar_feed",
    "run_id": "SELECT id FROM pay_run",
}
VARIANTS = 4  # sets of known path values per operation


def _known_values() -> dict[str, list]:
    values = {}
    for name, query in KNOWN.items():
        rows = db.session.scalars(sa.text(f"{query} ORDER BY 1")).all()  # noqa: S608  (constant queries)
        if rows:
            values[name] = rows
    return values


def _strategy(operation, known: dict[str, list]):
    generated = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    names = [p.name for p in operation.path_parameters if p.name in known]
    if not names:
        return generated
    variants = [{n: known[n][(i * 7 + j) % len(known[n])] for j, n in enumerate(names)} for i in range(VARIANTS)]
    filled = st.sampled_from(variants).flatmap(lambda values: operation.as_strategy(path_parameters=values))
    return generated | filled


def _run_operation(operation, headers: dict, known: dict[str, list]) -> str | None:
    """Run one operation's examples (valid and invalid inputs, generated and known
    path values); return the failures' text, or None."""

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=_strategy(operation, known))
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        check()
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001  (report every operation, fail once)
        return f"{type(error).__name__}: {error}"
    return None


def check_every_operation(app, database_url, actor: str) -> None:
    """Run every operation's examples as `actor`; fail once, listing every operation that failed."""
    requires_postgres(database_url)
    demo.seed()  # committed into this test's outer transaction: fresh data per test
    headers = {}
    if ACTORS[actor]:
        person = db.session.scalar(sa.select(Person).where(Person.email == ACTORS[actor]))
        _, secret = create_api_token(person, "schemathesis")
        create_api_token(person, "spare")  # revoking a token is tried on this one, never the caller's
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
    limiter.enabled = False  # the token endpoint's 429 is tested in tests/auth (put back after the test)

    raw = app.test_client().get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(_explicit_codes_only(raw))
    schema.app = app

    known = _known_values()
    failures = {}
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1
        failure = _run_operation(operation, headers, known)
        if failure:
            failures[operation.label] = failure
    assert count > 100, f"only {count} operations in the document"
    report = "\n\n".join(f"== {label}\n{text[:1500]}" for label, text in sorted(failures.items()))
    assert not failures, f"{len(failures)} of {count} operations failed as {actor}:\n{report}"


# The actors are split over two files so the two test workers (--dist loadfile) share
# them: the other half is in test_schemathesis_staff.py.
@pytest.mark.parametrize("actor", ["anonymous", "worker"])
def test_every_operation_conforms_and_never_5xx(app, database_url, actor):
    check_every_operation(app, database_url, actor)
