"""The equality questions on the web (issue 18): a worker member gives them voluntarily,
apart from her profile, with "prefer not to say" for every question; she changes and
withdraws them; nobody else may; a refused form keeps what was typed and says what
is wrong beside the field. The fairness report reads the answers in groups of five
or more, and its tables can be reached by keyboard."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import EqualityData
from careteams.matching.services.suggestions import suggest_candidates
from careteams.members.models import MemberClass
from tests.factories import PASSWORD, MembershipFactory, PersonFactory
from tests.helpers import csrf_from
from tests.helpers import login as login_with_password
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy

QUESTIONS = ("ethnicity", "gender", "age_band", "disability")


def login(client, person) -> None:
    db.session.commit()
    assert login_with_password(client, person.email, PASSWORD).status_code == 302


def url_of(world) -> str:
    return f"/coops/{world.coop.slug}/equality"


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def token(client, url: str) -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def answers_of(person) -> EqualityData | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(EqualityData).where(EqualityData.person_id == person.id))


def checked(html: str, name: str) -> list[str]:
    """The values of the radio buttons (or box) named `name` that are ticked."""
    found = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and re.search(r"\schecked\b", tag):
            found.append(re.search(r'value="([^"]*)"', tag).group(1))
    return found


@pytest.fixture
def worker(world):
    return make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])


def test_a_worker_gives_changes_and_withdraws_her_answers(world, worker, client):
    login(client, worker)
    url = url_of(world)
    page = client.get(url)
    assert page.status_code == 200
    html = html_of(page)
    assert "Answering is up to you" in html and "Nobody sees your own answers" in html
    for name in QUESTIONS:
        # Every question offers "prefer not to say"; nothing is ticked for her yet.
        assert re.search(rf'<input[^>]*name="{name}"[^>]*value="prefer not to say"', html), name
        assert checked(html, name) == []
    assert "Withdraw and delete my answers" not in html

    saved = client.post(url, data={"csrf_token": csrf_from(html), "ethnicity": "White", "gender": "woman",
                                   "age_band": "35-49", "disability": "no", "consent": "y"})
    # Back to the page itself: no answer travels in the address.
    assert saved.status_code == 303 and saved.headers["Location"].endswith(url)
    row = answers_of(worker)
    assert (row.cooperative_id, row.ethnicity, row.gender, row.age_band, row.disability) == (
        world.coop.id, "White", "woman", "35-49", "no")

    again = html_of(client.get(url))
    assert "Your answers are saved." in again
    assert checked(again, "ethnicity") == ["White"] and checked(again, "disability") == ["no"]
    assert checked(again, "consent") == []  # consent is asked again each time she saves
    assert "Withdraw and delete my answers" in again

    changed = client.post(url, data={"csrf_token": csrf_from(again), "ethnicity": "White", "gender": "woman",
                                     "age_band": "50-64", "disability": "yes", "consent": "y"})
    assert changed.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EqualityData)) == 1
    assert (answers_of(worker).age_band, answers_of(worker).disability) == ("50-64", "yes")

    withdrawn = client.post(f"{url}/withdraw", data={"csrf_token": csrf_from(again)})
    assert withdrawn.status_code == 303 and withdrawn.headers["Location"].endswith(url)
    assert answers_of(worker) is None
    after = html_of(client.get(url))
    assert "Your answers are deleted." in after and "Withdraw and delete my answers" not in after
    assert all(checked(after, name) == [] for name in QUESTIONS)
    # Withdrawing twice is no error.
    assert client.post(f"{url}/withdraw", data={"csrf_token": csrf_from(after)}).status_code == 303
    assert "You had no answers to delete." in html_of(client.get(url))


def test_prefer_not_to_say_and_blank_answers(world, worker, client):
    login(client, worker)
    url = url_of(world)
    t = token(client, url)
    data = {"csrf_token": t, "consent": "y", **dict.fromkeys(QUESTIONS, "prefer not to say")}
    assert client.post(url, data=data).status_code == 303
    row = answers_of(worker)
    assert [getattr(row, name) for name in QUESTIONS] == ["prefer not to say"] * 4
    assert checked(html_of(client.get(url)), "gender") == ["prefer not to say"]
    # Questions left blank are stored as not given.
    assert client.post(url, data={"csrf_token": t, "consent": "y", "age_band": "25-34"}).status_code == 303
    row = answers_of(worker)
    assert (row.ethnicity, row.gender, row.age_band, row.disability) == (None, None, "25-34", None)


def test_without_consent_nothing_is_saved_and_the_answers_stay_ticked(world, worker, client):
    login(client, worker)
    url = url_of(world)
    response = client.post(url, data={"csrf_token": token(client, url), "ethnicity": "Another ethnic group",
                                      "gender": "non-binary", "age_band": "16-24", "disability": "prefer not to say"})
    assert response.status_code == 422
    html = html_of(response)
    assert re.search(r'id="consent-error">.*Tick the box to agree before you save your answers\.', html)
    assert re.search(r'<input[^>]*aria-describedby="consent-error"[^>]*id="consent"|'
                     r'<input[^>]*id="consent"[^>]*aria-describedby="consent-error"', html)
    assert '<a href="#consent">' in html  # the summary links to the box
    assert checked(html, "ethnicity") == ["Another ethnic group"] and checked(html, "gender") == ["non-binary"]
    assert checked(html, "age_band") == ["16-24"] and checked(html, "disability") == ["prefer not to say"]
    assert answers_of(worker) is None


def test_an_answer_that_is_not_offered_is_refused_beside_its_question(world, worker, client):
    login(client, worker)
    url = url_of(world)
    response = client.post(url, data={"csrf_token": token(client, url), "age_band": "very old", "gender": "man",
                                      "consent": "y"})
    assert response.status_code == 422
    html = html_of(response)
    assert re.search(r'id="age_band-error">.*Choose one of the options\.', html)
    assert 'aria-describedby="age_band-error"' in html
    assert "Not a valid choice" not in html
    assert checked(html, "gender") == ["man"] and checked(html, "consent") == ["y"]
    assert answers_of(worker) is None


def test_an_answer_given_through_the_api_in_other_words_is_kept(world, worker, client, auth_headers):
    api = f"/api/v1/cooperatives/{world.coop.slug}/worker-profile/equality"
    assert client.put(api, headers=auth_headers(worker), json={"ethnicity": "Asian British"}).status_code == 200
    login(client, worker)
    url = url_of(world)
    html = html_of(client.get(url))
    assert checked(html, "ethnicity") == ["Asian British"] and "Asian British (as you gave it before)" in html
    assert client.post(url, data={"csrf_token": csrf_from(html), "ethnicity": "Asian British", "gender": "woman",
                                  "consent": "y"}).status_code == 303
    assert (answers_of(worker).ethnicity, answers_of(worker).gender) == ("Asian British", "woman")


def test_only_worker_members_of_the_coop_are_asked(world, worker, app, auth_headers):
    """The leader (a supported member), another supported member, the co-op's facilitator,
    another co-op's facilitator, a stranger: none may give answers here, by page or by API."""
    url = url_of(world)
    api = f"/api/v1/cooperatives/{world.coop.slug}/worker-profile/equality"
    stranger = PersonFactory(name="Sam Stranger")
    for person, status in ((world.leader, 403), (world.outsider, 403), (world.facilitator, 403),
                           (world.other_facilitator, 404), (stranger, 404)):
        client = app.test_client()
        login(client, person)
        assert client.get(url).status_code == status, person.name
        home = html_of(client.get("/"))
        assert "Equality questions" not in home, person.name
        t = csrf_from(home)
        assert client.post(url, data={"csrf_token": t, "ethnicity": "White", "consent": "y"}).status_code == status
        # Withdrawing is always allowed in her own co-op (there is nothing of hers to delete).
        assert client.post(f"{url}/withdraw", data={"csrf_token": t}).status_code == (303 if status == 403 else 404)
        # The API asks the same predicate.
        assert client.put(api, headers=auth_headers(person), json={"ethnicity": "White"}).status_code == status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EqualityData)) == 0


