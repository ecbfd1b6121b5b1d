"""Twilio's webhooks (signed, so exempt from CSRF) and the development simulator."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import login_required
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from careteams.errors import Forbidden, NotFound, ValidationError
from careteams.extensions import db, limiter
from careteams.sms import bp, services
from careteams.sms.forms import SimulateForm

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


# --- notices on the website ----------------------------------------------------


@bp.route("/my/notices")
@login_required
def my_notices():
    """What the co-op told you on the website (instead of texts, or after STOP)."""
    from careteams.auth.current import current_person

    return render_template("sms/my_notices.html", notices=services.web_notices(current_person()))


# --- development only ---------------------------------------------------------


def _development_only() -> None:
    if current_app.config.get("ENV") != "development":
        raise NotFound()


@bp.route("/dev/sms", methods=["GET", "POST"])
def simulate():
    """Text the app as if from a phone, through the same service as the webhook."""
    _development_only()
    form = SimulateForm(data={"from_number": request.args.get("from", ""), "to_number": request.args.get("to", "")}
                        if request.method == "GET" else None)
    if form.validate_on_submit():
        to_number = form.to_number.data or services.default_simulation_number() or ""
        services.receive_text(services.simulated_sid(), form.from_number.data, to_number, form.body.data)
        db.session.commit()
        return redirect(url_for("sms.simulate", **{"from": form.from_number.data, "to": to_number}))
    number = form.from_number.data
    lines = services.conversation(number) if number else []
    return render_template("sms/simulate.html", form=form, lines=lines)
