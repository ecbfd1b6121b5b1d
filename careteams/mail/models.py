"""The email outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careteams.db import utcnow
from careteams.extensions import db
from careteams.mail.enums import EmailStatus
from careteams.members.models import _enum


class OutboundEmail(db.Model):
    """One email to send, written in the same transaction as the change that caused it.

    The body is erased once the email is finished (sent, failed or unknown): it
    may carry a one-time link or sign-in code, which must not outlive its use.
    """

    __tablename__ = "outbound_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[EmailStatus] = mapped_column(
        _enum(EmailStatus, "email_status"), default=EmailStatus.pending, index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(sa.String(20))
    error_message: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]

    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    def __repr__(self) -> str:
        return f"<OutboundEmail {self.id} {self.status}>"
