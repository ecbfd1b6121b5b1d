"""The voting pages in a real browser (Debian's chromium): no JavaScript needed,
axe-core WCAG 2.2 AA clean, usable at 320 px."""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from careteams.extensions import db
from careteams.governance.demo import CLOSED_TITLE, OPEN_TITLE
from tests.conftest import make_app, truncate_all

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="BROWSER TESTS SKIPPED: Debian's chromium is not installed"),
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]}


@pytest.fixture
def browser_context_args(browser_context_args):
    # Pages must work with JavaScript off.
    return {**browser_context_args, "java_script_enabled": False}


@pytest.fixture
def gov_server(database_url):
    from careteams.demo import seed

    app = make_app(database_url, RATELIMIT_ENABLED=False)
    with app.app_context():
        truncate_all(db.engine)
        with app.test_request_context():
            logins = seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "password": logins["password"]}
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            truncate_all(db.engine)
            db.engine.dispose()


def axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe

    # axe runs its own script in the page even with the page's JavaScript off.
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    assert results.response["violations"] == [], f"axe on {page.url}:\n" + results.generate_report()


def fits(page) -> bool:
    # A click on a link returns once the navigation has started, not when the new
    # document exists (CI once read a null documentElement): measure a loaded page.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def login(page, base, email, password):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    if "/login/second-factor" in page.url:  # staff: the demo's published TOTP secret
        from careteams.demo import DEMO_TOTP_SECRETS
        from tests.browser.test_journeys import pass_second_factor_in

        pass_second_factor_in(page, DEMO_TOTP_SECRETS[email.split("@")[0]])
    page.wait_for_url(base + "/")


def test_vote_without_javascript_and_read_results(gov_server, browser):
    base = gov_server["url"]
    # axe needs script in the page; a second context with JavaScript on checks accessibility.
    quiet = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 700})
    page = quiet.new_page()
    login(page, base, "wendy@demo.careteams.example", gov_server["password"])
    page.goto(base + "/cooperatives/valley-care/resolutions")
    page.click(f"text={OPEN_TITLE}")
    assert fits(page)
    page.get_by_label("For", exact=True).check()
    page.click("text=Cast this secret ballot")
    assert "Your receipt" in page.text_content("h1") and page.url.endswith("/receipt")
    receipt = page.text_content("code.tag").strip()
    assert len(receipt) == 14
    page.reload()  # shown again, never "You have already voted"
    assert page.text_content("code.tag").strip() == receipt
    page.goto(base + "/cooperatives/valley-care/resolutions")
    page.click("text=results")
    assert CLOSED_TITLE in page.text_content("h1") and "46/9" in page.text_content("main")
    assert fits(page)
    quiet.close()


@pytest.mark.parametrize(("email", "path"), [
    ("wendy@demo.careteams.example", "/cooperatives/valley-care/resolutions"),
    ("wendy@demo.careteams.example", "ballot"),
    ("wendy@demo.careteams.example", "results"),
    ("wendy@demo.careteams.example", "/cooperatives/valley-care/membership"),
    ("sam@demo.careteams.example", "/cooperatives/valley-care/register"),
    ("sam@demo.careteams.example", "/cooperatives/valley-care/resolutions/new"),
])
def test_pages_are_accessible_at_320px(gov_server, browser, email, path):
    base = gov_server["url"]
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    login(page, base, email, gov_server["password"])
    page.goto(base + "/cooperatives/valley-care/resolutions")
    if path == "ballot":
        page.click(f"text={OPEN_TITLE}")
    elif path == "results":
        page.click("text=results")
    else:
        page.goto(base + path)
    if path.endswith("/new"):
        page.fill("#title", "")
        page.click("main button[type=submit]")  # the empty form: errors must be announced and tied to fields
        page.wait_for_selector("[role=alert]")
        assert page.get_attribute("#title", "aria-invalid") == "true"
    assert fits(page), f"{path} scrolls sideways at 320 px"
    axe_clean(page)
    context.close()
