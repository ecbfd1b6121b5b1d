"""Security headers (issue 14): one policy on every answer, through flask-talisman.

Checked on an HTML page, a JSON API answer and an error page (HTML and JSON),
in each environment: HSTS only in production, no https redirect in development
and testing; and every template is checked for inline style and script, which
the Content-Security-Policy would block.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from careteams.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "careteams"
PRODUCTION_KEY = "p" * 40

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def make(env: str, database_url: str, **overrides):
    settings = {"ENV_NAME": env, "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False}
    if env == "production":
        settings["SECRET_KEY"] = PRODUCTION_KEY
    return create_app({**settings, **overrides})


def csp_directives(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";") if p.strip()]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


# An HTML page, a JSON answer (public and a 401 envelope), an HTML error page.
ANSWERS = [
    ("/login", 200, "text/html"),
    ("/api/v1/openapi.json", 200, "application/json"),
    ("/api/v1/me", 401, "application/json"),
    ("/no-such-page", 404, "text/html"),
]


def assert_common_headers(response, mimetype: str) -> None:
    headers = response.headers
    assert response.mimetype == mimetype
    assert csp_directives(headers["Content-Security-Policy"]) == CSP
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    if mimetype == "text/html":
        assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("env", ["development", "testing", "production"])
@pytest.mark.parametrize(("path", "status", "mimetype"), ANSWERS)
def test_every_answer_carries_the_policy(env, path, status, mimetype, database_url):
    app = make(env, database_url)
    client = app.test_client()
    response = client.get(path, base_url="https://localhost")
    assert response.status_code == status
    assert_common_headers(response, mimetype)
    hsts = response.headers.get("Strict-Transport-Security")
    if env == "production":
        assert hsts == "max-age=31536000"
    else:
        assert hsts is None


@pytest.mark.parametrize("env", ["development", "testing"])
@pytest.mark.parametrize(("path", "status", "mimetype"), ANSWERS)
def test_plain_http_is_served_without_redirect_or_hsts(env, path, status, mimetype, database_url):
    app = make(env, database_url)
    response = app.test_client().get(path, base_url="http://localhost")
    assert response.status_code == status
    assert "Strict-Transport-Security" not in response.headers
    assert_common_headers(response, mimetype)
    # Talisman must not have turned on secure cookies over plain http.
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_sends_hsts_behind_a_tls_proxy(database_url):
    app = make("production", database_url)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_redirects_to_https_only_when_asked(database_url):
    plain = make("production", database_url).test_client().get("/healthz", base_url="http://localhost")
    assert plain.status_code != 302
    forced = make("production", database_url, FORCE_HTTPS=True).test_client().get(
        "/login", base_url="http://localhost")
    assert forced.status_code == 302
    assert forced.headers["Location"].startswith("https://localhost/login")


def test_the_json_error_envelope_keeps_the_headers(client):
    response = client.post("/api/v1/tokens", json={})
    assert response.status_code == 422
    assert_common_headers(response, "application/json")


def test_a_server_error_page_keeps_the_headers(database_url):
    app = make("testing", database_url, PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("boom")

    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert_common_headers(response, "text/html")


# --- no inline style or script in any template --------------------------------

STYLE_ATTRIBUTE = re.compile(r"""[\s"']style\s*=""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
EVENT_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE)
JS_URL = re.compile(r"""=\s*["']\s*javascript:""", re.IGNORECASE)


def template_files() -> list[Path]:
    files = sorted(p for p in TEMPLATES.rglob("templates/**/*") if p.is_file() and p.suffix in (".html", ".svg", ".jinja"))
    assert len(files) > 20, "the walk found too few templates"
    return files


def inline_problems(text: str) -> list[str]:
    problems = []
    if STYLE_ATTRIBUTE.search(text):
        problems.append("style= attribute")
    if STYLE_ELEMENT.search(text):
        problems.append("<style> element")
    for attributes, body in SCRIPT.findall(text):
        if body.strip() or "src=" not in attributes:
            problems.append("inline <script>")
    if EVENT_HANDLER.search(text):
        problems.append("on...= event handler")
    if JS_URL.search(text):
        problems.append("javascript: URL")
    return problems


def test_no_template_has_inline_style_or_script():
    found = {str(p.relative_to(TEMPLATES)): inline_problems(p.read_text()) for p in template_files()}
    found = {name: problems for name, problems in found.items() if problems}
    assert found == {}, f"inline style or script (the CSP blocks them; use site.css / a static .js): {found}"


@pytest.mark.parametrize(("snippet", "bad"), [
    ('<label for="x" style="display:inline">', True),
    ("<div class='a' style='color:red'>", True),
    ("<style>p{}</style>", True),
    ("<script>alert(1)</script>", True),
    ('<script src="/static/x.js"></script>', False),
    ('<script src="/static/x.js">alert(1)</script>', True),
    ('<button onclick="go()">', True),
    ('<a href="javascript:go()">', True),
    ('<svg class="bar" width="10" height="14"><rect fill="currentColor"/></svg>', False),
    ('<p>a lifestyle=choice once = said</p>', False),
])
def test_the_template_check_catches_inline_shapes(snippet, bad):
    assert bool(inline_problems(snippet)) is bad


def test_one_apps_settings_do_not_leak_into_another(database_url):
    # Talisman keeps its settings on itself: each app needs its own instance.
    testing = make("testing", database_url)
    make("production", database_url, FORCE_HTTPS=True)
    response = testing.test_client().get("/login", base_url="http://localhost")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
