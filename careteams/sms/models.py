"""The outbox, the inbound log and the opt-out list."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import _enum
from careteams.sms.enums import ANY_SENDER, DeliveryStatus


class OutboundMessage(db.Model):
    """One text to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    to_number: Mapped[str] = mapped_column(sa.String(20))
    from_number: Mapped[str | None] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # Whoever enqueues can name the message ("rota.reminder:shift:12:24h"), so a
    # re-run of the same job or request never queues it twice.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.pending, index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None]
    sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(20))
    error_message: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]

    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    def __repr__(self) -> str:
        return f"<OutboundMessage {self.id} {self.kind} {self.status}>"


class InboundMessage(db.Model):
    """A text received, with the reply we gave: Twilio retries, so the sid is unique."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    from_number: Mapped[str] = mapped_column(sa.String(40))
    to_number: Mapped[str] = mapped_column(sa.String(40))
    body: Mapped[str] = mapped_column(sa.Text)
    verb: Mapped[str | None] = mapped_column(sa.String(20))
    reply: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsOptOut(db.Model):
    """Somebody said STOP to one of our numbers: we text neither that phone nor that
    person from that number until START. Per sender number, as Twilio's own opt-out is:
    STOP to one co-op's number leaves another co-op's texts alone."""

    __tablename__ = "sms_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(40))
    # The number the STOP was sent to (E.164): the co-op's number, or the fallback sender.
    # ANY_SENDER ("*") for opt-outs recorded before they were per number: every number.
    sender_number: Mapped[str] = mapped_column(sa.String(40), server_default=ANY_SENDER)
    # The person the number belonged to, so a new number does not quietly opt them back in.
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperative.id"))
    keyword: Mapped[str] = mapped_column(sa.String(20))  # STOP, or "21610" when Twilio told us
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("phone", "sender_number", name="uq_sms_opt_out_phone_sender_number"),)


class WebNotice(db.Model):
    """A notice shown on the website: for people who do not take texts (or said STOP).

    Kept minimal until a shared notification store exists; `dedupe_key` makes a
    re-run of the job or request that recorded it harmless.
    """

    __tablename__ = "web_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperative.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    body: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    # A notice may end with the page that deals with it (kept in the body until notices
    # have a column of their own for it).
    LINK_MARK = "\nPage: "

    @staticmethod
    def with_link(body: str, link: str | None) -> str:
        return f"{body}{WebNotice.LINK_MARK}{link}" if link else body

    @property
    def text(self) -> str:
        return self.body.partition(self.LINK_MARK)[0]

    @property
    def link(self) -> str | None:
        return self.body.partition(self.LINK_MARK)[2] or None
