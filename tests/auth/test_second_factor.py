"""Issue 17: staff (facilitators, secretaries, admins) enrol a TOTP second factor and pass
it in every login session before any staff page or API operation; a lost factor is
reset by another admin of the same co-op, audited."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from careteams.auth.models import LoginSession, RecoveryCode, SecondFactorReset, TotpFactor
from careteams.extensions import db
from careteams.members.models import MemberClass, Person, StaffRoleName
from tests.factories import (
    PASSWORD,
    TEST_TOTP_SECRET,
    CooperativeFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
)
from tests.helpers import csrf_from, login, pass_second_factor, totp_code

SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
RECOVERY = re.compile(r"<code class=\"code-medium\">([0-9a-f]{5}-[0-9a-f]{5})</code>")


@pytest.fixture
def coop(app):
    return CooperativeFactory()


def make_staff(coop, role=StaffRoleName.facilitator, enrolled=True):
    return StaffRoleFactory(cooperative=coop, role=role, second_factor=enrolled).person


def password_only(client, person):
    """The login form alone (tests.helpers.login would pass the factor too)."""
    db.session.commit()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return response


def post_code(client, url, code):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"code": code, "csrf_token": token})


def fresh_replay_marker(person):
    # Tests sign in the same person several times within one 30 s step.
    db.session.execute(sa.update(TotpFactor).where(TotpFactor.person_id == person.id).values(last_used_step=None))
    db.session.commit()


def enrol_through_pages(client, person) -> tuple[str, list[str]]:
    """Sign in, enrol on the page (secret read from the QR code's text alternative); (secret, recovery codes)."""
    password_only(client, person)
    assert client.get("/").headers["Location"].startswith("/my/second-factor/enrol")
    page = client.get("/my/second-factor/enrol").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1)
    response = post_code(client, "/my/second-factor/enrol", pyotp.TOTP(secret).now())
    assert response.status_code == 200
    return secret, RECOVERY.findall(response.get_data(as_text=True))


# --- enrolment ------------------------------------------------------------------------


def test_enrol_draws_a_qr_code_confirms_with_a_code_and_shows_recovery_codes_once(client, coop):
    person = make_staff(coop, enrolled=False)
    password_only(client, person)
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/my/second-factor/enrol?next=/"
    page = client.get("/my/second-factor/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and 'role="img" aria-labelledby="totp-key-label"' in html
    secret = SECRET_ON_PAGE.search(html).group(1)
    # The same secret until she confirms it (a reload does not change what she scanned).
    assert SECRET_ON_PAGE.search(client.get("/my/second-factor/enrol").get_data(as_text=True)).group(1) == secret

    wrong = post_code(client, "/my/second-factor/enrol", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert wrong.status_code == 422
    assert 'id="code-error"' in wrong.get_data(as_text=True) and "not right" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not through

    done = post_code(client, "/my/second-factor/enrol?next=/", pyotp.TOTP(secret).now())
    assert done.status_code == 200
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.person_id == person.id)))
    assert len(stored) == 10 and not stored & set(codes)  # only hashes are kept
    factor = db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == person.id))
    assert factor.confirmed_at is not None and factor.secret == secret

    assert client.get("/").status_code == 200  # this session passed
    again = client.get("/my/second-factor/enrol")  # shown once: never again
    assert again.status_code == 302 and not RECOVERY.search(client.get("/").get_data(as_text=True))


def test_enrol_refuses_a_blank_code_beside_the_field(client, coop):
    person = make_staff(coop, enrolled=False)
    password_only(client, person)
    response = post_code(client, "/my/second-factor/enrol", "")
    assert response.status_code == 422
    assert 'id="code-error"' in response.get_data(as_text=True)


# --- signing in with the factor ----------------------------------------------------------


def test_right_code_passes_and_goes_on_to_the_page_asked_for(client, coop):
    person = make_staff(coop)
    password_only(client, person)
    asked = client.get(f"/coops/{coop.slug}/second-factors")
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/login/second-factor?next=/coops/{coop.slug}/second-factors"
    response = post_code(client, asked.headers["Location"], totp_code())
    assert response.status_code == 302 and response.headers["Location"] == f"/coops/{coop.slug}/second-factors"
    session = db.session.scalar(sa.select(LoginSession).where(LoginSession.person_id == person.id))
    assert session.second_factor_verified_at is not None
    assert client.get("/").status_code == 200


