"""Issue 17's money journeys: Ann reads what she paid last month; Wendy reads her statement.

Keyboard only inside the pages (Tab to a link, Enter to follow it), axe-core at WCAG
2.2 AA on every page, each page checked at 320 px and at 200% zoom. The demo has
last month's visits paid in a closed run (careteams/hours/demo.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read
from tests.browser.test_rota_journeys import person_id, team_of

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def last_month():
    return (utcnow().astimezone(LONDON).date().replace(day=1) - timedelta(days=1)).replace(day=1)


def test_ann_reads_what_she_paid_last_month(live_server, page, check_a11y, shoot):
    from careteams.hours.models import PayRun, RunEntry, RunInvoiceLine

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "ann")
    month = last_month()

    def her_share():
        return db.session.scalar(sa.select(sa.func.sum(RunInvoiceLine.amount_pence))
                                 .join(RunEntry, RunEntry.id == RunInvoiceLine.run_entry_id)
                                 .join(PayRun, PayRun.id == RunEntry.run_id)
                                 .where(RunEntry.team_id == team_id, PayRun.period_start == month,
                                        RunInvoiceLine.funder_kind == "self_funded"))

    share = read(app, her_share)
    assert share and share > 0
    log_in(page, base, "ann", password, check_a11y)
    page.goto(f"{base}/teams/{team_id}/money")
    check_a11y(page)
    text = main_text(page)
    assert month.strftime("%B %Y") in text
    assert f"your share, Ann (self-funded): {pounds(share)}" in text
    # The chart says the same as its table, and the table is reachable by keyboard.
    assert page.locator("svg.chart[role=img] title").count() == 1
    tab_to(page, "main .chart-figure .table-wrap", limit=60)
    fits_320(page)
    shoot(page, "money-ann")
    # Printed, the page is the invoice alone: no menus, no download link.
    page.emulate_media(media="print")
    assert not page.is_visible("header.site-header") and not page.is_visible("main .no-print")
    assert page.is_visible("main table.money-table")
    page.emulate_media(media="screen")
    # The spreadsheet download is one keyboard press away.
    tab_to(page, f"main a[href='/teams/{team_id}/money.csv']", limit=60)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    body = open(download.value.path(), encoding="utf-8").read()
    assert f"{share / 100:.2f}" in body


def test_wendy_reads_her_statement(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    wendy = person_id(app, "wendy")
    log_in(page, base, "wendy", password, check_a11y)
    page.goto(f"{base}/my/pay")
    check_a11y(page)
    fits_320(page)
    press_on(page, f"main a[href^='/hours/runs/'][href$='/statements/{wendy}']")
    check_a11y(page)
    text = main_text(page)
    assert "Payment statement: Wendy Ali" in text and "Co-op contribution deducted" in text
    assert "the minimum for 21 and over is" in text
    fits_320(page)
    shoot(page, "money-wendy-statement")
