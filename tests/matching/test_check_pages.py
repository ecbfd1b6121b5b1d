"""Worker checks on the web (issue 18): the co-op's facilitators see every worker's
checks with those expired and expiring in the next 30 days first, and record a check
(kind, reference, issued, expires) on a worker's page; a renewal takes the old check
off the expiring list; the page's queries do not grow with the workers; the home page
counts what needs renewing in one line; the API keeps the reference too."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import CheckKind, WorkerCheck, WorkerProfile
from careteams.members.models import StaffRoleName
from tests.factories import PASSWORD, PersonFactory, StaffRoleFactory
from tests.helpers import QueryCounter, csrf_from
from tests.helpers import login as login_with_password
from tests.matching.conftest import TODAY, make_worker


def login(client, person) -> None:
    db.session.commit()
    assert login_with_password(client, person.email, PASSWORD).status_code == 302


def list_url(world) -> str:
    return f"/coops/{world.coop.slug}/checks"


def worker_url(world, person) -> str:
    return f"/coops/{world.coop.slug}/workers/{person.id}/checks"


def checks_of(person) -> list[WorkerCheck]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WorkerCheck).join(WorkerProfile).where(
        WorkerProfile.person_id == person.id).order_by(WorkerCheck.id)))


def section(html: str, heading_id: str) -> str:
    found = re.search(rf'<h2 id="{heading_id}">(.*?)(?=<h2 )', html, re.S)
    assert found, heading_id
    return unescape(found.group(1))


def beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html
    tag = re.search(rf'<(?:input|select)[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)


def test_expired_and_expiring_checks_come_first_and_a_renewal_clears_one(world, client):
    soon = make_worker(world.coop, "Sally Soon", dbs_expires=TODAY + timedelta(days=12))
    gone = make_worker(world.coop, "Gary Gone", dbs_expires=TODAY - timedelta(days=3))
    fine = make_worker(world.coop, "Fay Fine", dbs_expires=TODAY + timedelta(days=400))
    login(client, world.facilitator)
    page = client.get(list_url(world))
    assert page.status_code == 200
    html = page.text
    expiring, expired = section(html, "expiring"), section(html, "expired")
    assert "Sally Soon" in expiring and "Gary Gone" not in expiring and "Fay Fine" not in expiring
    assert "Gary Gone" in expired and "Enhanced DBS check" in expired
    every = section(html + "<h2 ", "workers")
    for person in (soon, gone, fine):
        assert person.name in every and f'href="{worker_url(world, person)}"' in html

    # Sally's renewed DBS, with its certificate number: the old one is history, not a problem.
    form = client.get(worker_url(world, soon))
    assert form.status_code == 200
    done = client.post(worker_url(world, soon), data={
        "csrf_token": csrf_from(form.text), "kind": "enhanced_dbs", "reference": "001234567890",
        "checked_on": TODAY.isoformat(), "expires_on": (TODAY + timedelta(days=3 * 365)).isoformat()})
    assert done.status_code == 303 and done.headers["Location"].endswith(worker_url(world, soon))
    recorded = checks_of(soon)[-1]
    assert (recorded.kind, recorded.reference, recorded.checked_on, recorded.recorded_by_id) == (
        CheckKind.enhanced_dbs, "001234567890", TODAY, world.facilitator.id)
    history = unescape(client.get(worker_url(world, soon)).text)
    assert "001234567890" in history and "Renewed by a later check" in history
    after = client.get(list_url(world)).text
    assert "Sally Soon" not in section(after, "expiring")
    assert "001234567890" in section(after + "<h2 ", "workers")
    # The review queue's list of checks agrees, and links each worker to her checks.
    queue = client.get(f"/coops/{world.coop.slug}/matching/queue").text
    queue_checks = queue[queue.index('id="checks"'):]
    assert "Sally Soon" not in queue_checks and f'href="{worker_url(world, gone)}"' in queue_checks


def test_a_check_that_expires_before_it_was_issued_is_refused_keeping_the_typing(world, client):
    worker = make_worker(world.coop, "Wendy Ali")
    login(client, world.facilitator)
    token = csrf_from(client.get(worker_url(world, worker)).text)
    before = len(checks_of(worker))
    refused = client.post(worker_url(world, worker), data={
        "csrf_token": token, "kind": "enhanced_dbs", "reference": "001234567890",
        "checked_on": "2026-11-01", "expires_on": "2026-10-01"})
    assert refused.status_code == 422
    beside(refused.text, "expires_on", "The expiry comes after the date of the check.")
    assert 'value="001234567890"' in refused.text and 'value="2026-10-01"' in refused.text
    training = client.post(worker_url(world, worker), data={"csrf_token": token, "kind": "training",
                                                            "checked_on": "2026-11-01"})
    assert training.status_code == 422
    beside(training.text, "name", "Name the training item.")
    no_date = client.post(worker_url(world, worker), data={"csrf_token": token, "kind": "right_to_work"})
    assert no_date.status_code == 422
    beside(no_date.text, "checked_on", "Enter the date it was issued, like 2026-11-02.")
    assert len(checks_of(worker)) == before


def test_who_may_see_and_record_checks(world, app):
    worker = make_worker(world.coop, "Wendy Ali")
    admin = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.admin).person
    other_admin = StaffRoleFactory(role=StaffRoleName.admin).person
    stranger = PersonFactory(name="Sam Stranger")
    expected = {world.facilitator: 200, admin: 200, worker: 403, world.leader: 403,
                world.other_facilitator: 404, other_admin: 404, stranger: 404}
    before = len(checks_of(worker))
    for person, status in expected.items():
        client = app.test_client()
        login(client, person)
        assert client.get(list_url(world)).status_code == status, person.name
        assert client.get(worker_url(world, worker)).status_code == status, person.name
        home = client.get("/").text
        assert (f'href="{list_url(world)}"' in home) is (status == 200), person.name
        if status != 200:
            posted = client.post(worker_url(world, worker), data={
                "csrf_token": csrf_from(home), "kind": "right_to_work", "checked_on": "2026-11-01"})
            assert posted.status_code == status, person.name
    assert len(checks_of(worker)) == before
    # Someone with no worker profile here has no checks page.
    client = app.test_client()
    login(client, world.facilitator)
    assert client.get(worker_url(world, world.leader)).status_code == 404
    anonymous = app.test_client().get(list_url(world))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_list_costs_the_same_queries_for_two_workers_as_for_twelve(world, client):
    for n in range(2):
        make_worker(world.coop, f"Worker{n} Early", dbs_expires=TODAY + timedelta(days=5 + n))
    login(client, world.facilitator)
    client.get(list_url(world))  # warm up: the login session, the viewer

    def reads(counter):
        return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]

    with QueryCounter(db.engine) as two:
        assert client.get(list_url(world)).status_code == 200
    for n in range(10):
        make_worker(world.coop, f"Worker{n} Later", dbs_expires=TODAY + timedelta(days=5 + n))
    db.session.commit()
    with QueryCounter(db.engine) as twelve:
        page = client.get(list_url(world))
    assert page.status_code == 200 and page.text.count("Later</a>:") == 10
    assert len(reads(twelve)) == len(reads(two)), (len(reads(two)), len(reads(twelve)))


def test_the_home_page_counts_checks_to_renew_for_facilitators(world, client):
    make_worker(world.coop, "Sally Soon", dbs_expires=TODAY + timedelta(days=12))
    make_worker(world.coop, "Gary Gone", dbs_expires=TODAY - timedelta(days=3))
    renewed = make_worker(world.coop, "Rita Renewed", dbs_expires=TODAY + timedelta(days=5))
    profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == renewed.id))
    db.session.add(WorkerCheck(worker_profile_id=profile.id, kind=CheckKind.enhanced_dbs, checked_on=TODAY,
                               expires_on=TODAY + timedelta(days=1000)))
    make_worker(world.coop, "Fay Fine", dbs_expires=TODAY + timedelta(days=400))
    login(client, world.facilitator)
    home = unescape(client.get("/").text)
    assert f"2 worker checks in {world.coop.name} have expired or expire within 30 days." in home
    assert f'href="{list_url(world)}"' in home


def test_the_api_records_and_returns_the_reference(world, auth_headers, client):
    worker = make_worker(world.coop, "Wendy Ali")
    response = client.post(f"/api/v1/cooperatives/{world.coop.slug}/workers/{worker.id}/checks",
                           headers=auth_headers(world.facilitator),
                           json={"kind": "right_to_work", "reference": "RTW-7781", "checked_on": "2026-11-01"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reference"] == "RTW-7781"
    assert checks_of(worker)[-1].reference == "RTW-7781"
    too_long = client.post(f"/api/v1/cooperatives/{world.coop.slug}/workers/{worker.id}/checks",
                           headers=auth_headers(world.facilitator),
                           json={"kind": "right_to_work", "reference": "x" * 61, "checked_on": "2026-11-01"})
    assert too_long.status_code == 422
    assert date(2026, 11, 1) == checks_of(worker)[-1].checked_on
