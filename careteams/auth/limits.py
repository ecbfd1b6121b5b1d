"""Rate limits on logging in, shared by the login pages and the token API."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def ip_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


def address_and_account() -> str:
    # Per account and address: guessing one person's password is slow, while a
    # co-op office sharing one address can still log in many different people.
    email = (request.form.get("email") or (request.get_json(silent=True) or {}).get("email") or "")
    return f"{get_remote_address()}|{str(email).strip().lower()}"
