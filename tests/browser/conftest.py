"""Browser tests: Playwright driving Debian's chromium against a live server.

Playwright cannot download its own browsers here, so we launch /usr/bin/chromium.
Where chromium is missing the tests are skipped loudly, unless
CARETEAMS_REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from careteams.extensions import db
from tests.conftest import make_app, truncate_all

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Every run writes its screenshots here (git-ignored); the README shows copies of
# them committed in tests/browser/screenshots/.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# WCAG 2.2 AA, as axe-core tags it.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    browser_items = [i for i in items if "tests/browser/" in str(i.fspath)]
    if not browser_items:
        return
    if os.environ.get("CARETEAMS_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("chromium is required (CARETEAMS_REQUIRE_BROWSER=1) but was not found")
    marker = pytest.mark.skip(reason="BROWSER TESTS SKIPPED: Debian's chromium is not installed")
    for item in browser_items:
        item.add_marker(marker)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture
def live_server(database_url):
    """The demo co-op served on 127.0.0.1 by a real server thread, on committed data."""
    from careteams.demo import seed

    app = make_app(database_url, SERVER_NAME=None, RATELIMIT_ENABLED=False)
    with app.app_context():
        truncate_all(db.engine)
        with app.test_request_context():
            logins = seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "logins": logins}
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            truncate_all(db.engine)
            db.engine.dispose()


# WCAG 1.4.1 (use of colour) beyond what axe can see: links are underlined, not
# only coloured; every status tag says its status in words; every field marked
# in error (red border) has its error written out and tied to it.
NOT_BY_COLOUR_ALONE = """() => {
  const problems = [];
  const label = (el) => ((el.id ? '#' + el.id : el.tagName.toLowerCase()) + ' ' + (el.textContent || '').trim().slice(0, 40)).trim();
  for (const a of document.querySelectorAll('main a[href]:not(.button)')) {
    const style = getComputedStyle(a);
    if (!style.textDecorationLine.includes('underline')) problems.push('link not underlined: ' + label(a));
  }
  for (const tag of document.querySelectorAll('.tag')) {
    if (!tag.textContent.trim()) problems.push('status tag without words: ' + label(tag));
  }
  for (const field of document.querySelectorAll('.field-error')) {
    const message = field.querySelector('.error-message');
    const input = field.querySelector('input, select, textarea');
    if (!message || !message.textContent.trim()) { problems.push('field in error without a message: ' + label(field)); continue; }
    if (input && !(input.getAttribute('aria-describedby') || '').split(/\\s+/).includes(message.id))
      problems.push('error message not tied to its field: ' + label(input));
  }
  return problems;
}"""


@pytest.fixture
def check_a11y():
    """check_a11y(page): axe-core (shipped in a package, nothing fetched) at WCAG 2.2 AA."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
        violations = results.response["violations"]
        assert violations == [], f"axe violations on {page.url}:\n" + results.generate_report()
        problems = page.evaluate(NOT_BY_COLOUR_ALONE)
        assert problems == [], f"meaning carried by colour alone on {page.url}: {problems}"

    return check


@pytest.fixture
def shoot():
    """shoot(page, name): screenshots at 375 px and 1280 px for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        original = page.viewport_size
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(original)

    return take


def no_horizontal_scroll(page) -> bool:
    # A click on a link returns once the navigation has started, not when the new
    # document exists: measure only a loaded page.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


# Headless Chromium lays out date and time fields as en-US (month first, 12-hour
# clock with AM/PM) whatever the page's language or the browser's locale, so the
# keyboard helpers below type that layout. The AM/PM key is always typed: without
# it a time such as 22:20 leaves the field empty, and a test would pass or fail by
# the hour it ran at.
def keys_for_date(day) -> str:
    """The keys that enter `day` (a date) into a focused date field."""
    return day.strftime("%m%d%Y")


def keys_for_time(when) -> str:
    """The keys that enter `when`'s hour and minute into a focused time field."""
    return when.strftime("%I%M") + ("P" if when.hour >= 12 else "A")


def type_date(page, day) -> None:
    page.keyboard.type(keys_for_date(day))


def type_time(page, when) -> None:
    page.keyboard.type(keys_for_time(when))


def type_datetime(page, when) -> None:
    """Enter `when` into a focused datetime-local field: date, then its time part."""
    page.keyboard.type(keys_for_date(when))
    page.keyboard.press("ArrowRight")
    page.keyboard.type(keys_for_time(when))


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has focus (keyboard only), or fail."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"could not reach {selector} with the keyboard")
