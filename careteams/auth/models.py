"""Login sessions, personal API tokens, one-time links (invitations, password resets)
and contact changes waiting for their code."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.auth.enums import ContactKind, LinkPurpose, SessionEnd
from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Person, _enum


class ApiToken(db.Model):
    """A personal bearer token. Only its SHA-256 is stored; it is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once a minute (auth.services.TOUCH_EVERY), not on every call.
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(lazy="joined")


class LoginSession(db.Model):
    """One browser's login, recorded server-side so it can be ended (logout, a new
    password). The cookie carries "<person id>:<key>"; only the key's SHA-256 is stored."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # A short label from the User-Agent ("Firefox on Android"), for the person's own list.
    device: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once a minute; a session idle longer than LOGIN_SESSION_IDLE_LIMIT is over.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[SessionEnd | None] = mapped_column(_enum(SessionEnd, "session_end"))

    person: Mapped[Person] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(ended_at IS NULL) = (ended_reason IS NULL)", name="ended_with_reason"),
    )


class OneTimeLink(db.Model):
    """A single-use link sent by email or SMS. Only its SHA-256 is stored.

    A sign-in (purpose `sign_in`) also has a 6-digit code: only its keyed hash is
    stored (`code_hash`), and `wrong_tries` counts codes typed wrong against it
    (at SIGN_IN_CODE_TRIES the code is dead)."""

    __tablename__ = "one_time_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(_enum(LinkPurpose, "link_purpose"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    wrong_tries: Mapped[int] = mapped_column(default=0, server_default="0")

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")


class ContactChange(db.Model):
    """A new email address or mobile number waiting for the 6-digit code sent to it.

    Only a keyed hash of the code is kept (auth.account); one waiting change per
    person and kind: asking again replaces it. The row goes when the code is typed
    in (the person's email or phone changes then), or when too many tries were made."""

    __tablename__ = "contact_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(_enum(ContactKind, "contact_kind"))
    new_value: Mapped[str] = mapped_column(sa.String(254))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        sa.UniqueConstraint("person_id", "kind"),
        sa.CheckConstraint("tries >= 0", name="tries_not_negative"),
    )