def test_wrong_code_is_refused_beside_the_field(client, coop):
    person = make_staff(coop)
    password_only(client, person)
    right = totp_code()
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    response = post_code(client, "/login/second-factor", wrong)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="code-error"' in html and "That code is not right" in html
    assert client.get("/").status_code == 302
    assert post_code(client, "/login/second-factor", "not a code").status_code == 422


def test_a_code_is_good_once(app, coop):
    person = make_staff(coop)
    first, second = app.test_client(), app.test_client()
    password_only(first, person)
    password_only(second, person)
    code = totp_code()
    assert post_code(first, "/login/second-factor", code).status_code == 302
    replay = post_code(second, "/login/second-factor", code)
    assert replay.status_code == 422 and "just been used" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_wrong_codes_are_rate_limited(client, coop):
    person = make_staff(coop)
    password_only(client, person)
    right = totp_code()
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    statuses = [post_code(client, "/login/second-factor", wrong).status_code for _ in range(5)]
    assert statuses == [422] * 5
    assert post_code(client, "/login/second-factor", right).status_code == 429  # even the right one, for now
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once(app, coop):
    person = make_staff(coop, enrolled=False)
    _, codes = enrol_through_pages(app.test_client(), person)
    lost_phone = app.test_client()
    password_only(lost_phone, person)
    assert post_code(lost_phone, "/login/second-factor", codes[0].upper()).status_code == 302
    assert lost_phone.get("/").status_code == 200
    again = app.test_client()
    password_only(again, person)
    assert post_code(again, "/login/second-factor", codes[0]).status_code == 422
    assert post_code(again, "/login/second-factor", codes[1]).status_code == 302


@pytest.mark.parametrize("role", list(StaffRoleName))
def test_staff_pages_and_api_wait_for_the_factor(client, coop, role):
    person = make_staff(coop, role)
    password_only(client, person)
    for url in ("/", f"/coops/{coop.slug}/second-factors", "/my/notices"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login/second-factor"), url
    api = client.get("/api/v1/tokens")  # the session cookie on the API
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "second_factor_required"
    token = csrf_from(client.get("/login/second-factor").get_data(as_text=True))
    # A form post is stopped by the gate too, whatever it was.
    assert client.post(f"/coops/{coop.slug}/second-factors/{person.id}/reset",
                       data={"csrf_token": token}).status_code == 302
    pass_second_factor(client, person)
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/tokens").status_code == 200


def test_logout_works_before_the_factor(client, coop):
    person = make_staff(coop)
    password_only(client, person)
    token = csrf_from(client.get("/login/second-factor").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_people_who_are_not_staff_are_not_asked(client, coop):
    member = MembershipFactory(cooperative=coop, member_class=MemberClass.worker).person
    assert login(client, member.email, PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/login/second-factor").status_code == 302
    assert db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == member.id)) is None


# --- API tokens -------------------------------------------------------------------------


def test_a_staff_token_needs_the_code(client, coop):
    person = make_staff(coop)
    body = {"email": person.email, "password": PASSWORD, "name": "laptop"}
    db.session.commit()
    missing = client.post("/api/v1/tokens", json=body)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "second_factor_required"
    right = totp_code()
    wrong = client.post("/api/v1/tokens", json={**body, "totp_code": f"{(int(right) + 1) % 10**6:06d}"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "wrong_second_factor"
    made = client.post("/api/v1/tokens", json={**body, "totp_code": right})
    assert made.status_code == 201
    replay = client.post("/api/v1/tokens", json={**body, "totp_code": right})
    assert replay.status_code == 401
    staff_call = client.get(f"/api/v1/cooperatives/{coop.slug}/staff",
                            headers={"Authorization": f"Bearer {made.get_json()['token']}"})
    assert staff_call.status_code == 200


def test_staff_without_a_factor_get_no_token(client, coop):
    person = make_staff(coop, enrolled=False)
    db.session.commit()
    response = client.post("/api/v1/tokens", json={"email": person.email, "password": PASSWORD, "totp_code": "123456"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "second_factor_not_enrolled"


def test_a_token_for_someone_not_staff_needs_no_code(client):
    person = PersonFactory()
    db.session.commit()
    assert client.post("/api/v1/tokens", json={"email": person.email, "password": PASSWORD}).status_code == 201


# --- resets ----------------------------------------------------------------------------


def _reset(client, coop, person):
    token = csrf_from(client.get("/").get_data(as_text=True))  # the log-out form's
    return client.post(f"/coops/{coop.slug}/second-factors/{person.id}/reset", data={"csrf_token": token})


def test_an_admin_resets_another_staff_persons_factor_and_it_is_recorded(app, coop):
    admin = make_staff(coop, StaffRoleName.admin)
    lost = make_staff(coop, StaffRoleName.facilitator)
    theirs = app.test_client()
    login(theirs, lost.email, PASSWORD)
    assert theirs.get("/").status_code == 200
    mine = app.test_client()
    login(mine, admin.email, PASSWORD)
    page = mine.get(f"/coops/{coop.slug}/second-factors").get_data(as_text=True)
    assert lost.name.replace("'", "&#39;") in page and "You cannot reset your own" in page
    response = _reset(mine, coop, lost)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == lost.id)) is None
    audit = db.session.scalars(sa.select(SecondFactorReset)).all()
    assert [(a.cooperative_id, a.person_id, a.reset_by_id) for a in audit] == [(coop.id, lost.id, admin.id)]
    assert "reset" in mine.get(f"/coops/{coop.slug}/second-factors").get_data(as_text=True)
    # Her live session must set up a new factor before going on.
    again = theirs.get("/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/my/second-factor/enrol")


def test_nobody_resets_their_own_factor(client, coop):
    admin = make_staff(coop, StaffRoleName.admin)
    login(client, admin.email, PASSWORD)
    assert _reset(client, coop, admin).status_code == 403
    assert db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == admin.id)) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecondFactorReset)) == 0


