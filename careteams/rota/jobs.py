"""The rota's clock jobs. Each flushes; the runner commits; each is idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from careteams.rota.services.attendance import alert_missed_visits, complete_ended, send_reminders
from careteams.rota.services.offers import expire_and_escalate
from careteams.rota.services.series import materialise_all
from careteams.scheduler import job


@job("rota.materialise", "interval", hours=1)
def materialise(now: datetime) -> int:
    return materialise_all(now)


@job("rota.offers", "interval", minutes=5)
def offers(now: datetime) -> dict:
    return expire_and_escalate(now)


@job("rota.complete", "interval", minutes=10)
def complete(now: datetime) -> int:
    return complete_ended(now)


@job("rota.missed_visits", "interval", minutes=1)
def missed_visits(now: datetime) -> int:
    return alert_missed_visits(now)


@job("rota.reminders", "interval", minutes=5)
def reminders(now: datetime) -> int:
    """Text booked workers before their shifts (ROTA_REMINDER_HOURS, default 24 and 2)."""
    hours = current_app.config.get("ROTA_REMINDER_HOURS") or ()
    return send_reminders(now, [timedelta(hours=h) for h in hours])
