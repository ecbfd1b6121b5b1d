"""Plain enums for accounts (no Flask, no database)."""

from __future__ import annotations

import enum


class LinkPurpose(enum.StrEnum):
    invite = "invite"
    reset = "reset"
    sign_in = "sign_in"  # a one-time sign-in code (and, by email, link): no password needed


class SessionEnd(enum.StrEnum):
    """Why a login session ended."""

    logout = "logout"
    password_set = "password_set"  # noqa: S105  (a reason, not a secret: a reset, invitation or change ends every session)


class ContactKind(enum.StrEnum):
    """What a contact change changes (auth.models.ContactChange)."""

    email = "email"
    phone = "phone"
