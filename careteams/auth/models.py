"""Login sessions, personal API tokens, one-time links (invitations, password resets)
and contact changes waiting for their code; staff's second factor (TOTP, recovery
codes, resets by another admin)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.auth.enums import ContactKind, LinkPurpose, SessionEnd
from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Cooperative, Person, _enum


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
    # When a staff person passed her second factor in this session (second_factor.py):
    # until then every staff page sends her to /login/second-factor.
    second_factor_verified_at: Mapped[datetime | None]

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


class TotpFactor(db.Model):
    """A person's TOTP authenticator (RFC 6238, 30 s steps, 6 digits). One per person.

    The secret must be readable to check codes, so it is stored as it is; the
    database is the boundary. Unconfirmed (confirmed_at NULL) while she enrols."""

    __tablename__ = "totp_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # The last 30-second step whose code was accepted: a code is good once (no replay).
    last_used_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    person: Mapped[Person] = relationship()


class RecoveryCode(db.Model):
    """One of the ten one-time codes shown at enrolment. Only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class SecondFactorReset(db.Model):
    """The audit of a lost factor reset: who reset whose, in which co-op, when."""

    __tablename__ = "second_factor_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    reset_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    reset_at: Mapped[datetime] = mapped_column(default=utcnow)

    cooperative: Mapped[Cooperative] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    reset_by: Mapped[Person] = relationship(foreign_keys=[reset_by_id], lazy="joined")

    __table_args__ = (sa.CheckConstraint("person_id <> reset_by_id", name="not_own"),)
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
