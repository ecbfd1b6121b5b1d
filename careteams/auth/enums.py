"""Plain enums for accounts (no Flask, no database)."""

from __future__ import annotations

import enum


class LinkPurpose(enum.StrEnum):
    invite = "invite"
    reset = "reset"
