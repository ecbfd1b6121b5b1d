"""Settings per environment. Non-secret defaults live here; secrets and URLs come
only from environment variables (see README, "Configuration").

`CARETEAMS_ENV` picks the class: development (default), testing, production.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A key that is only ever used on a developer's machine. Production refuses it.
DEV_SECRET_KEY = "dev-only-not-secret"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _database_url(default: str) -> str:
    return driver_url(_env("DATABASE_URL", default))


def driver_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Base:
    ENV = "base"
    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    TIMEZONE = "Europe/London"

    # Sessions and cookies (see ANCHORS.md, "Sessions").
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # CSRF is checked by our own before_request hook so that bearer-token API
    # calls and Twilio webhooks (signed instead) can be told apart.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None

    # Security headers (careteams.app.register_security_headers). HSTS tells
    # browsers to use https only: production alone, where TLS is served.
    # FORCE_HTTPS redirects plain http to https in the app; off unless asked
    # for, since the proxy in front normally does it and /healthz is probed
    # over plain http.
    SECURITY_HSTS = False
    SECURITY_HSTS_MAX_AGE = 31536000  # one year
    FORCE_HTTPS = False

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"  # per address and account
    LOGIN_RATE_LIMIT_PER_IP = "60 per minute;600 per hour"
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "30 per hour;100 per day"  # one account, whatever the address
    SECOND_FACTOR_RATE_LIMIT = "5 per 15 minutes;20 per day"  # wrong second-factor codes, per person
    SIGN_IN_CODE_RATE_LIMIT = "5 per 15 minutes;20 per day"  # codes asked for one account (each costs a text)

    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "careteams@localhost"
    # Seconds the sender waits for the mail server (connect, and each reply).
    # Only the clock's sender job talks to it (careteams/mail/jobs.py), never a
    # request; without a timeout a hung server would hang the sender for ever.
    MAIL_TIMEOUT = 10.0

    SMS_BACKEND = "console"
    TWILIO_ACCOUNT_SID = None
    TWILIO_AUTH_TOKEN = None
    TWILIO_FROM_NUMBER = None
    # Public base URL Twilio calls (for signature checks behind a proxy).
    PUBLIC_BASE_URL = None
    PROXY_FIX_COUNT = 0

    # Reminders of booked shifts: how many hours ahead (each sent once).
    ROTA_REMINDER_HOURS: tuple[float, ...] = (24, 2)
    # The facilitators' day lists a team whose vacancy has stayed open this many weeks.
    DAY_VACANCY_OPEN_WEEKS = 6

    INVITE_TTL = timedelta(days=7)
    RESET_TTL = timedelta(hours=1)
    SIGN_IN_CODE_TTL = timedelta(minutes=10)  # one-time sign-in codes and links
    SIGN_IN_CODE_TRIES = 5  # wrong codes typed before a code is dead
    # A login session unused for this long is over (auth.services.person_for_login_session).
    LOGIN_SESSION_IDLE_LIMIT = timedelta(days=14)
    # API tokens expire this many days after they are made, unless asked for fewer (1..365).
    API_TOKEN_DAYS = 90

    API_TITLE = "careteams"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    # The clock process: jobs may start this late after a restart and still run.
    SCHEDULER_MISFIRE_GRACE_SECONDS = 600
    # The clock's advisory lock is held by one session for the clock's whole life, so
    # it needs a real PostgreSQL session: behind PgBouncer in transaction mode, point
    # this straight at PostgreSQL (or at a session-mode pool). Unset: DATABASE_URL.
    CLOCK_DATABASE_URL: str | None = None

    # Places from postcodes (careteams/geo.py): "fixed" is a table of the demo's postcodes
    # and never the network (development, testing, the demo); "postcodes.io" in production.
    GEOCODER = "fixed"
    POSTCODES_IO_URL = "https://api.postcodes.io"
    GEOCODER_TIMEOUT = 3.0  # seconds a save waits for postcodes.io before keeping the postcode for the retry job

    @classmethod
    def from_environment(cls) -> dict:
        values = {
            "SECRET_KEY": _env("SECRET_KEY", cls.SECRET_KEY),
            "TIMEZONE": _env("CARETEAMS_TIMEZONE", cls.TIMEZONE),
            "TWILIO_ACCOUNT_SID": _env("TWILIO_ACCOUNT_SID"),
            "TWILIO_AUTH_TOKEN": _env("TWILIO_AUTH_TOKEN", cls.TWILIO_AUTH_TOKEN),
            "TWILIO_FROM_NUMBER": _env("TWILIO_FROM_NUMBER"),
            "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL"),
            "CLOCK_DATABASE_URL": driver_url(_env("CLOCK_DATABASE_URL", "")) or None,
            "RATELIMIT_STORAGE_URI": _env("REDIS_URL", cls.RATELIMIT_STORAGE_URI),
            "MAIL_SERVER": _env("MAIL_SERVER", cls.MAIL_SERVER),
            "MAIL_PORT": int(_env("MAIL_PORT", str(cls.MAIL_PORT))),
            "MAIL_USERNAME": _env("MAIL_USERNAME"),
            "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
            "MAIL_USE_TLS": _env("MAIL_USE_TLS", "0") == "1",
            "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", cls.MAIL_DEFAULT_SENDER),
            "MAIL_TIMEOUT": float(_env("MAIL_TIMEOUT", str(cls.MAIL_TIMEOUT))),
            "PROXY_FIX_COUNT": int(_env("PROXY_FIX_COUNT", str(cls.PROXY_FIX_COUNT))),
            "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", cls.LOGIN_RATE_LIMIT),
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": _env("LOGIN_RATE_LIMIT_PER_ACCOUNT", cls.LOGIN_RATE_LIMIT_PER_ACCOUNT),
            "LOGIN_RATE_LIMIT_PER_IP": _env("LOGIN_RATE_LIMIT_PER_IP", cls.LOGIN_RATE_LIMIT_PER_IP),
            "SECOND_FACTOR_RATE_LIMIT": _env("SECOND_FACTOR_RATE_LIMIT", cls.SECOND_FACTOR_RATE_LIMIT),
            "SIGN_IN_CODE_RATE_LIMIT": _env("SIGN_IN_CODE_RATE_LIMIT", cls.SIGN_IN_CODE_RATE_LIMIT),
        }
        # The benchmark's statement counter (careteams.app.register_statement_counter).
        values["COUNT_STATEMENTS"] = _env("CARETEAMS_BENCH", "0") == "1"
        if _env("SMS_BACKEND"):
            values["SMS_BACKEND"] = _env("SMS_BACKEND")
        if _env("ROTA_REMINDER_HOURS"):
            values["ROTA_REMINDER_HOURS"] = tuple(float(h) for h in _env("ROTA_REMINDER_HOURS").split(",") if h.strip())
        if _env("MAIL_BACKEND"):
            values["MAIL_BACKEND"] = _env("MAIL_BACKEND")
        if _env("GEOCODER_TIMEOUT"):
            values["GEOCODER_TIMEOUT"] = float(_env("GEOCODER_TIMEOUT"))
        return values


class Development(Base):
    ENV = "development"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'careteams.sqlite'}"
    SESSION_COOKIE_SECURE = False  # http://127.0.0.1 in development
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "console"
    SMS_BACKEND = "console"
    # Lets `flask sms simulate` sign its texts; a real token comes from the environment.
    TWILIO_AUTH_TOKEN = "dev-only-twilio-token"

    @classmethod
    def from_environment(cls) -> dict:
        values = super().from_environment()
        values["SQLALCHEMY_DATABASE_URI"] = _database_url(cls.SQLALCHEMY_DATABASE_URI)
        return values


class Testing(Base):
    ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-not-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "locmem"
    SMS_BACKEND = "memory"
    TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    TWILIO_AUTH_TOKEN = "test-auth-token"
    TWILIO_FROM_NUMBER = "+447700900000"
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"

    @classmethod
    def from_environment(cls) -> dict:
        url = _env("CARETEAMS_TEST_DATABASE_URL")
        return {"SQLALCHEMY_DATABASE_URI": _database_url(url) if url else cls.SQLALCHEMY_DATABASE_URI}


class Production(Base):
    ENV = "production"
    SECURITY_HSTS = True

    @classmethod
    def from_environment(cls) -> dict:
        values = super().from_environment()
        values["FORCE_HTTPS"] = _env("FORCE_HTTPS", "0") == "1"
        values["SQLALCHEMY_DATABASE_URI"] = _database_url("")
        values["SMS_BACKEND"] = _env("SMS_BACKEND", "twilio")
        values["GEOCODER"] = _env("GEOCODER", "postcodes.io")
        return values


ENVIRONMENTS = {"development": Development, "testing": Testing, "production": Production}


def load(name: str | None = None) -> dict:
    """Settings for one environment as a plain dict (defaults, then environment)."""
    name = name or _env("CARETEAMS_ENV", "development")
    try:
        cls = ENVIRONMENTS[name]
    except KeyError:
        raise RuntimeError(f"CARETEAMS_ENV must be one of {sorted(ENVIRONMENTS)}, not {name!r}") from None
    values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
    values.update(cls.from_environment())
    return values
