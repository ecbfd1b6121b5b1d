"""The rota's clock jobs. Each flushes; the runner commits; each is idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from careteams.rota import services
from careteams.scheduler import job


@job("rota.materialise", "interval", hours=1)
def materialise(now: datetime) -> int:
    return services.materialise_all(now)


@job("rota.offers", "interval", minutes=5)
def offers(now: datetime) -> dict:
    return services.expire_and_escalate(now)


@job("rota.complete", "interval", minutes=10)
def complete(now: datetime) -> int:
    return services.complete_ended(now)


@job("rota.missed_visits", "interval", minutes=1)
def missed_visits(now: datetime) -> int:
    return services.alert_missed_visits(now)


@job("rota.reminders", "interval", minutes=5)
def reminders(now: datetime) -> int:
    """Text booked workers before their shifts (ROTA_REMINDER_HOURS, default 24 and 2)."""
    hours = current_app.config.get("ROTA_REMINDER_HOURS") or ()
    return services.send_reminders(now, [timedelta(hours=h) for h in hours])
