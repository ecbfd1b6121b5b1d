"""The rota's enums: no Flask, no SQLAlchemy (rules, permissions and schemas import them
from here; models re-binds them for existing callers)."""

from __future__ import annotations

import enum


class ShiftKind(enum.StrEnum):
    personal_care = "personal_care"
    practical_help = "practical_help"
    companionship = "companionship"
    overnight = "overnight"
    sleep_in = "sleep_in"


class ShiftStatus(enum.StrEnum):
    open = "open"
    offered = "offered"
    booked = "booked"
    completed = "completed"
    cancelled = "cancelled"


class OfferStatus(enum.StrEnum):
    open = "open"
    accepted = "accepted"  # the booking's own code lives here
    declined = "declined"
    expired = "expired"
    filled = "filled"  # somebody else accepted first
    withdrawn = "withdrawn"  # the shift was cancelled, re-timed or the worker left


class SwapStatus(enum.StrEnum):
    proposed = "proposed"  # waiting for the other worker's consent
    agreed = "agreed"  # both workers consent; waiting for the leader or Rota wrangler
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"
