"""Text messages: the gateway, the outbox and its sender, the Twilio webhooks and
the text commands (see careteams/sms/README.md)."""

from flask import Blueprint

bp = Blueprint("sms", __name__)

from careteams.sms import views  # noqa: E402,F401
