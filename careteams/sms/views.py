"""Twilio's webhooks (signed, so exempt from CSRF). The pages are in pages.py."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from careteams.errors import Forbidden, ValidationError
from careteams.extensions import db, limiter
from careteams.sms import services

bp = Blueprint("sms", __name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url() -> str:
    """The URL Twilio called, which is what it signed.

    Behind a proxy that terminates TLS, `request.url` is the internal address:
    either set PUBLIC_BASE_URL, or PROXY_FIX_COUNT so ProxyFix rebuilds it from
    the X-Forwarded-* headers.
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + request.full_path.rstrip("?")
    return request.url


def require_twilio_signature() -> None:
    """403 unless X-Twilio-Signature is Twilio's signature of this URL and form. Never skipped."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature or not RequestValidator(token).validate(public_url(), request.form, signature):
        raise Forbidden("This request was not signed by Twilio.", code="bad_signature")


def twiml(reply: str) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), mimetype="text/xml")


@bp.post("/sms/inbound")
@limiter.exempt  # Twilio's traffic is signed, and a busy rota must not be throttled
def inbound():
    require_twilio_signature()
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or not form.get("From") or not form.get("To"):
        raise ValidationError(details={"fields": {"MessageSid": ["MessageSid, From and To are required."]}})
    reply = services.receive_text(sid, form["From"], form["To"], form.get("Body", ""))
    db.session.commit()
    return twiml(reply)


@bp.post("/sms/status")
@limiter.exempt
def status():
    require_twilio_signature()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    if not sid:
        raise ValidationError(details={"fields": {"MessageSid": ["MessageSid is required."]}})
    services.record_delivery_status(request.args.get("outbound", type=int), sid,
                                    request.form.get("MessageStatus") or request.form.get("SmsStatus"),
                                    request.form.get("ErrorCode"))
    db.session.commit()
    return Response(status=204)
