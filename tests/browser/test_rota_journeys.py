"""Issue 16's browser journeys: a team runs its rota on the web.

Keyboard only (Tab to a control, Enter or Space to use it, typing into fields; no
mouse), axe-core at WCAG 2.2 AA on every page visited, and the main pages checked
at 320 px and at 200% zoom (fits_320: a 640 px window with the body's CSS zoom at
200%, which lays out like a 320 px one). Key screens are shot at 375 and 1280 px.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to, type_date, type_time
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def person_id(app, key: str) -> int:
    from careteams.members.models import Person

    return read(app, lambda: db.session.scalar(sa.select(Person.id).where(Person.email == EMAIL.format(key))))


def team_of(app, leader: str) -> int:
    from careteams.teams.models import Team

    leader_id = person_id(app, leader)
    return read(app, lambda: db.session.scalar(sa.select(Team.id).where(Team.leader_id == leader_id)))


def empty_monday(weeks_ahead: int = 3) -> date:
    """A Monday weeks ahead: the demo only fills next week and its recurring tea visits
    (Monday, Wednesday and Friday at 18:00), so no morning there is taken yet."""
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=7 - today.weekday()) + timedelta(weeks=weeks_ahead - 1)


def choose_radio(page, group_first_id: str, index: int) -> None:
    """Select the index-th radio of a group with the keyboard: Tab into the group, arrows."""
    tab_to(page, f"#{group_first_id}")
    page.keyboard.press("Space")
    for _ in range(index):
        page.keyboard.press("ArrowDown")


def add_visit(page, day: date, start: time, end: time, notes: str) -> None:
    """On the add-a-visit page: fill the form with the keyboard and save it."""
    tab_to(page, "#day")
    type_date(page, day)
    assert page.input_value("#day") == day.isoformat()
    tab_to(page, "#start")
    type_time(page, start)
    tab_to(page, "#end")
    type_time(page, end)
    choose_radio(page, "kind", 0)  # personal care
    tab_to(page, "#notes")
    page.keyboard.type(notes)
    press_on(page, "main form[action$='/rota/visits/new'] button[type=submit]")


# ---------------------------------------------------------------------------
# Journey 4 of the rota: a refused form keeps its input and names the field
# ---------------------------------------------------------------------------

def test_refused_visit_keeps_what_was_typed_and_names_the_end(live_server, page, check_a11y, shoot):
    from careteams.rota.models import Shift

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "ann")
    monday = empty_monday()
    log_in(page, base, "ann", password, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota/visits/new']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "r4-add-visit")
    before = read(app, lambda: db.session.scalar(sa.select(sa.func.count(Shift.id)).where(Shift.team_id == team_id)))

    # The end (09:00) before the start (10:00).
    add_visit(page, monday + timedelta(days=1), time(10, 0), time(9, 0), "Help with the shopping list")
    check_a11y(page)
    assert page.title().startswith("Error:")
    # The error is beside the end field and tied to it.
    assert page.get_attribute("#end", "aria-invalid") == "true"
    described = (page.get_attribute("#end", "aria-describedby") or "").split()
    messages = [page.inner_text(f"#{d}").strip() for d in described if "error" in d]
    assert messages and any("end" in m.lower() for m in messages), messages
    assert page.query_selector("main .field-error #end")
    # The summary at the top links to the end field.
    summary = page.query_selector("main [role=alert] a[href='#end']")
    assert summary is not None, main_text(page)
    # What was typed is still there.
    assert page.input_value("#day") == (monday + timedelta(days=1)).isoformat()
    assert page.input_value("#start") == "10:00"
    assert page.input_value("#end") == "09:00"
    assert page.input_value("#notes") == "Help with the shopping list"
    assert page.is_checked("#kind")
    fits_320(page)
    shoot(page, "r4-add-visit-refused")
    # The summary's link takes the keyboard to the field.
    tab_to(page, "main [role=alert] a[href='#end']", limit=60)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "end"
    after = read(app, lambda: db.session.scalar(sa.select(sa.func.count(Shift.id)).where(Shift.team_id == team_id)))
    assert after == before


# ---------------------------------------------------------------------------
# Journey 1 of the rota: a leader builds a week from an empty rota and it fills
# ---------------------------------------------------------------------------

def simulate_text(app, phone: str, body: str) -> str:
    """`flask sms simulate` in a subprocess, on the live server's database."""
    env = {**os.environ, "CARETEAMS_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    done = subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "flask", "--app", "careteams", "sms", "simulate", "--from", phone, "--no-send", body],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def week_rows(page) -> list[str]:
    return [" ".join(t.split()) for t in page.eval_on_selector_all("main table tbody tr:has(a[href*='/rota/visits/'])", "rows => rows.map(r => r.innerText)")]


def back_to_week(page, team_id: int, monday: date) -> None:
    """From a visit page, its "Back to the rota" link: the week of that visit."""
    press_on(page, f"main a[href^='/teams/{team_id}/rota?week=']")
    assert f"Week starting {monday:%A %-d %B %Y}" in main_text(page)


def test_leader_builds_a_week_offers_it_and_it_fills(live_server, page, browser, check_a11y, shoot):
    """Cath's team has no visits in the demo: she builds a week, offers it, and it fills."""
    from careteams.rota.models import Offer, Shift, ShiftStatus

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "cath")
    monday = empty_monday()
    friday = monday + timedelta(days=4)
    week_url = f"/teams/{team_id}/rota?week={monday.isoformat()}"
    ids = {k: person_id(app, k) for k in ("wendy", "omar")}

    log_in(page, base, "cath", password, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    page.goto(base + week_url)  # the week to build, by its address
    check_a11y(page)
    assert "No shifts this week" in main_text(page)

    # A weekday morning series: every weekday at 08:00 for 1 hour, that week only.
    press_on(page, f"main a[href='/teams/{team_id}/rota/series/new']")
    check_a11y(page)
    assert page.is_checked("#repeat")  # "every weekday" is the first choice and the default
    tab_to(page, "#start_time")
    type_time(page, time(8, 0))
    choose_radio(page, "kind", 0)
    tab_to(page, "#first_date")
    type_date(page, monday)
    tab_to(page, "#ends_on")
    type_date(page, friday)
    tab_to(page, "#notes")
    page.keyboard.type("Breakfast and help to get dressed")
    fits_320(page)
    shoot(page, "r1-add-recurring-visit")
    press_on(page, "main form[action$='/rota/series/new'] button[type=submit]")
    check_a11y(page)
    assert page.url.endswith(week_url), page.url
    assert "Recurring visit added" in main_text(page)
    assert len(week_rows(page)) == 5

    # Two one-off visits, each offered to the whole team from its own page.
    for day, start, end, notes in ((monday + timedelta(days=1), time(14), time(15), "Shopping in Outlane"),
                                   (monday + timedelta(days=3), time(14), time(16), "A walk to the church")):
        press_on(page, f"main a[href='/teams/{team_id}/rota/visits/new']")
        check_a11y(page)
        add_visit(page, day, start, end, notes)
        check_a11y(page)
        assert "Visit added" in main_text(page), main_text(page)
        assert notes in main_text(page)
        back_to_week(page, team_id, monday)
        check_a11y(page)
    assert len(week_rows(page)) == 7
    fits_320(page)
    shoot(page, "r1-rota-week-attention")
    assert "Needs attention" in main_text(page)

    # Offer every visit of the week to the team, all at once (wave size 0).
    visit_links = page.eval_on_selector_all(
        f"main table a[href^='/teams/{team_id}/rota/visits/']", "links => links.map(a => a.getAttribute('href'))")
    assert len(visit_links) == 7
    for n, href in enumerate(visit_links):
        press_on(page, f"main table a[href='{href}']")
        check_a11y(page)
        if n == 0:
            fits_320(page)
            shoot(page, "r1-visit-page")
        tab_to(page, "#wave_size")
        page.keyboard.press("Control+A")
        page.keyboard.type("0")
        press_on(page, "main form[action$='/offer'] button[type=submit]")
        check_a11y(page)
        assert "Not answered yet" in main_text(page), main_text(page)
        back_to_week(page, team_id, monday)
        check_a11y(page)
    shift_ids = [int(h.rstrip("/").split("/")[-1]) for h in visit_links]

    def offers_to(person: int) -> dict[int, Offer]:
        rows = db.session.scalars(sa.select(Offer).where(Offer.person_id == person, Offer.shift_id.in_(shift_ids)))
        return {o.shift_id: o for o in rows}

    def shift_start(shift_id: int):
        return db.session.get(Shift, shift_id).starts_at.astimezone(LONDON)

    starts = read(app, lambda: {s: shift_start(s) for s in shift_ids})
    mornings = [s for s in shift_ids if starts[s].hour == 8]
    one_offs = sorted((s for s in shift_ids if starts[s].hour == 14), key=lambda s: starts[s])
    assert len(mornings) == 5 and len(one_offs) == 2

    # Wendy, in her own browser, takes the five mornings from her offers page.
    wendy = new_page(browser)
    log_in(wendy, base, "wendy", password, check_a11y)
    press_on(wendy, "main a[href='/my/offers']")
    check_a11y(wendy)
    fits_320(wendy)
    wendys = read(app, lambda: offers_to(ids["wendy"]))
    for shift_id in mornings:
        press_on(wendy, f"main form[action='/my/offers/{wendys[shift_id].id}/accept'] button")
        check_a11y(wendy)
        if not wendy.url.endswith("/my/offers"):
            press_on(wendy, "a[href='/my/offers']")
            check_a11y(wendy)
    wendy.context.close()

    # Omar takes the first one-off by text, with the code his offer gave him.
    code = read(app, lambda: offers_to(ids["omar"])[one_offs[0]].code)
    out = simulate_text(app, "+447700900128", f"Y {code}")
    assert f"Y {code}" in out and "< Booked: " in out and f"Reply COVER {code}" in out, out

    # Cath books Wendy directly on the other one-off, from its visit page. (Xena, the
    # team's third worker, is not offered visits nor bookable: the demo's DBS check for
    # her has expired.)
    press_on(page, f"main table a[href='/teams/{team_id}/rota/visits/{one_offs[1]}']")
    check_a11y(page)
    tab_to(page, "#person_id")
    page.keyboard.type("Wendy")
    assert page.eval_on_selector("#person_id", "s => s.options[s.selectedIndex].text").startswith("Wendy"), page.eval_on_selector_all("#person_id option", "os => os.map(o => o.text)")
    press_on(page, "main form[action$='/book'] button[type=submit]")
    check_a11y(page)
    back_to_week(page, team_id, monday)
    check_a11y(page)

    # The week is filled: every visit has a name on it.
    booked = read(app, lambda: {s: (db.session.get(Shift, s).status, db.session.get(Shift, s).booked_person_id)
                                for s in shift_ids})
    assert {s: b for s, (_, b) in booked.items()} == {
        **{s: ids["wendy"] for s in mornings}, one_offs[0]: ids["omar"], one_offs[1]: ids["wendy"]}
    assert all(status == ShiftStatus.booked for status, _ in booked.values())
    rows = week_rows(page)
    assert sum("Wendy Ali" in r for r in rows) == 6 and sum("Omar Iqbal" in r for r in rows) == 1, " | ".join(rows)
    assert not any("Open" in r or "Offered" in r for r in rows), rows
    fits_320(page)
    shoot(page, "r1-rota-week-filled")


# ---------------------------------------------------------------------------
# Journey 3 of the rota: a worker asks for cover and proposes a swap; it is decided
# ---------------------------------------------------------------------------

def demo_booking(app, leader: str) -> tuple[int, int]:
    """The demo books one worker on the first visit of next week: (shift, worker)."""
    from careteams.rota.demo import DEMO_NOTE
    from careteams.rota.models import Shift, ShiftStatus

    team_id = team_of(app, leader)
    return read(app, lambda: tuple(db.session.execute(sa.select(Shift.id, Shift.booked_person_id).where(
        Shift.team_id == team_id, Shift.notes == DEMO_NOTE, Shift.status == ShiftStatus.booked)
        .order_by(Shift.starts_at)).one()))


def book_in_setup(app, leader: str, shift_id: int, worker_id: int) -> None:
    """Setup through the services: the leader books a worker (as if done earlier)."""
    from careteams.members.models import Person
    from careteams.members.services import actor_for
    from careteams.rota.services import offers

    with app.app_context():
        leader_person = db.session.scalar(sa.select(Person).where(Person.email == EMAIL.format(leader)))
        offers.book_directly(actor_for(leader_person), shift_id, worker_id, now=utcnow())
        db.session.commit()
        db.session.remove()


def open_demo_visits(app, leader: str) -> list[int]:
    from careteams.rota.demo import DEMO_NOTE
    from careteams.rota.models import Shift, ShiftStatus

    team_id = team_of(app, leader)
    return read(app, lambda: list(db.session.scalars(sa.select(Shift.id).where(
        Shift.team_id == team_id, Shift.notes == DEMO_NOTE, Shift.status == ShiftStatus.open)
        .order_by(Shift.starts_at))))


def test_worker_asks_for_cover_proposes_a_swap_and_the_leader_decides(live_server, page, browser, check_a11y, shoot):
    from careteams.rota.enums import SwapStatus
    from careteams.rota.models import Shift, ShiftSwap

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "ann")
    wendy_id, will_id = person_id(app, "wendy"), person_id(app, "will")
    # Two of next week's demo visits nobody was offered (Thursday afternoon, Saturday
    # morning), booked in setup: a Monday morning would not do, as the demo books Will
    # on Bill's team then, and the swap would put him in two places.
    mine, theirs = open_demo_visits(app, "ann")[0], open_demo_visits(app, "ann")[-1]
    book_in_setup(app, "ann", mine, wendy_id)
    book_in_setup(app, "ann", theirs, will_id)

    # Wendy asks for cover on her Thursday visit, then proposes a swap instead.
    log_in(page, base, "wendy", password, check_a11y)
    press_on(page, "a[href='/my/shifts']")
    check_a11y(page)
    press_on(page, f"main a[href='/my/shifts/{mine}']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "r3-worker-visit-page")
    press_on(page, "a[href='/my/shifts']")
    check_a11y(page)
    press_on(page, f"main form[action='/my/shifts/{mine}/cover'] button")
    check_a11y(page)
    assert read(app, lambda: db.session.get(Shift, mine).cover_requested_at) is not None
    press_on(page, f"main a[href='/my/shifts/{mine}/swap']")
    check_a11y(page)
    assert page.query_selector("main input[name=other_shift_id]"), main_text(page)
    tab_to(page, "main input[name=other_shift_id]")
    page.keyboard.press("Space")
    assert page.eval_on_selector("main input[name=other_shift_id]:checked", "r => r.value") == str(theirs)
    fits_320(page)
    shoot(page, "r3-propose-swap")
    press_on(page, f"main form[action='/my/shifts/{mine}/swap'] button[type=submit]")
    check_a11y(page)
    assert "Swap proposed" in main_text(page)
    swap_id = read(app, lambda: db.session.scalar(sa.select(ShiftSwap.id).where(
        ShiftSwap.status == SwapStatus.proposed)))
    assert swap_id

    # Will agrees, in his own browser.
    will = new_page(browser)
    log_in(will, base, "will", password, check_a11y)
    press_on(will, "a[href='/my/shifts']")
    check_a11y(will)
    fits_320(will)
    press_on(will, f"main form[action='/my/swaps/{swap_id}/answer'] button[value=yes]")
    check_a11y(will)
    assert "You agreed to the swap" in main_text(will)
    will.context.close()
    assert read(app, lambda: db.session.get(ShiftSwap, swap_id).status) == SwapStatus.agreed

    # Ann decides it on the cover-and-swaps page, reached from her rota.
    log_in(page, base, "ann", password, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota/cover-and-swaps']")
    check_a11y(page)
    assert "Wendy" in main_text(page) and "agreed to swap" in main_text(page)
    fits_320(page)
    shoot(page, "r3-cover-and-swaps")
    form = f"main form[action='/teams/{team_id}/rota/cover-and-swaps/swaps/{swap_id}']"
    first = page.get_attribute(f"{form} input[name=decision]", "id")
    tab_to(page, f"#{first}")
    page.keyboard.press("Space")
    assert page.eval_on_selector(f"{form} input[name=decision]:checked", "r => r.value") == "approve"
    press_on(page, f"{form} button[type=submit]")
    check_a11y(page)
    assert read(app, lambda: db.session.get(ShiftSwap, swap_id).status) == SwapStatus.approved
    booked = read(app, lambda: (db.session.get(Shift, mine).booked_person_id, db.session.get(Shift, theirs).booked_person_id))
    assert booked == (will_id, wendy_id)


# ---------------------------------------------------------------------------
# Journey 2 of the rota: a Rota wrangler (not the leader) cancels a visit and arranges cover
# ---------------------------------------------------------------------------

def visits_in_setup(app, leader: str, team_id: int, starts: list) -> list[int]:
    """Setup through the services: the leader adds visits (as if done earlier)."""
    from careteams.members.models import Person
    from careteams.members.services import actor_for
    from careteams.rota.models import ShiftKind
    from careteams.rota.services import shifts

    with app.app_context():
        actor = actor_for(db.session.scalar(sa.select(Person).where(Person.email == EMAIL.format(leader))))
        made = [shifts.create_shift(actor, team_id, {
            "starts_at": start, "duration_minutes": 60, "kind": ShiftKind.personal_care,
            "notes": "Help with a bath", "break_minutes": 0, "tasks": []}).id for start in starts]
        db.session.commit()
        db.session.remove()
    return made


def test_rota_wrangler_cancels_a_visit_and_arranges_cover(live_server, page, browser, check_a11y, shoot):
    from careteams.rota.models import Offer, Shift, ShiftStatus
    from careteams.teams.models import Hat, HatStatus, HatType

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "cath")
    xena_id, wendy_id, omar_id = (person_id(app, k) for k in ("xena", "wendy", "omar"))
    # Xena wears the Rota wrangler hat in Cath's team (the demo gives it to her); she
    # is not the leader.
    assert read(app, lambda: db.session.scalar(sa.select(Hat.person_id).join(HatType).where(
        Hat.team_id == team_id, HatType.name == "Rota wrangler", Hat.status == HatStatus.accepted))) == xena_id
    saturday = empty_monday(4) + timedelta(days=5)
    # Wendy has the 10:00 bath; Omar, the team's only other worker who could cover it,
    # is booked on a visit at 10:30 that day that turns out not to be needed.
    bath, spare = visits_in_setup(app, "cath", team_id, [datetime.combine(saturday, time(10)),
                                                          datetime.combine(saturday, time(10, 30))])
    book_in_setup(app, "cath", bath, wendy_id)
    book_in_setup(app, "cath", spare, omar_id)

    # Wendy asks for cover on the web.
    wendy = new_page(browser)
    log_in(wendy, base, "wendy", password, check_a11y)
    press_on(wendy, "a[href='/my/shifts']")
    check_a11y(wendy)
    press_on(wendy, f"main form[action='/my/shifts/{bath}/cover'] button")
    check_a11y(wendy)
    wendy.context.close()
    assert read(app, lambda: db.session.get(Shift, bath).cover_requested_at) is not None

    # Omar is busy then, so nobody could be asked yet.
    def cover_offers():
        return [p for (p,) in db.session.execute(sa.select(Offer.person_id).where(Offer.shift_id == bath, Offer.is_cover))]
    assert read(app, cover_offers) == []

    # Xena finds the rota from her home page.
    log_in(page, base, "xena", password, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    page.goto(f"{base}/teams/{team_id}/rota?week={saturday.isoformat()}")  # that week, by its address
    check_a11y(page)
    press_on(page, f"main table a[href='/teams/{team_id}/rota/visits/{spare}']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota/visits/{spare}/cancel']")
    check_a11y(page)
    assert "Notice given if you cancel now" in main_text(page) and "No cancellation payment is due" in main_text(page)
    tab_to(page, "#reason")
    page.keyboard.type("Booked twice by mistake: one bath is enough")
    fits_320(page)
    shoot(page, "r2-cancel-visit")
    press_on(page, f"main form[action='/teams/{team_id}/rota/visits/{spare}/cancel'] button[type=submit]")
    check_a11y(page)
    assert "Visit cancelled" in main_text(page)
    assert "Booked twice by mistake: one bath is enough" in main_text(page)
    cancelled = read(app, lambda: db.session.get(Shift, spare))
    assert cancelled.status == ShiftStatus.cancelled and cancelled.cancel_reason == "Booked twice by mistake: one bath is enough"

    # Omar is free now: Xena arranges cover for Wendy's visit on the cover-and-swaps page.
    press_on(page, f"main a[href^='/teams/{team_id}/rota?week=']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota/cover-and-swaps']")
    check_a11y(page)
    assert "Cover asked for" in main_text(page) and "Wendy" in main_text(page)
    fits_320(page)
    shoot(page, "r2-cover-and-swaps")
    press_on(page, f"main form[action='/teams/{team_id}/rota/cover-and-swaps/cover/{bath}'] button[type=submit]")
    check_a11y(page)
    assert "Cover offers sent to 1 worker." in main_text(page), main_text(page)
    assert read(app, cover_offers) == [omar_id]
    assert read(app, lambda: db.session.get(Shift, bath).booked_person_id) == wendy_id  # until someone accepts
