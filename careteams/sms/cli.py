"""`flask --app careteams sms ...`: try the text commands without a phone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from twilio.request_validator import RequestValidator

from careteams.scheduler import run_job
from careteams.sms import services

sms_cli = AppGroup("sms", help="Text messages: simulate inbound texts, send the outbox.")


def simulate_text(app, from_number: str, body: str, to_number: str | None = None) -> tuple[int, str, str]:
    """Post a signed text to /sms/inbound exactly as Twilio would; (status, reply, to_number)."""
    with app.app_context():
        to_number = to_number or services.default_simulation_number()
    if not to_number:
        raise click.UsageError("No co-op has an SMS number: give --to, or run `flask seed-demo` first.")
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        raise click.UsageError("TWILIO_AUTH_TOKEN is not set, so the webhook refuses every text.")
    params = {"MessageSid": services.simulated_sid(), "AccountSid": app.config.get("TWILIO_ACCOUNT_SID") or "",
              "From": from_number, "To": to_number, "Body": body, "NumMedia": "0"}
    base = (app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/")
    signature = RequestValidator(token).compute_signature(base + "/sms/inbound", params)
    response = app.test_client().post("/sms/inbound", data=params, base_url=base,
                                      headers={"X-Twilio-Signature": signature})
    reply = ""
    if response.status_code == 200:
        # Our own TwiML, just produced in this process.
        root = ET.fromstring(response.get_data(as_text=True))  # noqa: S314
        reply = "\n".join(m.text or "" for m in root.iter("Message"))
    return response.status_code, reply, to_number


@sms_cli.command("simulate")
@click.option("--from", "from_number", required=True, help="The phone texting in, e.g. +447700900123.")
@click.option("--to", "to_number", default=None, help="The co-op's number (default: the first co-op's).")
@click.option("--send/--no-send", default=True, help="Then send the outbox (the console prints it).")
@click.option("--history", "history", default=6, show_default=True,
              help="Then print the latest texts to and from this number (0: none).")
@click.argument("body")
@with_appcontext
def simulate(from_number: str, to_number: str | None, send: bool, history: int, body: str):
    """Feed one text through the webhook and print the conversation (development only)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("ENV") != "development":
        raise click.UsageError("sms simulate only runs in development (CARETEAMS_ENV=development).")
    status, reply, to_number = simulate_text(app, from_number, body, to_number)
    click.echo(f"{from_number} > {body}")
    if status != 200:
        click.echo(f"(the webhook answered HTTP {status})")
    click.echo(f"{to_number} < {reply}" if reply else "(no reply: nothing is sent to this number)")
    if send:
        run_job(app, "sms.send_outbox")
    if history:
        with app.app_context():
            lines = services.conversation(from_number, limit=history)
        click.echo(f"\nConversation with {from_number}:")
        arrows = {"in": ">", "reply": "<", "out": "<"}
        for at, direction, text in lines:
            click.echo(f"  {at:%d %b %H:%M} {arrows[direction]} {text}")


@sms_cli.command("send")
@with_appcontext
def send():
    """Send every due text in the outbox now (what the clock does every 30 seconds)."""
    click.echo(f"sms.send_outbox: {run_job(current_app._get_current_object(), 'sms.send_outbox')!r}")  # type: ignore[attr-defined]