def test_an_admin_of_another_coop_is_refused(client, coop):
    lost = make_staff(coop)
    elsewhere = make_staff(CooperativeFactory(), StaffRoleName.admin)
    login(client, elsewhere.email, PASSWORD)
    assert client.get(f"/coops/{coop.slug}/second-factors").status_code == 403
    assert _reset(client, coop, lost).status_code == 403
    assert db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == lost.id)) is not None


@pytest.mark.parametrize("role", [StaffRoleName.facilitator, StaffRoleName.secretary])
def test_staff_who_are_not_admins_are_refused(client, coop, role):
    lost = make_staff(coop)
    other = make_staff(coop, role)
    login(client, other.email, PASSWORD)
    assert client.get(f"/coops/{coop.slug}/second-factors").status_code == 403
    assert _reset(client, coop, lost).status_code == 403
    assert db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == lost.id)) is not None


def test_a_reset_of_someone_who_is_not_staff_here_is_not_found(client, coop):
    admin = make_staff(coop, StaffRoleName.admin)
    stranger = make_staff(CooperativeFactory())
    login(client, admin.email, PASSWORD)
    assert _reset(client, coop, stranger).status_code == 404


def test_the_test_secret_is_what_the_factories_enrol(coop):
    person = make_staff(coop)
    assert db.session.scalar(sa.select(TotpFactor.secret).where(TotpFactor.person_id == person.id)) == TEST_TOTP_SECRET
    fresh_replay_marker(person)


def test_the_demo_gives_each_staff_person_a_published_secret(app):
    from careteams.demo import DEMO_TOTP_SECRETS, seed

    with app.test_request_context():
        logins = seed()
    secrets = logins["totp_secrets"]
    assert set(secrets) == {f"{key}@demo.careteams.example" for key in DEMO_TOTP_SECRETS}
    for email, secret in secrets.items():
        factor = db.session.scalar(sa.select(TotpFactor).join(Person, Person.id == TotpFactor.person_id)
                                   .where(Person.email == email))
        assert factor.secret == secret and factor.confirmed_at is not None
        assert len(pyotp.TOTP(secret).now()) == 6
