"""The application factory: create_app(overrides=None)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, redirect, request, url_for
from flask_login import current_user
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

import careteams.models  # noqa: F401  (every table, for Alembic and relationships)
import config
from careteams import geo
from careteams.apidoc import PUBLIC_API
from careteams.auth.services import TOUCHED, person_for_api_token, person_for_login_session
from careteams.cli import register as register_cli_commands
from careteams.domains import domain_modules
from careteams.errors import Unauthorized, register_error_handlers, wants_json
from careteams.extensions import api, csrf, db, limiter, login_manager, mail, migrate
from careteams.members.rules import MEMBER_CLASS_LABELS, STAFF_ROLE_LABELS
from careteams.validation import register_converters, register_request_guard
from config import DEV_SECRET_KEY


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    register_converters(app)  # before any route: bounded ids, slugs without NUL
    settings = config.load((overrides or {}).get("ENV_NAME"))
    app.config.update(settings)
    app.config.update(overrides or {})
    check_production_settings(app)

    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_request_guard(app)
    register_error_handlers(app)
    register_cli(app)
    register_template_helpers(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def check_production_settings(app: Flask) -> None:
    """Refuse to start production with a missing or development secret key."""
    if app.config.get("ENV") != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    if key in ("", DEV_SECRET_KEY, "testing-not-secret") or len(key) < 32:
        raise RuntimeError("SECRET_KEY must be set to a long random value in production (at least 32 characters).")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise RuntimeError("DATABASE_URL must be set in production.")


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)
    migrate.init_app(app, db, directory=str(config.ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    api.init_app(app)
    geo.init_app(app)
    if app.config.get("PROXY_FIX_COUNT"):
        n = app.config["PROXY_FIX_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    @login_manager.user_loader
    def load_user(user_id: str):
        # "<person id>:<key>" from the session or the "keep me logged in" cookie:
        # only a live server-side login session (not ended, not idle) logs anyone in.
        return person_for_login_session(user_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            raise Unauthorized()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def _bearer_token():
        # A bearer token decides who the request is from, whatever cookies came
        # with it: Flask-Login's "strong" session protection would otherwise
        # treat a request carrying a not-logged-in session cookie as anonymous
        # before looking at the token.
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return
        person = person_for_api_token(header[len("Bearer "):].strip())
        login_manager._update_request_context_with_user(person)
        g.via_token = person is not None

    @app.before_request
    def _commit_last_seen():
        # Who the request is from is settled first, so that a last-seen (session)
        # or last-used (token) time written on the way, at most once a minute per
        # row, is committed on its own, before the request does anything else: a
        # GET commits nothing itself, and a failed request must not lose it.
        if request.endpoint == "static":
            return
        if getattr(app.view_functions.get(request.endpoint), "login_free", False):
            return  # a signed webhook (sms/views.py): nobody logs in there
        current_user._get_current_object()  # runs the user loader now if it has not run
        if db.session.info.pop(TOUCHED, False):
            db.session.commit()


def _configure_sqlite(engine: sa.engine.Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit
    # BEGIN itself, and enforce foreign keys as PostgreSQL does.
    #
    # BEGIN IMMEDIATE takes SQLite's write lock when a transaction starts. With a
    # plain (deferred) BEGIN, two transactions that each read and then write (a web
    # request and the demo's clock process, say) both hold read locks, and the
    # second to write fails at once with "database is locked" (SQLite does not wait
    # where waiting would deadlock). Immediate transactions queue instead, up to the
    # busy timeout. SQLite is the single-user embedded default; PostgreSQL is where
    # concurrency is served (Rails made the same choice for SQLite in 7.1).
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def register_blueprints(app: Flask) -> None:
    """A domain's `pages` and `views` modules may each offer `bp` (a Flask
    blueprint: HTML pages, webhooks) and `api_bp` (flask-smorest JSON API)."""
    for module in domain_modules("pages") + domain_modules("views"):
        for attr in ("bp", "api_bp"):
            blueprint = getattr(module, attr, None)
            if blueprint is None:
                continue
            if attr == "api_bp":
                api.register_blueprint(blueprint)
            else:
                app.register_blueprint(blueprint)
    domain_modules("signals")  # connect listeners


CSRF_EXEMPT_PREFIXES = ("/sms/",)  # Twilio webhooks are signed instead


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _api_requires_login():
        if not request.path.startswith("/api/") or (request.method, request.path) in PUBLIC_API:
            return
        if request.method == "OPTIONS":
            return
        if not current_user.is_authenticated:
            raise Unauthorized()

    @app.before_request
    def _csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            # Bearer tokens are not sent automatically by browsers: no CSRF risk.
            # A wrong token is refused by the route's own authentication.
            return
        if request.path.startswith("/api/") and request.mimetype == "application/json":
            # A cross-site page cannot send application/json without a CORS
            # preflight, which this app never grants: JSON API calls are safe.
            return
        csrf.protect()

    register_security_headers(app)
    if app.config.get("COUNT_STATEMENTS"):
        register_statement_counter(app)


def register_statement_counter(app: Flask) -> None:
    """The benchmark's probe (CARETEAMS_BENCH=1 only): each response says in
    X-SQL-Statements how many SQL statements the request sent, and in X-Request-Ms how
    long the app took over it, queueing excluded (scripts/bench_federation)."""
    import time

    from flask import has_request_context

    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        @sa.event.listens_for(engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):
            if has_request_context():
                g.sql_statements = g.get("sql_statements", 0) + 1

    def _bench_started():
        g.bench_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, _bench_started)  # first: the whole request

    @app.after_request
    def _statements_header(response):
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        if "bench_started" in g:
            response.headers["X-Request-Ms"] = f"{(time.perf_counter() - g.bench_started) * 1000:.1f}"
        return response


# No inline script or style anywhere (tests/core/test_headers.py walks the
# templates): charts use SVG attributes, styles are classes in static/site.css.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def register_security_headers(app: Flask) -> None:
    """Security headers on every answer (pages, JSON, errors) through flask-talisman.

    HSTS only where SECURITY_HSTS is on (production); development and tests run
    over plain http, so there is no redirect to https there (FORCE_HTTPS).
    Talisman would also rewrite the session cookie settings: we hand it ours.
    One Talisman per app, not an unbound one in extensions.py: it keeps its
    settings on itself, so a shared instance would take the last app's.
    """
    app.extensions["talisman"] = Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
        x_content_type_options=True,
        strict_transport_security=app.config["SECURITY_HSTS"],
        strict_transport_security_max_age=app.config["SECURITY_HSTS_MAX_AGE"],
        strict_transport_security_include_subdomains=False,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )

    @app.after_request
    def _no_store_html(response):
        # Pages carry personal details: never kept in a shared or back-button cache.
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(member_class_labels=MEMBER_CLASS_LABELS, staff_role_labels=STAFF_ROLE_LABELS)


def register_cli(app: Flask) -> None:
    register_cli_commands(app)
