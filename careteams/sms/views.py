"""Twilio's webhooks (signed, so exempt from CSRF). The pages are in pages.py."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from careteams.errors import Forbidden, ValidationError
from careteams.extensions import db, limiter
from careteams.sms import services
from careteams.validation import INT_MAX, INT_MIN

bp = Blueprint("sms", __name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# The columns' lengths (sms/models.py): longer values are refused as 422, not cut.
SID_LENGTH = 64
NUMBER_LENGTH = 40
ERROR_CODE_LENGTH = 20


def check_lengths(**values: tuple[str, int]) -> None:
    """422 naming the first of Twilio's fields longer than its column (NUL and
    surrogates are refused for every request by careteams.validation)."""
    for name, (value, limit) in values.items():
        if len(value) > limit:
            raise ValidationError(details={"fields": {name: [f"Longer than {limit} characters."]}})


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


def login_free(view):
    """A signed webhook: Twilio logs nobody in and the view never asks who is, so the app
    does not load a login session before it (careteams/app.py, `_commit_last_seen`)."""
    view.login_free = True
    return view


@bp.post("/sms/inbound")
@limiter.exempt  # Twilio's traffic is signed, and a busy rota must not be throttled
@login_free
def inbound():
    require_twilio_signature()
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or not form.get("From") or not form.get("To"):
        raise ValidationError(details={"fields": {"MessageSid": ["MessageSid, From and To are required."]}})
    check_lengths(MessageSid=(sid, SID_LENGTH), From=(form["From"], NUMBER_LENGTH), To=(form["To"], NUMBER_LENGTH))
    reply = services.receive_text(sid, form["From"], form["To"], form.get("Body", ""))
    db.session.commit()
    return twiml(reply)


@bp.post("/sms/status")
@limiter.exempt
@login_free
def status():
    require_twilio_signature()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    if not sid:
        raise ValidationError(details={"fields": {"MessageSid": ["MessageSid is required."]}})
    check_lengths(MessageSid=(sid, SID_LENGTH), ErrorCode=(request.form.get("ErrorCode") or "", ERROR_CODE_LENGTH))
    outbound = request.args.get("outbound", type=int)
    if outbound is not None and not INT_MIN <= outbound <= INT_MAX:
        outbound = None  # not one of ours: the sid alone finds the message, or nothing
    services.record_delivery_status(outbound, sid,
                                    request.form.get("MessageStatus") or request.form.get("SmsStatus"),
                                    request.form.get("ErrorCode"))
    db.session.commit()
    return Response(status=204)
