"""Rate limits on logging in, shared by the login pages and the token API.

Three limits apply to every login route (the web form and POST /api/v1/tokens):
- per address and account: guessing one person's password from one place is slow;
- per account, whatever the address: a botnet spreading guesses over many
  addresses is slow too (LOGIN_RATE_LIMIT_PER_ACCOUNT);
- per address: one address cannot try many accounts quickly.
The account keys use the email or mobile number as typed (normalised: "07700
900123" and "+44 7700 900123" share one budget), whether or not an account has
it, so a 429 says nothing about whether the account exists.

Asking for a one-time sign-in code (/login/code) has its own per-account budget
(SIGN_IN_CODE_RATE_LIMIT: each code may cost a text), and typing codes
(/login/code/enter) counts against the login budgets of the account the code was
asked for; a code also dies after SIGN_IN_CODE_TRIES wrong tries.
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user

from careteams.auth.rules import login_identifier

# The session key where /login/code keeps who the code was asked for (for /login/code/enter).
SIGN_IN_FOR = "sign_in_for"


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def ip_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


def account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"]


def sign_in_code_limit() -> str:
    return current_app.config["SIGN_IN_CODE_RATE_LIMIT"]


def _email() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    email = request.form.get("email") or (body.get("email") if isinstance(body, dict) else None) or ""
    if not email and request.endpoint == "auth.enter_code":
        email = session.get(SIGN_IN_FOR) or ""
    try:
        return login_identifier(str(email))[1]
    except ValueError:
        return str(email).strip().lower()


def address_and_account() -> str:
    # Per account and address: guessing one person's password is slow, while a
    # co-op office sharing one address can still log in many different people.
    return f"{get_remote_address()}|{_email()}"


def account() -> str:
    return f"account|{_email()}"


def sign_in_account() -> str:
    return f"sign-in|{_email()}"


def no_account_given() -> bool:
    # An empty form is refused by validation; it must not use up a shared budget.
    return not _email()


def second_factor_limit() -> str:
    return current_app.config["SECOND_FACTOR_RATE_LIMIT"]


def signed_in_person() -> str:
    """Wrong second-factor codes count against the person (she has passed her
    password already), whatever address they come from."""
    return f"second-factor|{current_user.get_id().partition(':')[0] if current_user.is_authenticated else get_remote_address()}"


def refused_code(response) -> bool:
    """Only refused codes use up the budget (a page shown, or a code accepted, do not)."""
    return response.status_code in (401, 422)
