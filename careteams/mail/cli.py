"""`flask --app careteams mail ...`: look into the email outbox, send it now."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from careteams.mail import services
from careteams.mail.enums import EmailStatus
from careteams.scheduler import run_job

mail_cli = AppGroup("mail", help="Emails: inspect the outbox, send it now.")


@mail_cli.command("outbox")
@click.option("--status", type=click.Choice([s.value for s in EmailStatus]), default=None,
              help="Only emails in this state (e.g. failed, unknown, pending).")
@click.option("--limit", default=20, show_default=True, help="How many of the latest to list.")
@with_appcontext
def outbox(status: str | None, limit: int):
    """How many emails are in each state, and the latest ones (never their bodies)."""
    counts = services.counts_by_status()
    click.echo("Outbox: " + (", ".join(f"{name} {counts[name]}" for name in sorted(counts)) or "empty"))
    for row in services.latest(EmailStatus(status) if status else None, limit):
        problem = f"  [{row.error_code or ''} {row.error_message}]" if row.error_message else ""
        click.echo(f"{row.id:>6}  {row.created_at:%Y-%m-%d %H:%M}  {row.status.value:<8} tries {row.attempts}  "
                   f"{row.to_address}  {row.subject!r}{problem}")


@mail_cli.command("send")
@with_appcontext
def send():
    """Send every due email now (what the clock does every few seconds)."""
    click.echo(f"mail.send_outbox: {run_job(current_app._get_current_object(), 'mail.send_outbox')!r}")  # type: ignore[attr-defined]