def test_signed_out_people_are_sent_to_sign_in(world, client):
    response = client.get(url_of(world))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_former_worker_may_still_withdraw_but_not_change(world, client):
    """She gave answers as a worker member; now she is a supported member. She sees that
    she gave some and can delete them, but is not asked again."""
    person = PersonFactory(name="Flo Former")
    MembershipFactory(cooperative=world.coop, person=person, member_class=MemberClass.supported)
    db.session.add(EqualityData(cooperative_id=world.coop.id, person_id=person.id, gender="woman"))
    login(client, person)
    url = url_of(world)
    page = client.get(url)
    assert page.status_code == 200
    html = html_of(page)
    assert "Withdraw and delete my answers" in html and "Save my answers" not in html
    assert 'name="gender"' not in html
    refused = client.post(url, data={"csrf_token": csrf_from(html), "gender": "man", "consent": "y"})
    assert refused.status_code == 403
    assert answers_of(person).gender == "woman"
    assert client.post(f"{url}/withdraw", data={"csrf_token": csrf_from(html)}).status_code == 303
    assert answers_of(person) is None


def test_the_worker_finds_the_page_from_her_profile_and_the_navigation(world, worker, client):
    login(client, worker)
    url = url_of(world)
    for page in ("/", f"/coops/{world.coop.slug}/worker-profile"):
        assert f'href="{url}"' in html_of(client.get(page)), page
    # The profile itself asks nothing about equality.
    profile = html_of(client.get(f"/coops/{world.coop.slug}/worker-profile"))
    assert 'name="ethnicity"' not in profile and 'name="disability"' not in profile


def test_the_fairness_report_reads_the_answers_in_groups_of_five_and_its_tables_take_focus(world, app):
    people = [make_worker(world.coop, f"Worker{n} Person{n}", skills=[world.skills["Personal care"]])
              for n in range(8)]
    url = url_of(world)
    for n, person in enumerate(people):
        client = app.test_client()
        login(client, person)
        gender = "woman" if n < 6 else "man"
        assert client.post(url, data={"csrf_token": token(client, url), "gender": gender, "disability": "yes",
                                      "consent": "y"}).status_code == 303
    shown = suggest_candidates(actor(world.leader), post_vacancy(world).id, now=NOW)
    assert len(shown) == 8
    client = app.test_client()
    login(client, world.facilitator)
    html = html_of(client.get(f"/coops/{world.coop.slug}/matching/report"))
    for dimension in ("ethnicity", "gender", "age band", "disability"):
        assert f'<div class="table-wrap" role="region" tabindex="0" aria-label="Fairness by {dimension}">' in html
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)}
    assert re.search(r"<td>\s*6\s*</td>", rows["woman"])  # six women were suggested
    assert "fewer than 5" in rows["man"] and not re.search(r"<td>\s*2\s*</td>", rows["man"])
    assert re.search(r"<td>\s*8\s*</td>", rows["yes"])
    assert not any(p.name in html for p in people)
